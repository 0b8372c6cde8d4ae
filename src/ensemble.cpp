#include "nnlab/ensemble.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/layers/dense.hpp"
#include "nnlab/losses/loss.hpp"
#include "nnlab/metrics.hpp"
#include "nnlab/optimizers/optimizer.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/report/plot.hpp"
#include "nnlab/text.hpp"
#include "nnlab/training/history.hpp"
#include "nnlab/training/trainer.hpp"

namespace fs = std::filesystem;

namespace nnlab {

std::string combination_name(Combination c) {
  switch (c) {
    case Combination::Vote: return "vote";
    case Combination::Average: return "average";
    case Combination::Stacking: return "stacking";
  }
  return "?";
}

Combination parse_combination(const std::string& name) {
  if (name == "vote") return Combination::Vote;
  if (name == "average") return Combination::Average;
  if (name == "stacking") return Combination::Stacking;
  throw Error("unknown combination '" + name + "' (known: vote, average, stacking)");
}

// ---- combination rules ------------------------------------------------------------------------

namespace {

// All members' outputs share one (n, C) shape.
void check_outputs(const std::vector<Tensor>& outs) {
  check(!outs.empty(), "ensemble: no member outputs to combine");
  for (size_t k = 0; k < outs.size(); ++k) {
    check(outs[k].shape().size() == 2 && outs[k].cols() >= 1,
          "ensemble: member " + std::to_string(k + 1) + "'s outputs have shape " + shape_str(outs[k].shape()) +
              ", expected (samples, classes)");
    check(outs[k].shape() == outs[0].shape(), "ensemble: member " + std::to_string(k + 1) + "'s outputs have shape " +
                                                  shape_str(outs[k].shape()) + " but member 1's have " +
                                                  shape_str(outs[0].shape()));
  }
}

}  // namespace

std::vector<int64_t> predicted_classes(const Tensor& probs) {
  std::vector<int64_t> out(static_cast<size_t>(probs.rows()));
  for (int64_t r = 0; r < probs.rows(); ++r)
    out[static_cast<size_t>(r)] = probs.cols() == 1 ? (probs.at(r, 0) > 0.5f ? 1 : 0) : argmax_row(probs, r);
  return out;
}

EnsemblePrediction combine_vote(const std::vector<Tensor>& outs) {
  check_outputs(outs);
  const int64_t n = outs[0].rows(), cols = outs[0].cols();
  const int64_t classes = cols == 1 ? 2 : cols;  // one sigmoid output: classes 0 and 1
  const double k = static_cast<double>(outs.size());
  EnsemblePrediction p;
  p.outputs = Tensor({n, cols});
  p.classes.resize(static_cast<size_t>(n));
  std::vector<int64_t> votes(static_cast<size_t>(classes));
  std::vector<double> mass(static_cast<size_t>(classes));  // summed probability: breaks ties
  std::vector<std::vector<int64_t>> member_classes;
  for (const auto& o : outs) member_classes.push_back(predicted_classes(o));
  for (int64_t r = 0; r < n; ++r) {
    std::fill(votes.begin(), votes.end(), 0);
    std::fill(mass.begin(), mass.end(), 0.0);
    for (size_t m = 0; m < outs.size(); ++m) {
      ++votes[static_cast<size_t>(member_classes[m][static_cast<size_t>(r)])];
      if (cols == 1) {
        mass[1] += outs[m].at(r, 0);
        mass[0] += 1.0 - outs[m].at(r, 0);
      } else {
        for (int64_t c = 0; c < cols; ++c) mass[static_cast<size_t>(c)] += outs[m].at(r, c);
      }
    }
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c) {
      const auto i = static_cast<size_t>(c), b = static_cast<size_t>(best);
      if (votes[i] > votes[b] || (votes[i] == votes[b] && mass[i] > mass[b])) best = c;
    }
    p.classes[static_cast<size_t>(r)] = best;
    if (cols == 1) p.outputs.at(r, 0) = static_cast<float>(static_cast<double>(votes[1]) / k);
    else
      for (int64_t c = 0; c < cols; ++c) p.outputs.at(r, c) = static_cast<float>(static_cast<double>(votes[static_cast<size_t>(c)]) / k);
  }
  return p;
}

