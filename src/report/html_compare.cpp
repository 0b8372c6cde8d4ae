// The page of several runs (compared run folders, a sweep's or an ensemble's folder): their results
// in one table, the ensemble's combinations, their curves overlaid, and their settings side by side.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "html_internal.hpp"
#include "nnlab/error.hpp"
#include "nnlab/report/diagnosis.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/report/plot.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nnlab {

using namespace report;

namespace {

std::string run_page_link(const Run& r, const std::string& label, const fs::path& page_dir) {
  const fs::path page = r.dir / "report.html";
  return "<a href=\"" + relative_link(page, page_dir) + "\">" + esc(label) + "</a>";
}

// Labels for runs: the folder's name, or the path when two folders share a name.
std::vector<std::string> run_labels(const std::vector<Run>& runs) {
  std::vector<std::string> names;
  for (const auto& r : runs) names.push_back(folder_name(r.dir.string()));
  for (size_t i = 0; i < names.size(); ++i)
    if (std::count(names.begin(), names.end(), names[i]) > 1) names[i] = runs[i].dir.string();
  return names;
}

std::string results_table(const std::vector<Run>& runs, const std::vector<std::string>& labels, const fs::path& page_dir) {
  std::ostringstream os;
  os << "<section id=\"results\"><h2>Results</h2><div class=\"scroll\"><table class=\"grid\"><thead><tr><th>run</th>"
        "<th>test accuracy</th><th>test loss</th><th>best val_accuracy</th><th>best val_loss</th><th>epochs</th>"
        "<th>parameters</th><th>training time</th><th>verdict</th></tr></thead><tbody>";
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    const json& res = r.result;
    auto num = [&](const char* k, bool percent) -> std::string {
      if (!res.is_object() || !res.contains(k) || !res[k].is_number()) return "&ndash;";
      return percent ? pct(res[k].get<double>()) : fmt("%.4f", res[k].get<double>());
    };
    const auto [va, vae] = best_of(r.history, "val_accuracy");
    const auto [vl, vle] = best_of(r.history, "val_loss");
    const std::string verdict = r.history.empty() ? "" : fit_name(diagnose(r.history).verdict);
    os << "<tr><td>" << run_page_link(r, labels[i], page_dir)
       << (r.finished ? "" : " <span class=\"badge running\">training</span>") << "</td><td class=\"num\">"
       << num("test_accuracy", true) << "</td><td class=\"num\">" << num("test_loss", false) << "</td><td class=\"num\">"
       << (std::isfinite(va) ? pct(va) + " (" + std::to_string(vae) + ")" : "&ndash;") << "</td><td class=\"num\">"
       << (std::isfinite(vl) ? fmt("%.4f", vl) + " (" + std::to_string(vle) + ")" : "&ndash;") << "</td><td class=\"num\">"
       << r.history.logs.size() << "</td><td class=\"num\">"
       << (res.is_object() && res.contains("params") ? grouped(res["params"].get<int64_t>()) : "&ndash;")
       << "</td><td class=\"num\">"
       << (res.is_object() && res.contains("train_seconds") ? seconds(res["train_seconds"].get<double>()) : "&ndash;")
       << "</td><td><span class=\"badge " << verdict_class(verdict) << "\">" << esc(verdict) << "</span></td></tr>";
  }
  os << "</tbody></table></div><p class=\"axis-note\">Best values with their epoch in brackets. Each run's name "
        "links to its own page.</p></section>\n";
  return os.str();
}

