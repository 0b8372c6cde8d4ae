// An ensemble -> one ONNX graph (the members, the combination and the decision).
#include <nlohmann/json.hpp>

#include "nnlab/ensemble.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/io/onnx.hpp"

namespace nnlab {

void save_ensemble_onnx(Ensemble& ensemble, Combination combination, const std::string& out) {
  std::vector<Model*> members;
  for (size_t i = 0; i < ensemble.size(); ++i) members.push_back(&ensemble.member(i));
  check(combination != Combination::Stacking || ensemble.has_combiner(),
        ensemble.path() + ": the ensemble has no stacking combiner");
  std::map<std::string, std::string> meta;
  if (!ensemble.class_names().empty()) meta["nnlab.class_names"] = nlohmann::json(ensemble.class_names()).dump();
  const nlohmann::json& e = ensemble.experiment();
  if (e.is_object() && e.contains("name") && e["name"].is_string()) meta["nnlab.experiment_name"] = e["name"].get<std::string>();
  meta["nnlab.members"] = std::to_string(ensemble.size());
  write_file_atomic(out, onnx_export_ensemble(members, combination_name(combination),
                                              ensemble.has_combiner() ? &ensemble.combiner() : nullptr, meta));
}

}  // namespace nnlab