EnsemblePrediction combine_average(const std::vector<Tensor>& outs) {
  check_outputs(outs);
  EnsemblePrediction p;
  p.outputs = Tensor(outs[0].shape(), 0.0f);
  const auto k = static_cast<float>(outs.size());
  for (const auto& o : outs)
    for (int64_t i = 0; i < o.size(); ++i) p.outputs[i] += o[i];
  for (int64_t i = 0; i < p.outputs.size(); ++i) p.outputs[i] /= k;
  p.classes = predicted_classes(p.outputs);
  return p;
}

Tensor stack_features(const std::vector<Tensor>& outs) {
  check_outputs(outs);
  const int64_t n = outs[0].rows(), cols = outs[0].cols(), k = static_cast<int64_t>(outs.size());
  Tensor f({n, k * cols});  // (n, K * C)
  for (int64_t r = 0; r < n; ++r)
    for (int64_t m = 0; m < k; ++m)
      std::copy_n(outs[static_cast<size_t>(m)].data() + r * cols, cols, f.data() + r * k * cols + m * cols);
  return f;
}

EnsemblePrediction combine_stacking(Model& combiner, const std::vector<Tensor>& outs) {
  const Tensor f = stack_features(outs);
  check(shape_size(combiner.input_shape()) == f.cols(),
        "ensemble: the stacking combiner takes " + std::to_string(shape_size(combiner.input_shape())) +
            " inputs but " + std::to_string(outs.size()) + " members with " + std::to_string(outs[0].cols()) +
            " outputs give " + std::to_string(f.cols()));
  EnsemblePrediction p;
  p.outputs = combiner.predict(f);
  p.classes = predicted_classes(p.outputs);
  return p;
}

void CombinerOptions::validate() const {
  check(epochs >= 1, "combiner: epochs must be at least 1, got " + std::to_string(epochs));
  check(min_steps >= 0, "combiner: min_steps must be 0 or more, got " + std::to_string(min_steps));
  check(batch_size >= 1, "combiner: batch_size must be at least 1, got " + std::to_string(batch_size));
  check(learning_rate > 0, "combiner: learning_rate must be positive, got " + number_str(learning_rate));
}

Model train_combiner(const std::vector<Tensor>& holdout_outputs, const Tensor& labels, const CombinerOptions& o) {
  o.validate();
  Tensor f = stack_features(holdout_outputs);
  const int64_t cols = holdout_outputs[0].cols();
  check(labels.rows() == f.rows() && labels.cols() == 1,
        "combiner: labels of shape " + shape_str(labels.shape()) + " for " + std::to_string(f.rows()) +
            " samples; expected one class index per sample");
  Model m;
  m.add<Dense>(cols, cols == 1 ? "sigmoid" : "softmax");
  m.build({f.cols()}, o.seed);
  if (o.start_from_average) {
    const int64_t k = static_cast<int64_t>(holdout_outputs.size());
    auto t = m.named_tensors();  // dense_1.kernel (K * C, C), dense_1.bias (C)
    std::fill(t[0].value.begin(), t[0].value.end(), 0.0f);
    std::fill(t[1].value.begin(), t[1].value.end(), cols == 1 ? -5.0f : 0.0f);  // sigmoid: 10 (mean - 0.5)
    for (int64_t member = 0; member < k; ++member)
      for (int64_t c = 0; c < cols; ++c) t[0].value[static_cast<size_t>((member * cols + c) * cols + c)] = 10.0f / static_cast<float>(k);
  }
  const int64_t steps = (f.rows() + o.batch_size - 1) / o.batch_size;
  InMemoryDataset data(std::move(f), labels, cols == 1 ? 2 : cols);
  data.name = "holdout";
  Trainer t(m, make_loss(cols == 1 ? "binary_crossentropy" : "categorical_crossentropy"),
            make_optimizer("adam", {{"learning_rate", o.learning_rate}}));
  FitOptions fit;
  fit.epochs = static_cast<int>(std::max<int64_t>(o.epochs, (o.min_steps + steps - 1) / steps));
  fit.batch_size = o.batch_size;
  fit.seed = o.seed;
  fit.verbose = 0;
  t.fit(data, fit);
  return m;
}

