// nnlab._nnlab: the Python module's C++ half, a thin layer over the library (nnlab::nnlab). It holds no
// training, layer or file logic of its own: a model is an experiment config read by
// Experiment::from_json (so every setting is checked, with the library's messages), built by
// build_model, trained by Trainer::fit and saved by save_model, exactly as `nnlab train` does.
// What it adds is the crossing between the two languages:
//   - ArrayDataset: a Dataset over the memory of C-contiguous float32 numpy arrays, without copying
//     them (the trainer's gather copies each mini-batch, as it does for its own in-memory data);
//   - PythonHook: a Callback that takes the GIL between batches to let Ctrl-C through
//     (PyErr_CheckSignals, at most every 50 ms) and to call the Python layer's callbacks;
//   - the GIL released while the library computes (fit, evaluate, predict, train).
// nnlab::Error becomes ValueError; the Python layer (python/nnlab/) checks dtypes and label ranges
// before calling in.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nnlab/kernels/denormals.hpp"
#include "nnlab/nnlab.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

// A C-contiguous float32 array on the CPU: numpy hands one over without a copy.
using FloatArray = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;
using OutArray = nb::ndarray<nb::numpy, float>;

// Samples x (n, ...) and targets y (n,) or (n, k), viewed in place.
class ArrayDataset final : public nnlab::Dataset {
 public:
  ArrayDataset(const FloatArray& x, const FloatArray& y, int64_t classes, std::string what)
      : x_(x.data()), y_(y.data()) {
    nnlab::check(x.ndim() >= 1, what + ": x must have a batch dimension, got a scalar");
    nnlab::check(y.ndim() >= 1 && y.ndim() <= 2, what + ": y must have shape (n,) or (n, k), got " +
                                                     std::to_string(y.ndim()) + " dimensions");
    rows_ = static_cast<int64_t>(x.shape(0));
    for (size_t d = 1; d < x.ndim(); ++d) sample_.push_back(static_cast<int64_t>(x.shape(d)));
    if (sample_.empty()) sample_.push_back(1);  // x of shape (n,): one feature a sample
    sample_size_ = nnlab::shape_size(sample_);
    width_ = y.ndim() == 1 ? 1 : static_cast<int64_t>(y.shape(1));
    nnlab::check(static_cast<int64_t>(y.shape(0)) == rows_,
                 what + ": x has " + std::to_string(rows_) + " samples but y has " + std::to_string(y.shape(0)));
    num_classes = classes;
    name = what;
  }
  int64_t size() const override { return rows_; }
  nnlab::Shape sample_shape() const override { return sample_; }
  int64_t target_width() const override { return width_; }
  bool gather_is_copy() const override { return true; }
  void gather(std::span<const int64_t> indices, nnlab::Tensor& x, nnlab::Tensor& y) const override {
    const auto n = static_cast<int64_t>(indices.size());
    x.resize_rows(n, sample_);
    y.resize(n, width_);
    const size_t xb = sizeof(float) * static_cast<size_t>(sample_size_), yb = sizeof(float) * static_cast<size_t>(width_);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = indices[static_cast<size_t>(i)];
      std::memcpy(x.data() + i * sample_size_, x_ + r * sample_size_, xb);
      std::memcpy(y.data() + i * width_, y_ + r * width_, yb);
    }
  }

 private:
  const float* x_;
  const float* y_;
  int64_t rows_ = 0, sample_size_ = 0, width_ = 0;
  nnlab::Shape sample_;
};

// A new float32 numpy array of `shape` that owns its buffer, which `fill` writes.
template <class Fill>
OutArray new_array(const std::vector<size_t>& shape, Fill&& fill) {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  auto* buf = new float[std::max<size_t>(1, n)];
  nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<float*>(p); });
  fill(buf);
  return OutArray(buf, shape.size(), shape.data(), owner);
}

// A copy of `values` as a numpy array of `shape`.
OutArray to_numpy(std::span<const float> values, std::span<const int64_t> shape) {
  return new_array(std::vector<size_t>(shape.begin(), shape.end()),
                   [&](float* buf) { std::copy(values.begin(), values.end(), buf); });
}

nb::dict to_dict(const nnlab::Logs& logs) {
  nb::dict d;
  for (const auto& [k, v] : logs) d[k.c_str()] = v;
  return d;
}

