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

void install_interrupt_handler();  // SIGINT and SIGTERM
bool interrupt_requested();
void clear_interrupt();

}  // namespace nnlab
