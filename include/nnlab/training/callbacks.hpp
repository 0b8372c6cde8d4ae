// The callbacks users know from Keras, with Keras 3's semantics and defaults: learning-rate
// scheduling (per epoch and per step), reduce-on-plateau, early stopping, a CSV log and model
// checkpoints. Pass them to Trainer::fit in a vector; they act through TrainState (the trainer's
// learning-rate policy, stop_training, the model's parameters).
//
// Monitored quantities ("val_loss", "accuracy", ...) are read from the epoch's logs. mode "auto"
// minimises names ending in "loss" or "error" (and mse, mae, lr, ...) and maximises accuracy-like
// names (containing "acc", "auc", "precision", "recall", "f1"); any other name needs mode "min" or
// "max". A monitored key missing from the logs is warned about once on stderr and the epoch is
// skipped, as Keras does.
#pragma once
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nnlab/training/callback.hpp"
#include "nnlab/training/schedules.hpp"

namespace nnlab {

// Keras's LearningRateScheduler: at the start of every epoch (from 0), lr = schedule(epoch, current lr).
// With a Schedule, lr = schedule->rate(epoch, iteration, current lr), so a schedule relative to the
// base rate (step decay, ...) compounds: use ScheduleCallback for those, and this one for rules of
// the form "lr * 0.9" or "epoch < 10 ? lr : lr * exp(-0.1)". A Schedule's rates are checked over the
// whole run at train begin; a function's rate is checked when it is returned. The current lr is the
// rate policy's base times its plateau factor, and the returned rate becomes the base (the factor
// folded in), as Keras's callback sets the optimizer's rate outright; it stays when training ends.
using EpochScheduleFn = std::function<float(int epoch, float lr)>;
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(EpochScheduleFn schedule, int verbose = 0);
  explicit LearningRateScheduler(std::shared_ptr<Schedule> schedule, int verbose = 0);
  void on_train_begin(TrainState& s) override;
  void on_epoch_begin(int epoch, TrainState& s) override;

 private:
  EpochScheduleFn fn_;
  std::shared_ptr<Schedule> schedule_;
  int verbose_;
};

// Applies a Schedule at every step (Keras's LearningRateSchedule passed as an optimizer's rate): it
// installs the schedule in the trainer's rate policy (TrainState::rate, learning_rate.hpp) for one
// fit, so optimizer step k (TrainState::iteration) in epoch e uses schedule->rate(e, k, base) times
// the plateau factor; per-epoch schedules change the rate at epoch starts only. At train begin it
// tells the schedule the run's length (bind_run) and checks every rate of the run (validate), so a
// bad schedule fails before the first step. ReduceLROnPlateau's cuts scale the schedule's rates from
// the cut on. The policy's base and factor are saved in checkpoints, so a resumed run continues
// with exactly the rates of an uninterrupted one.
class ScheduleCallback : public Callback {
 public:
  explicit ScheduleCallback(std::shared_ptr<Schedule> schedule, int verbose = 0);
  void on_train_begin(TrainState& s) override;
  void on_epoch_begin(int epoch, TrainState& s) override;
  void on_train_end(TrainState& s) override;

 private:
  std::shared_ptr<Schedule> schedule_;
  int verbose_;
};

// Keras's ReduceLROnPlateau. At each epoch end, with current = logs[monitor]:
//   in cooldown: cooldown_counter -= 1, wait = 0
//   current beats best by more than min_delta (absolute), or there is no best yet: best = current, wait = 0
//   else, when not in cooldown: wait += 1; when wait >= patience and lr > min_lr:
//     lr = max(lr * factor, min_lr), cooldown_counter = cooldown, wait = 0
// best, wait and cooldown reset at train begin. The new rate applies from the next epoch.
struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;     // in [0, 1)
  int patience = 10;       // >= 0
  std::string mode = "auto";  // "auto", "min" or "max"
  double min_delta = 1e-4;    // >= 0, absolute
  int cooldown = 0;           // >= 0
  double min_lr = 0;          // >= 0
  int verbose = 0;
  void validate() const;
};
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(const ReduceLROnPlateauOptions& options = {});
  void on_train_begin(TrainState& s) override;
  void on_epoch_end(int epoch, Logs& logs, TrainState& s) override;
  std::string state() const override;
  void restore(const std::string& state) override;
  int wait() const { return wait_; }
  int cooldown_counter() const { return cooldown_counter_; }
  std::optional<double> best() const { return best_; }

 private:
  ReduceLROnPlateauOptions o_;
  bool maximize_;
  bool warned_ = false;
  std::optional<double> best_;
  int wait_ = 0, cooldown_counter_ = 0;
};

// Keras's EarlyStopping. From epoch start_from_epoch on, at each epoch end with current = logs[monitor]:
//   wait += 1 (and, with restore_best_weights, the first monitored epoch's weights are kept)
//   current beats best by more than min_delta, or there is no best yet: best = current, the weights
//     are kept (restore_best_weights), and wait = 0 unless a baseline is set and current does not
//     beat it by min_delta
//   else, when wait >= patience and epoch > 0: stop_training = true
// At train end, with restore_best_weights, the kept parameters and non-trainable state are put
// back into the model whether or not training stopped early (Keras 3).
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;  // >= 0, absolute
  int patience = 0;      // >= 0
  std::string mode = "auto";
  std::optional<double> baseline{};
  bool restore_best_weights = false;
  int start_from_epoch = 0;  // >= 0
  int verbose = 0;
  void validate() const;
};
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(const EarlyStoppingOptions& options = {});
  void on_train_begin(TrainState& s) override;
  void on_epoch_end(int epoch, Logs& logs, TrainState& s) override;
  void on_train_end(TrainState& s) override;
  // Counters, the best value and the kept best weights (as buffers) survive a resume.
  std::string state() const override;
  void restore(const std::string& state) override;
  std::vector<std::pair<std::string, std::vector<float>*>> buffers() override;
  int stopped_epoch() const { return stopped_epoch_; }  // 0 when it did not stop training
  int best_epoch() const { return best_epoch_; }
  std::optional<double> best() const { return best_; }
  int wait() const { return wait_; }

 private:
  EarlyStoppingOptions o_;
  bool maximize_;
  bool warned_ = false;
  std::optional<double> best_;
  int wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
  bool have_best_weights_ = false;
  std::vector<float> best_params_, best_state_;
};