// Runs f with the GIL released, flushing C's stdout after (the Python side may be reading it from a pipe).
template <class F>
auto released(F&& f) {
  nb::gil_scoped_release release;
  struct Flush {
    ~Flush() { std::fflush(stdout); }
  } flush;
  return f();
}

nnlab::History history_of(const std::vector<int>& epochs, const std::vector<nnlab::Logs>& logs) {
  nnlab::check(epochs.size() == logs.size(), "history: " + std::to_string(epochs.size()) + " epochs but " +
                                                 std::to_string(logs.size()) + " rows of logs");
  nnlab::History h;
  h.epochs = epochs;
  h.logs = logs;
  return h;
}

// Between batches: lets Ctrl-C through and calls the Python layer's hook(event, index, logs) -> stop.
// The hook is called for "train_begin", "epoch_begin", "epoch_end", "train_end", and for "batch_end"
// only when `batches` is true (a user callback has on_train_batch_end): taking the GIL every batch
// would make training wait for other Python threads.
class PythonHook final : public nnlab::Callback {
 public:
  PythonHook(nb::object hook, bool batches) : hook_(std::move(hook)), batches_(batches) {}
  void on_train_begin(nnlab::TrainState& st) override { call("train_begin", 0, nullptr, st); }
  void on_epoch_begin(int epoch, nnlab::TrainState& st) override { call("epoch_begin", epoch, nullptr, st); }
  void on_batch_end(int64_t batch, const nnlab::Logs& logs, nnlab::TrainState& st) override {
    const auto now = std::chrono::steady_clock::now();
    if (!batches_ && now - last_check_ < std::chrono::milliseconds(50)) return;
    last_check_ = now;
    if (!batches_) return call(nullptr, batch, nullptr, st);  // the signal check alone
    nnlab::Logs copy = logs;
    call("batch_end", batch, &copy, st);
  }
  void on_epoch_end(int epoch, nnlab::Logs& logs, nnlab::TrainState& st) override { call("epoch_end", epoch, &logs, st); }
  void on_train_end(nnlab::TrainState& st) override { call("train_end", 0, nullptr, st); }

 private:
  // event null: only the signal check. Logs the hook adds or changes (numbers) are kept, as Keras
  // lets a callback add to an epoch's logs.
  void call(const char* event, int64_t index, nnlab::Logs* logs, nnlab::TrainState& st) {
    nb::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw nb::python_error();  // KeyboardInterrupt, raised in Python
    if (!event || !hook_.is_valid() || hook_.is_none()) return;
    nb::dict d = logs ? to_dict(*logs) : nb::dict();
    if (nb::cast<bool>(hook_(event, index, d))) st.stop_training = true;
    if (logs)
      for (auto [k, v] : d)
        if (nb::isinstance<nb::float_>(v) || nb::isinstance<nb::int_>(v))
          (*logs)[nb::cast<std::string>(k)] = nb::cast<double>(v);
  }
  nb::object hook_;
  bool batches_;
  std::chrono::steady_clock::time_point last_check_{};
};

// A model with what trains it: the experiment config it came from (model.layers, train, optimizer,
// loss and the callback tables), the built model and its trainer.
class Network {
 public:
  // config: an experiment as JSON text; input: the shape of one sample.
  Network(const std::string& config, const nnlab::Shape& input)
      : exp_(parse(config)), model_(std::make_unique<nnlab::Model>(nnlab::build_model(exp_, input))) {
    make_trainer();
  }
  Network(nnlab::Experiment e, nnlab::Model m) : exp_(std::move(e)), model_(std::make_unique<nnlab::Model>(std::move(m))) {
    make_trainer();
  }

  // New training settings (loss, optimizer, callback tables) for the same model and weights.
  void compile(const std::string& config) {
    exp_ = parse(config);
    make_trainer();
  }

