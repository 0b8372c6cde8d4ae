// Running a search: successive halving rung by rung, trials side by side, the rung state kept in
// tune.json so that a rerun continues.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>

#include "internal.hpp"
#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/kernels/side_by_side.hpp"
#include "nnlab/training/interrupt.hpp"
#include "nnlab/training/trainer.hpp"
#include "nnlab/tune.hpp"

namespace fs = std::filesystem;

namespace nnlab {

namespace {

// What a tune folder's state belongs to: a rerun must be the same search to continue it.
nlohmann::json search_identity(const TuneSpec& spec, const std::vector<nlohmann::json>& values,
                               const std::vector<int>& budgets) {
  return {{"base", spec.base}, {"metric", spec.metric}, {"budgets", budgets}, {"reduction", spec.reduction},
          {"trials", values}};
}

// The scores recorded so far: state["scores"][trial] is a list, one entry per rung trained (null for
// a trial whose training failed). Loaded from out_dir/tune.json when it belongs to this search.
class TuneState {
 public:
  TuneState(const fs::path& dir, nlohmann::json identity) : path_(dir / "tune.json"), identity_(std::move(identity)) {
    const size_t n = identity_["trials"].size();
    state_ = {{"search", identity_}, {"scores", nlohmann::json::array()}, {"epochs", nlohmann::json::array()}};
    for (size_t i = 0; i < n; ++i) state_["scores"].push_back(nlohmann::json::array()), state_["epochs"].push_back(0);
    if (!fs::exists(path_)) return;
    const nlohmann::json before = parse_json(read_file(path_.string()), path_.string());
    check(before.is_object() && before.value("search", nlohmann::json()) == identity_,
          path_.string() + " belongs to another search (its base, space, seed, metric or budgets differ); give "
                           "another --out, or remove that folder to start again");
    state_ = before;
  }
  // The score of trial i at rung r, when trained earlier.
  bool done(size_t i, size_t r) const { return state_["scores"][i].size() > r; }
  double score(size_t i, size_t r) const {
    const auto& s = state_["scores"][i][r];
    return s.is_number() ? s.get<double>() : std::numeric_limits<double>::quiet_NaN();
  }
  int epochs(size_t i) const { return state_["epochs"][i].get<int>(); }
  // Records trial i's score at rung r and writes the file (atomically; callers hold a lock).
  void record(size_t i, size_t r, double score, int epochs) {
    auto& s = state_["scores"][i];
    while (s.size() < r) s.push_back(nullptr);
    s.push_back(std::isnan(score) ? nlohmann::json(nullptr) : nlohmann::json(score));
    if (epochs > 0) state_["epochs"][i] = epochs;  // a failed training leaves the count as it was
    write_file_atomic(path_.string(), state_.dump(1) + "\n");
  }

 private:
  fs::path path_;
  nlohmann::json identity_, state_;
};

std::vector<double> scores_so_far(const TuneState& state, size_t i) {
  std::vector<double> s;
  for (size_t r = 0; state.done(i, r); ++r) s.push_back(state.score(i, r));
  return s;
}

// The best value of the metric over the epochs of a history (NaN when it has none).
double best_of(const History& h, const std::string& metric, bool minimise) {
  double best = std::numeric_limits<double>::quiet_NaN();
  for (double v : h.column(metric))
    if (!std::isnan(v) && (std::isnan(best) || (minimise ? v < best : v > best))) best = v;
  return best;
}

class Rungs {
 public:
  Rungs(const TuneSpec& spec, const fs::path& dir, const TuneOptions& options, TuneResult& result, TuneState& state)
      : spec_(spec), dir_(dir), options_(options), result_(result), state_(state) {}

  // Trains every trial of `alive` that rung r has not seen yet, side by side when asked.
  void run(size_t r, const std::vector<size_t>& alive, int parallel) {
    std::vector<size_t> todo;
    for (size_t i : alive)
      if (!state_.done(i, r)) todo.push_back(i);
    if (options_.verbose > 0)
      std::printf("rung %zu/%zu: %zu trial(s) at %d epoch(s)%s\n", r + 1, result_.budgets.size(), alive.size(),
                  result_.budgets[r], todo.size() < alive.size() ? (", " + std::to_string(alive.size() - todo.size()) +
                                                                    " finished earlier").c_str() : "");
    std::fflush(stdout);
    const int side = std::max(1, std::min<int>(parallel, static_cast<int>(todo.size())));
    const int threads_each = std::max(1, kernels::num_threads() / side);
    kernels::run_side_by_side(todo.size(), side, threads_each, [&](size_t k, bool side_by_side) {
      train(todo[k], r, side_by_side ? threads_each : 0);
    });
  }

