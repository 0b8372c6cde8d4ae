// BatchPrefetcher: gathers the next mini-batch on a background thread while the current one
// trains, so data loading and augmentation overlap with compute. Two slots, used alternately; the
// thread lives as long as the prefetcher (no thread or buffer is created per batch).
// A dataset whose gather is a plain copy from memory (Dataset::gather_is_copy) is gathered on the
// calling thread instead: at small batches the hand-over costs more than the copy, and on a machine
// with as many cores as compute threads the worker would preempt one of them every step.
#pragma once
#include <condition_variable>
#include <exception>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/kernels/denormals.hpp"

namespace nnlab {

class BatchPrefetcher {
 public:
  explicit BatchPrefetcher(const Dataset& data) : data_(data), background_(!data.gather_is_copy()) {
    // The worker computes in its creator's denormal mode (augmentation is arithmetic too).
    if (background_)
      worker_ = std::thread([this, flush = kernels::thread_flushes_denormals()] {
        kernels::set_thread_flush_denormals(flush);
        run();
      });
  }
  ~BatchPrefetcher() {
    if (!background_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // Starts gathering `indices` (which must stay valid until take()) into the next slot; `position`:
  // see Dataset::gather_shard.
  void request(std::span<const int64_t> indices, int64_t position = 0) {
    if (!background_) {
      gather(indices, position, sync_next_);
      sync_next_ ^= 1;
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = indices;
      job_position_ = position;
      pending_ = true;
      ready_ = false;
    }
    cv_.notify_all();
  }

  // Waits for the requested batch; x (batch, ...) and y (batch, targets) stay valid until the
  // request after the next one. Rethrows what the gather threw.
  void take(const Tensor*& x, const Tensor*& y) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return ready_; });  // already true without the worker
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    x = &x_[slot_];
    y = &y_[slot_];
  }

 private:
  void run() {
    int next = 0;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return pending_ || quit_; });
      if (quit_) return;
      pending_ = false;
      const auto job = job_;
      const int64_t position = job_position_;
      lock.unlock();
      gather(job, position, next);
      next ^= 1;
      cv_.notify_all();
      lock.lock();
    }
  }

  // Gathers into slot `slot` and publishes it (or what the gather threw) to take().
  void gather(std::span<const int64_t> indices, int64_t position, int slot) {
    std::exception_ptr err;
    try {
      data_.gather_shard(indices, position, x_[slot], y_[slot]);
    } catch (...) {
      err = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mu_);
    error_ = err;
    slot_ = slot;
    ready_ = true;
  }

  const Dataset& data_;
  Tensor x_[2], y_[2];
  std::mutex mu_;
  std::condition_variable cv_;
  std::span<const int64_t> job_;
  int64_t job_position_ = 0;
  bool pending_ = false, ready_ = false, quit_ = false;
  int slot_ = 0, sync_next_ = 0;
  std::exception_ptr error_;
  const bool background_;
  std::thread worker_;  // last: started after every other member is initialised
};

}  // namespace nnlab
