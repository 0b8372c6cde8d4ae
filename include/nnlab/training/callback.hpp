// One interface for everything that watches training: history, progress bar, and later early
// stopping, plateau, checkpoints and plots. Keras's contract: epochs counted from 0, logs hold
// "loss", "accuracy", "val_loss", "val_accuracy", "lr" as they apply.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace nnlab {

class Model;
class Optimizer;

using Logs = std::map<std::string, double>;

struct TrainState {
  Model* model = nullptr;
  Optimizer* optimizer = nullptr;
  int epochs = 0;               // total epochs requested
  int initial_epoch = 0;        // first epoch of this call (non-zero when resuming)
  int64_t samples = 0;          // training samples per epoch
  int64_t batch_size = 0;
  int64_t steps_per_epoch = 0;  // ceil(samples / batch_size)
  int64_t iteration = 0;        // optimizer steps taken so far
  float lr = 0;                 // learning rate used for the current step
  bool stop_training = false;   // a callback sets this to end training after the current epoch
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(TrainState&) {}
  virtual void on_epoch_begin(int /*epoch*/, TrainState&) {}
  // batch: index within the epoch; logs: running means over the epoch so far.
  virtual void on_batch_end(int64_t /*batch*/, const Logs& /*logs*/, TrainState&) {}
  // Callbacks may add entries to logs; later callbacks see them.
  virtual void on_epoch_end(int /*epoch*/, Logs& /*logs*/, TrainState&) {}
  virtual void on_train_end(TrainState&) {}

  // A callback with state that matters across epochs (counters, the best value so far) returns it
  // here as text, so a checkpoint can save it and a resumed run restore it.
  virtual std::string state() const { return ""; }
  virtual void restore(const std::string& /*state*/) {}
};

}  // namespace nnlab
