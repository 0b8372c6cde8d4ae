#include "nnlab/training/trainer.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <cmath>
#include <numeric>

#include "nnlab/error.hpp"
#include "nnlab/metrics.hpp"
#include "nnlab/io/safetensors.hpp"
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

Trainer::Trainer(Model& model, std::unique_ptr<Loss> loss, std::unique_ptr<Optimizer> optimizer)
    : model_(model), loss_(std::move(loss)), optimizer_(std::move(optimizer)) {
  check(model_.built(), "trainer: build the model before training it");
  check(loss_ != nullptr && optimizer_ != nullptr, "trainer: a loss and an optimizer are required");
  loss_name_ = loss_->name();
}

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
  const bool categorical = loss.name() == "categorical_crossentropy" || loss.name() == "sparse_categorical_crossentropy";
  if (categorical && d.target_width() == 1 && d.num_classes > 0) {
    check(d.num_classes <= outputs, what + " has " + std::to_string(d.num_classes) +
                                        " classes but the model has only " + std::to_string(outputs) + " outputs");
  } else {
    check(d.target_width() == outputs, what + " has targets of width " + std::to_string(d.target_width()) +
                                           " but the model has " + std::to_string(outputs) + " outputs (loss " +
                                           loss.name() + ")");
  }
}

double Trainer::train_step(const Tensor& x, const Tensor& y, int64_t* correct, float lr) {
  const Tensor& out = model_.forward(x, Mode::Train);
  const Tensor* logits = loss_->fuses(model_.output_activation()) ? model_.output_logits() : nullptr;
  const double l = logits ? loss_->compute_fused(*logits, y, &grad_) : loss_->compute(out, y, &grad_);
  if (correct) *correct += count_correct(loss_name_, out, y);
  model_.backward(grad_, logits != nullptr);
  const double penalty = model_.penalty();  // of the weights that produced this loss, as Keras reports it
  optimizer_->step(model_.params(), model_.grads(), lr);
  model_.apply_constraints();
  return l + penalty;
}

History Trainer::fit(const Dataset& train, const FitOptions& options, const Dataset* validation,
                     const std::vector<Callback*>& callbacks) {
  options.validate();
  check_data(train);
  if (validation) check_data(*validation);
  const bool with_accuracy = accuracy_applies(loss_name_);

  History history;
  ProgressBar progress(options.verbose);
  // As Keras: the progress bar first, the user's callbacks, then History, so that what callbacks add
  // to an epoch's logs is recorded.
  std::vector<Callback*> all{&progress};
  all.insert(all.end(), callbacks.begin(), callbacks.end());
  all.push_back(&history);

  TrainState st;
  st.model = &model_;
  st.optimizer = optimizer_.get();
  st.epochs = options.epochs;
  st.initial_epoch = options.initial_epoch;
  st.samples = train.size();
  st.batch_size = std::min(options.batch_size, train.size());
  st.steps_per_epoch = (st.samples + st.batch_size - 1) / st.batch_size;
  st.iteration = optimizer_->iterations;

  rng_ = Rng(options.seed);
  int first_epoch = options.initial_epoch;
  CheckpointExtras resumed;
  if (options.resume && !options.checkpoint_path.empty() && std::filesystem::exists(options.checkpoint_path)) {
    first_epoch = load_checkpoint(options.checkpoint_path, history, &resumed);
    st.iteration = optimizer_->iterations;
    st.initial_epoch = first_epoch;
    st.resuming = true;
    if (options.verbose > 0)
      std::printf("resuming from %s at epoch %d\n", options.checkpoint_path.c_str(), first_epoch + 1);
  }
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), 0);
  BatchPrefetcher prefetch(train);
  auto batch_indices = [&](int64_t b) {
    const int64_t begin = b * st.batch_size, end = std::min(st.samples, begin + st.batch_size);
    return std::span<const int64_t>(order).subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
  };

  // The rate the checkpoint saved: the one the uninterrupted run has at this epoch's start, after every
  // callback's on_epoch_end (a plateau cut, a schedule's last step).
  const float resumed_rate = optimizer_->learning_rate;
  for (auto* c : all) c->on_train_begin(st);
  if (st.resuming) {
    for (size_t i = 0; i < callbacks.size() && i < resumed.callback_states.size(); ++i) {
      if (!resumed.callback_states[i].empty()) callbacks[i]->restore(resumed.callback_states[i]);
      if (i >= resumed.callback_buffers.size()) continue;
      for (auto& [name, buf] : callbacks[i]->buffers()) {
        auto it = resumed.callback_buffers[i].find(name);
        if (it != resumed.callback_buffers[i].end()) *buf = std::move(it->second);
        else buf->clear();
      }
    }
    optimizer_->learning_rate = resumed_rate;
    st.stop_training = resumed.stop_training;
  }
  for (int epoch = first_epoch; epoch < options.epochs && !st.stop_training; ++epoch) {
    for (auto* c : all) c->on_epoch_begin(epoch, st);
    if (options.shuffle) {  // each epoch's order depends only on the random state, so resuming repeats it
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng_.engine());
    }
    double loss_sum = 0;
    int64_t seen = 0, correct = 0;
    Logs running;
    prefetch.request(batch_indices(0));
    for (int64_t b = 0; b < st.steps_per_epoch; ++b) {
      const Tensor *xb = nullptr, *yb = nullptr;
      prefetch.take(xb, yb);
      if (b + 1 < st.steps_per_epoch) prefetch.request(batch_indices(b + 1));
      st.lr = optimizer_->learning_rate;
      const double l = train_step(*xb, *yb, with_accuracy ? &correct : nullptr, st.lr);
      if (!std::isfinite(l)) {
        throw Error("training diverged: the loss became " + std::to_string(l) + " at epoch " +
                    std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) + " (learning rate " +
                    std::to_string(st.lr) + "); lower the learning rate or check the data for NaN values");
      }
      ++st.iteration;
      loss_sum += l * static_cast<double>(xb->rows());
      seen += xb->rows();
      running["loss"] = loss_sum / static_cast<double>(seen);
      if (with_accuracy) running["accuracy"] = static_cast<double>(correct) / static_cast<double>(seen);
      for (auto* c : all) c->on_batch_end(b, running, st);
      if (interrupt_requested()) {
        if (b + 1 < st.steps_per_epoch) prefetch.take(xb, yb);  // let the worker finish its batch
        throw Interrupted("interrupted in epoch " + std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) +
                          (options.checkpoint_path.empty()
                               ? std::string()
                               : "; the checkpoint of the last finished epoch is " + options.checkpoint_path));
      }
    }
    Logs logs = running;
    if (validation) {
      for (const auto& [k, v] : evaluate(*validation, std::max<int64_t>(st.batch_size, 256))) logs["val_" + k] = v;
    }
    logs["lr"] = st.lr;
    for (auto* c : all) c->on_epoch_end(epoch, logs, st);
    if (!options.checkpoint_path.empty()) save_checkpoint(options.checkpoint_path, epoch + 1, history, callbacks, st.stop_training);
  }
  for (auto* c : all) c->on_train_end(st);
  return history;
}