  std::vector<nb::dict> fit(const FloatArray& x, const FloatArray& y, nb::object val_x, nb::object val_y, int epochs,
                            int initial_epoch, int64_t batch_size, bool shuffle, uint64_t seed, int verbose,
                            nb::object hook, bool batch_hook) {
    ArrayDataset train(x, y, classes(y), "x, y");
    std::unique_ptr<ArrayDataset> val;
    if (!val_x.is_none())
      val = std::make_unique<ArrayDataset>(nb::cast<FloatArray>(val_x), nb::cast<FloatArray>(val_y),
                                           classes(nb::cast<FloatArray>(val_y)), "validation_data");
    nnlab::FitOptions o;
    o.epochs = epochs;
    o.initial_epoch = initial_epoch;
    o.batch_size = batch_size;
    o.shuffle = shuffle;
    o.seed = seed;
    o.verbose = verbose;
    const auto own = nnlab::make_callbacks(exp_);  // the config's schedule, plateau, early stopping, swa
    PythonHook py(std::move(hook), batch_hook);
    std::vector<nnlab::Callback*> cbs;
    for (const auto& c : own) cbs.push_back(c.get());
    cbs.push_back(&py);
    const nnlab::History h = released([&] { return trainer_->fit(train, o, val.get(), cbs); });
    std::vector<nb::dict> out;
    for (const auto& l : h.logs) out.push_back(to_dict(l));
    return out;
  }

  nb::dict evaluate(const FloatArray& x, const FloatArray& y, int64_t batch_size) {
    nnlab::check(batch_size >= 1, "evaluate: batch_size must be at least 1, got " + std::to_string(batch_size));
    ArrayDataset data(x, y, classes(y), "x, y");
    nnlab::Logs logs;
    {
      nb::gil_scoped_release release;
      trainer_->check_data(data);
      logs = trainer_->evaluate(data, batch_size);
    }
    return to_dict(logs);
  }

  OutArray predict(const FloatArray& x, int64_t batch_size) {
    nnlab::check(batch_size >= 1, "predict: batch_size must be at least 1, got " + std::to_string(batch_size));
    nnlab::check(x.ndim() >= 1, "predict: x must have a batch dimension, got a scalar");
    const auto n = static_cast<int64_t>(x.shape(0));
    nnlab::Shape sample;
    for (size_t d = 1; d < x.ndim(); ++d) sample.push_back(static_cast<int64_t>(x.shape(d)));
    if (sample.empty()) sample.push_back(1);
    const nnlab::Shape& in = model_->input_shape();
    nnlab::check(nnlab::shape_size(sample) == nnlab::shape_size(in),
                 "predict: x has samples of shape " + nnlab::shape_str(sample) + " but the model's input is " +
                     nnlab::shape_str(in));
    std::vector<size_t> shape{static_cast<size_t>(n)};
    for (int64_t d : model_->output_shape()) shape.push_back(static_cast<size_t>(d));
    return new_array(shape, [&](float* out) {
      nb::gil_scoped_release release;
      model_->predict(x.data(), n, out, batch_size);
    });
  }

  // Writes model.safetensors the way a run folder holds it: the experiment and loss in its metadata.
  void save(const std::string& path) { nnlab::save_model(*model_, path, metadata()); }
  // Keras 3's model.export(path, format="onnx"): the model as an ONNX graph, its experiment in the metadata.
  void export_onnx(const std::string& path) {
    auto meta = metadata();
    meta["nnlab.experiment_name"] = exp_.name;
    nnlab::save_onnx(*model_, path, meta);
  }

  // The files of a run folder as `nnlab train` writes them, each atomically, into an existing folder:
  // model.safetensors, config.json, summary.txt and, when there are epochs, history.csv.
  void save_folder(const std::string& dir, const std::vector<int>& epochs, const std::vector<nnlab::Logs>& logs) {
    const std::filesystem::path d(dir);
    save((d / "model.safetensors").string());
    nnlab::write_file_atomic((d / "config.json").string(), exp_.config.dump(2) + "\n");
    nnlab::write_file_atomic((d / "summary.txt").string(), model_->summary());
    if (!logs.empty()) nnlab::write_file_atomic((d / "history.csv").string(), history_of(epochs, logs).to_csv());
  }

  std::string summary() const { return model_->summary(); }
  std::string config() const { return exp_.config.dump(); }
  std::string model_config() const { return model_->config().dump(); }
  nnlab::Shape input_shape() const { return model_->input_shape(); }
  nnlab::Shape output_shape() const { return model_->output_shape(); }
  int64_t count_params() const { return model_->param_count(); }

