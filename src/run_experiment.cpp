// run_experiment: one experiment from its data to a finished run folder, in steps. Everything that
// can refuse the experiment is checked before the folder is made, so a bad experiment leaves no
// half-written run behind; the folder's curves, history and diagnosis are written during training
// by RunFolderWriter, the model, evaluation and result here once training ends.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <unistd.h>

#include "nnlab/data/augment.hpp"
#include "nnlab/data/source.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/kernels/denormals.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/text.hpp"
#include "nnlab/training/schedules.hpp"
#include "nnlab/training/trainer.hpp"

namespace fs = std::filesystem;

namespace nnlab {
namespace {

std::string timestamp(const char* format = "%Y%m%d-%H%M%S") {
  const std::time_t t = std::time(nullptr);
  char buf[40];
  std::tm local{};
  localtime_r(&t, &local);  // ensemble members start from several threads
  std::strftime(buf, sizeof buf, format, &local);
  return buf;
}

// The processor's name as Linux reports it ("" elsewhere).
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "";
}

// The experiment's settings as the report lists them: [label, text] rows, or [label, table] for the
// optional tables, in reading order. Written here, where the Experiment is known, so the report
// renders run.json without parsing experiments itself (the report sits below the experiment layer).
nlohmann::json experiment_settings(const Experiment& e) {
  nlohmann::json rows = nlohmann::json::array();
  std::string opt = e.train.optimizer;
  if (!e.train.optimizer_options.empty()) {
    std::string o;
    for (auto it = e.train.optimizer_options.begin(); it != e.train.optimizer_options.end(); ++it)
      o += (o.empty() ? "" : ", ") + it.key() + " " + (it->is_string() ? it->get<std::string>() : it->dump());
    opt += " (" + o + ")";
  }
  rows.push_back({"optimizer", opt});
  rows.push_back({"loss", e.train.loss + (e.train.loss_options.empty() ? "" : " " + e.train.loss_options.dump())});
  rows.push_back({"training", std::to_string(e.train.epochs) + " epochs, batch size " + std::to_string(e.train.batch_size) +
                                  (e.train.shuffle ? ", shuffled every epoch" : ", not shuffled") +
                                  (e.train.validation_split > 0 ? ", validation split " + number_str(e.train.validation_split) : "")});
  for (const auto& [k, v] : {std::pair{"schedule", &e.schedule}, std::pair{"early stopping", &e.early_stopping},
                             std::pair{"reduce lr on plateau", &e.reduce_lr_on_plateau}, std::pair{"weight averaging (swa)", &e.swa},
                             std::pair{"validation of the ema weights", &e.swap_ema_weights}, std::pair{"augmentation", &e.augment},
                             std::pair{"distillation", &e.distill}})
    if (!v->is_null()) rows.push_back({k, *v});
  rows.push_back({"seed", std::to_string(e.seed)});
  return rows;
}

// run.json: what the report shows besides the config: when and where the run started, its data and
// its settings.
nlohmann::json run_info(const Experiment& e, const DataSources& data, const Dataset* validation, bool validation_is_test) {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  nlohmann::json samples{{"train", data.train->size() - (validation && !validation_is_test ? validation->size() : 0)},
                         {"validation", validation ? validation->size() : 0},
                         {"test", data.test ? data.test->size() : 0}};
  if (validation_is_test) samples["validation_from"] = "test";
  return {{"name", e.name},
          {"started", timestamp("%Y-%m-%d %H:%M:%S %Z")},
          {"started_unix", static_cast<double>(std::time(nullptr))},
          {"host", host},
          {"cpu", cpu_model()},
          {"threads", kernels::num_threads()},
          {"seed", e.seed},
          {"dataset", e.data.dataset},
          {"data", e.data.dataset == "file" ? e.data.train : e.data.dataset},
          {"limit", e.data.limit},
          {"test_limit", e.data.test_limit},
          {"settings", experiment_settings(e)},
          {"samples", samples},
          {"input_shape", data.train->sample_shape()},
          {"classes", data.train->num_classes},
          {"class_names", data.train->class_names}};
}

// A model input stated in the experiment must hold as many values as the data's samples.
void check_stated_input(const Experiment& e, const Shape& sample) {
  const Shape stated = stated_input(e);
  if (stated.empty()) return;
  const char* key = e.model.contains("input_shape") ? "input_shape" : e.model.contains("input") ? "input" : nullptr;
  const std::string what = key ? e.source + " [model]: " + key + " = " + e.model.at(key).dump()
                               : e.source + " [data]: input_shape = " + nlohmann::json(stated).dump();
  check(shape_size(stated) == shape_size(sample),
        what + " (" + std::to_string(shape_size(stated)) + " values) but the data's samples have shape " +
            shape_str(sample) + " (" + std::to_string(shape_size(sample)) + " values); remove " +
            (key ? key : "input_shape") + " or make it match");
}

// The data trained on and the data validated on: a held-out tail of the training data, or the test
// data, or none.
std::pair<std::shared_ptr<Dataset>, std::shared_ptr<Dataset>> split_validation(const Experiment& e,
                                                                                const DataSources& data) {
  std::shared_ptr<Dataset> train = data.train, validation;
  if (e.train.validation_split > 0) {
    std::tie(train, validation) = split_tail(data.train, e.train.validation_split);
  } else if (e.train.validate_on_test && data.test) {
    validation = data.test;
  }
  check(train->size() >= 1, e.source + " [train]: validation_split " + number_str(e.train.validation_split) +
                                " leaves no training samples");
  return {train, validation};
}

// [distill]'s teachers, loaded and checked against the student: the same input and output sizes, a
// softmax output, and inputs prepared the same way (a teacher given differently scaled inputs would
// teach garbage).
std::unique_ptr<Distiller> load_distiller(const Experiment& e, const Model& student) {
  const DistillSpec d = read_distill(e);
  std::vector<std::shared_ptr<Model>> teachers;
  for (const auto& t : d.teachers) {
    const std::string where = e.source + " [distill]: teacher '" + t + "'";
    const std::string file = model_file(t);
    std::error_code ec;
    check(fs::is_regular_file(file, ec),
          where + ": no model at " + file + "; train the teacher first, e.g. `nnlab train fashion-cnn --out " + t + "`");
    std::map<std::string, std::string> meta;
    auto m = std::make_shared<Model>(load_model(file, &meta));
    check(shape_size(m->input_shape()) == shape_size(student.input_shape()),
          where + ": its input " + shape_str(m->input_shape()) + " does not hold as many values as the student's " +
              shape_str(student.input_shape()));
    check(m->output_shape() == student.output_shape(), where + ": its output " + shape_str(m->output_shape()) +
                                                           " differs from the student's " + shape_str(student.output_shape()));
    check(m->output_activation() == "softmax",
          where + ": its last layer's activation is '" + m->output_activation() + "'; a teacher ends in softmax");
    if (const auto config = recorded_experiment(meta, file)) {
      const std::string diff = preprocessing_difference(Experiment::from_json(*config, file).data, e.data);
      check(diff.empty(), where + " was trained on inputs prepared unlike the student's (" + diff +
                              "), and a teacher is given the student's inputs");
    }
    teachers.push_back(std::move(m));
  }
  return std::make_unique<Distiller>(std::move(teachers), d.options);
}

// A schedule whose rate is infinite or negative at some step of this run (on `samples` training
// samples) is refused now.
void check_schedule(const Experiment& e, int64_t samples) {
  if (e.schedule.is_null()) return;
  const int64_t batch = std::min(e.train.batch_size, samples);
  const int64_t steps = (samples + batch - 1) / batch;  // as Trainer::fit counts them
  const auto schedule = make_schedule(e.schedule, e.source + " [schedule]");
  schedule->bind_run(e.train.epochs, steps);
  try {
    const auto optimizer = make_optimizer(e.train.optimizer, e.train.optimizer_options);
    schedule->validate(e.train.epochs, steps, static_cast<float>(optimizer->initial_learning_rate()));
  } catch (const Error& err) {
    throw Error(e.source + " [schedule]: " + err.what());
  }
}

// The run folder, cleared of a previous run's results, with the config and the model's summary.
// Data-parallel: rank 0 names and writes it; the other ranks learn its name (for the checkpoint a
// resumed run reads) and write nothing.
fs::path open_run_folder(const Experiment& e, const RunOptions& options, const Model& model, RunResult& result) {
  result.run_dir = options.out_dir.empty() ? "runs/" + e.name + "-" + timestamp() : options.out_dir;
  dist::broadcast(result.run_dir);
  if (!dist::is_root()) return result.run_dir;
  fs::create_directories(result.run_dir);
  const fs::path dir(result.run_dir);
  remove_stale_temporaries(dir.string());
  // A run trained again into its folder is a run in progress until it ends: the last run's result and
  // evaluation go, so that the page shown while training has nothing stale.
  for (const char* stale : {"result.json", "confusion.csv", "evaluation.txt", "misclassified.json"}) {
    std::error_code ec;
    fs::remove(dir / stale, ec);
  }
  write_file_atomic((dir / "config.json").string(), e.config.dump(2) + "\n");
  write_file_atomic((dir / "summary.txt").string(), model.summary());
  if (options.verbose > 0) std::printf("%s", model.summary().c_str());
  return dir;
}

// run.json; a resumed run keeps the time it first started.
void write_run_info(const fs::path& dir, nlohmann::json info, bool resume) {
  if (!dist::is_root()) return;
  info["ranks"] = dist::size();
  if (resume && fs::exists(dir / "run.json")) {
    const auto before = nlohmann::json::parse(read_file((dir / "run.json").string()), nullptr, false);
    if (before.is_object() && before.contains("started")) {
      info["resumed"] = info["started"];
      info["started"] = before["started"];
      info["started_unix"] = before.value("started_unix", info["started_unix"].get<double>());
    }
  }
  write_file_atomic((dir / "run.json").string(), info.dump(2) + "\n");
}

FitOptions fit_options(const Experiment& e, const RunOptions& options, const fs::path& dir) {
  FitOptions fit;
  fit.epochs = e.train.epochs;
  fit.batch_size = e.train.batch_size;
  fit.shuffle = e.train.shuffle;
  fit.seed = e.seed;
  fit.verbose = options.verbose;
  fit.checkpoint_path = (dir / "checkpoint.safetensors").string();
  fit.resume = options.resume;
  return fit;
}

// After training: the model file, the evaluation on the test data (the training data when there is
// none) with its confusion matrix, then result.json, which marks the run finished (resumed sweeps
// skip finished runs), and the report without its refresh. The folder writer writes the evaluation's
// files and the report.
// Data-parallel: every rank evaluates its share of the test data; rank 0 writes.
void finish_run(const Experiment& e, const fs::path& dir, Model& model, Trainer& trainer, const DataSources& data,
                const RunFolderWriter& folder_writer, RunResult& result) {
  result.params = model.param_count();
  result.diagnosis = diagnose(result.history);
  const Dataset& test = data.test ? *data.test : *data.train;
  result.evaluated_on = data.test ? "test" : "train";
  Logs ev = trainer.evaluate(test);
  result.test_loss = ev["loss"];
  if (ev.count("accuracy")) result.test_accuracy = ev["accuracy"];
  if (!dist::is_root()) return;
  save_model(model, (dir / "model.safetensors").string(),
             {{"nnlab.experiment", e.config.dump()}, {"nnlab.loss", e.train.loss}});
  if (test.num_classes > 0 && test.target_width() == 1) {
    result.confusion = confusion_matrix(model, test);
    folder_writer.write_evaluation(result.confusion, test, result.evaluated_on);
  }
  nlohmann::json rj = result_json(result);
  rj["finished"] = timestamp("%Y-%m-%d %H:%M:%S %Z");
  write_file_atomic((dir / "result.json").string(), rj.dump(2) + "\n");
  folder_writer.write_final_report();
}

}  // namespace