std::string settings_table(const std::vector<Run>& runs, const std::vector<std::string>& labels) {
  std::vector<std::map<std::string, std::string>> flat(runs.size());
  std::set<std::string> keys;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].config.is_object()) flatten(runs[i].config, "", flat[i]);
    flat[i].erase("name");  // the columns carry the names
    for (const auto& [k, _] : flat[i]) keys.insert(k);
  }
  std::vector<std::string> differ, same;
  for (const auto& k : keys) {
    std::set<std::string> values;
    for (const auto& f : flat) values.insert(f.count(k) ? f.at(k) : std::string("\x01"));
    (values.size() > 1 ? differ : same).push_back(k);
  }
  std::ostringstream os;
  auto head = [&] {
    os << "<div class=\"scroll\"><table class=\"grid\"><thead><tr><th>setting</th>";
    for (const auto& l : labels) os << "<th>" << esc(l) << "</th>";
    os << "</tr></thead><tbody>";
  };
  auto rows = [&](const std::vector<std::string>& ks, bool highlight) {
    for (const auto& k : ks) {
      os << "<tr" << (highlight ? " class=\"differs\"" : "") << "><th>" << esc(k) << "</th>";
      for (const auto& f : flat) os << "<td>" << (f.count(k) ? esc(f.at(k)) : "<span class=\"axis-note\">default</span>") << "</td>";
      os << "</tr>";
    }
  };
  os << "<section id=\"settings\"><h2>Settings</h2>";
  if (differ.empty()) {
    os << "<p>Every setting is the same.</p>";
  } else {
    os << "<p class=\"axis-note\">The " << differ.size() << (differ.size() == 1 ? " setting" : " settings")
       << " that differ, highlighted; " << same.size() << " more are the same in every run.</p>";
    head();
    rows(differ, true);
    os << "</tbody></table></div>";
  }
  if (!same.empty()) {
    os << "<details><summary>The settings every run shares</summary>";
    head();
    rows(same, false);
    os << "</tbody></table></div></details>";
  }
  os << "</section>\n";
  return os.str();
}

std::string overlay_section(const std::vector<Run>& runs, const std::vector<std::string>& labels, int& next_id,
                            const std::vector<std::pair<std::string, double>>& accuracy_levels) {
  std::vector<std::pair<std::string, History>> curves;
  for (size_t i = 0; i < runs.size(); ++i)
    if (!runs[i].history.empty()) curves.emplace_back(labels[i], runs[i].history);
  if (curves.empty()) return "";
  std::ostringstream os;
  os << "<section id=\"curves\"><h2>Curves overlaid</h2><div class=\"charts\">";
  int drawn = 0;
  for (const std::string m : {"val_loss", "val_accuracy", "loss", "accuracy", "lr"}) {
    bool all = true, varies = false;
    for (const auto& [_, h] : curves) {
      const auto c = h.column(m);
      all = all && std::any_of(c.begin(), c.end(), [](double v) { return std::isfinite(v); });
      varies = varies || std::any_of(c.begin(), c.end(), [&](double v) { return v != c.front(); });
    }
    if (!all || (m == "lr" && !varies)) continue;
    const auto fig = runs_figure(curves, m, m == "val_accuracy" ? accuracy_levels : std::vector<std::pair<std::string, double>>{});
    os << "<figure>" << inline_svg(fig, m + " of every run", next_id) << "<figcaption>" << esc(m)
       << " per epoch, one line per run</figcaption></figure>";
    ++drawn;
  }
  os << "</div>" << (drawn == 0 ? "<p>The runs share no column to overlay.</p>" : "") << "</section>\n";
  return os.str();
}

std::string ensemble_section(const json& result) {
  if (!result.is_object() || !result.contains("combinations")) return "";
  std::ostringstream os;
  os << "<section id=\"ensemble\"><h2>The ensemble</h2><p>Best member: " << esc(result.value("best_member", ""))
     << (result.contains("best_member_accuracy") ? ", " + pct(result["best_member_accuracy"].get<double>()) : "")
     << " on the " << esc(result.value("evaluated_on", "test")) << " data ("
     << grouped(result.value("samples", int64_t{0})) << " samples).</p><div class=\"scroll\"><table class=\"grid\"><thead><tr>"
        "<th>combination</th><th>accuracy</th><th>vs best member (points)</th></tr></thead><tbody>";
  for (const auto& c : result["combinations"])
    os << "<tr><td>" << esc(c.value("name", "")) << "</td><td class=\"num\">" << pct(c.value("accuracy", 0.0))
       << "</td><td class=\"num\">" << fmt("%+.2f", c.value("gain_points", 0.0)) << "</td></tr>";
  os << "</tbody></table></div></section>\n";
  return os.str();
}