  // The weights and state by name ("dense_1.kernel"), as copies, in the model's order.
  std::vector<std::pair<std::string, OutArray>> weights() {
    std::vector<std::pair<std::string, OutArray>> out;
    for (const auto& t : model_->named_tensors()) out.emplace_back(t.name, to_numpy(t.value, t.shape));
    return out;
  }
  void set_weights(const std::vector<FloatArray>& values) {
    auto named = model_->named_tensors();
    nnlab::check(values.size() == named.size(), "set_weights: the model has " + std::to_string(named.size()) +
                                                    " weight arrays, got " + std::to_string(values.size()));
    for (size_t i = 0; i < named.size(); ++i) {
      nnlab::check(values[i].size() == named[i].value.size(),
                   "set_weights: " + named[i].name + " has shape " + nnlab::shape_str(named[i].shape) + " (" +
                       std::to_string(named[i].value.size()) + " values), got " + std::to_string(values[i].size()) +
                       " values");
      for (size_t j = 0; j < values[i].size(); ++j)
        nnlab::check(std::isfinite(values[i].data()[j]), "set_weights: " + named[i].name + " holds a value that is not finite");
    }
    for (size_t i = 0; i < named.size(); ++i)
      std::memcpy(named[i].value.data(), values[i].data(), sizeof(float) * named[i].value.size());
  }

  // A model file (.safetensors) or an ONNX file (.onnx: nnlab's export, or another framework's MLP).
  // A model that names no experiment gets the loss its output implies.
  static Network load(const std::string& path) {
    std::map<std::string, std::string> meta;
    const bool onnx = std::filesystem::path(path).extension() == ".onnx";
    nnlab::Model m = onnx ? nnlab::load_onnx(path, &meta) : nnlab::load_model(path, &meta);
    nlohmann::json config = nlohmann::json::object();
    if (auto it = meta.find("nnlab.experiment"); it != meta.end()) config = nlohmann::json::parse(it->second);
    else config["train"] = {{"loss", nnlab::implied_loss(m.output_activation(), nnlab::shape_size(m.output_shape()))}};
    config["model"] = nlohmann::json{{"layers", m.config().at("layers")}};
    return Network(nnlab::Experiment::from_json(config, path), std::move(m));
  }

 private:
  std::map<std::string, std::string> metadata() const {
    return {{"nnlab.experiment", exp_.config.dump()}, {"nnlab.loss", exp_.train.loss}};
  }
  static nnlab::Experiment parse(const std::string& text) {
    const auto j = nlohmann::json::parse(text);
    return nnlab::Experiment::from_json(j, j.value("name", std::string("model")));
  }
  void make_trainer() {
    trainer_ = std::make_unique<nnlab::Trainer>(*model_, nnlab::make_loss(exp_.train.loss, exp_.train.loss_options),
                                                nnlab::make_optimizer(exp_.train.optimizer, exp_.train.optimizer_options));
  }
  // Class-index targets (one column) of a classifier: one class per output, which Trainer::check_data
  // compares with the model's outputs (the Python layer has checked the labels' range).
  int64_t classes(const FloatArray& y) const {
    const bool one_column = y.ndim() == 1 || (y.ndim() == 2 && y.shape(1) == 1);
    const auto t = trainer_->loss().targets();
    if (one_column && (t == nnlab::Targets::Classes || t == nnlab::Targets::ClassIndices))
      return nnlab::shape_size(model_->output_shape());
    return 0;
  }

  nnlab::Experiment exp_;
  std::unique_ptr<nnlab::Model> model_;  // stable address: the trainer holds a reference
  std::unique_ptr<nnlab::Trainer> trainer_;
};

// A built-in dataset as arrays: x with the dataset's sample shape, y the class indices (n, 1).
nb::dict load_dataset(const std::string& name, int64_t limit, int64_t test_limit, bool scale, const std::string& dir) {
  nnlab::DataSpec spec;
  spec.dataset = name;
  spec.limit = limit;
  spec.test_limit = test_limit;
  spec.scale = scale;
  spec.dir = dir;
  nnlab::LoadedData d;
  {
    nb::gil_scoped_release release;
    d = nnlab::load_data(spec);
  }
  nb::dict out;
  auto copy = [](const nnlab::Tensor& t) { return to_numpy({t.data(), static_cast<size_t>(t.size())}, t.shape()); };
  out["x_train"] = copy(d.train.x());
  out["y_train"] = copy(d.train.y());
  out["x_test"] = copy(d.test.x());
  out["y_test"] = copy(d.test.y());
  out["class_names"] = d.train.class_names;
  out["num_classes"] = d.train.num_classes;
  return out;
}

