// The ensemble artefact: ensemble.json written after training, and loaded back with its members; or
// the same description put together with models already in memory (Ensemble::from_models).
#include <filesystem>

#include "internal.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/config_reader.hpp"
#include "nnlab/ensemble.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/io/safetensors.hpp"

namespace fs = std::filesystem;

namespace nnlab {

bool is_ensemble_path(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return fs::is_regular_file(fs::path(path) / "ensemble.json", ec);
  return fs::path(path).extension() == ".json";
}

std::vector<Combination> Ensemble::combinations() const {
  std::vector<Combination> c{Combination::Vote, Combination::Average};
  if (has_combiner_) c.push_back(Combination::Stacking);
  return c;
}

std::vector<Tensor> Ensemble::member_outputs(const Tensor& x, int64_t batch_size) {
  check(x.rows() == 0 || x.cols() == shape_size(input_),
        "ensemble: inputs of shape " + shape_str(x.shape()) + " but the ensemble takes " + shape_str(input_) + " per sample");
  std::vector<Tensor> out;
  for (auto& m : members_) out.push_back(m->predict(x, batch_size));
  return out;
}

EnsemblePrediction Ensemble::combine(const std::vector<Tensor>& outs, Combination c) {
  switch (c) {
    case Combination::Vote: return combine_vote(outs);
    case Combination::Average: return combine_average(outs);
    case Combination::Stacking:
      check(has_combiner_, path_ + ": this ensemble has no stacking combiner (it was trained with holdout 0)");
      return combine_stacking(combiner_, outs);
  }
  throw Error("ensemble: unknown combination");
}

EnsemblePrediction Ensemble::predict(const Tensor& x, Combination c) { return combine(member_outputs(x), c); }

void Ensemble::read_description(const nlohmann::json& j) {
  input_ = j.at("input_shape").get<Shape>();
  output_ = j.at("output_shape").get<Shape>();
  class_names_ = j.value("class_names", std::vector<std::string>{});
  default_ = parse_combination(j.value("default_combination", std::string("average")));
  experiment_ = j.value("experiment", nlohmann::json::object());
  if (j.contains("holdout") && j["holdout"].is_object()) holdout_samples_ = j["holdout"].value("samples", int64_t{0});
  const auto& members = j.at("members");
  check(members.is_array() && !members.empty(), path_ + ": corrupt ensemble file: 'members' must be a non-empty list");
  for (size_t i = 0; i < members.size(); ++i) {
    names_.push_back(members[i].value("name", "member-" + std::to_string(i + 1)));
    from_.push_back(members[i].value("from", ""));
  }
}

void Ensemble::add_member(std::shared_ptr<Model> m, const std::string& source) {
  const std::string& name = names_.at(members_.size());
  check(m != nullptr, path_ + ": member '" + name + "' has no model");
  check(m->input_shape() == input_,
        path_ + ": member '" + name + "' (" + source + ") takes inputs of shape " + shape_str(m->input_shape()) +
            " but the ensemble's input shape is " + shape_str(input_) + "; every member must take the same inputs");
  check(m->output_shape() == output_,
        path_ + ": member '" + name + "' (" + source + ") has outputs of shape " + shape_str(m->output_shape()) +
            " but the ensemble's output shape is " + shape_str(output_) + "; every member must give the same outputs");
  members_.push_back(std::move(m));
}

void Ensemble::set_combiner(Model c, const std::string& source) {
  const int64_t want = static_cast<int64_t>(members_.size()) * shape_size(output_);
  check(shape_size(c.input_shape()) == want && c.output_shape() == output_,
        path_ + ": the stacking combiner " + source + " maps " + shape_str(c.input_shape()) + " to " +
            shape_str(c.output_shape()) + " but " + std::to_string(members_.size()) + " members need " +
            std::to_string(want) + " inputs and outputs " + shape_str(output_));
  combiner_ = std::move(c);
  has_combiner_ = true;
}

Ensemble load_ensemble(const std::string& path) {
  std::error_code ec;
  const fs::path file = fs::is_directory(path, ec) ? fs::path(path) / "ensemble.json" : fs::path(path);
  const std::string where = file.string();
  check(fs::is_regular_file(file, ec), fs::is_directory(path, ec) ? path + ": no ensemble.json in this folder"
                                                                 : where + ": no such ensemble file");
  const nlohmann::json j = parse_json(read_file(where), where + ": corrupt ensemble file");
  check(j.is_object() && j.value("format", "") == "nnlab-ensemble",
        where + ": not an nnlab ensemble file (it lacks \"format\": \"nnlab-ensemble\")");
  const fs::path dir = file.parent_path();
  auto resolve = [&](const std::string& p) { return fs::path(p).is_absolute() ? fs::path(p) : dir / p; };

  Ensemble en;
  en.path_ = where;
  try {
    en.read_description(j);
    const auto& members = j.at("members");
    for (size_t i = 0; i < members.size(); ++i) {
      const std::string& name = en.names_[i];
      const fs::path model = resolve(members[i].at("model").get<std::string>());
      check(fs::is_regular_file(model, ec),
            where + ": member '" + name + "' is missing: its model file " + model.string() + " does not exist");
      Model m;
      try {
        m = load_model(model.string());
      } catch (const Error& e) {
        throw Error(where + ": member '" + name + "': " + e.what());
      }
      en.add_member(std::make_shared<Model>(std::move(m)), model.string());
    }
    if (j.contains("combiner") && j["combiner"].is_string()) {
      const fs::path c = resolve(j["combiner"].get<std::string>());
      check(fs::is_regular_file(c, ec), where + ": the stacking combiner " + c.string() + " is missing");
      en.set_combiner(load_model(c.string()), c.string());
    }
    check(en.default_ != Combination::Stacking || en.has_combiner_,
          where + ": the default combination is stacking but the ensemble has no combiner");
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": corrupt ensemble file: " + e.what());
  }
  return en;
}

