#include "nnlab/training/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "nnlab/data/augment.hpp"
#include "nnlab/error.hpp"
#include "nnlab/kernels/denormals.hpp"
#include "nnlab/metrics.hpp"
#include "nnlab/text.hpp"
#include "nnlab/training/interrupt.hpp"
#include "nnlab/training/progress.hpp"
#include "prefetcher.hpp"

namespace nnlab {

void FitOptions::validate() const {
  check(epochs >= 1, "epochs must be at least 1, got " + std::to_string(epochs));
  check(initial_epoch >= 0 && initial_epoch <= epochs,
        "initial_epoch must be in [0, epochs], got " + std::to_string(initial_epoch));
  check(batch_size >= 1, "batch_size must be at least 1, got " + std::to_string(batch_size));
}

namespace {

// The objective of a trainer's loss and model, made once both are known to be usable.
Objective checked_objective(const Model& model, const Loss* loss, const Optimizer* optimizer) {
  check(model.built(), "trainer: build the model before training it");
  check(loss != nullptr && optimizer != nullptr, "trainer: a loss and an optimizer are required");
  return Objective(*loss, model);
}

// Gives each callback the state and buffers a checkpoint saved for it (after its on_train_begin).
void restore_callbacks(const std::vector<Callback*>& callbacks, Trainer::CheckpointExtras& resumed,
                       const std::string& path) {
  for (size_t i = 0; i < callbacks.size() && i < resumed.callback_states.size(); ++i) {
    try {
      if (!resumed.callback_states[i].empty()) callbacks[i]->restore(resumed.callback_states[i]);
    } catch (const std::exception& e) {  // a JSON or nnlab error from a corrupt state
      throw Error(path + ": corrupt checkpoint metadata: the state of callback " + std::to_string(i + 1) +
                  " cannot be restored: " + e.what());
    }
    if (i >= resumed.callback_buffers.size()) continue;
    for (auto& [name, buf] : callbacks[i]->buffers()) {
      auto it = resumed.callback_buffers[i].find(name);
      if (it != resumed.callback_buffers[i].end()) *buf = std::move(it->second);
      else buf->clear();
    }
  }
}

}  // namespace

Trainer::Trainer(Model& model, std::unique_ptr<Loss> loss, std::unique_ptr<Optimizer> optimizer)
    : model_(model),
      loss_(std::move(loss)),
      optimizer_(std::move(optimizer)),
      objective_(checked_objective(model_, loss_.get(), optimizer_.get())),
      rate_(static_cast<float>(optimizer_->initial_learning_rate())) {}

// Checks that a dataset fits the model before any step runs, so a mismatch is one clear message.
void Trainer::check_data(const Dataset& d) const {
  const Model& m = model_;
  const Loss& loss = *loss_;
  const std::string what = d.name.empty() ? "dataset" : "dataset '" + d.name + "'";
  check(d.size() >= 1, what + " is empty");
  check(shape_size(d.sample_shape()) == shape_size(m.input_shape()),
        what + " has samples of shape " + shape_str(d.sample_shape()) + " but the model's input is " +
            shape_str(m.input_shape()));
  const int64_t outputs = shape_size(m.output_shape());
  const bool categorical = loss.targets() == Targets::Classes || loss.targets() == Targets::ClassIndices;
  if (categorical && d.target_width() == 1 && d.num_classes > 0) {
    // One output per class, exactly: an extra output could win the argmax and name a class the data
    // does not have, which the confusion matrix and the accuracy cannot count.
    check(d.num_classes == outputs, what + " has " + std::to_string(d.num_classes) + " classes but the model has " +
                                        std::to_string(outputs) + " outputs; a classifier needs one output per class " +
                                        "(give the last layer units = " + std::to_string(d.num_classes) + ")");
  } else {
    check(d.target_width() == outputs, what + " has targets of width " + std::to_string(d.target_width()) +
                                           " but the model has " + std::to_string(outputs) + " outputs (loss " +
                                           loss.name() + ")");
  }
}

void Trainer::set_distiller(std::unique_ptr<Distiller> distiller) {
  check(!distiller || (objective_.fused() && (loss_->targets() == Targets::Classes || loss_->targets() == Targets::ClassIndices)),
        "distill: the student must end in a softmax layer trained with categorical_crossentropy or "
        "sparse_categorical_crossentropy (its loss works from the logits the teachers' are compared with); this model "
        "ends in '" + model_.output_activation() + "' with loss " + loss_->name());
  distiller_ = std::move(distiller);
}

double Trainer::train_step(const Tensor& x, const Tensor& y, int64_t* correct, float lr, int64_t global_rows) {
  const auto step_start = std::chrono::steady_clock::now();  // timed with several ranks (the overlap line)
  const int64_t rows = x.rows();
  double l = 0;
  int64_t right = 0;
  if (!dist::active()) {
    const Tensor& out = model_.forward(x, Mode::Train);
    l = objective_.loss_and_gradient(model_, out, y, &grad_);
    if (distiller_) l = distiller_->combine(x, *model_.output_logits(), l, grad_);
    if (correct) right = count_correct(*loss_, out, y);
    model_.backward(grad_, objective_.fused());
  } else if (rows > 0) {
    const Tensor& out = model_.forward(x, Mode::Train);
    l = objective_.loss_and_gradient(model_, out, y, &grad_);  // the mean over this shard
    if (distiller_) l = distiller_->combine(x, *model_.output_logits(), l, grad_);
    if (correct) right = count_correct(*loss_, out, y);
    // The shard's mean gradient weighted by its share: summed over the ranks, the global batch's mean.
    reducer_.begin(model_.grads(), static_cast<float>(static_cast<double>(rows) / static_cast<double>(global_rows)));
    const auto b0 = std::chrono::steady_clock::now();
    model_.backward(grad_, objective_.fused(), [this](size_t offset) { reducer_.ready(offset); });
    backward_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
    reducer_.finish();
  } else {  // an empty shard (a last batch with fewer samples than ranks) adds nothing to the sum
    std::fill(model_.grads().begin(), model_.grads().end(), 0.0f);
    reducer_.begin(model_.grads(), 1.0f);
    reducer_.finish();
  }
  if (dist::active()) {  // with Ctrl-C on any rank: every rank stops after the same step
    double totals[3] = {l * static_cast<double>(rows), static_cast<double>(right), interrupt_requested() ? 1.0 : 0.0};
    const auto t0 = std::chrono::steady_clock::now();
    dist::sum(totals);
    sum_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    l = totals[0] / static_cast<double>(global_rows);
    right = static_cast<int64_t>(totals[1]);
    interrupted_ = totals[2] > 0;
  }
  if (correct) *correct += right;
  const double penalty = model_.penalty();  // of the weights that produced this loss, as Keras reports it
  optimizer_->step(model_.params(), model_.grads(), lr);
  optimizer_->update_average(model_.params());  // use_ema
  model_.apply_constraints();
  if (dist::active()) step_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
  return l + penalty;
}

History Trainer::fit(const Dataset& train, const FitOptions& options, const Dataset* validation,
                     const std::vector<Callback*>& callbacks) {
  options.validate();
  const kernels::DenormalScope denormals;  // this thread and the OpenMP pool, for the whole fit
  check_data(train);
  if (validation) check_data(*validation);

  const int ranks = dist::size(), rank = dist::rank();
  History history;
  ProgressBar progress(rank == 0 ? options.verbose : 0);
  // As Keras: the progress bar first, the user's callbacks, then History, so that what callbacks add
  // to an epoch's logs is recorded. Only rank 0 writes files.
  std::vector<Callback*> all{&progress};
  for (auto* c : callbacks)
    if (rank == 0 || !c->writes_files()) all.push_back(c);
  all.push_back(&history);

  TrainState st;
  st.model = &model_;
  st.optimizer = optimizer_.get();
  st.rate = &rate_;
  st.history = &history;
  // A schedule lives for one fit: ScheduleCallback installs it at train begin.
  rate_.schedule = nullptr;
  struct ClearSchedule {
    LearningRate& r;
    ~ClearSchedule() { r.schedule = nullptr; }
  } clear_schedule{rate_};
  st.epochs = options.epochs;
  st.initial_epoch = options.initial_epoch;
  st.samples = train.size();
  st.ranks = ranks;
  st.rank_batch_size = std::min(options.batch_size, train.size());
  st.batch_size = std::min(options.batch_size * ranks, train.size());  // the global batch
  st.steps_per_epoch = (st.samples + st.batch_size - 1) / st.batch_size;
  st.iteration = optimizer_->iterations;

  rng_ = Rng(options.seed);
  if (ranks > 1) {  // every rank starts from rank 0's weights and state
    dist::broadcast(model_.params());
    dist::broadcast(model_.state());
  }
  int first_epoch = options.initial_epoch;
  CheckpointExtras resumed;
  bool resume = options.resume && !options.checkpoint_path.empty() && std::filesystem::exists(options.checkpoint_path);
  if (ranks > 1) {  // rank 0 decides, so a checkpoint visible to some ranks only cannot split the run
    double found = resume ? 1 : 0;
    dist::broadcast_value(found);
    check(found == 0 || std::filesystem::exists(options.checkpoint_path),
          options.checkpoint_path + ": rank 0 resumes from this checkpoint but rank " + std::to_string(rank) +
              " cannot see it; data-parallel ranks need the run folder on a shared file system");
    resume = found != 0;
  }
  if (resume) {
    first_epoch = load_checkpoint(options.checkpoint_path, history, &resumed);
    check(first_epoch <= options.epochs,
          options.checkpoint_path + ": the checkpoint's next_epoch is " + std::to_string(first_epoch) +
              ", beyond the " + std::to_string(options.epochs) + " epochs of this run (a corrupt checkpoint?)");
    st.iteration = optimizer_->iterations;
    st.initial_epoch = first_epoch;
    st.resuming = true;
    // Each finished epoch gathered steps_per_epoch batches: data whose batches depend on how many came
    // before (augmentation's random stream) continues where the interrupted run left it.
    train.seek_batches(static_cast<uint64_t>(first_epoch) * static_cast<uint64_t>(st.steps_per_epoch));
    if (options.verbose > 0 && rank == 0)
      std::printf("resuming from %s at epoch %d\n", options.checkpoint_path.c_str(), first_epoch + 1);
  }
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), 0);
  BatchPrefetcher prefetch(train);
  // This rank's shard of global batch b: (indices, place of its first sample in the batch, batch size).
  auto batch_indices = [&](int64_t b) {
    const int64_t begin = b * st.batch_size, end = std::min(st.samples, begin + st.batch_size);
    const dist::Share s = dist::share(end - begin, rank, ranks);
    return BatchShard{std::span<const int64_t>(order).subspan(static_cast<size_t>(begin + s.first), static_cast<size_t>(s.n)),
                      s.first, end - begin};
  };

  st.lr = rate_.current();
  reducer_.reset_timing();
  sum_seconds_ = step_seconds_ = backward_seconds_ = 0;
  const auto fit_start = std::chrono::steady_clock::now();
  for (auto* c : all) c->on_train_begin(st);
  if (st.resuming) {
    restore_callbacks(callbacks, resumed, options.checkpoint_path);
    st.stop_training = resumed.stop_training;
  }
  for (int epoch = first_epoch; epoch < options.epochs && !st.stop_training; ++epoch) {
    // Dropout's stream: rank 0 continues the model's (a single process's); rank r draws from its own,
    // seeded from (seed, r, epoch), so a resumed run repeats it.
    if (rank > 0)
      model_.rng() = Rng(splitmix64(splitmix64(splitmix64(options.seed) ^ static_cast<uint64_t>(rank)) ^
                                    static_cast<uint64_t>(epoch)));
    for (auto* c : all) c->on_epoch_begin(epoch, st);
    if (options.shuffle) {  // each epoch's order depends only on the random state, so resuming repeats it
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng_.engine());
    }
    Logs logs = train_epoch(epoch, st, prefetch, batch_indices, all, options.checkpoint_path);
    dist::average(model_.state());  // batch norm's running statistics, one set for every rank
    if (validation) {
      for (auto* c : all) c->on_test_begin(st);
      for (const auto& [k, v] : evaluate(*validation, model_.infer_batch_size(std::max<int64_t>(st.batch_size, 256)))) logs["val_" + k] = v;
      for (auto* c : all) c->on_test_end(st);
    }
    logs["lr"] = st.lr;
    for (auto* c : all) c->on_epoch_end(epoch, logs, st);
    if (!options.checkpoint_path.empty() && rank == 0) save_checkpoint(options.checkpoint_path, epoch + 1, history, callbacks, st.stop_training);
  }
  if (ranks > 1 && rank == 0 && options.verbose > 0) {
    // What the steps waited for the other ranks: the gradient sums not hidden behind backward, and
    // the per-step sum of the loss (which includes waiting for the slowest rank).
    const double train = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    std::printf("data-parallel: %.1f%% of the training time (%.2f s of %.2f s) waiting for sums over ranks (gradients %.2f s)\n",
                100.0 * (reducer_.wait_seconds() + sum_seconds_) / train, reducer_.wait_seconds() + sum_seconds_, train,
                reducer_.wait_seconds());
    // How much of the gradient sums hid behind backward: the wait per step against the step, and the
    // share of the values whose sum started while backward still ran.
    const dist::GradientReducer::Timing& t = reducer_.timing();
    if (t.steps > 0 && t.values > 0) {
      const double n = static_cast<double>(t.steps), ms = 1e3 / n;
      std::printf("data-parallel: a step %.2f ms (backward %.2f ms); waiting for the gradient sums %.2f ms (%.1f%% of the "
                  "step); %.0f%% of the gradient values (%.1f of %.1f buckets a step) were sent while backward ran\n",
                  step_seconds_ * ms, backward_seconds_ * ms, t.wait_seconds * ms, 100.0 * t.wait_seconds / step_seconds_,
                  100.0 * static_cast<double>(t.values_during_backward) / static_cast<double>(t.values),
                  static_cast<double>(t.buckets_during_backward) / n, static_cast<double>(t.buckets) / n);
    }
  }
  // With use_ema the weights become their moving average, before the callbacks' on_train_end (as
  // Keras's fit: EarlyStopping's restore_best_weights still has the last word).
  optimizer_->finalize_average(model_.params());
  for (auto* c : all) c->on_train_end(st);
  return history;
}

