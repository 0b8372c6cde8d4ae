// Ensembles: K members of one base experiment (different seeds) or a list of experiments (different
// architectures), each trained by run_experiment() into its own run folder, combined three ways:
//   vote      each member votes for its top class; ties are broken by the tied classes' summed
//             probability (then by the lower class index);
//   average   the mean of the members' probabilities;
//   stacking  a small learned combiner, Dense(classes, softmax) on the members' probabilities
//             concatenated, trained on a holdout: the tail of the training set that no member trained
//             on (never the test set).
// The ensemble is saved as one artefact, <folder>/ensemble.json, which names every member's model,
// the combiner, the shapes and class names; `nnlab evaluate` and `nnlab predict` accept it.
// run_ensemble itself trains the combiner and evaluates with the members' models in memory (the
// ones it saved), without reading the artefact back.
//
// Member outputs are probabilities, (n, classes) after softmax, or (n, 1) P(class 1) for a single
// sigmoid output (two classes).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/model.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab {

enum class Combination { Vote, Average, Stacking };
std::string combination_name(Combination c);           // "vote", "average", "stacking"
Combination parse_combination(const std::string& name);  // throws naming the known ones

// ---- combination rules (pure functions of the members' outputs) -------------------------------

struct EnsemblePrediction {
  Tensor outputs;                // (n, classes): vote shares (votes / K), mean or combiner probabilities
  std::vector<int64_t> classes;  // (n): the combined decision for each sample
};

// The class each row of one member's outputs stands for: argmax (the first of equal maxima), or
// p > 0.5 for a single output.
std::vector<int64_t> predicted_classes(const Tensor& probs);
// Every member's outputs (n, C), same shape for all; throws naming the member that differs.
EnsemblePrediction combine_vote(const std::vector<Tensor>& member_outputs);
EnsemblePrediction combine_average(const std::vector<Tensor>& member_outputs);
// The combiner's input: the members' outputs side by side, (n, K * C), member 1's first.
Tensor stack_features(const std::vector<Tensor>& member_outputs);
EnsemblePrediction combine_stacking(Model& combiner, const std::vector<Tensor>& member_outputs);

struct CombinerOptions {
  int epochs = 30;
  int64_t min_steps = 1000;     // more epochs when a small holdout gives fewer optimizer steps than this
  int64_t batch_size = 64;
  double learning_rate = 0.01;  // Adam
  uint64_t seed = 42;
  // Start from the average's decision rule (logits = 10 x the mean probability) rather than from
  // random weights, so a small holdout refines the average instead of starting from nothing.
  bool start_from_average = true;
  void validate() const;  // throws naming the bad value
};
// Trains the stacking combiner, Dense(C, softmax) (Dense(1, sigmoid) for one output), with nnlab's
// Trainer on the members' outputs for held-out samples and their labels (n, 1) class indices.
Model train_combiner(const std::vector<Tensor>& holdout_outputs, const Tensor& labels, const CombinerOptions& options = {});

// Fraction of rows whose class equals labels (n, 1).
double accuracy_of(const std::vector<int64_t>& classes, const Tensor& labels);

// ---- the artefact -----------------------------------------------------------------------------

// True for a folder holding ensemble.json, or a .json file (an ensemble file).
bool is_ensemble_path(const std::string& path);

class Ensemble {
 public:
  // An ensemble of models already in memory: `file` is its description as ensemble.json holds it
  // (shapes, class names, default combination, holdout, the members' names in order, and a
  // "combiner" entry when there is one), `path` the ensemble.json it is (or will be) saved as, for
  // messages and path(). run_ensemble evaluates the models it trained this way, without reading them
  // back. Checks what load_ensemble checks: one model per member, the shapes, the combiner's inputs.
  static Ensemble from_models(const nlohmann::json& file, const std::string& path,
                              std::vector<std::shared_ptr<Model>> members, std::optional<Model> combiner);