std::string runs_page(const std::string& title, const std::string& subtitle, std::vector<Run> runs,
                      const fs::path& page_dir, const json& ensemble_result) {
  int next_id = 0;
  const auto labels = run_labels(runs);
  std::vector<std::pair<std::string, double>> levels;
  if (ensemble_result.is_object() && ensemble_result.value("evaluated_on", "") == "test" && !runs.empty() &&
      runs[0].config.is_object()) {
    const json train = runs[0].config.value("train", json::object());
    if (train.value("validation_split", 0.0) == 0.0 && train.value("validate_on_test", true))
      for (const auto& c : ensemble_result.value("combinations", json::array()))
        levels.emplace_back(c.value("name", ""), c.value("accuracy", 0.0));
  }
  const bool any_running = std::any_of(runs.begin(), runs.end(), [](const Run& r) { return !r.finished; });
  std::vector<std::pair<std::string, std::string>> toc{{"results", "Results"}};
  if (ensemble_result.is_object() && ensemble_result.contains("combinations")) toc.emplace_back("ensemble", "Ensemble");
  toc.emplace_back("curves", "Curves");
  toc.emplace_back("settings", "Settings");
  std::string html = page_start(title, subtitle, "", toc, any_running ? 10 : 0);
  html += results_table(runs, labels, page_dir);
  html += ensemble_section(ensemble_result);
  html += overlay_section(runs, labels, next_id, levels);
  html += settings_table(runs, labels);
  html += page_end("");
  return html;
}

}  // namespace

std::string compare_report_html(const std::vector<std::string>& run_dirs, const std::string& out_path) {
  check(!run_dirs.empty(), "report: no run folders to compare");
  std::vector<Run> runs;
  for (const auto& d : run_dirs) {
    check(is_run_folder(d), "report: '" + d + "' is not a run folder (no config.json)");
    runs.push_back(load_run(d));
  }
  const fs::path page_dir = fs::absolute(out_path).parent_path();
  const std::string title = "Comparing " + std::to_string(runs.size()) + " runs";
  return runs_page(title, "Run folders side by side: results, curves and settings", std::move(runs), page_dir, json());
}

std::string collection_report_html(const std::string& dir) {
  check(is_collection_folder(dir), "report: '" + dir + "' holds no run folders (expected a sweep or ensemble folder)");
  std::vector<Run> runs = collection_runs(dir);
  const json result = json_of(fs::path(dir) / "result.json");
  const bool ensemble = fs::exists(fs::path(dir) / "ensemble.json");
  const bool sweep = fs::exists(fs::path(dir) / "table.csv") && !ensemble;
  if (!ensemble) {  // a sweep's best first, as its table.md ranks them
    bool acc = std::all_of(runs.begin(), runs.end(), [](const Run& r) { return std::isfinite(best_of(r.history, "val_accuracy").first); });
    std::stable_sort(runs.begin(), runs.end(), [&](const Run& a, const Run& b) {
      if (acc) return best_of(a.history, "val_accuracy").first > best_of(b.history, "val_accuracy").first;
      const double la = best_of(a.history, "val_loss").first, lb = best_of(b.history, "val_loss").first;
      return std::isfinite(la) && (!std::isfinite(lb) || la < lb);
    });
  }
  const std::string kind = ensemble ? "ensemble" : sweep ? "sweep" : "runs";
  const std::string subtitle = (ensemble ? "An ensemble of " : sweep ? "A sweep of " : "A folder of ") +
                               std::to_string(runs.size()) + " runs &middot; <code>" + esc(dir) + "</code>";
  const std::string title = folder_name(dir) + " (" + kind + ")";
  return runs_page(title, subtitle, std::move(runs), fs::absolute(dir), ensemble ? result : json());
}

}  // namespace nnlab
