// Checkpoints: everything a resumed fit needs to end exactly as an uninterrupted one, written
// atomically as one safetensors file, and read back with errors that name the file and the key.
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "nnlab/config_reader.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/text.hpp"
#include "nnlab/training/trainer.hpp"

namespace nnlab {

// Layout: tensors "model/<name>" (every parameter and state tensor) and "optimizer/<state>"; the
// metadata entry "nnlab.checkpoint" holds the next epoch, the optimizer's step count, the rate
// policy's base and factor, both random states, the history as CSV and each callback's state.
void Trainer::save_checkpoint(const std::string& path, int next_epoch, const History& history,
                              const std::vector<Callback*>& callbacks, bool stop_training) {
  SafetensorsFile f;
  for (const auto& t : model_.named_tensors())
    f.tensors["model/" + t.name] = Tensor(t.shape, std::vector<float>(t.value.begin(), t.value.end()));
  for (const auto& [name, buf] : optimizer_->checkpoint_state())
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
                            {"history", history.to_csv(17)},
                            {"callbacks", cb},
                            {"stop_training", stop_training},
                            {"ranks", dist::size()}};
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

int Trainer::load_checkpoint(const std::string& path, History& history, CheckpointExtras* extras) {
  SafetensorsFile f = read_safetensors(path);
  const CheckpointMeta meta(path, f);
  bool same_model = false;
  if (auto m = f.metadata.find("nnlab.model"); m != f.metadata.end()) {
    same_model = parse_json(m->second, path + ": corrupt checkpoint metadata 'nnlab.model'") == model_.config();
  }
  check(same_model, path + ": the checkpoint was written by a different model architecture");
  // Data-parallel runs: the global batch is each rank's batch times the ranks, so the same run
  // continues only on as many ranks as wrote the checkpoint (older checkpoints: one).
  const int ranks = meta.meta.contains("ranks") ? meta.get<int>("ranks", "a whole number of at least 1") : 1;
  check(ranks == dist::size(),
        path + ": the checkpoint was written by a run on " + std::to_string(ranks) + " rank" + (ranks == 1 ? "" : "s") +
            " and this one has " + std::to_string(dist::size()) +
            "; the global batch (batch per rank x ranks) and every step after it would differ, so resume with " +
            (ranks == 1 ? std::string("one process (no mpirun)") : "mpirun -np " + std::to_string(ranks)));
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
  for (auto& [name, buf] : optimizer_->checkpoint_state()) {
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
