// Hyperparameter search: random configurations of a base experiment, trained with synchronous
// successive halving (Hyperband's inner loop, rung by rung): every trial trains for the first rung's
// budget of epochs, the best 1/reduction of them by the metric go on to train for reduction times as
// many epochs, continuing their run (same run folder, weights and optimizer state), and so on up to
// max_epochs. Trials are scored on a validation split carved from the training data, never on the
// test data. One folder holds a run folder per trial, the rung state (tune.json, written after every
// trial-rung: a rerun continues where a killed one stopped), the table, a chart of the scores against
// the epochs and the winner as an experiment file (best.toml).
//
// Under mpirun (a dist::Session with several ranks) each rung's trials are spread over the ranks:
// rank k trains the rung's k-th, (k + ranks)-th, ... trial still to train, as one process would
// (dist::LocalScope), into the tune folder (a file system every rank sees); the ranks then exchange
// the scores, so each promotes alike, and rank 0 alone writes tune.json and the search's files. With
// one thread per trial, scores do not depend on the number of ranks.
//
// A tune file (TOML):
//   base = "fashion-mnist"      set = ["data.limit=6000"]     metric = "val_accuracy"
//   trials = 12   min_epochs = 1   max_epochs = 9   reduction = 3   parallel = 1   seed = 1
//   [space]
//   "optimizer.learning_rate" = { log_uniform = [1e-4, 1e-2] }
//   "train.batch_size" = { choice = [32, 64, 128] }
//   "model.layers.0.units" = { int_uniform = [128, 1024] }
//   "optimizer.weight_decay" = { uniform = [0.0, 0.01] }
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace nnlab {

// One key of the search space: a settings path (as --set takes it) and the values it may take.
struct SearchDimension {
  enum class Kind { Uniform, LogUniform, IntUniform, Choice };
  std::string key;
  Kind kind = Kind::Uniform;
  double lo = 0, hi = 0;  // uniform, log_uniform: [lo, hi]; int_uniform: whole numbers, both ends included
  nlohmann::json choices = nlohmann::json::array();  // choice: any JSON values
  // A value drawn from it: a JSON number (whole for int_uniform) or one of the choices as written.
  nlohmann::json sample(std::mt19937_64& rng) const;
  std::string kind_name() const;
};

struct TuneSpec {
  std::string name;         // the folder's default: runs/<name>-tune
  std::string source;       // the tune file
  std::string base_source;  // the base experiment's file
  // The base config with `set` and the command's overrides applied, validated on a split of the
  // training data (train.validate_on_test = false, train.validation_split 0.1 unless set).
  nlohmann::json base;
  std::string metric = "val_accuracy";  // any val_ column; a *loss is minimised, the rest maximised
  int trials = 12, min_epochs = 1, max_epochs = 9, reduction = 3;
  int parallel = 1;  // trials trained side by side; 0: one per OpenMP thread
  uint64_t seed = 1;
  std::vector<SearchDimension> space;
  bool minimise() const;
};

// Reads and checks a tune file (a path, or a name in experiments/): one line naming the file and key
// for an unknown key or kind, an empty range, a log range reaching zero, an empty choice, budgets out
// of order, and for a space key the experiment refuses (each dimension's ends and choices are tried
// on the base).
TuneSpec load_tune(const std::string& name_or_path, const std::vector<std::string>& overrides = {});

// The trials' settings, {key: value} in the space's order, drawn from the seed (the same seed gives
// the same trials; trial i's values do not depend on how many trials there are).
std::vector<nlohmann::json> sample_trials(const TuneSpec& spec);
// The rungs' budgets in epochs: min_epochs * reduction^k, the first that reaches max_epochs capped
// to it: (1, 9, 3) gives 1, 3, 9; (1, 10, 3) gives 1, 3, 9, 10; (2, 2, 3) gives 2.
std::vector<int> rung_budgets(int min_epochs, int max_epochs, int reduction);
// The trials promoted from a rung: the best floor(n / reduction), at least one, of (trial, score),
// best first; ties go to the earlier trial.
std::vector<size_t> promote(const std::vector<std::pair<size_t, double>>& scored, int reduction, bool minimise);
// The base with a trial's values applied and train.epochs = epochs, validated as an experiment.
nlohmann::json trial_config(const TuneSpec& spec, const nlohmann::json& values, int epochs);

struct TuneTrial {
  int id = 0;  // from 1
  nlohmann::json values;
  std::vector<double> scores;  // per rung reached: the best metric over the epochs trained so far
  int epochs = 0;              // epochs trained
  std::string run_dir;
  // The furthest rung with a score (-1: none; a training that failed scores nothing) and its score.
  int rung_reached() const;
  double final_score() const;
};

struct TuneOptions {
  int verbose = 1;  // 0: silent; 1: a line per trial-rung; 2: every run's progress
  // Called after each trial-rung is trained and recorded (from the training thread when side by side,
  // one call at a time). An exception it throws stops the search; a rerun continues after that trial-rung.
  // Under mpirun: on every rank, for each of a rung's trials, once the ranks have exchanged the rung's scores.
  std::function<void(const TuneTrial&, size_t rung)> on_trained;
};

struct TuneResult {
  std::string dir;
  std::vector<int> budgets;
  std::vector<TuneTrial> trials;  // in trial order
  size_t best = 0;                // index into trials: the best score at the last rung
  nlohmann::json best_config;     // the base with the winner's values and max_epochs (best.toml)
  int trained = 0;                // trial-rungs trained by this call; the others were finished earlier
};

// Runs (or continues) the search into out_dir and writes table.md, table.csv, scores.svg, best.json,
// best.toml and report.html there.
TuneResult run_tune(const TuneSpec& spec, const std::string& out_dir, const TuneOptions& options = {});
// Trials ranked: the furthest rung first, then by the score there.
std::string tune_table_markdown(const TuneSpec& spec, const TuneResult& result);
std::string tune_table_csv(const TuneSpec& spec, const TuneResult& result);

}  // namespace nnlab