// `nnlab train NAME_OR_FILE --set k=v ... --out DIR`: the run folder, its result and history.
nb::dict train(const std::string& name_or_path, const std::vector<std::string>& overrides, const std::string& out_dir,
               int verbose, bool resume, nb::object hook) {
  nnlab::Experiment e = nnlab::Experiment::load(name_or_path, overrides);
  nnlab::RunOptions ro;
  ro.out_dir = out_dir;
  ro.verbose = verbose;
  ro.resume = resume;
  PythonHook py(std::move(hook), false);
  ro.callbacks.push_back(&py);
  const nnlab::RunResult r = released([&] { return nnlab::run_experiment(e, ro); });
  nb::dict out;
  out["result"] = nb::module_::import_("json").attr("loads")(nnlab::result_json(r).dump());
  std::vector<nb::dict> logs;
  for (const auto& l : r.history.logs) logs.push_back(to_dict(l));
  out["history"] = logs;
  out["run_dir"] = r.run_dir;
  return out;
}

// `nnlab sweep WHAT [--width ...] [--set k=v] [--metric M] --out DIR`: the table's rows and texts.
nb::dict sweep(const std::string& what, const nnlab::SweepAxes& axes, const std::vector<std::string>& overrides,
               const std::string& metric, const std::string& out_dir, int verbose) {
  nnlab::SweepSpec s = nnlab::load_sweep(what, axes, overrides);
  if (!metric.empty()) s.metric = metric;
  const std::string out = out_dir.empty() ? "runs/" + s.name : out_dir;
  const auto rows = released([&] { return nnlab::run_sweep(s, out, verbose); });
  std::vector<nb::dict> list;
  for (const auto& r : rows) {
    nb::dict d;
    d["variant"] = r.variant;
    d["run_dir"] = r.run_dir;
    d["params"] = r.params;
    d["best"] = r.best;
    d["best_epoch"] = r.best_epoch;
    d["final"] = r.final;
    if (r.test_accuracy >= 0) d["test_accuracy"] = r.test_accuracy;
    d["train_seconds"] = r.train_seconds;
    d["verdict"] = r.verdict;
    list.push_back(d);
  }
  nb::dict out_d;
  out_d["name"] = s.name;
  out_d["dir"] = out;
  out_d["metric"] = s.metric;
  out_d["rows"] = list;
  out_d["table"] = nnlab::sweep_table_markdown(rows, s.metric);
  return out_d;
}

// `nnlab ensemble EXPERIMENT [--members N | --architectures ...] ... --out DIR`: the report as JSON text.
nb::dict ensemble(const std::string& what, const std::vector<std::string>& overrides, int members,
                  const std::vector<std::string>& architectures, double holdout, int parallel,
                  const std::string& combination, int combiner_epochs, const std::string& out_dir, int verbose) {
  nnlab::EnsembleSpec s = nnlab::load_ensemble_spec(what, overrides);
  s.members = members;
  s.architectures = architectures;
  s.holdout = holdout;
  s.parallel = parallel;
  s.default_combination = nnlab::parse_combination(combination);
  if (combiner_epochs > 0) s.combiner.epochs = combiner_epochs;
  s.validate();
  const std::string out = out_dir.empty() ? "runs/" + s.name : out_dir;
  const nnlab::EnsembleResult r = released([&] { return nnlab::run_ensemble(s, out, verbose); });
  nb::dict d;
  d["name"] = s.name;
  d["dir"] = r.dir;
  d["report"] = nnlab::ensemble_report_json(r.report).dump();
  d["table"] = nnlab::ensemble_table_markdown(r.report);
  d["train_seconds"] = r.train_seconds;
  d["parallel"] = r.parallel;
  return d;
}

// The charts of a history as `nnlab plot` draws them: (name, SVG text) for loss, accuracy, ...
std::vector<std::pair<std::string, std::string>> history_svgs(const std::vector<int>& epochs,
                                                              const std::vector<nnlab::Logs>& logs) {
  const nnlab::History h = history_of(epochs, logs);
  nnlab::check(!h.empty(), "plot: the history has no epochs");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, fig] : nnlab::history_figures(h)) out.emplace_back(name, nnlab::plot::render_svg(fig));
  return out;
}

