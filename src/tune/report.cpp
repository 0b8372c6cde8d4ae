// A search's outputs: the table, the chart of scores against epochs, and the winner as an experiment.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "internal.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/report/plot.hpp"
#include "nnlab/sweep.hpp"

namespace fs = std::filesystem;

namespace nnlab::detail {

std::string value_text(const nlohmann::json& v) {
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
    return buf;
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

namespace {

// One line per trial with a history of the metric, continuing through the rungs it was promoted to.
void write_chart(const TuneSpec& spec, const TuneResult& result, const fs::path& path) {
  std::vector<std::pair<std::string, History>> curves;
  for (size_t i : tune_ranking(spec, result)) {
    const fs::path history = fs::path(result.trials[i].run_dir) / "history.csv";
    if (!fs::exists(history)) continue;
    History h = History::from_csv(read_file(history.string()), result.trials[i].run_dir);
    const auto col = h.column(spec.metric);
    if (std::none_of(col.begin(), col.end(), [](double v) { return std::isfinite(v); })) continue;
    curves.emplace_back("trial " + std::to_string(result.trials[i].id), std::move(h));
  }
  if (curves.empty()) return;
  plot::Figure fig = runs_figure(curves, spec.metric);
  std::string budgets;
  for (int b : result.budgets) budgets += (budgets.empty() ? "" : ", ") + std::to_string(b);
  fig.panels[0].title = spec.metric + " of " + std::to_string(result.trials.size()) + " trials against epochs";
  fig.panels[0].note = "successive halving: rungs at " + budgets + " epochs; promoted trials continue (validation split)";
  plot::write_svg(fig, path.string());
}

}  // namespace

std::string values_text(const nlohmann::json& values) {
  std::string s;
  for (const auto& [k, v] : values.items()) s += (s.empty() ? "" : ", ") + k + "=" + value_text(v);
  return s;
}

std::string metric_text(const std::string& metric, double score) {
  return std::isnan(score) ? "failed" : metric_cell(metric, score);
}

std::vector<size_t> tune_ranking(const TuneSpec& spec, const TuneResult& result) {
  std::vector<size_t> order(result.trials.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const TuneTrial &x = result.trials[a], &y = result.trials[b];
    const int rx = x.rung_reached(), ry = y.rung_reached();
    if (rx != ry) return rx > ry;
    if (rx < 0) return false;
    return spec.minimise() ? x.final_score() < y.final_score() : x.final_score() > y.final_score();
  });
  return order;
}

void finish_tune(const TuneSpec& spec, TuneResult& result) {
  const fs::path dir(result.dir);
  const auto order = tune_ranking(spec, result);
  check(!order.empty() && result.trials[order[0]].rung_reached() >= 0,
        spec.source + ": every trial failed to train (see the lines above); nothing to choose from");
  result.best = order[0];
  result.best_config = trial_config(spec, result.trials[result.best].values, spec.max_epochs);
  result.best_config["name"] = spec.name + "-tuned";
  if (!dist::is_root()) return;  // under mpirun, rank 0 alone writes the files
  write_file_atomic((dir / "table.md").string(), tune_table_markdown(spec, result));
  write_file_atomic((dir / "table.csv").string(), tune_table_csv(spec, result));
  write_chart(spec, result, dir / "scores.svg");
  write_file_atomic((dir / "best.json").string(), result.best_config.dump(2) + "\n");
  write_file_atomic((dir / "best.toml").string(),
                    "# The best configuration of the search in this folder (nnlab tune " + spec.source + "): trial " +
                        std::to_string(result.trials[result.best].id) + ", " + values_text(result.trials[result.best].values) +
                        ".\n# Validated on a split of the training data; `nnlab train best.toml` trains it.\n" +
                        config_toml(result.best_config));
  write_file_atomic((dir / "report.html").string(), collection_report_html(result.dir));
}

}  // namespace nnlab::detail

namespace nnlab {

int TuneTrial::rung_reached() const {
  for (size_t r = scores.size(); r-- > 0;)
    if (!std::isnan(scores[r])) return static_cast<int>(r);
  return -1;
}

double TuneTrial::final_score() const {
  const int r = rung_reached();
  return r < 0 ? std::nan("") : scores[static_cast<size_t>(r)];
}

std::string tune_table_markdown(const TuneSpec& spec, const TuneResult& result) {
  std::ostringstream os;
  os << "| rank | trial |";
  for (const auto& d : spec.space) os << " " << d.key << " |";
  for (int b : result.budgets) os << " " << spec.metric << " @" << b << " |";
  os << " epochs |\n|---:|---:|";
  for (size_t i = 0; i < spec.space.size(); ++i) os << "---:|";
  for (size_t i = 0; i < result.budgets.size(); ++i) os << "---:|";
  os << "---:|\n";
  const auto order = detail::tune_ranking(spec, result);
  for (size_t k = 0; k < order.size(); ++k) {
    const TuneTrial& t = result.trials[order[k]];
    os << "| " << k + 1 << " | " << t.id << " |";
    for (const auto& d : spec.space) os << " " << detail::value_text(t.values[d.key]) << " |";
    for (size_t r = 0; r < result.budgets.size(); ++r)
      os << " " << (r < t.scores.size() ? detail::metric_text(spec.metric, t.scores[r]) : "") << " |";
    os << " " << t.epochs << " |\n";
  }
  return os.str();
}

std::string tune_table_csv(const TuneSpec& spec, const TuneResult& result) {
  std::ostringstream os;
  os.precision(17);
  auto quoted = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  os << "rank,trial";
  for (const auto& d : spec.space) os << "," << quoted(d.key);
  for (int b : result.budgets) os << "," << spec.metric << "@" << b;
  os << ",epochs,run_dir\n";
  const auto order = detail::tune_ranking(spec, result);
  for (size_t k = 0; k < order.size(); ++k) {
    const TuneTrial& t = result.trials[order[k]];
    os << k + 1 << "," << t.id;
    for (const auto& d : spec.space) os << "," << quoted(t.values[d.key].is_string() ? t.values[d.key].get<std::string>() : t.values[d.key].dump());
    for (size_t r = 0; r < result.budgets.size(); ++r) {
      os << ",";
      if (r < t.scores.size() && !std::isnan(t.scores[r])) os << t.scores[r];
    }
    os << "," << t.epochs << "," << quoted(t.run_dir) << "\n";
  }
  return os.str();
}

}  // namespace nnlab
