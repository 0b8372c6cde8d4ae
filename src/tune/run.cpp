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
#include "nnlab/dist/communicator.hpp"
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
  // Under mpirun every rank keeps the state alike; rank 0 alone writes the file.
  TuneState(const fs::path& dir, nlohmann::json identity)
      : path_(dir / "tune.json"), identity_(std::move(identity)), writer_(dist::is_root()) {
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
  // Records trial i's score at rung r and writes the file (atomically, on rank 0; callers hold a lock).
  void record(size_t i, size_t r, double score, int epochs) {
    auto& s = state_["scores"][i];
    while (s.size() < r) s.push_back(nullptr);
    s.push_back(std::isnan(score) ? nlohmann::json(nullptr) : nlohmann::json(score));
    if (epochs > 0) state_["epochs"][i] = epochs;  // a failed training leaves the count as it was
    if (writer_) write_file_atomic(path_.string(), state_.dump(1) + "\n");
  }

 private:
  fs::path path_;
  nlohmann::json identity_, state_;
  bool writer_;
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

  // Trains every trial of `alive` that rung r has not seen yet, side by side when asked. Under
  // mpirun, rank k trains the rung's trials k, k + ranks, ... (of those not trained yet), each as one
  // process would (dist::LocalScope), and the ranks then exchange their scores, so that every rank
  // records them all (rank 0 alone writes tune.json) and promotes alike.
  void run(size_t r, const std::vector<size_t>& alive, int parallel) {
    std::vector<size_t> todo;
    for (size_t i : alive)
      if (!state_.done(i, r)) todo.push_back(i);
    const int rank = dist::rank(), ranks = dist::size();
    const std::vector<size_t> mine = dist::dealt(todo.size(), rank, ranks);  // places in todo
    if (options_.verbose > 0)
      std::printf("rung %zu/%zu: %zu trial(s) at %d epoch(s)%s%s\n", r + 1, result_.budgets.size(), alive.size(),
                  result_.budgets[r], todo.size() < alive.size() ? (", " + std::to_string(alive.size() - todo.size()) +
                                                                    " finished earlier").c_str() : "",
                  ranks > 1 ? (", spread over " + std::to_string(ranks) + " ranks").c_str() : "");
    std::fflush(stdout);
    const int side = std::max(1, std::min<int>(parallel, static_cast<int>(mine.size())));
    const int threads_each = std::max(1, kernels::num_threads() / side);
    std::vector<Outcome> outcomes(todo.size());
    {
      const dist::LocalScope alone;  // a rank of one (no-op without mpirun)
      kernels::run_side_by_side(mine.size(), side, threads_each, [&](size_t j, bool side_by_side) {
        const size_t k = mine[j];
        outcomes[k] = train(todo[k], r, side_by_side ? threads_each : 0);
        if (ranks == 1) record(todo[k], r, outcomes[k], "");
        else show(todo[k], r, outcomes[k], "");  // rank 0's own trials, as they finish
      });
    }
    if (ranks == 1) return;
    // Each rank's scores and epoch counts into everyone's: the others contribute zeros (a failed
    // trial's NaN stays NaN), so the sums are the trained values exactly.
    std::vector<double> values(2 * todo.size(), 0.0);
    for (size_t k : mine) values[2 * k] = outcomes[k].score, values[2 * k + 1] = outcomes[k].epochs;
    dist::sum(values);
    for (size_t k = 0; k < todo.size(); ++k) {
      const bool own = dist::dealer(k, ranks) == rank;
      if (!own) {
        outcomes[k].score = values[2 * k];
        outcomes[k].epochs = static_cast<int>(values[2 * k + 1]);
        if (std::isnan(outcomes[k].score)) outcomes[k].failure = "its training diverged";
      }
      record(todo[k], r, outcomes[k], own ? "-" : " (trained by rank " + std::to_string(dist::dealer(k, ranks)) + ")");
    }
  }

 private:
  struct Outcome {
    double score = std::numeric_limits<double>::quiet_NaN();  // NaN: the training failed
    int epochs = 0;
    std::string failure;
  };

  // Trains trial i to rung r's budget, continuing its run folder, and returns its score. A trial whose
  // loss diverges scores nothing and goes no further; any other error stops the search.
  Outcome train(size_t i, size_t r, int threads) {
    const TuneTrial& t = result_.trials[i];
    nlohmann::json config = trial_config(spec_, t.values, result_.budgets[r]);
    config["name"] = spec_.name + "-tune/" + fs::path(t.run_dir).filename().string();
    Experiment e = Experiment::from_json(config, spec_.base_source);
    if (threads > 0 && e.threads > 0) e.threads = threads;  // run_side_by_side set this thread's pool
    RunOptions ro;
    ro.out_dir = t.run_dir;
    ro.verbose = options_.verbose > 1 && threads == 0 ? 1 : 0;
    ro.resume = true;  // the run so far continues to the larger budget
    std::optional<RunResult> res;
    Outcome out;
    try {
      res = run_experiment(e, ro);
    } catch (const TrainingDiverged& err) {
      out.failure = err.what();
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& err) {
      throw Error(spec_.source + ": trial " + std::to_string(t.id) + " (" + detail::values_text(t.values) + "): " + err.what());
    }
    if (res) {
      check(!res->history.column(spec_.metric).empty(),
            spec_.source + ": metric '" + spec_.metric + "' is not in the history of " + t.run_dir +
                " (a validation column: val_loss, or val_accuracy for a classifier)");
      out.score = best_of(res->history, spec_.metric, spec_.minimise());
      out.epochs = static_cast<int>(res->history.logs.size());
    }
    return out;
  }

  // The line of trial i at rung r; `where` names the rank that trained it under mpirun ("-": shown
  // already, as it finished).
  void show(size_t i, size_t /*r*/, const Outcome& o, const std::string& where) {
    if (options_.verbose <= 0 || where == "-") return;
    const TuneTrial& t = result_.trials[i];
    std::lock_guard<std::mutex> lock(print_);
    std::printf("  trial %d (%s)%s: %s\n", t.id, detail::values_text(t.values).c_str(), where.c_str(),
                o.failure.empty() ? (spec_.metric + " " + detail::metric_text(spec_.metric, o.score) + " after " +
                                     std::to_string(o.epochs) + " epoch(s)").c_str()
                                  : ("failed, dropped: " + o.failure).c_str());
    std::fflush(stdout);
  }

  // Records trial i's score at rung r (tune.json), shows it and tells options.on_trained.
  void record(size_t i, size_t r, const Outcome& o, const std::string& where) {
    std::lock_guard<std::mutex> lock(lock_);
    TuneTrial& t = result_.trials[i];
    state_.record(i, r, o.score, o.epochs);
    t.scores = scores_so_far(state_, i);
    t.epochs = o.epochs;
    ++result_.trained;
    show(i, r, o, where);
    if (options_.on_trained) options_.on_trained(t, r);
  }

  const TuneSpec& spec_;
  const fs::path dir_;
  const TuneOptions& options_;
  TuneResult& result_;
  TuneState& state_;
  std::mutex lock_;   // the state and the result's trials
  std::mutex print_;  // the printed lines
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
  if (dist::is_root()) fs::create_directories(out_dir);
  dist::barrier();
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
