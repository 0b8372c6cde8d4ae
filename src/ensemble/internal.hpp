// Steps of run_ensemble that live with their concern (the ensemble file, the reports), shared by
// the files of src/ensemble/.
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "nnlab/ensemble.hpp"
#include "nnlab/experiment.hpp"

namespace nnlab::detail {

// Writes <dir>/ensemble.json: the members' models, the combiner (there when holdout > 0), the
// shapes and class names of train, whose last `holdout` samples no member trained on. Returns what
// it wrote (the description Ensemble::from_models takes).
nlohmann::json write_ensemble_file(const EnsembleSpec& spec, const std::vector<EnsembleMemberSpec>& members,
                                   const std::filesystem::path& dir, const InMemoryDataset& train,
                                   const Shape& output, int64_t holdout);

// Adds the members' train times from their run folders to res.report, then writes table.md,
// result.json, compare-*.svg and report.html into res.dir.
void write_ensemble_reports(EnsembleResult& res, const std::vector<EnsembleMemberSpec>& members,
                            const Experiment& base);

}  // namespace nnlab::detail