double accuracy_of(const std::vector<int64_t>& classes, const Tensor& labels) {
  check(labels.rows() == static_cast<int64_t>(classes.size()) && labels.cols() == 1,
        "accuracy: " + std::to_string(classes.size()) + " predictions for labels of shape " + shape_str(labels.shape()));
  if (classes.empty()) return 0;
  int64_t right = 0;
  for (size_t i = 0; i < classes.size(); ++i) right += std::llround(labels[static_cast<int64_t>(i)]) == classes[i];
  return static_cast<double>(right) / static_cast<double>(classes.size());
}

// ---- the artefact -----------------------------------------------------------------------------

bool is_ensemble_path(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return fs::is_regular_file(fs::path(path) / "ensemble.json", ec);
  return fs::path(path).extension() == ".json";
}

std::vector<Combination> Ensemble::combinations() const {
  std::vector<Combination> c{Combination::Vote, Combination::Average};
  if (has_combiner_) c.push_back(Combination::Stacking);
  return c;
}

std::vector<Tensor> Ensemble::member_outputs(const Tensor& x, int64_t batch_size) {
  check(x.rows() == 0 || x.cols() == shape_size(input_),
        "ensemble: inputs of shape " + shape_str(x.shape()) + " but the ensemble takes " + shape_str(input_) + " per sample");
  std::vector<Tensor> out;
  for (auto& m : members_) out.push_back(m.predict(x, batch_size));
  return out;
}

EnsemblePrediction Ensemble::combine(const std::vector<Tensor>& outs, Combination c) {
  switch (c) {
    case Combination::Vote: return combine_vote(outs);
    case Combination::Average: return combine_average(outs);
    case Combination::Stacking:
      check(has_combiner_, path_ + ": this ensemble has no stacking combiner (it was trained with holdout 0)");
      return combine_stacking(combiner_, outs);
  }
  throw Error("ensemble: unknown combination");
}

EnsemblePrediction Ensemble::predict(const Tensor& x, Combination c) { return combine(member_outputs(x), c); }