Ensemble Ensemble::from_models(const nlohmann::json& file, const std::string& path,
                               std::vector<std::shared_ptr<Model>> members, std::optional<Model> combiner) {
  Ensemble en;
  en.path_ = path;
  try {
    en.read_description(file);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": bad ensemble description: " + e.what());
  }
  check(members.size() == en.names_.size(), path + ": " + std::to_string(members.size()) + " models for the " +
                                                std::to_string(en.names_.size()) + " members it describes");
  for (auto& m : members) en.add_member(std::move(m), "in memory");
  const bool described = file.contains("combiner") && file["combiner"].is_string();
  check(described == combiner.has_value(), path + (described ? ": the description names a stacking combiner but none was given"
                                                             : ": a stacking combiner was given but the description names none"));
  if (combiner) en.set_combiner(std::move(*combiner), "(in memory)");
  check(en.default_ != Combination::Stacking || en.has_combiner_,
        path + ": the default combination is stacking but the ensemble has no combiner");
  return en;
}

Ensemble assemble_ensemble(const std::vector<std::string>& models, const std::string& dir_name,
                           Combination default_combination) {
  const fs::path dir(dir_name);
  const std::string where = (dir / "ensemble.json").string();
  check(!models.empty(), where + ": an ensemble needs at least one model");
  check(default_combination != Combination::Stacking,
        where + ": stacking needs a holdout that no member trained on; an ensemble of given models offers vote and average");
  nlohmann::json j{{"format", "nnlab-ensemble"}, {"version", 1}, {"name", dir.filename().string()},
                   {"default_combination", combination_name(default_combination)}, {"combiner", nullptr}};
  std::vector<std::shared_ptr<Model>> loaded;
  std::vector<std::string> files;
  std::string first_experiment;  // the model file whose experiment the ensemble takes
  DataSpec first_data;           // and that experiment's [data]
  for (size_t i = 0; i < models.size(); ++i) {
    files.push_back(model_file(models[i]));
    std::map<std::string, std::string> meta;
    loaded.push_back(std::make_shared<Model>(load_model(files.back(), &meta)));
    if (i == 0) {
      j["input_shape"] = loaded[0]->input_shape();
      j["output_shape"] = loaded[0]->output_shape();
    }
    if (auto experiment = recorded_experiment(meta, files.back())) {
      const DataSpec data = Experiment::from_json(*experiment, files.back()).data;
      if (!j.contains("experiment")) {
        j["experiment"] = std::move(*experiment);
        first_experiment = files.back();
        first_data = data;
      } else {
        // The ensemble's data (and its preprocessing) is the first member's; a member that saw its
        // inputs prepared otherwise would get garbage.
        const std::string d = preprocessing_difference(data, first_data);
        check(d.empty(), files.back() + " was trained on inputs prepared unlike those of " + first_experiment +
                             " (" + d + "), and an ensemble gives every member the same inputs");
      }
    }
    if (!j.contains("class_names"))
      if (auto names = model_class_names(files.back(), meta); !names.empty()) j["class_names"] = names;
    const std::string name = "member-" + std::to_string(i + 1);
    j["members"].push_back({{"name", name}, {"from", models[i]}, {"model", name + "/model.safetensors"}});
  }
  Ensemble en = Ensemble::from_models(j, where, std::move(loaded), std::nullopt);  // checks the shapes
  if (!dist::is_root()) return en;  // under mpirun, every rank checks the models and rank 0 writes the folder
  for (size_t i = 0; i < files.size(); ++i) {
    const fs::path member = dir / ("member-" + std::to_string(i + 1));
    fs::create_directories(member);
    write_file_atomic((member / "model.safetensors").string(), read_file(files[i]));
  }
  write_file_atomic(where, j.dump(2) + "\n");
  return en;
}

nlohmann::json detail::write_ensemble_file(const EnsembleSpec& spec, const std::vector<EnsembleMemberSpec>& members,
                                           const fs::path& dir, const InMemoryDataset& train, const Shape& output,
                                           int64_t h) {
  const int64_t n = train.size();
  nlohmann::json j{{"format", "nnlab-ensemble"},
                   {"version", 1},
                   {"name", spec.name},
                   {"base", spec.base_source},
                   {"input_shape", train.sample_shape()},
                   {"output_shape", output},
                   {"class_names", train.class_names},
                   {"default_combination", combination_name(spec.default_combination)},
                   {"combiner", h > 0 ? nlohmann::json("combiner.safetensors") : nlohmann::json(nullptr)},
                   {"holdout", {{"fraction", spec.holdout}, {"samples", h}, {"first", n - h}}},
                   {"experiment", members[0].config}};
  for (const auto& m : members)
    j["members"].push_back({{"name", m.name}, {"from", m.detail}, {"model", m.name + "/model.safetensors"}});
  write_file_atomic((dir / "ensemble.json").string(), j.dump(2) + "\n");
  return j;
}

}  // namespace nnlab
