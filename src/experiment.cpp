#include "nnlab/experiment.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <toml++/toml.h>

#include "nnlab/config_reader.hpp"
#include "nnlab/data/augment.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/data/source.hpp"
#include "nnlab/data/toy.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/losses/loss.hpp"
#include "nnlab/optimizers/optimizer.hpp"
#include "nnlab/text.hpp"
#include "nnlab/training/callbacks.hpp"
#include "nnlab/training/schedules.hpp"

namespace fs = std::filesystem;

namespace nnlab {
namespace {

nlohmann::json toml_to_json(const toml::node& node) {
  if (auto* t = node.as_table()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [k, v] : *t) o[std::string(k.str())] = toml_to_json(v);
    return o;
  }
  if (auto* a = node.as_array()) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& v : *a) arr.push_back(toml_to_json(v));
    return arr;
  }
  if (auto* v = node.as_string()) return v->get();
  if (auto* v = node.as_integer()) return v->get();
  if (auto* v = node.as_floating_point()) return v->get();
  if (auto* v = node.as_boolean()) return v->get();
  std::ostringstream os;
  os << node.source().begin;
  throw Error("unsupported TOML value (dates and times are not used by nnlab) at " + os.str());
}

// A shape as experiments write it: a list of positive whole numbers, e.g. [28, 28, 1].
Shape read_shape(const nlohmann::json& in, const std::string& what) {
  check(in.is_array() && !in.empty() && std::all_of(in.begin(), in.end(), [](const auto& d) {
          return d.is_number_integer() && d.template get<int64_t>() >= 1;
        }),
        what + " must be a list of positive whole numbers, got " + in.dump());
  return in.get<Shape>();
}

// [data]; d holds the defaults for what it leaves out.
DataSpec read_data_table(ConfigReader& top, const std::string& source, DataSpec d) {
  ConfigReader data(top.has("data") ? top.raw("data") : nlohmann::json::object(), source + " [data]");
  d.dataset = data.get("dataset", d.dataset);
  d.dir = data.get("dir", d.dir);
  d.train = data.get("train", d.train);
  d.test = data.get("test", d.test);
  check(d.dataset != "file" || !d.train.empty(),
        source + " [data]: dataset = \"file\" needs train = \"PATH\" (.nnds, .csv, .csv.gz, or IDX IMAGES,LABELS)");
  d.scale = data.get("scale", d.scale);
  d.standardize = data.get("standardize", d.standardize);
  d.limit = data.get("limit", d.limit);
  d.test_limit = data.get("test_limit", d.test_limit);
  if (data.has("input_shape")) d.input_shape = read_shape(data.raw("input_shape"), source + " [data]: input_shape");
  check(d.limit >= 0, source + " [data]: limit must be 0 (all) or more, got " + std::to_string(d.limit));
  check(d.test_limit >= 0,
        source + " [data]: test_limit must be 0 (all) or more, got " + std::to_string(d.test_limit));
  data.finish();
  return d;
}

// [model]: its layers are each made once now, so a typo fails before any data is loaded.
nlohmann::json read_model_table(ConfigReader& top, const std::string& source) {
  check(top.has("model"), source + ": missing [model] table with 'layers'");
  ConfigReader model(top.raw("model"), source + " [model]");
  const auto& layers = model.require<nlohmann::json>("layers");
  check(!(model.has("input") && model.has("input_shape")),
        source + " [model]: give input_shape (Keras's name) or input, not both");
  for (const char* key : {"input", "input_shape"})
    if (model.has(key)) read_shape(model.raw(key), source + " [model]: '" + key + "'");
  check(layers.is_array() && !layers.empty(), source + " [model]: 'layers' must be a non-empty list");
  model.finish();
  for (size_t i = 0; i < layers.size(); ++i) {
    try {
      make_layer(layers[i]);
    } catch (const Error& err) {
      throw Error(source + " [model] layer " + std::to_string(i + 1) + ": " + err.what());
    }
  }
  return top.raw("model");
}

}  // namespace

