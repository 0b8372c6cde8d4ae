// Keras-like progress: a bar with batches done, ETA, running loss and metrics on a terminal; one plain
// line per epoch otherwise. verbose 0 prints nothing.
#pragma once
#include <chrono>
#include <cstdio>

#include "nnlab/training/callback.hpp"

namespace nnlab {

class ProgressBar : public Callback {
 public:
  explicit ProgressBar(int verbose = 1, std::FILE* out = stdout);
  void on_train_begin(TrainState& s) override;
  void on_epoch_begin(int epoch, TrainState& s) override;
  void on_batch_end(int64_t batch, const Logs& logs, TrainState& s) override;
  void on_epoch_end(int epoch, Logs& logs, TrainState& s) override;

 private:
  int verbose_;
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

// "60000 samples / batch 128 = 469 iterations per epoch; 20 epochs = 9380 iterations"
std::string iteration_arithmetic(int64_t samples, int64_t batch_size, int epochs);

}  // namespace nnlab
