#include "nnlab/training/trainer.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/metrics.hpp"
#include "nnlab/text.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/kernels/denormals.hpp"
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

double Trainer::train_step(const Tensor& x, const Tensor& y, int64_t* correct, float lr) {
  const Tensor& out = model_.forward(x, Mode::Train);
  const double l = objective_.loss_and_gradient(model_, out, y, &grad_);
  if (correct) *correct += count_correct(*loss_, out, y);
  model_.backward(grad_, objective_.fused());
  const double penalty = model_.penalty();  // of the weights that produced this loss, as Keras reports it
  optimizer_->step(model_.params(), model_.grads(), lr);
  model_.apply_constraints();
  return l + penalty;
}

History Trainer::fit(const Dataset& train, const FitOptions& options, const Dataset* validation,
                     const std::vector<Callback*>& callbacks) {
  options.validate();
  const kernels::DenormalScope denormals;  // this thread and the OpenMP pool, for the whole fit
  check_data(train);
  if (validation) check_data(*validation);
  const bool with_accuracy = accuracy_applies(*loss_);

  History history;
  ProgressBar progress(options.verbose);
  // As Keras: the progress bar first, the user's callbacks, then History, so that what callbacks add
  // to an epoch's logs is recorded.
  std::vector<Callback*> all{&progress};
  all.insert(all.end(), callbacks.begin(), callbacks.end());
  all.push_back(&history);

  TrainState st;
  st.model = &model_;
  st.rate = &rate_;
  // A schedule lives for one fit: ScheduleCallback installs it at train begin.
  rate_.schedule = nullptr;
  struct ClearSchedule {
    LearningRate& r;
    ~ClearSchedule() { r.schedule = nullptr; }
  } clear_schedule{rate_};
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
    check(first_epoch <= options.epochs,
          options.checkpoint_path + ": the checkpoint's next_epoch is " + std::to_string(first_epoch) +
              ", beyond the " + std::to_string(options.epochs) + " epochs of this run (a corrupt checkpoint?)");
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

  st.lr = rate_.current();
  for (auto* c : all) c->on_train_begin(st);
  if (st.resuming) {
    for (size_t i = 0; i < callbacks.size() && i < resumed.callback_states.size(); ++i) {
      try {
        if (!resumed.callback_states[i].empty()) callbacks[i]->restore(resumed.callback_states[i]);
      } catch (const std::exception& e) {  // a JSON or nnlab error from a corrupt state
        throw Error(options.checkpoint_path + ": corrupt checkpoint metadata: the state of callback " +
                    std::to_string(i + 1) + " cannot be restored: " + e.what());
      }
      if (i >= resumed.callback_buffers.size()) continue;
      for (auto& [name, buf] : callbacks[i]->buffers()) {
        auto it = resumed.callback_buffers[i].find(name);
        if (it != resumed.callback_buffers[i].end()) *buf = std::move(it->second);
        else buf->clear();
      }
    }
    st.stop_training = resumed.stop_training;
  }
  for (int epoch = first_epoch; epoch < options.epochs && !st.stop_training; ++epoch) {
    for (auto* c : all) c->on_epoch_begin(epoch, st);
    if (options.shuffle) {  // each epoch's order depends only on the random state, so resuming repeats it
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng_.engine());
    }
    const int64_t epoch_step = st.iteration;
    double loss_sum = 0;
    int64_t seen = 0, correct = 0;
    Logs running;
    prefetch.request(batch_indices(0));
    for (int64_t b = 0; b < st.steps_per_epoch; ++b) {
      const Tensor *xb = nullptr, *yb = nullptr;
      prefetch.take(xb, yb);
      if (b + 1 < st.steps_per_epoch) prefetch.request(batch_indices(b + 1));
      st.lr = rate_.next(epoch, st.iteration, epoch_step);
      const double l = train_step(*xb, *yb, with_accuracy ? &correct : nullptr, st.lr);
      if (!std::isfinite(l)) {
        throw Error("training diverged: the loss became " + std::to_string(l) + " at epoch " +
                    std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) + " (learning rate " +
                    number_str(st.lr) + "); lower the learning rate or check the data for NaN values");
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
  const kernels::DenormalScope denormals;
  check_data(data);
  const bool with_accuracy = accuracy_applies(*loss_);
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
    loss_sum += objective_.loss_and_gradient(model_, out, yb, nullptr) * static_cast<double>(e - b);
    if (with_accuracy) correct += count_correct(*loss_, out, yb);
  }
  Logs logs{{"loss", loss_sum / static_cast<double>(data.size())}};
  if (with_accuracy) logs["accuracy"] = static_cast<double>(correct) / static_cast<double>(data.size());
  return logs;
}

// Layout: tensors "model/<name>" (every parameter and state tensor) and "optimizer/<state>"; the
// metadata entry "nnlab.checkpoint" holds the next epoch, the optimizer's step count, the rate
// policy's base and factor, both random states, the history as CSV and each callback's state.
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
                            {"learning_rate", rate_.base()},
                            {"lr_factor", rate_.factor()},
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

namespace {

// The "nnlab.checkpoint" metadata of a checkpoint file, and its fields read with errors that name
// the file and the key (corrupt metadata is reported, never a raw library message).
struct CheckpointMeta {
  std::string path;
  nlohmann::json meta;

  CheckpointMeta(const std::string& p, const SafetensorsFile& f) : path(p) {
    auto it = f.metadata.find("nnlab.checkpoint");
    check(it != f.metadata.end(), path + ": not an nnlab checkpoint (no 'nnlab.checkpoint' metadata)");
    meta = parse_json(it->second, path + ": corrupt checkpoint metadata 'nnlab.checkpoint'");
    check(meta.is_object(), path + ": corrupt checkpoint metadata 'nnlab.checkpoint': not a JSON object");
  }