  size_t size() const { return members_.size(); }
  const std::string& member_name(size_t i) const { return names_.at(i); }
  const std::string& member_from(size_t i) const { return from_.at(i); }  // "seed 43" or an experiment name
  Model& member(size_t i) { return *members_.at(i); }
  bool has_combiner() const { return has_combiner_; }
  Model& combiner() { return combiner_; }
  const Shape& input_shape() const { return input_; }
  const Shape& output_shape() const { return output_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  Combination default_combination() const { return default_; }
  const std::string& path() const { return path_; }  // the ensemble.json it was loaded from (or saved as)
  int64_t holdout_samples() const { return holdout_samples_; }  // what the combiner was trained on
  // The experiment config of the first member (its data table says where the test data is).
  const nlohmann::json& experiment() const { return experiment_; }
  // The combinations this ensemble offers: vote, average, and stacking when it has a combiner.
  std::vector<Combination> combinations() const;

  // Each member's outputs for x (n, input...): K tensors (n, C).
  std::vector<Tensor> member_outputs(const Tensor& x, int64_t batch_size = 0);  // 0: each model's infer_batch_size()
  EnsemblePrediction combine(const std::vector<Tensor>& member_outputs, Combination c);
  EnsemblePrediction predict(const Tensor& x, Combination c);
  EnsemblePrediction predict(const Tensor& x) { return predict(x, default_); }

 private:
  friend Ensemble load_ensemble(const std::string& path);
  // The description's fields (all but the models) from an ensemble file's JSON; throws on a bad one.
  void read_description(const nlohmann::json& file);
  // Adds the next member's model (its name from the description), checking its shapes; `source`
  // says where it came from in messages (its model file).
  void add_member(std::shared_ptr<Model> model, const std::string& source);
  // Sets the stacking combiner, checking that it maps the members' outputs to the ensemble's.
  void set_combiner(Model combiner, const std::string& source);

  std::vector<std::string> names_, from_;
  std::vector<std::shared_ptr<Model>> members_;  // shared with whoever trained them (run_ensemble)
  Model combiner_;
  bool has_combiner_ = false;
  Shape input_, output_;
  std::vector<std::string> class_names_;
  Combination default_ = Combination::Average;
  std::string path_;
  int64_t holdout_samples_ = 0;
  nlohmann::json experiment_;
};

// Loads a folder holding ensemble.json, or the file itself. Checks that every member's model file
// exists and that all members share the ensemble's input and output shapes (and the combiner takes
// K * C inputs); a missing or mismatched member, or a corrupt file, is an nnlab::Error naming it.
Ensemble load_ensemble(const std::string& path);
// An ensemble of models trained earlier or elsewhere: run folders or model files, such as the ones
// `nnlab import` makes of ONNX files. Checks that they take the same inputs and give the same
// outputs, then copies each into <dir>/member-K/model.safetensors and writes <dir>/ensemble.json
// (the file last), so `nnlab evaluate`, `predict` and `export` take the folder. It offers vote and
// average; stacking needs a holdout that no member trained on, which models from elsewhere cannot
// promise. Its test data is the experiment of the first member that carries one (otherwise
// `evaluate --dataset`), its class names the first member's that has them. Under mpirun every rank
// reads and checks the models and rank 0 alone writes the folder.
Ensemble assemble_ensemble(const std::vector<std::string>& models, const std::string& dir,
                           Combination default_combination = Combination::Average);
// The ensemble as one ONNX graph (io/onnx.hpp's onnx_export_ensemble) computing `combination`,
// with its class names and experiment name in the metadata, written to `out`.
void save_ensemble_onnx(Ensemble& ensemble, Combination combination, const std::string& out);

// ---- evaluation -------------------------------------------------------------------------------

struct EnsembleRow {
  std::string name;       // "member-1" or a combination's name
  std::string detail;     // member: the seed or experiment it came from; combination: ""
  double accuracy = 0;
  int64_t params = 0;           // members only
  double train_seconds = -1;    // members trained in this run only
};
struct EnsembleReport {
  std::vector<EnsembleRow> members;       // in member order
  std::vector<EnsembleRow> combinations;  // vote, average, stacking (when trained)
  size_t best_member = 0;                 // index into members
  int64_t samples = 0;
  std::string evaluated_on;               // "test", or "train" for datasets without a test split
  // Points (percentage points) a row is above the best single member.
  double gain(const EnsembleRow& r) const { return 100.0 * (r.accuracy - members.at(best_member).accuracy); }
};
// Evaluates every member and every combination on a classification dataset (targets (n, 1)). With
// test-time augmentation, tta_copies holds augmented versions of data.x() (augmented_copies) and each
// member's outputs are averaged over the images and the copies before they are combined.
EnsembleReport evaluate_ensemble(Ensemble& ensemble, const InMemoryDataset& data, int64_t batch_size = 0,
                                 const std::vector<Tensor>& tta_copies = {});
// Members and combinations side by side: accuracy, points against the best member, parameters.
std::string ensemble_table_markdown(const EnsembleReport& report);
nlohmann::json ensemble_report_json(const EnsembleReport& report);

// ---- training ---------------------------------------------------------------------------------

struct EnsembleSpec {
  std::string name;
  nlohmann::json base;                     // the base experiment's config (overrides applied)
  std::string base_source;
  int members = 5;                         // by seed: member i uses seed + i (i from 0)
  std::vector<std::string> architectures;  // or one member per experiment file/name (overrides applied to each)
  std::vector<std::string> overrides;
  // Fraction of the training set, taken from its tail, that no member trains on; the stacking
  // combiner learns from the members' predictions for it. 0: no holdout, no stacking.
  double holdout = 0.1;
  // Members trained side by side, each thread with threads / parallel OpenMP threads (at least 1).
  // 0: automatic (see default_parallelism); 1: one after another. Side by side with one thread each
  // gives the same weights as one after another with one thread.
  int parallel = 0;
  Combination default_combination = Combination::Average;
  CombinerOptions combiner;
  void validate() const;
};

struct EnsembleMemberSpec {
  std::string name;       // "member-1", ...
  std::string detail;     // "seed 43" or the experiment's file
  nlohmann::json config;  // the experiment config it trains (data.limit set to exclude the holdout)
  std::string source;
};

// A base experiment (name or file) and the ensemble's options; validates the base now.
EnsembleSpec load_ensemble_spec(const std::string& name_or_path, const std::vector<std::string>& overrides);
// Every member's experiment, given the size of the training set (before the holdout is taken).
// Throws before anything trains when members read different data, or their models' output shapes
// differ (naming the member).
std::vector<EnsembleMemberSpec> ensemble_members(const EnsembleSpec& spec, int64_t train_size, const Shape& input);
// How many members to train side by side when EnsembleSpec::parallel is 0: one per OpenMP thread
// (kernels::num_threads(), which OMP_NUM_THREADS sets), at most the number of members.
int default_parallelism(int members);

struct EnsembleResult {
  std::string dir;
  EnsembleReport report;
  int64_t holdout_samples = 0;
  double train_seconds = 0;  // wall time of training all members
  int parallel = 1;
};
// Trains (or, when a member's run folder is finished, reuses) every member into <out>/member-<i>/,
// trains the combiner on the members' models in memory (a reused member's read from its folder),
// evaluates everything on the test set with those same models and writes ensemble.json,
// combiner.safetensors, table.md, result.json and compare-*.svg into out_dir.
EnsembleResult run_ensemble(const EnsembleSpec& spec, const std::string& out_dir, int verbose);

}  // namespace nnlab
