// Trainer: Keras's compile + fit / evaluate / predict around a Sequential model.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/error.hpp"
#include "nnlab/losses/loss.hpp"
#include "nnlab/model.hpp"
#include "nnlab/optimizers/optimizer.hpp"
#include "nnlab/training/callback.hpp"
#include "nnlab/training/history.hpp"
#include "nnlab/training/learning_rate.hpp"
#include "nnlab/training/distillation.hpp"
#include "nnlab/training/objective.hpp"

namespace nnlab {

class BatchPrefetcher;  // training/prefetcher.hpp, private to the library

// fit's error when the loss becomes infinite or NaN: a property of the settings (a learning rate too
// high), which a hyperparameter search records as a failed trial rather than stopping.
class TrainingDiverged : public Error {
 public:
  using Error::Error;
};

struct FitOptions {
  int epochs = 1;
  int initial_epoch = 0;
  int64_t batch_size = 32;  // Keras's default
  bool shuffle = true;      // reshuffled every epoch from the seed
  uint64_t seed = 42;
  int verbose = 1;          // 0 quiet, 1 progress bar / lines
  // When set, a checkpoint (weights, optimizer state, random state, history, callback state, the next
  // epoch) is written atomically here at the end of every epoch.
  std::string checkpoint_path;
  // Continue from checkpoint_path when it exists: the run ends exactly as an uninterrupted one would
  // (bit for bit with one thread).
  bool resume = false;
  void validate() const;    // throws nnlab::Error naming the bad value
};

// Data-parallel training: launched by mpirun with a dist::Session, fit() runs on every rank. Rank 0's
// initial weights are broadcast; every epoch's shuffled order is the same on every rank (same seed);
// each global batch of batch_size x ranks samples is split into contiguous shards, one per rank (the
// last batch's too, as evenly as possible); each rank's gradient, weighted by its share of the global
// batch, is summed over the ranks (dist::GradientReducer, bucketed during backward), so every rank
// takes the step one process would take on the whole global batch. Metrics are reduced, so every
// rank sees the same logs and callbacks decide alike; callbacks that write files run on rank 0 only.
// Random streams: shuffling and augmentation (seeded per sample from its place in the global batch)
// are those of one process with the global batch; dropout masks come from each rank's own stream,
// rank 0's the model's, rank r's reseeded every epoch from (seed, r, epoch), so they cannot equal a
// single process's masks (documented in docs/ARCHITECTURE.md). Batch normalisation uses each shard's
// statistics; its running statistics are averaged over the ranks after every epoch.
class Trainer {
 public:
  Trainer(Model& model, std::unique_ptr<Loss> loss, std::unique_ptr<Optimizer> optimizer);

  // Trains on `train`, evaluating on `validation` (may be null) after every epoch. Callbacks are
  // called in order after the built-in History (and ProgressBar when verbose).
  History fit(const Dataset& train, const FitOptions& options, const Dataset* validation = nullptr,
              const std::vector<Callback*>& callbacks = {});
  // Mean loss and, where it applies, accuracy over the dataset (batch_size 0: the model's
  // infer_batch_size()).
  Logs evaluate(const Dataset& data, int64_t batch_size = 0);
  // Throws nnlab::Error, naming the dataset, when its samples or targets do not fit the model and
  // loss (fit and evaluate check this first; a caller may check before it writes anything).
  void check_data(const Dataset& data) const;

  // Checkpoints: see FitOptions::checkpoint_path. load_checkpoint restores the model, optimizer and
  // random state and the history, returns the next epoch to run, and hands back what the callbacks
  // and the loop kept (fit() restores the callbacks after on_train_begin, which resets them).
  struct CheckpointExtras {
    std::vector<std::string> callback_states;  // each callback's state(), in order
    std::vector<std::map<std::string, std::vector<float>>> callback_buffers;  // each one's buffers() by name
    bool stop_training = false;  // a callback had stopped training: a resume runs no further epoch
  };
  void save_checkpoint(const std::string& path, int next_epoch, const History& history,
                       const std::vector<Callback*>& callbacks, bool stop_training = false);
  int load_checkpoint(const std::string& path, History& history, CheckpointExtras* extras = nullptr);

  Model& model() { return model_; }
  Loss& loss() { return *loss_; }
  Optimizer& optimizer() { return *optimizer_; }
  // The rate policy; it starts at the optimizer's initial_learning_rate() and carries its base and
  // plateau cuts from one fit to the next.
  LearningRate& learning_rate() { return rate_; }
  Rng& rng() { return rng_; }
  // Knowledge distillation ([distill]): every training step also learns from the teachers'
  // predictions on its batch. Needs a softmax output with a categorical cross-entropy (the loss then
  // works from the logits); null turns it off.
  void set_distiller(std::unique_ptr<Distiller> distiller);
  const Distiller* distiller() const { return distiller_.get(); }

 private:
  struct BatchShard {
    std::span<const int64_t> indices;  // this rank's samples of the batch
    int64_t position = 0;              // the place of the first of them in the whole batch
    int64_t batch_rows = 0;            // the whole (global) batch's samples
  };
  using BatchIndices = std::function<BatchShard(int64_t batch)>;
  Logs train_epoch(int epoch, TrainState& st, BatchPrefetcher& prefetch, const BatchIndices& batch_indices,
                   const std::vector<Callback*>& all, const std::string& checkpoint_path);
  // One optimizer step on a batch, or on this rank's shard of a global batch of `global_rows`
  // samples; returns the (global) batch's loss and adds its correct predictions to *correct.
  double train_step(const Tensor& x, const Tensor& y, int64_t* correct, float lr, int64_t global_rows);

  Model& model_;
  std::unique_ptr<Loss> loss_;
  std::unique_ptr<Optimizer> optimizer_;
  Objective objective_;  // the loss of the model's outputs, fused with its output activation or not
  LearningRate rate_;
  Tensor grad_;  // dLoss/d(output or logits), reused across steps
  std::unique_ptr<Distiller> distiller_;  // [distill], or null
  Rng rng_;
  dist::GradientReducer reducer_;  // sums the gradients over data-parallel ranks
  bool interrupted_ = false;       // Ctrl-C, on any rank, by the end of the last step
  double sum_seconds_ = 0;         // this fit's waits in the per-step sum of loss and accuracy
  double step_seconds_ = 0;        // with several ranks: this fit's steps, whole
  double backward_seconds_ = 0;    // and their backward passes (the sums start during them)
};

}  // namespace nnlab
