// Sweeps: families of variants of one base experiment, trained one after another into one folder,
// compared in a table (Markdown and CSV, sorted by the validation metric, with parameter counts,
// training time and the fit verdict) and in charts overlaying their validation curves.
//
// Variants come from a sweep file (TOML: base, set, [[variant]] with name, set and config tables
// merged into the base) or are generated along axes: width multipliers, depth, hidden activation,
// dropout rate, learning rate, batch size (the cartesian product of the axes given), or the course's
// four families (baseline, wider, deeper, both). An interrupted sweep resumes: finished runs (with a
// result.json) are skipped and an unfinished one continues from its checkpoint.
//
// Under mpirun (a dist::Session with several ranks) the variants are spread over the ranks: rank r
// trains variants r, r + ranks, ..., each as one process would (dist::LocalScope), into the sweep
// folder, which must be on a file system every rank sees; rank 0 alone writes the table and charts,
// once every rank has finished, and the other ranks' run_sweep returns no rows.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nnlab {

struct Variant {
  std::string name;
  nlohmann::json patch = nlohmann::json::object();  // JSON merge patch applied to the base config
  std::vector<std::string> overrides;              // then these key.path=value settings
};

struct SweepAxes {
  std::vector<double> width;              // multiply every hidden dense/maxout layer's units
  std::vector<int> depth;                 // number of hidden layers (the last hidden layer repeats)
  std::vector<std::string> activation;    // hidden layers' activation
  std::vector<double> dropout;            // dropout after every hidden layer (0: none)
  std::vector<double> learning_rate;
  std::vector<int64_t> batch_size;
  bool families = false;                  // the course's baseline, wider, deeper, both
  bool empty() const;
};

struct SweepSpec {
  std::string name;
  nlohmann::json base;                 // the base experiment's config
  std::string base_source;
  std::vector<Variant> variants;
  std::string metric = "val_accuracy";  // sorts the table; "val_loss" sorts ascending
};

// The course's families from a base whose hidden layer sizes are H: baseline H, wider 2H, deeper
// reverse(H) + H, both 2 (reverse(H) + H). For H = (8, 4) these are the course's 4-8-4-1, 4-16-8-1,
// 4-4-8-8-4-1 and 4-8-16-16-8-1.
std::vector<Variant> family_variants(const nlohmann::json& base_config);
std::vector<Variant> axis_variants(const nlohmann::json& base_config, const SweepAxes& axes);

// A sweep file, or a base experiment (name or file) with generated variants.
SweepSpec load_sweep(const std::string& name_or_path, const SweepAxes& axes, const std::vector<std::string>& overrides);
// The base config with a variant applied (validated as an experiment).
nlohmann::json variant_config(const SweepSpec& sweep, const Variant& v);

struct SweepRow {
  std::string variant, run_dir;
  int64_t params = 0;
  double best = 0;        // best value of the metric over epochs
  int best_epoch = 0;     // 1-based epoch of `best` (of the sweep's metric, not necessarily the lowest val_loss)
  double final = 0;       // the metric at the last epoch
  double test_accuracy = -1;
  double train_seconds = 0;
  std::string verdict;
};

std::vector<SweepRow> run_sweep(const SweepSpec& sweep, const std::string& out_dir, int verbose);
// A value of a metric as a table shows it: accuracies as percentages ("91.25%"), the rest to 4 decimals.
std::string metric_cell(const std::string& metric, double v);
std::string sweep_table_markdown(const std::vector<SweepRow>& rows, const std::string& metric);
std::string sweep_table_csv(const std::vector<SweepRow>& rows, const std::string& metric);

}  // namespace nnlab