nlohmann::json parse_config_file(const std::string& path) {
  const std::string text = read_file(path);
  if (fs::path(path).extension() == ".json") {
    return parse_json(text, path);
  }
  try {
    return toml_to_json(toml::parse(text, path));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw Error(path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": " +
                std::string(e.description()));
  }
}

void apply_override(nlohmann::json& config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  check(eq != std::string::npos && eq > 0, "override '" + assignment + "' must look like key.path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    value = text;
  }
  std::stringstream ss(path);
  std::string key;
  std::vector<std::string> keys;
  while (std::getline(ss, key, '.')) {
    check(!key.empty(), "override '" + assignment + "' has an empty key");
    keys.push_back(key);
  }
  // A table's key (created when missing), or a list's entry by its index from 0: model.layers.0.units.
  auto child = [&](nlohmann::json& node, const std::string& k, const std::string& parent) -> nlohmann::json& {
    if (!node.is_array()) return node[k];
    const bool digits = std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; });
    check(digits && k.size() < 10 && std::stoul(k) < node.size(),
          "override '" + assignment + "': '" + parent + "' is a list of " + std::to_string(node.size()) +
              " entries, indexed from 0; '" + k + "' is none of them");
    return node[std::stoul(k)];
  };
  nlohmann::json* node = &config;
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    if (node->is_object() && !node->contains(keys[i])) (*node)[keys[i]] = nlohmann::json::object();
    node = &child(*node, keys[i], i == 0 ? "" : keys[i - 1]);
    check(node->is_object() || node->is_array(), "override '" + assignment + "': '" + keys[i] + "' is not a table");
  }
  child(*node, keys.back(), keys.size() > 1 ? keys[keys.size() - 2] : "") = value;
}

namespace {

// JSON as TOML values; TOML has no null, so a table leaves out its null keys (nnlab reads them as absent).
toml::table toml_table(const nlohmann::json& object, const std::string& where);
toml::array toml_array(const nlohmann::json& list, const std::string& where);

template <class Insert>
void put_toml(const nlohmann::json& v, const std::string& where, Insert insert) {
  if (v.is_object()) insert(toml_table(v, where));
  else if (v.is_array()) insert(toml_array(v, where));
  else if (v.is_string()) insert(v.get<std::string>());
  else if (v.is_boolean()) insert(v.get<bool>());
  else if (v.is_number_unsigned()) {
    check(v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), where + ": " + v.dump() + " is beyond TOML's 64-bit integers");
    insert(static_cast<int64_t>(v.get<uint64_t>()));
  } else if (v.is_number_integer()) insert(v.get<int64_t>());
  else if (v.is_number_float()) insert(v.get<double>());
  else throw Error(where + ": TOML has no null; a list cannot hold one");
}

toml::table toml_table(const nlohmann::json& object, const std::string& where) {
  toml::table t;
  for (auto it = object.begin(); it != object.end(); ++it) {  // named, not bound: clang 14 cannot capture a binding
    const std::string& k = it.key();
    if (!it->is_null()) put_toml(*it, where + "." + k, [&](auto&& x) { t.insert(k, std::forward<decltype(x)>(x)); });
  }
  return t;
}

toml::array toml_array(const nlohmann::json& list, const std::string& where) {
  toml::array a;
  for (size_t i = 0; i < list.size(); ++i)
    put_toml(list[i], where + "[" + std::to_string(i) + "]", [&](auto&& x) { a.push_back(std::forward<decltype(x)>(x)); });
  return a;
}

}  // namespace

std::string config_toml(const nlohmann::json& config) {
  check(config.is_object(), "a config written as TOML must be a table, got " + config.dump().substr(0, 80));
  std::ostringstream os;
  os << toml_table(config, "config") << "\n";
  return os.str();
}

static std::vector<fs::path> experiment_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("NNLAB_EXPERIMENTS")) dirs.emplace_back(env);
  dirs.emplace_back("experiments");
  dirs.emplace_back(NNLAB_SOURCE_EXPERIMENTS);
  dirs.emplace_back(NNLAB_INSTALL_EXPERIMENTS);
  return dirs;
}

