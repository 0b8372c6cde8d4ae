// Experiments: a small TOML (or JSON) file describing data, model and training, with command-line
// overrides ("train.epochs=5"). run_experiment() trains it and writes a run folder holding the
// config it used (config.json), the history (history.csv), the model (model.safetensors), the
// summary (summary.txt), a checkpoint after every epoch (checkpoint.safetensors, for --resume), the fit diagnosis (diagnosis.txt) and, for classifiers, the confusion matrix (confusion.csv, evaluation.txt).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/evaluation.hpp"
#include "nnlab/model.hpp"
#include "nnlab/report/diagnosis.hpp"
#include "nnlab/training/callback.hpp"
#include "nnlab/training/distillation.hpp"
#include "nnlab/training/history.hpp"

namespace nnlab {

// Parses a TOML or JSON file (by extension: .json is JSON, anything else TOML) into JSON. Syntax
// errors name the file, line and column.
nlohmann::json parse_config_file(const std::string& path);
// Applies "a.b.c=value": value is read as JSON when it parses (numbers, true/false, arrays), else as
// a string. A number names an entry of a list (model.layers.0.units=64). Throws naming the override
// when it has no '=', or a list has no such entry.
void apply_override(nlohmann::json& config, const std::string& assignment);
// A config as the text of a TOML file that parse_config_file reads back as the same JSON (keys whose
// value is null, which TOML cannot hold, are left out: nnlab reads them as absent).
std::string config_toml(const nlohmann::json& config);
// A path to an existing file, or the name of a built-in experiment ("xor", "fashion-mnist", ...).
std::string resolve_experiment(const std::string& name_or_path);
std::vector<std::string> builtin_experiments();

struct DataSpec {
  std::string dataset = "xor";   // xor, and, or, fashion-mnist, mnist, sign-mnist, file
  std::string dir;               // where to look for files ("" = the usual places)
  std::string train, test;       // dataset = "file": .nnds (streamed from disk), .csv(.gz), or IDX "IMAGES,LABELS"
  bool scale = true;             // pixels / 255
  bool standardize = false;      // subtract the training mean, divide by its standard deviation
  int64_t limit = 0;             // use only the first N training samples (0 = all)
  int64_t test_limit = 0;        // use only the first N test samples (0 = all)
  Shape input_shape;             // how the model sees a sample, e.g. (28, 28, 1) for images; empty: as stored
};

// The member initialisers are the defaults a file gets for keys it leaves out (Experiment::from_json
// reads them from here).
struct TrainSpec {
  std::string loss = "categorical_crossentropy";
  nlohmann::json loss_options = nlohmann::json::object();  // the [loss] table, Keras names: label_smoothing
  std::string optimizer = "adam";
  nlohmann::json optimizer_options = nlohmann::json::object();  // Keras names: learning_rate, ...
  int epochs = 1;
  int64_t batch_size = 32;
  bool shuffle = true;
  double validation_split = 0.0;  // take the tail of the training data (Keras) when there is no test set
  bool validate_on_test = true;   // the course uses the test file as validation data
};

struct Experiment {
  std::string name;
  std::string source;   // the file it came from
  uint64_t seed = 42;
  int threads = 0;      // 0: leave as is
  bool flush_denormals = true;  // false: IEEE denormals (slow on some processors; kernels/denormals.hpp)
  DataSpec data;
  nlohmann::json model;  // {"layers": [...]}, input from the data unless stated (input_shape)
  TrainSpec train;
  // Optional tables, null when absent: [early_stopping] and [reduce_lr_on_plateau] with Keras's
  // option names, [schedule] (a learning-rate schedule: type = "step" | "cosine" | ... or
  // formula = "..."), [augment] (ImageDataGenerator-style options for the training images), [swa]
  // (stochastic weight averaging) and [swap_ema_weights] (validate the use_ema average; Keras's
  // SwapEMAWeights, an empty table).
  nlohmann::json early_stopping, reduce_lr_on_plateau, swa, swap_ema_weights, schedule, augment;
  // [distill]: learn from trained teachers as well as from the labels (training/distillation.hpp):
  // teacher = a run folder or model file, or a list of them; temperature; student_loss_weight.
  nlohmann::json distill;
  nlohmann::json config;  // the whole resolved config, as saved in the run folder

  // Validates everything (unknown keys, bad values) up front, naming the source file and key.
  static Experiment from_json(const nlohmann::json& config, const std::string& source);
  // load + overrides + validate.
  static Experiment load(const std::string& name_or_path, const std::vector<std::string>& overrides = {});
};

// The experiment a model file records in its metadata (load_model's "nnlab.experiment"), parsed;
// nullopt when it records none (a model imported from another framework). `path` names the file in
// a parse error.
std::optional<nlohmann::json> recorded_experiment(const std::map<std::string, std::string>& metadata,
                                                  const std::string& path);

// How two [data] tables prepare the inputs differently (scale, standardize), "" when alike: models
// that are given the same inputs (an ensemble's members, a student and its teachers) must agree.
std::string preprocessing_difference(const DataSpec& a, const DataSpec& b);

// [distill] read and checked: the teachers' paths as written and the options.
struct DistillSpec {
  std::vector<std::string> teachers;
  DistillOptions options;
};
DistillSpec read_distill(const Experiment& e);

struct LoadedData {
  InMemoryDataset train;
  InMemoryDataset test;  // may be empty (size 0) when the dataset has no test split
};
LoadedData load_data(const DataSpec& spec);  // the built-in datasets, in memory

// Any dataset of an experiment, files included: nnlab's binary files are streamed from disk, so a
// dataset larger than memory trains in bounded memory. test is null when there is no test split.
struct DataSources {
  std::shared_ptr<Dataset> train, test;
};
DataSources load_sources(const DataSpec& spec);

// The callbacks its optional tables ask for (schedule, reduce-on-plateau, early stopping), in that
// order; throws naming the file, table and key for a bad value.
std::vector<std::unique_ptr<Callback>> make_callbacks(const Experiment& e);

// The input shape the experiment states: [model] input_shape (or its older name input), else [data]
// input_shape; empty when neither is given (the model takes the data's own sample shape).
Shape stated_input(const Experiment& e);

// Builds the experiment's model with the stated input shape, or else the given one (the data's), with
// the experiment's seed (run_experiment checks first that a stated shape holds as many values).
Model build_model(const Experiment& e, const Shape& input);

struct RunOptions {
  std::string out_dir;  // "" = runs/<name>-<timestamp>
  int verbose = 1;
  bool resume = false;  // continue out_dir's checkpoint (checkpoint.safetensors) when it has one
  // More callbacks for fit, after the experiment's own (schedule, plateau, early stopping); not owned.
  std::vector<Callback*> callbacks;
};
struct RunResult {
  std::string run_dir;
  History history;
  double test_loss = 0, test_accuracy = -1;  // accuracy -1 when it does not apply
  std::string evaluated_on;                  // "test" or "train" (datasets without a test split)
  ConfusionMatrix confusion;                 // classes == 0 for regression
  Diagnosis diagnosis;                       // over- or underfitting, from the history
  int64_t params = 0;                        // the model's parameter count
  double train_seconds = 0;                  // wall time of fit()
  // The trained model itself, the same weights as the run folder's model.safetensors, so that a
  // caller (run_ensemble's combiner and evaluation) uses it without reading the file back. Shared:
  // copies of the result share one model.
  std::shared_ptr<Model> model;
};
// The run's figures as JSON (result.json in the run folder).
nlohmann::json result_json(const RunResult& r);
RunResult run_experiment(const Experiment& e, const RunOptions& options);

}  // namespace nnlab
