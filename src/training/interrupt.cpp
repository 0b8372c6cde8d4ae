#include "nnlab/training/interrupt.hpp"

#include <omp.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

namespace nnlab {
namespace {

std::atomic<bool> g_requested{false};

extern "C" void on_signal(int sig) {
  if (g_requested.exchange(true)) {  // the second signal: give up at once
    std::signal(sig, SIG_DFL);
    std::raise(sig);  // to this thread, the one that has the signal unblocked
  }
}

sigset_t interrupt_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

// Where a signal lands matters. The kernel writes the handler's frame below the interrupted
// thread's stack pointer, and oneDNN 2.x's JIT sgemm kernels (Debian 12 ships 2.6.3) point the
// stack pointer into a heap buffer while they run: a Ctrl-C that arrived in one of them overwrote
// the heap (glibc then aborted with "corrupted size vs. prev_size", 3 runs in 80 here; oneDNN issue
// 4845, fixed in 3.12). So no thread that computes ever takes these signals: they are blocked in
// the calling thread, which every thread it starts later inherits (OpenMP's pool, prefetchers,
// ensemble members), and in OpenMP's threads that already exist; one thread of nnlab's own, which
// only sleeps, keeps them unblocked and runs the handler on its own stack.
void install_interrupt_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const sigset_t set = interrupt_signals();
    std::thread([set] {
      pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
      for (;;) pause();  // returns after each handled signal
    }).detach();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    if (!omp_in_parallel() && omp_get_max_threads() > 1) {
#pragma omp parallel
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
    }
  });
}

bool interrupt_requested() { return g_requested.load(std::memory_order_relaxed); }

void clear_interrupt() { g_requested.store(false); }

}  // namespace nnlab