// The fit diagnosis of a history (overfitting, underfitting, good fit) with what to try.
nb::dict diagnose(const std::vector<int>& epochs, const std::vector<nnlab::Logs>& logs) {
  const nnlab::Diagnosis dg = nnlab::diagnose(history_of(epochs, logs));
  nb::dict d;
  d["verdict"] = nnlab::fit_name(dg.verdict);
  d["best_epoch"] = dg.best_epoch;
  d["overfitting_from"] = dg.overfitting_from;
  d["summary"] = dg.summary;
  d["cures"] = dg.cures;
  d["text"] = dg.text();
  return d;
}

}  // namespace

NB_MODULE(_nnlab, m) {
  m.doc() = "nnlab's C++ library; use the nnlab package (nnlab.Sequential, nnlab.train) rather than this module";
  // nnlab::Error (bad settings, shapes, labels, files) is a ValueError with the library's message.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const nnlab::Error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const nlohmann::json::exception& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  nb::class_<Network>(m, "Network")
      .def(nb::init<const std::string&, const nnlab::Shape&>(), "config"_a, "input_shape"_a)
      .def("compile", &Network::compile, "config"_a)
      .def("fit", &Network::fit, "x"_a, "y"_a, "val_x"_a.none(), "val_y"_a.none(), "epochs"_a, "initial_epoch"_a,
           "batch_size"_a, "shuffle"_a, "seed"_a, "verbose"_a, "hook"_a.none(), "batch_hook"_a)
      .def("evaluate", &Network::evaluate, "x"_a, "y"_a, "batch_size"_a)
      .def("predict", &Network::predict, "x"_a, "batch_size"_a)
      .def("save", &Network::save, "path"_a)
      .def("export_onnx", &Network::export_onnx, "path"_a)
      .def("save_folder", &Network::save_folder, "dir"_a, "epochs"_a, "logs"_a)
      .def("summary", &Network::summary)
      .def("config", &Network::config)
      .def("model_config", &Network::model_config)
      .def("input_shape", &Network::input_shape)
      .def("output_shape", &Network::output_shape)
      .def("count_params", &Network::count_params)
      .def("weights", &Network::weights)
      .def("set_weights", &Network::set_weights, "values"_a)
      .def_static("load", &Network::load, "path"_a);

  m.def(
      "check_config",
      [](const std::string& config) {
        const auto j = nlohmann::json::parse(config);
        nnlab::Experiment::from_json(j, j.value("name", std::string("model")));
      },
      "config"_a);
  m.def("load_dataset", &load_dataset, "name"_a, "limit"_a = 0, "test_limit"_a = 0, "scale"_a = true, "dir"_a = "");
  m.def("train", &train, "name_or_path"_a, "overrides"_a, "out_dir"_a, "verbose"_a, "resume"_a, "hook"_a.none());
  nb::class_<nnlab::SweepAxes>(m, "SweepAxes")
      .def(nb::init<>())
      .def_rw("width", &nnlab::SweepAxes::width)
      .def_rw("depth", &nnlab::SweepAxes::depth)
      .def_rw("activation", &nnlab::SweepAxes::activation)
      .def_rw("dropout", &nnlab::SweepAxes::dropout)
      .def_rw("learning_rate", &nnlab::SweepAxes::learning_rate)
      .def_rw("batch_size", &nnlab::SweepAxes::batch_size)
      .def_rw("families", &nnlab::SweepAxes::families);
  m.def("sweep", &sweep, "what"_a, "axes"_a, "overrides"_a, "metric"_a, "out_dir"_a, "verbose"_a);
  m.def("ensemble", &ensemble, "what"_a, "overrides"_a, "members"_a, "architectures"_a, "holdout"_a, "parallel"_a,
        "combination"_a, "combiner_epochs"_a, "out_dir"_a, "verbose"_a);
  m.def("history_svgs", &history_svgs, "epochs"_a, "logs"_a);
  m.def("diagnose", &diagnose, "epochs"_a, "logs"_a);
  m.def("builtin_experiments", &nnlab::builtin_experiments);
  m.def("resolve_experiment", &nnlab::resolve_experiment, "name_or_path"_a);
  m.def("set_num_threads", &nnlab::kernels::set_num_threads, "n"_a);
  m.def("num_threads", &nnlab::kernels::num_threads);
}
