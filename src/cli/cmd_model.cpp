#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "nnlab/ensemble.hpp"
#include "nnlab/error.hpp"
#include "nnlab/evaluation.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/metrics.hpp"
#include "nnlab/training/trainer.hpp"

namespace fs = std::filesystem;

namespace nnlab::cli {

// The experiment a model was trained by, from its metadata. A model that carries none (one imported
// from another framework's ONNX file) is evaluated on `dataset` with the loss its output implies:
// softmax -> categorical cross-entropy, one sigmoid output -> binary cross-entropy, else mse.
static Experiment experiment_of(const std::map<std::string, std::string>& meta, const std::string& path,
                                const std::string& dataset = "", const Model* model = nullptr) {
  const auto config = recorded_experiment(meta, path);
  if (!config && !dataset.empty() && model != nullptr) {
    const std::string loss = implied_loss(model->output_activation(), shape_size(model->output_shape()));
    return Experiment::from_json({{"name", fs::path(path).parent_path().filename().string()},
                                  {"data", {{"dataset", dataset}}},
                                  {"model", {{"layers", model->config().at("layers")}}},
                                  {"train", {{"loss", loss}}}},
                                 path + " (no experiment in its metadata; --dataset " + dataset + ")");
  }
  check(config.has_value(), path + ": the model carries no experiment (nnlab import --experiment NAME records one); "
                                 "pass --dataset to evaluate it on a built-in dataset");
  try {
    return Experiment::from_json(*config, path);
  } catch (const Error& e) {
    throw Error(path + ": metadata 'nnlab.experiment' is not a valid experiment: " + e.what());
  }
}

// --input values, one sample each: every field between commas must be a finite number, and each
// sample must have the model's `width` values.
static Tensor parse_inputs(const std::vector<std::string>& values, int64_t width) {
  Tensor x({static_cast<int64_t>(values.size()), width});
  for (size_t i = 0; i < values.size(); ++i) {
    std::vector<float> v;
    const std::string& text = values[i];
    // Every field between commas is a value: "0,1," has an empty third one, refused like "0,,1".
    for (size_t begin = 0;;) {
      const size_t end = std::min(text.find(',', begin), text.size());
      const std::string field = text.substr(begin, end - begin);
      float value = 0;
      try {
        size_t used = 0;
        value = std::stof(field, &used);
        check(used == field.size(), "");
      } catch (const std::exception&) {
        throw Error("--input " + std::to_string(i + 1) + ": value " + std::to_string(v.size() + 1) + " '" + field +
                    "' is not a number" + (field.empty() ? " (an empty field)" : ""));
      }
      check(std::isfinite(value), "--input " + std::to_string(i + 1) + ": value " + std::to_string(v.size() + 1) +
                                      " '" + field + "' is not a finite number");
      v.push_back(value);
      if (end == text.size()) break;
      begin = end + 1;
    }
    check(static_cast<int64_t>(v.size()) == width, "--input " + std::to_string(i + 1) + " has " +
                                                       std::to_string(v.size()) + " values, the model expects " +
                                                       std::to_string(width));
    std::copy(v.begin(), v.end(), x.data() + static_cast<int64_t>(i) * width);
  }
  return x;
}

// `evaluate --tta N`: the loss and accuracy of the prediction averaged over the test images and N
// augmented copies of them.
static void print_tta(Model& model, const Experiment& e, const Dataset& test, int copies, uint64_t seed,
                      const std::string& path) {
  const auto* in_memory = dynamic_cast<const InMemoryDataset*>(&test);
  check(in_memory != nullptr, "--tta needs the test data in memory; " + e.data.dataset + " is streamed from disk");
  const Tensor mean = predict_averaged(model, in_memory->x(), tta_copies(e, test, copies, seed, path));
  const auto loss = make_loss(e.train.loss, e.train.loss_options);
  std::printf("with test-time augmentation (the images and %d augmented copies): loss %.4f", copies,
              loss->compute(mean, in_memory->y(), nullptr));
  if (accuracy_applies(*loss))
    std::printf(", accuracy %.2f%%",
                100.0 * static_cast<double>(count_correct(*loss, mean, in_memory->y())) / static_cast<double>(test.size()));
  std::printf("\n");
}

static void add_evaluate(CLI::App& app) {
  struct EvalArgs {
    std::string model, dataset;
    int64_t batch_size = 0;  // the model's infer_batch_size()
    int tta = 0;
    uint64_t tta_seed = 0;
  };
  auto ea = std::make_shared<EvalArgs>();
  auto* ev = app.add_subcommand("evaluate", "Evaluate a trained model (a run folder, .safetensors or an ensemble) on its test data");
  ev->add_option("model", ea->model, "Run folder, model file, or ensemble folder / ensemble.json")->required();
  ev->add_option("--dataset", ea->dataset, "Dataset to evaluate on (default: the one it was trained on)");
  ev->add_option("--batch-size", ea->batch_size,
                 "Batch size (default: the most images, up to 256, whose layer outputs fit in 16 MiB)")
      ->check(whole_number(1));
  ev->add_option("--tta", ea->tta,
                 "Test-time augmentation: average the predictions over the images and N copies augmented with the "
                 "experiment's [augment] table (0: off)")
      ->check(whole_number(0, 64));
  ev->add_option("--tta-seed", ea->tta_seed, "Seed of the test-time augmentation's copies")->capture_default_str();
  ev->callback([ea] {
    if (is_ensemble_path(ea->model))
      return evaluate_ensemble_command(ea->model, ea->dataset, ea->batch_size, ea->tta, ea->tta_seed);
    const std::string path = model_file(ea->model);
    std::map<std::string, std::string> meta;
    Model model = load_model(path, &meta);
    Experiment e = experiment_of(meta, path, ea->dataset, &model);
    if (!ea->dataset.empty()) e.data.dataset = ea->dataset;
    const DataSources data = load_sources(e.data);
    const Dataset& test = data.test ? *data.test : *data.train;
    Trainer t(model, make_loss(e.train.loss, e.train.loss_options), make_optimizer(e.train.optimizer, e.train.optimizer_options));
    Logs logs = t.evaluate(test, ea->batch_size);
    std::printf("%s on %s (%lld samples): loss %.4f", path.c_str(), e.data.dataset.c_str(),
                static_cast<long long>(test.size()), logs["loss"]);
    if (logs.count("accuracy")) std::printf(", accuracy %.2f%%", 100.0 * logs["accuracy"]);
    std::printf("\n");
    if (ea->tta > 0) print_tta(model, e, test, ea->tta, ea->tta_seed, path);
    if (test.num_classes > 2 && test.target_width() == 1)
      std::printf("\n%s", confusion_matrix(model, test, ea->batch_size).to_text().c_str());
  });
}

static void add_predict(CLI::App& app) {
  struct PredictArgs {
    std::string model;
    std::vector<std::string> values;
    std::string combination;
  };
  auto pa = std::make_shared<PredictArgs>();
  auto* pr = app.add_subcommand("predict", "Print a trained model's outputs for inputs given on the command line");
  pr->add_option("model", pa->model, "Run folder, model file, or ensemble folder / ensemble.json")->required();
  pr->add_option("--input", pa->values, "One sample as comma-separated numbers (repeatable)")->required();
  pr->add_option("--combination", pa->combination, "For an ensemble: vote, average or stacking (default: the ensemble's)");
  pr->callback([pa] {
    std::optional<Ensemble> ensemble;
    Model model;
    if (is_ensemble_path(pa->model)) ensemble = load_ensemble(pa->model);
    else model = load_model(model_file(pa->model));
    check(ensemble || pa->combination.empty(), "--combination applies to ensembles only; " + pa->model + " is one model");
    const int64_t width = shape_size(ensemble ? ensemble->input_shape() : model.input_shape());
    const Tensor x = parse_inputs(pa->values, width);
    EnsemblePrediction combined;  // an ensemble's combined outputs and decisions
    if (ensemble)
      combined = ensemble->predict(x, pa->combination.empty() ? ensemble->default_combination() : parse_combination(pa->combination));
    const Tensor y = ensemble ? combined.outputs : model.predict(x);
    for (int64_t r = 0; r < y.rows(); ++r) {
      std::printf("[");
      for (int64_t c = 0; c < y.cols(); ++c) std::printf("%s%.6g", c ? ", " : "", y.at(r, c));
      std::printf("]");
      if (y.cols() > 1)
        std::printf("  class %lld", static_cast<long long>(ensemble ? combined.classes[static_cast<size_t>(r)] : argmax_row(y, r)));
      std::printf("\n");
    }
  });
}

static void add_summary(CLI::App& app) {
  auto what = std::make_shared<std::string>();
  auto* su = app.add_subcommand("summary", "Print a model's layers and parameter counts (experiment or model file)");
  su->add_option("what", *what, "Experiment name/file, run folder or model file")->required();
  su->callback([what] {
    const std::string p = model_file(*what);
    if (fs::path(p).extension() == ".safetensors") {
      std::printf("%s", load_model(p).summary().c_str());
      return;
    }
    const Experiment e = Experiment::load(*what);
    Shape input = e.data.dataset == "xor" || e.data.dataset == "and" || e.data.dataset == "or" ? Shape{2}
                                                                                               : Shape{784};
    if (const Shape stated = stated_input(e); !stated.empty()) input = stated;
    std::printf("%s", build_model(e, input).summary().c_str());
  });
}

void add_model_commands(CLI::App& app) {
  add_evaluate(app);
  add_predict(app);
  add_summary(app);
}

void add_experiments(CLI::App& app) {
  auto* c = app.add_subcommand("experiments", "List the built-in experiments");
  c->callback([] {
    for (const auto& n : builtin_experiments()) std::printf("%s\n", n.c_str());
  });
}

}  // namespace nnlab::cli
