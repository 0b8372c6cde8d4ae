// One interface for everything that watches training: history, progress bar, and later early
// stopping, plateau, checkpoints and plots. Keras's contract: epochs counted from 0, logs hold
// "loss", "accuracy", "val_loss", "val_accuracy", "lr" as they apply.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace nnlab {

class History;
class LearningRate;
class Model;
class Optimizer;

using Logs = std::map<std::string, double>;

struct TrainState {
  Model* model = nullptr;
  Optimizer* optimizer = nullptr;  // the trainer's optimizer (its moving average of the weights)
  LearningRate* rate = nullptr;  // the trainer's rate policy, which schedule callbacks change
  // The fit's history of finished epochs (with a checkpoint's epochs when resuming); the epoch
  // ending is added after the other callbacks' on_epoch_end.
  const History* history = nullptr;
  int epochs = 0;               // total epochs requested
  int initial_epoch = 0;        // first epoch of this call (non-zero when resuming)
  int64_t samples = 0;          // training samples per epoch
  int64_t batch_size = 0;       // the global batch: each rank's batch times the ranks
  int ranks = 1;                // data-parallel ranks (dist::size()) sharing every batch
  int64_t rank_batch_size = 0;  // each rank's share of a full batch
  int64_t steps_per_epoch = 0;  // ceil(samples / batch_size)
  int64_t iteration = 0;        // optimizer steps taken so far
  float lr = 0;                 // learning rate of the current (or, between steps, the last) step
  bool stop_training = false;   // a callback sets this to end training after the current epoch
  // fit continues from a checkpoint: the rate policy's base and factor are restored before
  // on_train_begin, each callback's state() and buffers() right after it.
  bool resuming = false;
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
  // Around each epoch's evaluation of the validation data (Keras's on_test_begin / on_test_end).
  virtual void on_test_begin(TrainState&) {}
  virtual void on_test_end(TrainState&) {}
  virtual void on_train_end(TrainState&) {}
  // True for a callback that writes files (logs, checkpoints, the run folder): in data-parallel
  // training only rank 0 calls it, so there is exactly one writer; the others see identical logs.
  virtual bool writes_files() const { return false; }

  // A callback with state that matters across epochs (counters, the best value so far) returns it
  // here as text, so a checkpoint can save it and a resumed run restore it. fit() calls restore()
  // after on_train_begin (which resets the state), and only when the checkpoint saved a state.
  virtual std::string state() const { return ""; }
  virtual void restore(const std::string& /*state*/) {}
  // Large numeric state (EarlyStopping's kept weights) as named float buffers, saved as checkpoint
  // tensors "callback/<index>/<name>" and refilled after restore(); an empty buffer is not saved.
  virtual std::vector<std::pair<std::string, std::vector<float>*>> buffers() { return {}; }
};

}  // namespace nnlab