std::vector<std::string> builtin_experiments() {
  std::vector<std::string> names;
  for (const auto& d : experiment_dirs()) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    for (const auto& e : fs::directory_iterator(d, ec))
      if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
    if (!names.empty()) break;
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string resolve_experiment(const std::string& name) {
  std::error_code ec;
  if (fs::is_regular_file(name, ec)) return name;
  if (fs::is_directory(name, ec) && fs::is_regular_file(fs::path(name) / "config.json", ec))
    return (fs::path(name) / "config.json").string();
  for (const auto& d : experiment_dirs()) {
    fs::path p = d / (name + ".toml");
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  std::string known;
  for (const auto& n : builtin_experiments()) known += (known.empty() ? "" : ", ") + n;
  throw Error("no experiment file or built-in experiment named '" + name + "' (built-in: " + known + ")");
}

Experiment Experiment::from_json(const nlohmann::json& config, const std::string& source) {
  check_json_depth(config, source);  // before anything copies it: a copy recurses once per level
  Experiment e;  // its member initialisers are the defaults for every key the file leaves out
  e.source = source;
  e.config = config;
  ConfigReader top(config, source);
  e.name = top.get<std::string>("name", fs::path(source).stem().string());
  const auto seed = top.get("seed", static_cast<int64_t>(e.seed));
  check(seed >= 0, source + ": seed must be non-negative, got " + std::to_string(seed));
  e.seed = static_cast<uint64_t>(seed);
  e.threads = top.get("threads", e.threads);
  check(e.threads >= 0 && e.threads <= kernels::max_threads(),
        source + ": threads must be 0 (the default) or " + kernels::threads_rule() + ", got " +
            std::to_string(e.threads));
  e.flush_denormals = top.get("flush_denormals", e.flush_denormals);

  e.data = read_data_table(top, source, e.data);

  e.model = read_model_table(top, source);

  ConfigReader train(top.has("train") ? top.raw("train") : nlohmann::json::object(), source + " [train]");
  e.train.loss = train.get("loss", e.train.loss);
  e.train.optimizer = train.get("optimizer", e.train.optimizer);
  e.train.epochs = train.get("epochs", e.train.epochs);
  e.train.batch_size = train.get("batch_size", e.train.batch_size);
  e.train.shuffle = train.get("shuffle", e.train.shuffle);
  e.train.validation_split = train.get("validation_split", e.train.validation_split);
  e.train.validate_on_test = train.get("validate_on_test", e.train.validate_on_test);
  train.finish();
  check(e.train.epochs >= 1, source + " [train]: epochs must be at least 1, got " + std::to_string(e.train.epochs));
  check(e.train.batch_size >= 1,
        source + " [train]: batch_size must be at least 1, got " + std::to_string(e.train.batch_size));
  check(e.train.validation_split >= 0 && e.train.validation_split < 1,
        source + " [train]: validation_split must be in [0, 1), got " + std::to_string(e.train.validation_split));
  if (top.has("optimizer")) e.train.optimizer_options = top.raw("optimizer");
  if (top.has("loss")) e.train.loss_options = top.raw("loss");
  for (auto [key, field] : {std::pair{"early_stopping", &e.early_stopping}, std::pair{"reduce_lr_on_plateau", &e.reduce_lr_on_plateau},
                            std::pair{"swa", &e.swa}, std::pair{"swap_ema_weights", &e.swap_ema_weights},
                            std::pair{"schedule", &e.schedule}, std::pair{"augment", &e.augment},
                            std::pair{"distill", &e.distill}})
    if (top.has(key)) *field = top.raw(key);
  top.finish();
  make_callbacks(e);  // validates the callback tables now, before any data is loaded
  if (!e.distill.is_null()) read_distill(e);
  if (!e.augment.is_null()) ImageAugmenter::from_json(e.augment, source + " [augment]");
  try {
    make_loss(e.train.loss, e.train.loss_options);
    make_optimizer(e.train.optimizer, e.train.optimizer_options);
  } catch (const Error& err) {
    throw Error(source + ": " + err.what());
  }
  return e;
}

namespace {
// A callback built from the options read through c; a refusal is reported at c's table.
template <class T, class Options>
std::unique_ptr<Callback> construct_at(const ConfigReader& c, const Options& o) {
  try {
    return std::make_unique<T>(o);
  } catch (const Error& err) {
    throw Error(c.where() + ": " + err.what());
  }
}
}  // namespace

std::vector<std::unique_ptr<Callback>> make_callbacks(const Experiment& e) {
  std::vector<std::unique_ptr<Callback>> out;
  if (!e.swap_ema_weights.is_null()) {  // first, as Keras advises: the others see the average's val_ metrics
    ConfigReader c(e.swap_ema_weights, e.source + " [swap_ema_weights]");
    const bool on_epoch = c.get<bool>("swap_on_epoch", false);
    c.finish();
    check(!on_epoch, c.where() + ": swap_on_epoch = true is not supported (the average is swapped in for "
                     "validation only; use_ema already makes it the saved model)");
    const auto& opt = e.train.optimizer_options;
    check(opt.is_object() && opt.contains("use_ema") && opt["use_ema"] == true,
          c.where() + ": needs the optimizer's moving average: set use_ema = true in [optimizer]");
    out.push_back(std::make_unique<SwapEMAWeights>());
  }
  if (!e.schedule.is_null()) {
    out.push_back(std::make_unique<ScheduleCallback>(
        std::shared_ptr<Schedule>(make_schedule(e.schedule, e.source + " [schedule]"))));
  }
  if (!e.reduce_lr_on_plateau.is_null()) {
    ConfigReader c(e.reduce_lr_on_plateau, e.source + " [reduce_lr_on_plateau]");
    ReduceLROnPlateauOptions o;
    o.monitor = c.get<std::string>("monitor", o.monitor);
    o.factor = c.get<double>("factor", o.factor);
    o.patience = c.get<int>("patience", o.patience);
    o.mode = c.get<std::string>("mode", o.mode);
    o.min_delta = c.get<double>("min_delta", o.min_delta);
    o.cooldown = c.get<int>("cooldown", o.cooldown);
    o.min_lr = c.get<double>("min_lr", o.min_lr);
    o.verbose = c.get<int>("verbose", 1);
    c.finish();
    out.push_back(construct_at<ReduceLROnPlateau>(c, o));
  }
  if (!e.early_stopping.is_null()) {
    ConfigReader c(e.early_stopping, e.source + " [early_stopping]");
    EarlyStoppingOptions o;
    o.monitor = c.get<std::string>("monitor", o.monitor);
    o.min_delta = c.get<double>("min_delta", o.min_delta);
    o.patience = c.get<int>("patience", o.patience);
    o.mode = c.get<std::string>("mode", o.mode);
    if (c.has("baseline")) o.baseline = c.get<double>("baseline", 0.0);
    o.restore_best_weights = c.get<bool>("restore_best_weights", o.restore_best_weights);
    o.start_from_epoch = c.get<int>("start_from_epoch", o.start_from_epoch);
    o.verbose = c.get<int>("verbose", 1);
    c.finish();
    out.push_back(construct_at<EarlyStopping>(c, o));
  }
  if (!e.swa.is_null()) {  // last: its average is the final model
    ConfigReader c(e.swa, e.source + " [swa]");
    SwaOptions o;
    o.start_epoch = c.get<int>("start_epoch", o.start_epoch);
    o.verbose = c.get<int>("verbose", 1);
    c.finish();
    out.push_back(construct_at<StochasticWeightAveraging>(c, o));
  }
  return out;
}

DistillSpec read_distill(const Experiment& e) {
  ConfigReader c(e.distill, e.source + " [distill]");
  DistillSpec d;
  check(c.has("teacher"), c.where() + ": 'teacher' is required: a trained run folder or model file (or a list of "
                                      "them), e.g. teacher = \"runs/fashion-cnn\"");
  const nlohmann::json& t = c.raw("teacher");
  const auto add = [&](const nlohmann::json& v) {
    check(v.is_string() && !v.get<std::string>().empty(),
          c.where() + ": 'teacher' must be a run folder or model file, or a list of them, got " + v.dump());
    d.teachers.push_back(v.get<std::string>());
  };
  if (t.is_array()) {
    check(!t.empty(), c.where() + ": 'teacher' is an empty list; name at least one trained run folder or model file");
    for (const auto& v : t) add(v);
  } else {
    add(t);
  }
  d.options.temperature = c.get<double>("temperature", d.options.temperature);
  d.options.student_loss_weight = c.get<double>("student_loss_weight", d.options.student_loss_weight);
  c.finish();
  check(d.options.temperature > 0, c.where() + ": temperature must be positive, got " + number_str(d.options.temperature));
  check(d.options.student_loss_weight >= 0 && d.options.student_loss_weight <= 1,
        c.where() + ": student_loss_weight must be in [0, 1], got " + number_str(d.options.student_loss_weight));
  return d;
}

std::optional<nlohmann::json> recorded_experiment(const std::map<std::string, std::string>& metadata,
                                                  const std::string& path) {
  const auto it = metadata.find("nnlab.experiment");
  if (it == metadata.end()) return std::nullopt;
  return parse_json(it->second, path + ": metadata 'nnlab.experiment'");
}

std::string preprocessing_difference(const DataSpec& a, const DataSpec& b) {
  auto tf = [](bool v) { return std::string(v ? "true" : "false"); };
  if (a.scale != b.scale) return "scale " + tf(a.scale) + " vs " + tf(b.scale);
  if (a.standardize != b.standardize) return "standardize " + tf(a.standardize) + " vs " + tf(b.standardize);
  return "";
}

Experiment Experiment::load(const std::string& name_or_path, const std::vector<std::string>& overrides) {
  const std::string path = resolve_experiment(name_or_path);
  nlohmann::json config = parse_config_file(path);
  for (const auto& o : overrides) apply_override(config, o);
  return from_json(config, path);
}

LoadedData load_data(const DataSpec& spec) {
  LoadedData d;
  if (spec.dataset == "xor" || spec.dataset == "and" || spec.dataset == "or") {
    d.train = truth_table(spec.dataset);
  } else if (spec.dataset == "mnist" || spec.dataset == "fashion-mnist" || spec.dataset == "sign-mnist") {
    Preprocess p;
    p.scale = spec.scale;
    p.standardise = spec.standardize;
    std::tie(d.train, d.test) = load_builtin(spec.dataset, spec.dir, p);
  } else {
    throw Error("unknown dataset '" + spec.dataset + "' (known: xor, and, or, mnist, fashion-mnist, sign-mnist)");
  }
  if (spec.limit > 0 && spec.limit < d.train.size()) d.train = d.train.head(spec.limit);
  if (spec.test_limit > 0 && spec.test_limit < d.test.size()) d.test = d.test.head(spec.test_limit);
  return d;
}

DataSources load_sources(const DataSpec& spec) {
  DataSources d;
  if (spec.dataset == "file") {
    SourceOptions so;
    so.preprocess.scale = spec.scale;
    so.preprocess.standardise = spec.standardize;
    std::tie(d.train, d.test) = open_dataset_files(spec.train, spec.test, so);
    if (spec.limit > 0 && spec.limit < d.train->size()) d.train = std::make_shared<SliceDataset>(d.train, 0, spec.limit);
    if (d.test && spec.test_limit > 0 && spec.test_limit < d.test->size())
      d.test = std::make_shared<SliceDataset>(d.test, 0, spec.test_limit);
    return d;
  }
  LoadedData m = load_data(spec);
  d.train = std::make_shared<InMemoryDataset>(std::move(m.train));
  if (m.test.size() > 0) d.test = std::make_shared<InMemoryDataset>(std::move(m.test));
  return d;
}

Shape stated_input(const Experiment& e) {
  for (const char* key : {"input_shape", "input"})
    if (e.model.contains(key)) return e.model.at(key).get<Shape>();
  return e.data.input_shape;
}

Model build_model(const Experiment& e, const Shape& input) {
  const Shape stated = stated_input(e);
  nlohmann::json cfg = {{"input", stated.empty() ? input : stated}, {"layers", e.model.at("layers")}};
  try {
    return Model::from_config(cfg, e.seed);
  } catch (const Error& err) {
    throw Error(e.source + " [model]: " + err.what());
  }
}

}  // namespace nnlab
