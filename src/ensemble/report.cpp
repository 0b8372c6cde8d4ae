// An ensemble's evaluation and its tables, and the report files run_ensemble writes.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "internal.hpp"
#include "nnlab/config_reader.hpp"
#include "nnlab/ensemble.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/report/plot.hpp"
#include "nnlab/training/history.hpp"

namespace fs = std::filesystem;

namespace nnlab {

EnsembleReport evaluate_ensemble(Ensemble& en, const InMemoryDataset& data, int64_t batch_size,
                                 const std::vector<Tensor>& tta_copies) {
  check(data.num_classes > 0 && data.target_width() == 1,
        "ensemble: evaluation needs a classification dataset with one class label per sample" +
            (data.name.empty() ? std::string() : " ('" + data.name + "' is not)"));
  auto outs = en.member_outputs(data.x(), batch_size);
  for (const Tensor& copy : tta_copies) {  // test-time augmentation: each member's mean over the copies
    const auto more = en.member_outputs(copy, batch_size);
    for (size_t m = 0; m < outs.size(); ++m)
      for (int64_t i = 0; i < outs[m].size(); ++i) outs[m][i] += more[m][i];
  }
  if (!tta_copies.empty())
    for (Tensor& o : outs)
      for (float& v : o.span()) v /= static_cast<float>(tta_copies.size() + 1);
  EnsembleReport rep;
  rep.samples = data.size();
  for (size_t i = 0; i < en.size(); ++i) {
    EnsembleRow r;
    r.name = en.member_name(i);
    r.detail = en.member_from(i);
    r.accuracy = accuracy_of(predicted_classes(outs[i]), data.y());
    r.params = en.member(i).param_count();
    rep.members.push_back(r);
    if (r.accuracy > rep.members[rep.best_member].accuracy) rep.best_member = i;
  }
  for (Combination c : en.combinations()) {
    EnsembleRow r;
    r.name = combination_name(c);
    r.detail = c == Combination::Stacking
                   ? "combiner trained on " + std::to_string(en.holdout_samples()) +
                         (en.holdout_samples() == 1 ? " held-out sample" : " held-out samples")
                   : std::to_string(en.size()) + " members";
    r.accuracy = accuracy_of(en.combine(outs, c).classes, data.y());
    rep.combinations.push_back(r);
  }
  return rep;
}

static std::string percent(double a) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100.0 * a);
  return b;
}

std::string ensemble_table_markdown(const EnsembleReport& rep) {
  std::ostringstream os;
  const std::string on = rep.evaluated_on.empty() ? "test" : rep.evaluated_on;
  os << "| model | from | " << on << " accuracy | vs best member (points) | params | train time |\n";
  os << "|---|---|---:|---:|---:|---:|\n";
  auto row = [&](const EnsembleRow& r, bool best, bool combination) {
    char gain[32], t[32];
    std::snprintf(gain, sizeof gain, "%+.2f", rep.gain(r));
    std::snprintf(t, sizeof t, "%.1fs", r.train_seconds);
    os << "| " << (combination ? "**" + r.name + "**" : r.name) << (best ? " (best member)" : "") << " | " << r.detail
       << " | " << percent(r.accuracy) << " | " << (best ? "" : gain) << " | "
       << (r.params > 0 ? std::to_string(r.params) : "") << " | " << (r.train_seconds >= 0 ? t : "") << " |\n";
  };
  for (size_t i = 0; i < rep.members.size(); ++i) row(rep.members[i], i == rep.best_member, false);
  for (const auto& c : rep.combinations) row(c, false, true);
  return os.str();
}

nlohmann::json ensemble_report_json(const EnsembleReport& rep) {
  nlohmann::json j{{"samples", rep.samples}, {"evaluated_on", rep.evaluated_on}};
  for (const auto& r : rep.members)
    j["members"].push_back({{"name", r.name}, {"from", r.detail}, {"accuracy", r.accuracy}, {"params", r.params},
                            {"train_seconds", r.train_seconds}});
  for (const auto& r : rep.combinations)
    j["combinations"].push_back({{"name", r.name}, {"accuracy", r.accuracy}, {"gain_points", rep.gain(r)}});
  if (!rep.members.empty()) {
    j["best_member"] = rep.members[rep.best_member].name;
    j["best_member_accuracy"] = rep.members[rep.best_member].accuracy;
  }
  return j;
}

void detail::write_ensemble_reports(EnsembleResult& res, const std::vector<EnsembleMemberSpec>& members,
                                    const Experiment& base) {
  const fs::path dir(res.dir);
  std::vector<std::pair<std::string, History>> curves;
  for (size_t i = 0; i < members.size(); ++i) {
    const fs::path run = dir / members[i].name;
    const std::string result = (run / "result.json").string();
    const auto r = parse_json(read_file(result), result);
    res.report.members[i].train_seconds = r.value("train_seconds", -1.0);
    curves.emplace_back(members[i].name + " (" + members[i].detail + ")",
                        History::from_csv(read_file((run / "history.csv").string()), run.string()));
  }
  write_file_atomic((dir / "table.md").string(), ensemble_table_markdown(res.report));
  nlohmann::json result = ensemble_report_json(res.report);
  result["holdout_samples"] = res.holdout_samples;
  result["train_seconds"] = res.train_seconds;
  result["parallel"] = res.parallel;
  write_file_atomic((dir / "result.json").string(), result.dump(2) + "\n");
  for (const std::string m : {"val_loss", "val_accuracy"}) {
    bool all = true;
    for (const auto& [_, hist] : curves) {
      const auto c = hist.column(m);
      all = all && !c.empty() && !std::isnan(c.back());
    }
    // The combinations' test accuracy as lines across the members' validation curves, when those
    // are on the same test set.
    const bool validates_on_test = res.report.evaluated_on == "test" && base.train.validation_split == 0 &&
                                   base.train.validate_on_test;
    std::vector<std::pair<std::string, double>> levels;
    if (m == "val_accuracy" && validates_on_test)
      for (const auto& c : res.report.combinations) levels.emplace_back(c.name, c.accuracy);
    if (all) plot_runs(curves, m, (dir / ("compare-" + m + ".svg")).string(), levels);
  }
  write_file_atomic((dir / "report.html").string(), collection_report_html(res.dir));
}

}  // namespace nnlab