// Stochastic weight averaging (Izmailov et al. 2018; PyTorch's torch.optim.swa_utils): the mean of
// the weights at the end of every epoch from start_epoch on (counted from 0; -1, the default, is
// three quarters of the way: epochs * 3 / 4) becomes the model when training ends. The
// non-trainable state (batch normalisation's moving statistics) is averaged the same way, where
// PyTorch recomputes it with a pass over the data (update_bn). It runs after the other callbacks'
// on_train_end, so its average is the final model even with restore_best_weights or use_ema.
struct SwaOptions {
  int start_epoch = -1;  // >= -1
  int verbose = 0;
  void validate() const;
};
class StochasticWeightAveraging : public Callback {
 public:
  explicit StochasticWeightAveraging(const SwaOptions& options = {});
  void on_train_begin(TrainState& s) override;
  void on_epoch_end(int epoch, Logs& logs, TrainState& s) override;
  void on_train_end(TrainState& s) override;
  // The count and the running means survive a resume.
  std::string state() const override;
  void restore(const std::string& state) override;
  std::vector<std::pair<std::string, std::vector<float>*>> buffers() override;
  int averaged() const { return count_; }  // epochs in the average so far
  int first_epoch(int epochs) const { return o_.start_epoch >= 0 ? o_.start_epoch : epochs * 3 / 4; }

 private:
  SwaOptions o_;
  int count_ = 0;
  std::vector<float> mean_params_, mean_state_;
};

// Keras's SwapEMAWeights (swap_on_epoch = false): the optimizer's moving average of the weights
// (use_ema) is swapped into the model for each epoch's validation and swapped back after, so
// val_ metrics, and through them EarlyStopping, ReduceLROnPlateau and the best epoch, measure the
// averaged model that fit ends with. Training itself is unchanged. Without use_ema it refuses to
// start (on_train_begin); before the first step there is no average and nothing is swapped.
class SwapEMAWeights : public Callback {
 public:
  void on_train_begin(TrainState& s) override;
  void on_test_begin(TrainState& s) override;
  void on_test_end(TrainState& s) override;

 private:
  bool swapped_ = false;
};

// Keras's CSVLogger: one row per epoch, flushed, with the columns "epoch" (from 0) and the first
// epoch's log keys in sorted order. append: add to an existing file, writing the header only if
// the file is empty (and when fit resumes from a checkpoint). Values are written as the shortest decimal that reads back the same; a key an
// epoch lacks is left empty (Keras writes NA), so History::from_csv reads the file.
class CSVLogger : public Callback {
 public:
  bool writes_files() const override { return true; }
  explicit CSVLogger(std::string path, bool append = false, char separator = ',');
  void on_train_begin(TrainState& s) override;
  void on_epoch_end(int epoch, Logs& logs, TrainState& s) override;
  void on_train_end(TrainState& s) override;
  // The file's length and columns after the last checkpointed epoch: a resumed run cuts off rows
  // written after it and appends, so the file ends as an uninterrupted run's would.
  std::string state() const override;
  void restore(const std::string& state) override;

 private:
  void open(bool append);
  std::string path_;
  bool append_;
  char sep_;
  bool write_header_ = true;
  std::vector<std::string> keys_;
  std::ofstream out_;
};

// Keras's ModelCheckpoint: saves the model with nnlab::save_model (atomic) after every epoch, or,
// with save_best_only, only when logs[monitor] improves on the best so far (the first value, or
// initial_value_threshold, is the bar; the best is kept across fit calls as in Keras). When the
// monitored key is missing, it warns once and saves anyway. The path may hold Python-style fields:
// {epoch} (from 1), {epoch:02d}, and any log key such as {val_loss:.4f}; {{ and }} are braces.
// Missing folders are created. The file's metadata holds the epoch and the logs.
struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  std::string mode = "auto";
  bool save_best_only = false;
  std::optional<double> initial_value_threshold{};
  int verbose = 0;
};
class ModelCheckpoint : public Callback {
 public:
  bool writes_files() const override { return true; }
  explicit ModelCheckpoint(std::string path, const ModelCheckpointOptions& options = {});
  void on_epoch_end(int epoch, Logs& logs, TrainState& s) override;
  std::string state() const override;  // the best value, so a resumed run keeps the same bar
  void restore(const std::string& state) override;
  std::optional<double> best() const { return best_; }
  // The path for an epoch (from 0) and its logs; throws naming a field the logs lack.
  std::string path_for(int epoch, const Logs& logs) const;

 private:
  std::string path_;
  ModelCheckpointOptions o_;
  bool maximize_ = false;
  bool warned_ = false;
  std::optional<double> best_;
};

}  // namespace nnlab
