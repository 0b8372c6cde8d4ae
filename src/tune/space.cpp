// The tuner's search space and its arithmetic: the tune file, sampling, rung budgets, promotion.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/text.hpp"
#include "nnlab/tune.hpp"

namespace fs = std::filesystem;

namespace nnlab {

namespace {

// A uniform double in [0, 1) from 53 bits of the engine: the same on every standard library.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// [lo, hi] of a range kind: two finite numbers, lo < hi (and lo > 0 on a log scale; whole for ints).
void read_range(SearchDimension& d, const nlohmann::json& range, const std::string& where) {
  const std::string kind = d.kind_name();
  check(range.is_array() && range.size() == 2 && range[0].is_number() && range[1].is_number(),
        where + ": " + kind + " takes [lo, hi], two numbers; got " + range.dump());
  d.lo = range[0].get<double>();
  d.hi = range[1].get<double>();
  check(std::isfinite(d.lo) && std::isfinite(d.hi), where + ": " + kind + " needs finite ends, got " + range.dump());
  check(d.lo < d.hi, where + ": " + kind + " = " + range.dump() + " is an empty range (lo must be below hi; a fixed " +
                         "value goes in set)");
  if (d.kind == SearchDimension::Kind::LogUniform)
    check(d.lo > 0, where + ": log_uniform = " + range.dump() + " reaches zero or below; a log scale needs lo > 0");
  if (d.kind == SearchDimension::Kind::IntUniform)
    check(d.lo == std::trunc(d.lo) && d.hi == std::trunc(d.hi) && std::fabs(d.lo) < 9e15 && std::fabs(d.hi) < 9e15,
          where + ": int_uniform takes whole numbers, got " + range.dump());
}

SearchDimension read_dimension(const std::string& key, const nlohmann::json& spec, const std::string& where) {
  check(spec.is_object() && spec.size() == 1,
        where + ": give one of { uniform = [lo, hi] }, { log_uniform = [lo, hi] }, { int_uniform = [lo, hi] }, "
                "{ choice = [...] }; got " + spec.dump());
  SearchDimension d;
  d.key = key;
  const std::string kind = spec.begin().key();
  const nlohmann::json& arg = spec.begin().value();
  if (kind == "choice") {
    d.kind = SearchDimension::Kind::Choice;
    check(arg.is_array() && !arg.empty(), where + ": choice needs a non-empty list of values, got " + arg.dump());
    d.choices = arg;
    return d;
  }
  if (kind == "uniform") d.kind = SearchDimension::Kind::Uniform;
  else if (kind == "log_uniform") d.kind = SearchDimension::Kind::LogUniform;
  else if (kind == "int_uniform") d.kind = SearchDimension::Kind::IntUniform;
  else throw Error(where + ": unknown kind '" + kind + "' (known: uniform, log_uniform, int_uniform, choice)");
  read_range(d, arg, where);
  return d;
}

// The base experiment the trials vary: set and the overrides applied, scored on a validation split.
nlohmann::json tune_base(const std::string& base_source, const std::vector<std::string>& set) {
  nlohmann::json base = parse_config_file(base_source);
  for (const auto& o : set) apply_override(base, o);
  nlohmann::json& train = base["train"];
  check(train.is_object(), base_source + ": [train] must be a table");
  train["validate_on_test"] = false;  // never choose on the test data
  if (!train.contains("validation_split") || train["validation_split"] == 0) train["validation_split"] = 0.1;
  return base;
}

// Each dimension's ends (or every choice) applied to the base alone must make a valid experiment, so
// that a key the experiment refuses is named before anything trains.
void check_space_keys(const TuneSpec& s) {
  for (const auto& d : s.space) {
    const std::string where = s.source + " [space] '" + d.key + "'";
    check(d.key != "train.epochs", where + ": the tuner sets the epochs (min_epochs to max_epochs)");
    check(d.key != "train.validate_on_test", where + ": the tuner always validates on a split of the training data");
    std::vector<nlohmann::json> values;
    if (d.kind == SearchDimension::Kind::Choice) values.assign(d.choices.begin(), d.choices.end());
    else if (d.kind == SearchDimension::Kind::IntUniform) values = {static_cast<int64_t>(d.lo), static_cast<int64_t>(d.hi)};
    else values = {d.lo, d.hi};
    for (const auto& v : values) {
      try {
        trial_config(s, {{d.key, v}}, s.min_epochs);
      } catch (const Error& e) {
        throw Error(where + " = " + v.dump() + ": " + e.what());
      }
    }
  }
}

}  // namespace

std::string SearchDimension::kind_name() const {
  switch (kind) {
    case Kind::Uniform: return "uniform";
    case Kind::LogUniform: return "log_uniform";
    case Kind::IntUniform: return "int_uniform";
    case Kind::Choice: return "choice";
  }
  return "";
}

nlohmann::json SearchDimension::sample(std::mt19937_64& rng) const {
  const double u = unit(rng);
  switch (kind) {
    case Kind::Choice: return choices[std::min(choices.size() - 1, static_cast<size_t>(u * static_cast<double>(choices.size())))];
    case Kind::IntUniform: {
      const double span = hi - lo + 1;
      return static_cast<int64_t>(lo + std::min(span - 1, std::floor(u * span)));
    }
    case Kind::LogUniform: return std::clamp(std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))), lo, hi);
    case Kind::Uniform: break;
  }
  return std::clamp(lo + u * (hi - lo), lo, hi);
}

