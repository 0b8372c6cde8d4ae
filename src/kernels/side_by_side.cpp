#include "nnlab/kernels/side_by_side.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "nnlab/kernels/gemm.hpp"

namespace nnlab::kernels {

void run_side_by_side(size_t n, int parallel, int threads_each, const std::function<void(size_t, bool)>& job) {
  if (parallel <= 1) {
    for (size_t i = 0; i < n; ++i) job(i, false);
    return;
  }
  std::atomic<size_t> next{0};
  std::mutex failure_lock;
  std::exception_ptr failure;
  auto work = [&] {
    set_num_threads(threads_each);  // this thread's OpenMP pool, used by oneDNN and nnlab's loops
    for (size_t i; (i = next++) < n;) {
      {
        std::lock_guard<std::mutex> lock(failure_lock);
        if (failure) return;  // one job failed: start no more
      }
      try {
        job(i, true);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_lock);
        if (!failure) failure = std::current_exception();
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < parallel; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

int default_parallelism(int jobs) {
  // Measured on a busy 2-core machine (Fashion-MNIST, 784-1024-512-256-10): two members side by side
  // with one OpenMP thread each trained as fast as one after another with one thread, and 7x faster
  // than one after another with two threads each, where OpenMP's threads wait on each other.
  return std::max(1, std::min(jobs, num_threads()));
}

}  // namespace nnlab::kernels