Ensemble load_ensemble(const std::string& path) {
  std::error_code ec;
  const fs::path file = fs::is_directory(path, ec) ? fs::path(path) / "ensemble.json" : fs::path(path);
  const std::string where = file.string();
  check(fs::is_regular_file(file, ec), fs::is_directory(path, ec) ? path + ": no ensemble.json in this folder"
                                                                 : where + ": no such ensemble file");
  const nlohmann::json j = parse_json(read_file(where), where + ": corrupt ensemble file");
  check(j.is_object() && j.value("format", "") == "nnlab-ensemble",
        where + ": not an nnlab ensemble file (it lacks \"format\": \"nnlab-ensemble\")");
  const fs::path dir = file.parent_path();
  auto resolve = [&](const std::string& p) { return fs::path(p).is_absolute() ? fs::path(p) : dir / p; };

  Ensemble en;
  en.path_ = where;
  try {
    en.input_ = j.at("input_shape").get<Shape>();
    en.output_ = j.at("output_shape").get<Shape>();
    en.class_names_ = j.value("class_names", std::vector<std::string>{});
    en.default_ = parse_combination(j.value("default_combination", std::string("average")));
    en.experiment_ = j.value("experiment", nlohmann::json::object());
    if (j.contains("holdout") && j["holdout"].is_object()) en.holdout_samples_ = j["holdout"].value("samples", int64_t{0});
    const auto& members = j.at("members");
    check(members.is_array() && !members.empty(), where + ": corrupt ensemble file: 'members' must be a non-empty list");
    for (size_t i = 0; i < members.size(); ++i) {
      const std::string name = members[i].value("name", "member-" + std::to_string(i + 1));
      const fs::path model = resolve(members[i].at("model").get<std::string>());
      check(fs::is_regular_file(model, ec),
            where + ": member '" + name + "' is missing: its model file " + model.string() + " does not exist");
      Model m;
      try {
        m = load_model(model.string());
      } catch (const Error& e) {
        throw Error(where + ": member '" + name + "': " + e.what());
      }
      check(m.input_shape() == en.input_,
            where + ": member '" + name + "' (" + model.string() + ") takes inputs of shape " + shape_str(m.input_shape()) +
                " but the ensemble's input shape is " + shape_str(en.input_) + "; every member must take the same inputs");
      check(m.output_shape() == en.output_,
            where + ": member '" + name + "' (" + model.string() + ") has outputs of shape " + shape_str(m.output_shape()) +
                " but the ensemble's output shape is " + shape_str(en.output_) + "; every member must give the same outputs");
      en.names_.push_back(name);
      en.from_.push_back(members[i].value("from", ""));
      en.members_.push_back(std::move(m));
    }
    if (j.contains("combiner") && j["combiner"].is_string()) {
      const fs::path c = resolve(j["combiner"].get<std::string>());
      check(fs::is_regular_file(c, ec), where + ": the stacking combiner " + c.string() + " is missing");
      en.combiner_ = load_model(c.string());
      const int64_t want = static_cast<int64_t>(en.members_.size()) * shape_size(en.output_);
      check(shape_size(en.combiner_.input_shape()) == want && en.combiner_.output_shape() == en.output_,
            where + ": the stacking combiner " + c.string() + " maps " + shape_str(en.combiner_.input_shape()) + " to " +
                shape_str(en.combiner_.output_shape()) + " but " + std::to_string(en.members_.size()) +
                " members need " + std::to_string(want) + " inputs and outputs " + shape_str(en.output_));
      en.has_combiner_ = true;
    }
    check(en.default_ != Combination::Stacking || en.has_combiner_,
          where + ": the default combination is stacking but the ensemble has no combiner");
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": corrupt ensemble file: " + e.what());
  }
  return en;
}

// ---- evaluation -------------------------------------------------------------------------------

EnsembleReport evaluate_ensemble(Ensemble& en, const InMemoryDataset& data, int64_t batch_size) {
  check(data.num_classes > 0 && data.target_width() == 1,
        "ensemble: evaluation needs a classification dataset with one class label per sample" +
            (data.name.empty() ? std::string() : " ('" + data.name + "' is not)"));
  const auto outs = en.member_outputs(data.x(), batch_size);
  EnsembleReport rep;
  rep.samples = data.size();
  for (size_t i = 0; i < en.size(); ++i) {
    EnsembleRow r;
    r.name = en.member_name(i);
    r.detail = en.member_from(i);
    r.accuracy = accuracy_of(predicted_classes(outs[i]), data.y());
    r.params = en.member(i).param_count();
    rep.members.push_back(r);
    if (r.accuracy > rep.members[rep.best_member].accuracy) rep.best_member = i;
  }
  for (Combination c : en.combinations()) {
    EnsembleRow r;
    r.name = combination_name(c);
    r.detail = c == Combination::Stacking
                   ? "combiner trained on " + std::to_string(en.holdout_samples()) +
                         (en.holdout_samples() == 1 ? " held-out sample" : " held-out samples")
                   : std::to_string(en.size()) + " members";
    r.accuracy = accuracy_of(en.combine(outs, c).classes, data.y());
    rep.combinations.push_back(r);
  }
  return rep;
}