  template <class T>
  T get(const std::string& key, const char* kind) const {
    const std::string bad = path + ": corrupt checkpoint metadata: '" + key + "' ";
    check(meta.contains(key), bad + "is missing");
    const nlohmann::json& v = meta.at(key);
    if constexpr (std::is_same_v<T, std::string>) {
      check(v.is_string(), bad + "must be " + kind + ", got " + v.dump());
    } else if constexpr (std::is_integral_v<T>) {
      check(v.is_number_integer() && v.get<int64_t>() >= 0 &&
                v.get<int64_t>() <= static_cast<int64_t>(std::numeric_limits<T>::max()),
            bad + "must be " + kind + ", got " + v.dump());
    } else {
      check(v.is_number() && std::isfinite(v.get<double>()) && std::fabs(v.get<double>()) <= 3.4e38,
            bad + "must be " + kind + ", got " + v.dump());
    }
    return v.get<T>();
  }

  int next_epoch() const { return get<int>("next_epoch", "a whole number of at least 0"); }
};

}  // namespace

int checkpoint_next_epoch(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return 0;
  return CheckpointMeta(path, read_safetensors(path)).next_epoch();
}

int Trainer::load_checkpoint(const std::string& path, History& history, CheckpointExtras* extras) {
  SafetensorsFile f = read_safetensors(path);
  const CheckpointMeta meta(path, f);
  bool same_model = false;
  if (auto m = f.metadata.find("nnlab.model"); m != f.metadata.end()) {
    same_model = parse_json(m->second, path + ": corrupt checkpoint metadata 'nnlab.model'") == model_.config();
  }
  check(same_model, path + ": the checkpoint was written by a different model architecture");
  const std::string optimizer = meta.get<std::string>("optimizer", "the optimizer's name");
  check(optimizer == optimizer_->name(),
        path + ": the checkpoint's optimizer is '" + optimizer + "', not '" + optimizer_->name() + "'");
  // Every tensor must be one the model or the optimizer has: model files refuse unknown tensors too.
  std::set<std::string> known;
  for (auto& t : model_.named_tensors()) {
    known.insert("model/" + t.name);
    auto ti = f.tensors.find("model/" + t.name);
    check(ti != f.tensors.end(), path + ": checkpoint lacks tensor 'model/" + t.name + "'");
    check(ti->second.size() == static_cast<int64_t>(t.value.size()),
          path + ": tensor 'model/" + t.name + "' has " + std::to_string(ti->second.size()) +
              " values, the model's has " + std::to_string(t.value.size()));
    check(std::all_of(ti->second.span().begin(), ti->second.span().end(), [](float v) { return std::isfinite(v); }),
          path + ": tensor 'model/" + t.name + "' holds NaN or infinity; a checkpoint's weights must be finite");
    std::copy(ti->second.data(), ti->second.data() + ti->second.size(), t.value.begin());
  }
  for (auto& [name, buf] : optimizer_->state()) {
    known.insert("optimizer/" + name);
    auto ti = f.tensors.find("optimizer/" + name);
    if (ti == f.tensors.end()) continue;  // state not created yet when the checkpoint was written
    buf->assign(ti->second.data(), ti->second.data() + ti->second.size());
  }
  for (const auto& [name, t] : f.tensors) {
    // Callbacks' buffers ("callback/<index>/<name>") are checked against the saved callbacks below.
    check(known.count(name) > 0 || name.rfind("callback/", 0) == 0,
          path + ": the checkpoint has tensor '" + name + "' " + shape_str(t.shape()) +
                                     " that neither the model nor the '" + optimizer_->name() + "' optimizer has");
  }
  optimizer_->iterations = meta.get<int64_t>("iterations", "a whole number of at least 0");
  // Checkpoints before lr_factor existed kept the rate itself as learning_rate.
  const double factor = meta.meta.contains("lr_factor") ? meta.get<double>("lr_factor", "a number > 0") : 1.0;
  check(factor > 0, path + ": corrupt checkpoint metadata: 'lr_factor' must be a number > 0, got " + number_str(factor));
  rate_.restore(meta.get<float>("learning_rate", "a finite number"), factor);
  for (const auto& [key, rng] : {std::pair{"trainer_rng", &rng_}, std::pair{"model_rng", &model_.rng()}}) {
    try {
      rng->set_state(meta.get<std::string>(key, "a random-number state (text)"));
    } catch (const Error& e) {
      throw Error(path + ": corrupt checkpoint metadata: '" + key + "' is not a valid random-number state");
    }
  }
  const History saved = History::from_csv(meta.get<std::string>("history", "the history as CSV text"), path);
  history.epochs = saved.epochs;
  history.logs = saved.logs;
  if (extras) {
    check(meta.meta.contains("callbacks") && meta.meta.at("callbacks").is_array(),
          path + ": corrupt checkpoint metadata: 'callbacks' must be a list of callback states");
    for (const auto& c : meta.meta.at("callbacks")) {
      check(c.is_string(), path + ": corrupt checkpoint metadata: 'callbacks' holds " + c.dump() +
                               ", not a callback's state (text)");
      extras->callback_states.push_back(c.get<std::string>());
    }
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
    const auto stop = meta.meta.find("stop_training");
    check(stop == meta.meta.end() || stop->is_boolean(),
          path + ": corrupt checkpoint metadata: 'stop_training' must be true or false, got " +
              (stop == meta.meta.end() ? std::string() : stop->dump()));
    extras->stop_training = stop != meta.meta.end() && stop->get<bool>();
  }
  return meta.next_epoch();
}

}  // namespace nnlab
