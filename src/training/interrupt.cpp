#include "nnlab/training/interrupt.hpp"

#include <atomic>
#include <csignal>

namespace nnlab {
namespace {

std::atomic<bool> g_requested{false};

extern "C" void on_signal(int sig) {
  if (g_requested.exchange(true)) {  // the second signal: give up at once
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() { return g_requested.load(std::memory_order_relaxed); }

void clear_interrupt() { g_requested.store(false); }

}  // namespace nnlab