static std::string percent(double a) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100.0 * a);
  return b;
}

std::string ensemble_table_markdown(const EnsembleReport& rep) {
  std::ostringstream os;
  const std::string on = rep.evaluated_on.empty() ? "test" : rep.evaluated_on;
  os << "| model | from | " << on << " accuracy | vs best member (points) | params | train time |\n";
  os << "|---|---|---:|---:|---:|---:|\n";
  auto row = [&](const EnsembleRow& r, bool best, bool combination) {
    char gain[32], t[32];
    std::snprintf(gain, sizeof gain, "%+.2f", rep.gain(r));
    std::snprintf(t, sizeof t, "%.1fs", r.train_seconds);
    os << "| " << (combination ? "**" + r.name + "**" : r.name) << (best ? " (best member)" : "") << " | " << r.detail
       << " | " << percent(r.accuracy) << " | " << (best ? "" : gain) << " | "
       << (r.params > 0 ? std::to_string(r.params) : "") << " | " << (r.train_seconds >= 0 ? t : "") << " |\n";
  };
  for (size_t i = 0; i < rep.members.size(); ++i) row(rep.members[i], i == rep.best_member, false);
  for (const auto& c : rep.combinations) row(c, false, true);
  return os.str();
}

nlohmann::json ensemble_report_json(const EnsembleReport& rep) {
  nlohmann::json j{{"samples", rep.samples}, {"evaluated_on", rep.evaluated_on}};
  for (const auto& r : rep.members)
    j["members"].push_back({{"name", r.name}, {"from", r.detail}, {"accuracy", r.accuracy}, {"params", r.params},
                            {"train_seconds", r.train_seconds}});
  for (const auto& r : rep.combinations)
    j["combinations"].push_back({{"name", r.name}, {"accuracy", r.accuracy}, {"gain_points", rep.gain(r)}});
  if (!rep.members.empty()) {
    j["best_member"] = rep.members[rep.best_member].name;
    j["best_member_accuracy"] = rep.members[rep.best_member].accuracy;
  }
  return j;
}

// ---- training ---------------------------------------------------------------------------------

void EnsembleSpec::validate() const {
  if (architectures.empty())
    check(members >= 2, "ensemble: --members must be at least 2, got " + std::to_string(members));
  else
    check(architectures.size() >= 2,
          "ensemble: --architectures needs at least 2 experiments, got " + std::to_string(architectures.size()));
  check(holdout >= 0 && holdout < 1, "ensemble: --holdout must be in [0, 1), got " + std::to_string(holdout));
  check(parallel >= 0, "ensemble: --parallel must be 0 (automatic) or more, got " + std::to_string(parallel));
  check(default_combination != Combination::Stacking || holdout > 0,
        "ensemble: the default combination is stacking, which needs a holdout (--holdout > 0)");
  combiner.validate();
}

EnsembleSpec load_ensemble_spec(const std::string& name_or_path, const std::vector<std::string>& overrides) {
  EnsembleSpec s;
  s.base_source = resolve_experiment(name_or_path);
  s.base = parse_config_file(s.base_source);
  for (const auto& o : overrides) apply_override(s.base, o);
  s.overrides = overrides;
  Experiment::from_json(s.base, s.base_source);  // validate the base now
  s.name = s.base.value("name", fs::path(s.base_source).stem().string()) + "-ensemble";
  return s;
}