Logs Trainer::evaluate(const Dataset& data, int64_t batch_size) {
  check(batch_size >= 1, "evaluate: batch_size must be at least 1, got " + std::to_string(batch_size));
  check_data(data);
  const bool with_accuracy = accuracy_applies(loss_name_);
  std::vector<int64_t> idx;
  Tensor xb, yb;
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t b = 0; b < data.size(); b += batch_size) {
    const int64_t e = std::min(data.size(), b + batch_size);
    idx.resize(static_cast<size_t>(e - b));
    std::iota(idx.begin(), idx.end(), b);
    data.gather(idx, xb, yb);
    const Tensor& out = model_.forward(xb, Mode::Infer);
    const Tensor* logits = loss_->fuses(model_.output_activation()) ? model_.output_logits() : nullptr;
    loss_sum += (logits ? loss_->compute_fused(*logits, yb, nullptr) : loss_->compute(out, yb, nullptr)) *
                static_cast<double>(e - b);
    if (with_accuracy) correct += count_correct(loss_name_, out, yb);
  }
  Logs logs{{"loss", loss_sum / static_cast<double>(data.size())}};
  if (with_accuracy) logs["accuracy"] = static_cast<double>(correct) / static_cast<double>(data.size());
  return logs;
}

// Layout: tensors "model/<name>" (every parameter and state tensor) and "optimizer/<state>"; the
// metadata entry "nnlab.checkpoint" holds the next epoch, the optimizer's step count and rate, both
// random states, the history as CSV and each callback's state.
void Trainer::save_checkpoint(const std::string& path, int next_epoch, const History& history,
                              const std::vector<Callback*>& callbacks, bool stop_training) {
  SafetensorsFile f;
  for (const auto& t : model_.named_tensors())
    f.tensors["model/" + t.name] = Tensor(t.shape, std::vector<float>(t.value.begin(), t.value.end()));
  for (const auto& [name, buf] : optimizer_->state())
    f.tensors["optimizer/" + name] = Tensor({static_cast<int64_t>(buf->size())}, *buf);
  nlohmann::json cb = nlohmann::json::array();
  for (size_t i = 0; i < callbacks.size(); ++i) {
    cb.push_back(callbacks[i]->state());
    for (const auto& [name, buf] : callbacks[i]->buffers()) {
      if (!buf->empty())
        f.tensors["callback/" + std::to_string(i) + "/" + name] = Tensor({static_cast<int64_t>(buf->size())}, *buf);
    }
  }
  const nlohmann::json meta{{"next_epoch", next_epoch},
                            {"iterations", optimizer_->iterations},
                            {"learning_rate", optimizer_->learning_rate},
                            {"optimizer", optimizer_->name()},
                            {"trainer_rng", rng_.state()},
                            {"model_rng", model_.rng().state()},
                            {"history", history.to_csv()},
                            {"callbacks", cb},
                            {"stop_training", stop_training}};
  f.metadata["nnlab.checkpoint"] = meta.dump();
  f.metadata["nnlab.model"] = model_.config().dump();
  write_safetensors(path, f);
}