// One epoch's steps: each batch with its rate, the running means and the callbacks' on_batch_end.
// Returns the epoch's logs so far (loss, accuracy). Throws when the loss diverges and, once the
// prefetch worker has finished its batch, when interrupted.
Logs Trainer::train_epoch(int epoch, TrainState& st, BatchPrefetcher& prefetch, const BatchIndices& batch_indices,
                          const std::vector<Callback*>& all, const std::string& checkpoint_path) {
  const bool with_accuracy = accuracy_applies(*loss_);
  const int64_t epoch_step = st.iteration;
  double loss_sum = 0;
  int64_t seen = 0, correct = 0;
  Logs running;
  BatchShard shard = batch_indices(0), next{};
  prefetch.request(shard.indices, shard.position);
  for (int64_t b = 0; b < st.steps_per_epoch; ++b) {
    const Tensor *xb = nullptr, *yb = nullptr;
    prefetch.take(xb, yb);
    if (b + 1 < st.steps_per_epoch) {
      next = batch_indices(b + 1);
      prefetch.request(next.indices, next.position);
    }
    st.lr = rate_.next(epoch, st.iteration, epoch_step);
    const int64_t rows = shard.batch_rows;  // the whole batch's, on every rank
    const double l = train_step(*xb, *yb, with_accuracy ? &correct : nullptr, st.lr, rows);
    shard = next;
    if (!std::isfinite(l)) {
      throw TrainingDiverged("training diverged: the loss became " + std::to_string(l) + " at epoch " +
                  std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) + " (learning rate " +
                  number_str(st.lr) + "); lower the learning rate or check the data for NaN values");
    }
    ++st.iteration;
    loss_sum += l * static_cast<double>(rows);
    seen += rows;
    running["loss"] = loss_sum / static_cast<double>(seen);
    if (with_accuracy) running["accuracy"] = static_cast<double>(correct) / static_cast<double>(seen);
    for (auto* c : all) c->on_batch_end(b, running, st);
    if (dist::active() ? interrupted_ : interrupt_requested()) {
      if (b + 1 < st.steps_per_epoch) prefetch.take(xb, yb);  // let the worker finish its batch
      throw Interrupted("interrupted in epoch " + std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) +
                        (checkpoint_path.empty()
                             ? std::string()
                             : "; the checkpoint of the last finished epoch is " + checkpoint_path));
    }
  }
  return running;
}