namespace {

// The fields of [data] that decide what a member sees; "" when equal, else the first difference.
std::string data_difference(const DataSpec& a, const DataSpec& b) {
  auto q = [](const std::string& s) { return "'" + s + "'"; };
  if (a.dataset != b.dataset) return "dataset " + q(a.dataset) + " vs " + q(b.dataset);
  if (a.dir != b.dir) return "dir " + q(a.dir) + " vs " + q(b.dir);
  if (a.scale != b.scale) return std::string("scale ") + (a.scale ? "true" : "false") + " vs " + (b.scale ? "true" : "false");
  if (a.standardize != b.standardize)
    return std::string("standardize ") + (a.standardize ? "true" : "false") + " vs " + (b.standardize ? "true" : "false");
  if (a.limit != b.limit) return "limit " + std::to_string(a.limit) + " vs " + std::to_string(b.limit);
  if (a.test_limit != b.test_limit) return "test_limit " + std::to_string(a.test_limit) + " vs " + std::to_string(b.test_limit);
  return "";
}

int64_t holdout_size(double fraction, int64_t n) {
  if (fraction <= 0) return 0;
  const int64_t h = std::max<int64_t>(1, std::llround(fraction * static_cast<double>(n)));
  check(h < n, "ensemble: a holdout of " + std::to_string(fraction) + " leaves no training data of the " +
                   std::to_string(n) + " samples");
  return h;
}

}  // namespace

std::vector<EnsembleMemberSpec> ensemble_members(const EnsembleSpec& spec, int64_t train_size, const Shape& input) {
  spec.validate();
  const Experiment base = Experiment::from_json(spec.base, spec.base_source);
  const int64_t h = holdout_size(spec.holdout, train_size);
  std::vector<EnsembleMemberSpec> out;
  const size_t k = spec.architectures.empty() ? static_cast<size_t>(spec.members) : spec.architectures.size();
  for (size_t i = 0; i < k; ++i) {
    EnsembleMemberSpec m;
    m.name = "member-" + std::to_string(i + 1);
    if (spec.architectures.empty()) {
      m.config = spec.base;
      m.source = spec.base_source;
      m.config["seed"] = base.seed + i;
      m.detail = "seed " + std::to_string(base.seed + i);
    } else {
      m.source = resolve_experiment(spec.architectures[i]);
      m.config = parse_config_file(m.source);
      for (const auto& o : spec.overrides) apply_override(m.config, o);
      m.detail = fs::path(m.source).stem().string();
      if (m.detail == "config") m.detail = fs::path(m.source).parent_path().filename().string();  // a run folder
    }
    m.config["name"] = spec.name + "/" + m.name;
    Experiment e;
    try {
      e = Experiment::from_json(m.config, m.source);
    } catch (const Error& err) {
      throw Error("ensemble member '" + m.name + "' (" + m.detail + "): " + err.what());
    }
    const std::string diff = data_difference(e.data, base.data);
    check(diff.empty(), "ensemble member '" + m.name + "' (" + m.source + ") reads different data from the base " +
                            spec.base_source + " ([data] " + diff + "): every member must take the same inputs");
    if (h > 0) m.config["data"]["limit"] = train_size - h;  // the tail beyond the limit is the holdout
    out.push_back(std::move(m));
  }
  // Output shapes agree, checked before anything trains.
  Shape first;
  for (size_t i = 0; i < out.size(); ++i) {
    const Experiment e = Experiment::from_json(out[i].config, out[i].source);
    Shape shape;
    try {
      shape = build_model(e, input).output_shape();
    } catch (const Error& err) {
      throw Error("ensemble member '" + out[i].name + "' (" + out[i].detail + "): " + err.what());
    }
    if (i == 0) first = shape;
    check(shape == first, "ensemble member '" + out[i].name + "' (" + out[i].detail + ") has outputs of shape " +
                              shape_str(shape) + " but '" + out[0].name + "' (" + out[0].detail + ") has " +
                              shape_str(first) + ": every member must give the same outputs");
  }
  return out;
}

int default_parallelism(int members) {
  // Measured on a busy 2-core machine (Fashion-MNIST, 784-1024-512-256-10): two members side by side
  // with one OpenMP thread each trained as fast as one after another with one thread, and 7x faster
  // than one after another with two threads each, where OpenMP's threads wait on each other.
  return std::max(1, std::min(members, kernels::num_threads()));
}