bool TuneSpec::minimise() const { return metric.size() >= 4 && metric.compare(metric.size() - 4, 4, "loss") == 0; }

TuneSpec load_tune(const std::string& name_or_path, const std::vector<std::string>& overrides) {
  TuneSpec s;
  s.source = resolve_experiment(name_or_path);
  ConfigReader top(parse_config_file(s.source), s.source);
  const std::string base = top.require<std::string>("base");
  std::vector<std::string> set = top.get("set", std::vector<std::string>{});
  set.insert(set.end(), overrides.begin(), overrides.end());
  s.metric = top.get("metric", s.metric);
  s.trials = top.get("trials", s.trials);
  s.min_epochs = top.get("min_epochs", s.min_epochs);
  s.max_epochs = top.get("max_epochs", s.max_epochs);
  s.reduction = top.get("reduction", s.reduction);
  s.parallel = top.get("parallel", s.parallel);
  s.seed = top.get("seed", s.seed);
  const std::string name = top.get("name", std::string());
  const nlohmann::json space = top.has("space") ? top.raw("space") : nlohmann::json::object();
  top.finish();
  check(s.metric.rfind("val_", 0) == 0, s.source + ": metric must be a validation column (val_accuracy, val_loss, ...), "
                                        "got '" + s.metric + "': the tuner scores on the validation split");
  check(s.trials >= 1, s.source + ": trials must be at least 1, got " + std::to_string(s.trials));
  check(s.min_epochs >= 1, s.source + ": min_epochs must be at least 1, got " + std::to_string(s.min_epochs));
  check(s.min_epochs <= s.max_epochs, s.source + ": min_epochs " + std::to_string(s.min_epochs) +
                                          " is more than max_epochs " + std::to_string(s.max_epochs));
  check(s.reduction >= 2, s.source + ": reduction must be at least 2, got " + std::to_string(s.reduction));
  check(s.parallel >= 0, s.source + ": parallel must be 0 (as cores allow) or more, got " + std::to_string(s.parallel));
  check(space.is_object() && !space.empty(), s.source + ": [space] needs at least one key to search");
  for (const auto& [key, dim] : space.items()) s.space.push_back(read_dimension(key, dim, s.source + " [space] '" + key + "'"));
  s.base_source = resolve_experiment(base);
  s.base = tune_base(s.base_source, set);
  try {
    Experiment::from_json(s.base, s.base_source);
  } catch (const Error& e) {
    throw Error(s.source + ": base '" + base + "': " + e.what());
  }
  s.name = !name.empty() ? name : s.base.value("name", fs::path(s.base_source).stem().string());
  check_space_keys(s);
  return s;
}

std::vector<nlohmann::json> sample_trials(const TuneSpec& spec) {
  std::vector<nlohmann::json> out;
  std::mt19937_64 rng(spec.seed);
  for (int t = 0; t < spec.trials; ++t) {
    nlohmann::json values = nlohmann::json::object();
    for (const auto& d : spec.space) values[d.key] = d.sample(rng);
    out.push_back(std::move(values));
  }
  return out;
}

std::vector<int> rung_budgets(int min_epochs, int max_epochs, int reduction) {
  check(min_epochs >= 1 && min_epochs <= max_epochs && reduction >= 2,
        "tune: rungs need 1 <= min_epochs <= max_epochs and reduction >= 2");
  std::vector<int> b;
  for (int64_t e = min_epochs; ; e *= reduction) {
    b.push_back(static_cast<int>(std::min<int64_t>(e, max_epochs)));
    if (e >= max_epochs) break;
  }
  return b;
}

std::vector<size_t> promote(const std::vector<std::pair<size_t, double>>& scored, int reduction, bool minimise) {
  std::vector<std::pair<size_t, double>> ranked = scored;
  std::stable_sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
    if (a.second != b.second) return minimise ? a.second < b.second : a.second > b.second;
    return a.first < b.first;
  });
  const size_t keep = std::max<size_t>(1, scored.size() / static_cast<size_t>(reduction));
  std::vector<size_t> out;
  for (size_t i = 0; i < std::min(keep, ranked.size()); ++i) out.push_back(ranked[i].first);
  return out;
}

nlohmann::json trial_config(const TuneSpec& spec, const nlohmann::json& values, int epochs) {
  nlohmann::json c = spec.base;
  // dump() writes numbers in the shortest text that reads back as the same double: values reach
  // the config exactly.
  for (const auto& [key, value] : values.items()) apply_override(c, key + "=" + value.dump());
  c["train"]["epochs"] = epochs;
  Experiment::from_json(c, spec.base_source);
  return c;
}

}  // namespace nnlab