int checkpoint_next_epoch(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return 0;
  const SafetensorsFile f = read_safetensors(path);
  auto it = f.metadata.find("nnlab.checkpoint");
  check(it != f.metadata.end(), path + ": not an nnlab checkpoint (no 'nnlab.checkpoint' metadata)");
  try {
    return nlohmann::json::parse(it->second).at("next_epoch").get<int>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": corrupt checkpoint metadata: " + e.what());
  }
}

int Trainer::load_checkpoint(const std::string& path, History& history, CheckpointExtras* extras) {
  SafetensorsFile f = read_safetensors(path);
  auto it = f.metadata.find("nnlab.checkpoint");
  check(it != f.metadata.end(), path + ": not an nnlab checkpoint (no 'nnlab.checkpoint' metadata)");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": corrupt checkpoint metadata: " + e.what());
  }
  check(f.metadata.count("nnlab.model") && nlohmann::json::parse(f.metadata["nnlab.model"]) == model_.config(),
        path + ": the checkpoint was written by a different model architecture");
  check(meta.value("optimizer", "") == optimizer_->name(),
        path + ": the checkpoint's optimizer is '" + meta.value("optimizer", "") + "', not '" + optimizer_->name() + "'");
  for (auto& t : model_.named_tensors()) {
    auto ti = f.tensors.find("model/" + t.name);
    check(ti != f.tensors.end(), path + ": checkpoint lacks tensor '" + t.name + "'");
    check(ti->second.size() == static_cast<int64_t>(t.value.size()), path + ": tensor '" + t.name + "' has the wrong size");
    std::copy(ti->second.data(), ti->second.data() + ti->second.size(), t.value.begin());
  }
  for (auto& [name, buf] : optimizer_->state()) {
    auto ti = f.tensors.find("optimizer/" + name);
    if (ti == f.tensors.end()) continue;  // state not created yet when the checkpoint was written
    buf->assign(ti->second.data(), ti->second.data() + ti->second.size());
  }
  optimizer_->iterations = meta.at("iterations").get<int64_t>();
  optimizer_->learning_rate = meta.at("learning_rate").get<float>();
  rng_.set_state(meta.at("trainer_rng").get<std::string>());
  model_.rng().set_state(meta.at("model_rng").get<std::string>());
  const History saved = History::from_csv(meta.at("history").get<std::string>(), path);
  history.epochs = saved.epochs;
  history.logs = saved.logs;
  if (extras) {
    for (const auto& c : meta.at("callbacks")) extras->callback_states.push_back(c.get<std::string>());
    extras->callback_buffers.resize(extras->callback_states.size());
    for (auto& [name, t] : f.tensors) {  // "callback/<index>/<buffer>"
      if (name.rfind("callback/", 0) != 0) continue;
      const size_t slash = name.find('/', 9);
      size_t index = 0;
      const std::string digits = name.substr(9, slash == std::string::npos ? std::string::npos : slash - 9);
      check(slash != std::string::npos && !digits.empty() && digits.size() < 6 &&
                digits.find_first_not_of("0123456789") == std::string::npos &&
                (index = std::stoul(digits)) < extras->callback_buffers.size(),
            path + ": checkpoint tensor '" + name + "' names no saved callback (" +
                std::to_string(extras->callback_buffers.size()) + " saved)");
      extras->callback_buffers[index][name.substr(slash + 1)] = std::vector<float>(t.data(), t.data() + t.size());
    }
    extras->stop_training = meta.value("stop_training", false);
  }
  return meta.at("next_epoch").get<int>();
}

}  // namespace nnlab