 private:
  // Trains trial i to rung r's budget, continuing its run folder, and records its score. A trial whose
  // loss diverges scores nothing and goes no further; any other error stops the search.
  void train(size_t i, size_t r, int threads) {
    TuneTrial& t = result_.trials[i];
    nlohmann::json config = trial_config(spec_, t.values, result_.budgets[r]);
    config["name"] = spec_.name + "-tune/" + fs::path(t.run_dir).filename().string();
    Experiment e = Experiment::from_json(config, spec_.base_source);
    if (threads > 0 && e.threads > 0) e.threads = threads;  // run_side_by_side set this thread's pool
    RunOptions ro;
    ro.out_dir = t.run_dir;
    ro.verbose = options_.verbose > 1 && threads == 0 ? 1 : 0;
    ro.resume = true;  // the run so far continues to the larger budget
    std::optional<RunResult> res;
    std::string failure;
    try {
      res = run_experiment(e, ro);
    } catch (const TrainingDiverged& err) {
      failure = err.what();
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& err) {
      throw Error(spec_.source + ": trial " + std::to_string(t.id) + " (" + detail::values_text(t.values) + "): " + err.what());
    }
    double score = std::numeric_limits<double>::quiet_NaN();
    int epochs = 0;
    if (res) {
      check(!res->history.column(spec_.metric).empty(),
            spec_.source + ": metric '" + spec_.metric + "' is not in the history of " + t.run_dir +
                " (a validation column: val_loss, or val_accuracy for a classifier)");
      score = best_of(res->history, spec_.metric, spec_.minimise());
      epochs = static_cast<int>(res->history.logs.size());
    }
    std::lock_guard<std::mutex> lock(lock_);
    state_.record(i, r, score, epochs);
    t.scores = scores_so_far(state_, i);
    t.epochs = epochs;
    ++result_.trained;
    if (options_.verbose > 0) {
      std::printf("  trial %d (%s): %s\n", t.id, detail::values_text(t.values).c_str(),
                  failure.empty() ? (spec_.metric + " " + detail::metric_text(spec_.metric, score) + " after " +
                                     std::to_string(epochs) + " epoch(s)").c_str()
                                  : ("failed, dropped: " + failure).c_str());
      std::fflush(stdout);
    }
    if (options_.on_trained) options_.on_trained(t, r);
  }

  const TuneSpec& spec_;
  const fs::path dir_;
  const TuneOptions& options_;
  TuneResult& result_;
  TuneState& state_;
  std::mutex lock_;  // the state, the result's trials and the printed lines
};

// The trials that rung r passes on: the best of those it scored (failed ones never go on).
std::vector<size_t> next_rung(const TuneSpec& spec, const TuneState& state, size_t r, const std::vector<size_t>& alive) {
  std::vector<std::pair<size_t, double>> scored;
  for (size_t i : alive)
    if (!std::isnan(state.score(i, r))) scored.emplace_back(i, state.score(i, r));
  if (scored.empty()) return {};
  std::vector<size_t> kept = promote(scored, spec.reduction, spec.minimise());
  // promote() keeps floor(n / reduction) of the n scored; count the failed ones in n, as they ran.
  kept.resize(std::min(kept.size(), std::max<size_t>(1, alive.size() / static_cast<size_t>(spec.reduction))));
  std::sort(kept.begin(), kept.end());
  return kept;
}

}  // namespace

TuneResult run_tune(const TuneSpec& spec, const std::string& out_dir, const TuneOptions& options) {
  TuneResult result;
  result.dir = out_dir;
  result.budgets = rung_budgets(spec.min_epochs, spec.max_epochs, spec.reduction);
  const std::vector<nlohmann::json> values = sample_trials(spec);
  const int width = static_cast<int>(std::to_string(values.size()).size());
  for (size_t i = 0; i < values.size(); ++i) {
    TuneTrial t;
    t.id = static_cast<int>(i) + 1;
    t.values = values[i];
    std::string id = std::to_string(t.id);
    t.run_dir = (fs::path(out_dir) / ("trial-" + std::string(static_cast<size_t>(width) - id.size(), '0') + id)).string();
    try {
      trial_config(spec, t.values, spec.max_epochs);  // every trial is a valid experiment before any trains
    } catch (const Error& e) {
      throw Error(spec.source + ": trial " + id + " (" + detail::values_text(t.values) + "): " + e.what());
    }
    result.trials.push_back(std::move(t));
  }
  fs::create_directories(out_dir);
  TuneState state(out_dir, search_identity(spec, values, result.budgets));
  const int parallel = spec.parallel == 0 ? kernels::default_parallelism(spec.trials) : spec.parallel;
  Rungs rungs(spec, out_dir, options, result, state);
  std::vector<size_t> alive(values.size());
  for (size_t i = 0; i < alive.size(); ++i) alive[i] = i;
  for (size_t r = 0; r < result.budgets.size() && !alive.empty(); ++r) {
    rungs.run(r, alive, parallel);
    alive = next_rung(spec, state, r, alive);
  }
  for (size_t i = 0; i < result.trials.size(); ++i) {
    result.trials[i].scores = scores_so_far(state, i);
    result.trials[i].epochs = state.epochs(i);
  }
  detail::finish_tune(spec, result);
  return result;
}

}  // namespace nnlab