EnsembleResult run_ensemble(const EnsembleSpec& spec, const std::string& out_dir, int verbose) {
  spec.validate();
  const Experiment base = Experiment::from_json(spec.base, spec.base_source);
  LoadedData data = load_data(base.data);
  check(data.train.num_classes > 0 && data.train.target_width() == 1,
        "ensemble: '" + base.data.dataset + "' is not a classification dataset; ensembles vote over classes");
  const int64_t n = data.train.size();
  const auto members = ensemble_members(spec, n, data.train.sample_shape());
  const int64_t h = holdout_size(spec.holdout, n);
  const size_t k = members.size();
  fs::create_directories(out_dir);
  const fs::path dir(out_dir);

  EnsembleResult res;
  res.dir = out_dir;
  res.holdout_samples = h;
  res.parallel = std::min<int>(spec.parallel == 0 ? default_parallelism(static_cast<int>(k)) : spec.parallel, static_cast<int>(k));
  const int threads_each = std::max(1, kernels::num_threads() / res.parallel);
  if (verbose > 0)
    std::printf("ensemble '%s': %zu members on %lld training samples (holdout for stacking: the last %lld), %s\n",
                spec.name.c_str(), k, static_cast<long long>(n - h), static_cast<long long>(h),
                res.parallel > 1 ? (std::to_string(res.parallel) + " side by side, " + std::to_string(threads_each) +
                                    " thread(s) each").c_str()
                                 : "one after another");

  // Members: run_experiment into member-<i>/, finished ones reused (an interrupted ensemble resumes).
  std::mutex print;
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  const auto t0 = std::chrono::steady_clock::now();
  auto train_member = [&](size_t i, bool side_by_side) {
    const fs::path run = dir / members[i].name;
    if (fs::exists(run / "result.json")) {
      const std::string config = (run / "config.json").string();
      const auto used = parse_json(read_file(config), config);
      check(used == members[i].config, run.string() + " was trained with another configuration than this ensemble's " +
                                           members[i].name + "; give another --out, or remove that folder to retrain it");
      std::lock_guard<std::mutex> lock(print);
      if (verbose > 0) std::printf("[%zu/%zu] %s (%s): finished earlier, reused\n", i + 1, k, members[i].name.c_str(), members[i].detail.c_str());
      return;
    }
    if (verbose > 0 && !side_by_side) std::printf("[%zu/%zu] %s (%s)\n", i + 1, k, members[i].name.c_str(), members[i].detail.c_str());
    Experiment e = Experiment::from_json(members[i].config, members[i].source);
    if (side_by_side) {
      kernels::set_num_threads(threads_each);  // this thread's OpenMP pool, used by oneDNN and nnlab's loops
      if (e.threads > 0) e.threads = threads_each;
    }
    RunOptions ro;
    ro.out_dir = run.string();
    ro.verbose = verbose > 1 && !side_by_side ? 1 : 0;
    ro.resume = true;
    const RunResult r = run_experiment(e, ro);
    std::lock_guard<std::mutex> lock(print);
    if (verbose > 0)
      std::printf("%s%s (%s): %.1fs, accuracy %.2f%%\n", side_by_side ? "" : "      ", members[i].name.c_str(),
                  members[i].detail.c_str(), r.train_seconds, 100.0 * r.test_accuracy);
    std::fflush(stdout);
  };
  if (res.parallel <= 1) {
    for (size_t i = 0; i < k; ++i) train_member(i, false);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < res.parallel; ++t)
      pool.emplace_back([&] {
        for (size_t i; (i = next++) < k;) {
          {
            std::lock_guard<std::mutex> lock(print);
            if (failure) return;  // one member failed: start no more
          }
          try {
            train_member(i, true);
          } catch (...) {
            std::lock_guard<std::mutex> lock(print);
            if (!failure) failure = std::current_exception();
            return;
          }
        }
      });
    for (auto& t : pool) t.join();
    if (failure) std::rethrow_exception(failure);
  }
  res.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The combiner, from the members' predictions for the holdout (never the test set).
  std::vector<Model> models;
  for (const auto& m : members) models.push_back(load_model((dir / m.name / "model.safetensors").string()));
  const Shape output = models[0].output_shape();
  const bool stacking = h > 0;
  if (stacking) {
    const Tensor hx = data.train.x().slice_rows(n - h, n), hy = data.train.y().slice_rows(n - h, n);
    std::vector<Tensor> outs;
    for (auto& m : models) outs.push_back(m.predict(hx));
    CombinerOptions co = spec.combiner;
    co.seed = base.seed;
    if (verbose > 0) std::printf("stacking combiner: trained on the members' predictions for %lld held-out samples\n", static_cast<long long>(h));
    Model combiner = train_combiner(outs, hy, co);
    save_model(combiner, (dir / "combiner.safetensors").string(), {{"nnlab.loss", output == Shape{1} ? "binary_crossentropy" : "categorical_crossentropy"}});
  }

  // The artefact.
  nlohmann::json j{{"format", "nnlab-ensemble"},
                   {"version", 1},
                   {"name", spec.name},
                   {"base", spec.base_source},
                   {"input_shape", data.train.sample_shape()},
                   {"output_shape", output},
                   {"class_names", data.train.class_names},
                   {"default_combination", combination_name(spec.default_combination)},
                   {"combiner", stacking ? nlohmann::json("combiner.safetensors") : nlohmann::json(nullptr)},
                   {"holdout", {{"fraction", spec.holdout}, {"samples", h}, {"first", n - h}}},
                   {"experiment", members[0].config}};
  for (const auto& m : members)
    j["members"].push_back({{"name", m.name}, {"from", m.detail}, {"model", m.name + "/model.safetensors"}});
  write_file_atomic((dir / "ensemble.json").string(), j.dump(2) + "\n");

  // Everything on the test set, through the artefact just written.
  Ensemble en = load_ensemble(out_dir);
  const bool has_test = data.test.size() > 0;
  res.report = evaluate_ensemble(en, has_test ? data.test : data.train);
  res.report.evaluated_on = has_test ? "test" : "train";
  std::vector<std::pair<std::string, History>> curves;
  for (size_t i = 0; i < k; ++i) {
    const fs::path run = dir / members[i].name;
    const std::string result = (run / "result.json").string();
    const auto r = parse_json(read_file(result), result);
    res.report.members[i].train_seconds = r.value("train_seconds", -1.0);
    curves.emplace_back(members[i].name + " (" + members[i].detail + ")",
                        History::from_csv(read_file((run / "history.csv").string()), run.string()));
  }
  write_file_atomic((dir / "table.md").string(), ensemble_table_markdown(res.report));
  nlohmann::json result = ensemble_report_json(res.report);
  result["holdout_samples"] = h;
  result["train_seconds"] = res.train_seconds;
  result["parallel"] = res.parallel;
  write_file_atomic((dir / "result.json").string(), result.dump(2) + "\n");
  for (const std::string m : {"val_loss", "val_accuracy"}) {
    bool all = true;
    for (const auto& [_, hist] : curves) {
      const auto c = hist.column(m);
      all = all && !c.empty() && !std::isnan(c.back());
    }
    // The combinations' test accuracy as lines across the members' validation curves, when those
    // are on the same test set.
    const bool validates_on_test = res.report.evaluated_on == "test" && base.train.validation_split == 0 &&
                                   base.train.validate_on_test;
    std::vector<std::pair<std::string, double>> levels;
    if (m == "val_accuracy" && validates_on_test)
      for (const auto& c : res.report.combinations) levels.emplace_back(c.name, c.accuracy);
    if (all) plot_runs(curves, m, (dir / ("compare-" + m + ".svg")).string(), levels);
  }
  write_file_atomic((dir / "report.html").string(), collection_report_html(out_dir));
  return res;
}

}  // namespace nnlab
