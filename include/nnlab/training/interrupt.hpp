// Ctrl-C during training: the first SIGINT asks the trainer to stop after the current batch (it then
// throws nnlab::Interrupted, leaving the last end-of-epoch checkpoint in place); a second one ends
// the process at once.
#pragma once
#include "nnlab/error.hpp"

namespace nnlab {

class Interrupted : public Error {
 public:
  using Error::Error;
};

// SIGINT and SIGTERM; once per process. The calling thread, and every thread it starts afterwards,
// then blocks both signals (a watcher thread of nnlab's takes them instead): a signal handled inside
// one of oneDNN's JIT kernels would corrupt the heap (see interrupt.cpp). Call it from the thread
// that will train, before starting threads of your own.
void install_interrupt_handler();
bool interrupt_requested();
void clear_interrupt();

}  // namespace nnlab