nlohmann::json result_json(const RunResult& r) {
  nlohmann::json j{{"run_dir", r.run_dir},
                   {"evaluated_on", r.evaluated_on},
                   {"test_loss", r.test_loss},
                   {"params", r.params},
                   {"train_seconds", r.train_seconds},
                   {"epochs_run", r.history.logs.size()},
                   {"verdict", fit_name(r.diagnosis.verdict)},
                   {"best_epoch", r.diagnosis.best_epoch}};
  if (r.test_accuracy >= 0) j["test_accuracy"] = r.test_accuracy;
  return j;
}

RunResult run_experiment(const Experiment& e, const RunOptions& options) {
  if (e.threads > 0) kernels::set_num_threads(e.threads);
  kernels::set_flush_denormals(e.flush_denormals);
  const DataSources data = load_sources(e.data);
  check_stated_input(e, data.train->sample_shape());  // train builds the model on the data
  const auto model = std::make_shared<Model>(build_model(e, data.train->sample_shape()));
  Trainer trainer(*model, make_loss(e.train.loss, e.train.loss_options),
                  make_optimizer(e.train.optimizer, e.train.optimizer_options));
  trainer.check_data(*data.train);
  if (data.test) trainer.check_data(*data.test);
  if (!e.distill.is_null()) {
    try {
      trainer.set_distiller(load_distiller(e, *model));
    } catch (const Error& err) {
      const std::string what = err.what();
      throw Error(what.rfind(e.source, 0) == 0 ? what : e.source + " [distill]: " + what);
    }
  }
  const auto callbacks = make_callbacks(e);
  const auto [train, validation] = split_validation(e, data);
  check_schedule(e, train->size());
  // Augmentation wraps the training data only; validation and test data are never augmented.
  std::optional<AugmentedDataset> augmented;
  if (!e.augment.is_null()) {
    try {
      augmented.emplace(*train, ImageAugmenter::from_json(e.augment, e.source + " [augment]"), e.seed);
    } catch (const Error& err) {
      throw Error(e.source + " [augment]: " + err.what());
    }
  }

  RunResult result;
  const fs::path dir = open_run_folder(e, options, *model, result);
  const FitOptions fit = fit_options(e, options, dir);
  write_run_info(dir, run_info(e, data, validation.get(), validation && validation == data.test), options.resume);
  const auto t0 = std::chrono::steady_clock::now();
  RunFolderWriter folder_writer(dir.string());
  std::vector<Callback*> cbs;
  for (const auto& c : callbacks) cbs.push_back(c.get());
  cbs.insert(cbs.end(), options.callbacks.begin(), options.callbacks.end());
  cbs.push_back(&folder_writer);  // last: it sees what the others added to the logs
  const Dataset* fit_data = train.get();
  if (augmented) {  // on resume, fit continues its random stream (Dataset::seek_batches)
    if (options.verbose > 0) std::printf("augment: %s\n", augmented->augmenter().describe().c_str());
    fit_data = &*augmented;
  }
  result.history = trainer.fit(*fit_data, fit, validation.get(), cbs);
  result.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  finish_run(e, dir, *model, trainer, data, folder_writer, result);
  result.model = model;
  return result;
}

}  // namespace nnlab