Logs Trainer::evaluate(const Dataset& data, int64_t batch_size) {
  batch_size = model_.inference_batch(batch_size, "evaluate");
  const kernels::DenormalScope denormals;
  check_data(data);
  const bool with_accuracy = accuracy_applies(*loss_);
  std::vector<int64_t> idx;
  Tensor xb, yb;
  double loss_sum = 0;
  int64_t correct = 0;
  // Data-parallel: each rank evaluates its contiguous share of the data, and the sums are reduced.
  const dist::Share mine = dist::share(data.size(), dist::rank(), dist::size());
  for (int64_t b = mine.first; b < mine.first + mine.n; b += batch_size) {
    const int64_t e = std::min(mine.first + mine.n, b + batch_size);
    idx.resize(static_cast<size_t>(e - b));
    std::iota(idx.begin(), idx.end(), b);
    data.gather(idx, xb, yb);
    const Tensor& out = model_.infer(xb);
    loss_sum += objective_.loss_and_gradient(model_, out, yb, nullptr) * static_cast<double>(e - b);
    if (with_accuracy) correct += count_correct(*loss_, out, yb);
  }
  if (dist::active()) {
    double totals[2] = {loss_sum, static_cast<double>(correct)};
    dist::sum(totals);
    loss_sum = totals[0];
    correct = static_cast<int64_t>(totals[1]);
  }
  Logs logs{{"loss", loss_sum / static_cast<double>(data.size())}};
  if (with_accuracy) logs["accuracy"] = static_cast<double>(correct) / static_cast<double>(data.size());
  return logs;
}

}  // namespace nnlab
