// The page of one run folder: overview, curves, diagnosis, confusion matrix and per-class accuracy,
// the most confused classes, the experiment's settings, and the folder's files.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
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

// Seconds between meta refreshes while training: about one epoch, from the time so far.
int refresh_interval(const Run& r) {
  if (r.finished) return 0;
  const double started = r.info.is_object() ? r.info.value("started_unix", 0.0) : 0.0;
  const size_t epochs = r.history.logs.size();
  if (started <= 0 || epochs == 0) return 5;
  const double per_epoch = (static_cast<double>(std::time(nullptr)) - started) / static_cast<double>(epochs);
  return static_cast<int>(std::clamp(per_epoch, 2.0, 60.0));
}

std::string status_badge(const Run& r) {
  if (r.finished) return "<span class=\"badge finished\">finished</span>";
  return "<span class=\"badge running\">training: epoch " + std::to_string(r.history.logs.size()) + " of " +
         std::to_string(r.epochs_planned) + "</span>";
}

std::string overview_section(const Run& r) {
  std::ostringstream os;
  os << "<section id=\"overview\"><h2>Overview</h2><div class=\"cards\">";
  const json& res = r.result;
  if (r.finished) {
    const std::string on = res.value("evaluated_on", "test");
    if (res.contains("test_accuracy")) os << card(pct(res["test_accuracy"].get<double>()), on + " accuracy");
    if (res.contains("test_loss")) os << card(fmt("%.4f", res["test_loss"].get<double>()), on + " loss");
  } else {
    os << card(std::to_string(r.history.logs.size()) + " / " + std::to_string(r.epochs_planned), "epochs done");
  }
  const auto [val_acc, acc_epoch] = best_of(r.history, "val_accuracy");
  if (std::isfinite(val_acc)) os << card(pct(val_acc), "best val_accuracy (epoch " + std::to_string(acc_epoch) + ")");
  const auto [val_loss, loss_epoch] = best_of(r.history, "val_loss");
  if (std::isfinite(val_loss)) os << card(fmt("%.4f", val_loss), "best val_loss (epoch " + std::to_string(loss_epoch) + ")");
  if (!r.history.empty()) os << card(fit_name(diagnose(r.history).verdict), r.finished ? "diagnosis" : "diagnosis so far");
  if (res.is_object() && res.contains("params")) os << card(grouped(res["params"].get<int64_t>()), "parameters");
  if (res.is_object() && res.contains("train_seconds")) os << card(seconds(res["train_seconds"].get<double>()), "training time");
  os << "</div>";
  if (!r.finished)
    os << "<p class=\"axis-note\">No result yet: the run is still training, or was stopped (resume it with "
          "<code>nnlab train --resume "
       << esc(r.dir.string()) << "</code>). This page reloads itself about once an epoch.</p>";
  os << "</section>\n";
  return os.str();
}

std::string experiment_section(const Run& r) {
  std::ostringstream os;
  os << "<section id=\"experiment\"><h2>Experiment</h2><div class=\"scroll\"><table class=\"kv\">";
  auto row = [&](const std::string& k, const std::string& v_html) {
    if (!v_html.empty()) os << "<tr><th>" << esc(k) << "</th><td>" << v_html << "</td></tr>";
  };
  const json& info = r.info;
  auto info_s = [&](const char* k) { return info.is_object() && info.contains(k) && info[k].is_string() ? info[k].get<std::string>() : std::string(); };
  if (info.is_object() && info.contains("settings")) {  // run.json, written when the run started
    std::string data = esc(info_s("data"));
    if (info.contains("samples")) {
      const json& s = info["samples"];
      data += " &middot; " + grouped(s.value("train", int64_t{0})) + " training";
      if (s.value("validation", int64_t{0}) > 0 && s.value("validation_from", "") != "test")
        data += ", " + grouped(s.value("validation", int64_t{0})) + " validation";
      if (s.value("test", int64_t{0}) > 0) data += ", " + grouped(s.value("test", int64_t{0})) + " test samples";
      if (s.value("validation_from", "") == "test") data += " (the test set also validates each epoch)";
    }
    if (info.value("limit", int64_t{0}) > 0) data += " &middot; limit " + grouped(info["limit"].get<int64_t>());
    if (info.value("test_limit", int64_t{0}) > 0) data += " &middot; test limit " + grouped(info["test_limit"].get<int64_t>());
    row("data", data);
    if (info.contains("input_shape")) row("input", esc(info["input_shape"].dump()));
    if (info.contains("class_names") && !info["class_names"].empty()) {
      std::string names;
      for (const auto& n : info["class_names"]) names += (names.empty() ? "" : ", ") + n.get<std::string>();
      row("classes", esc(names));
    }
    for (const auto& setting : info["settings"]) {
      if (!setting.is_array() || setting.size() != 2 || !setting[0].is_string()) continue;
      const json& v = setting[1];
      row(setting[0].get<std::string>(), v.is_string() ? esc(v.get<std::string>()) : "<code>" + esc(v.dump()) + "</code>");
    }
  }
  std::string machine = esc(info_s("host"));
  if (!info_s("cpu").empty()) machine += (machine.empty() ? "" : " &middot; ") + esc(info_s("cpu"));
  if (info.is_object() && info.contains("threads")) machine += " &middot; " + std::to_string(info["threads"].get<int>()) + " thread(s)";
  row("machine", machine);
  std::string when = esc(info_s("started"));
  if (!when.empty() && r.finished && r.result.contains("finished") && r.result["finished"].is_string())
    when = "started " + when + ", finished " + esc(r.result["finished"].get<std::string>());
  row("time", when);
  row("folder", "<code>" + esc(r.dir.string()) + "</code>");
  os << "</table></div>";
  const std::string summary = text_of(r.dir / "summary.txt");
  if (!summary.empty()) os << "<h3>Model</h3><pre>" << esc(summary) << "</pre>";
  if (r.config.is_object()) {
    std::map<std::string, std::string> flat;
    flatten(r.config, "", flat);
    os << "<details><summary>Every setting (config.json)</summary><div class=\"scroll\"><table class=\"kv\">";
    for (const auto& [k, v] : flat) os << "<tr><th>" << esc(k) << "</th><td><code>" << esc(v) << "</code></td></tr>";
    os << "</table></div></details>";
  }
  os << "</section>\n";
  return os.str();
}

std::string curves_section(const Run& r, int& next_id) {
  std::ostringstream os;
  os << "<section id=\"curves\"><h2>Training curves</h2>";
  if (r.history.empty()) {
    os << "<p>No epoch has finished yet.</p></section>\n";
    return os.str();
  }
  os << "<div class=\"charts\">";
  for (const auto& [name, fig] : history_figures(r.history)) {
    std::string caption = name == "loss" ? "Loss per epoch (the red mark: the best epoch)" : esc(name) + " per epoch";
    const auto lr = r.history.column("lr");
    if (name == "loss" && !lr.empty() && std::isfinite(lr.front())) {
      const bool varies = std::any_of(lr.begin(), lr.end(), [&](double v) { return std::fabs(v - lr.front()) > 1e-9 * std::fabs(lr.front()); });
      caption += varies ? "; the learning rate beneath" : "; learning rate " + fmt("%g", lr.front()) + " throughout";
    }
    os << "<figure>" << inline_svg(fig, name + " per epoch", next_id) << "<figcaption>" << caption << "</figcaption></figure>";
  }
  os << "</div></section>\n";
  return os.str();
}

std::string diagnosis_section(const Run& r) {
  if (r.history.empty()) return "";
  const Diagnosis d = diagnose(r.history);
  std::ostringstream os;
  os << "<section id=\"diagnosis\"><h2>Over- or underfitting?</h2><p class=\"verdict\"><span class=\"badge "
     << verdict_class(fit_name(d.verdict)) << "\">" << esc(fit_name(d.verdict)) << "</span>"
     << (r.finished ? "" : " <span class=\"axis-note\">(so far)</span>") << "</p><p>" << esc(d.summary) << "</p>";
  if (!d.cures.empty()) {
    os << "<h3>What to try</h3><ul class=\"cures\">";
    for (const auto& c : d.cures) os << "<li>" << esc(c) << "</li>";
    os << "</ul>";
  }
  os << "</section>\n";
  return os.str();
}

struct Confusion {
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> counts;  // [true][predicted]
};

Confusion read_confusion(const fs::path& file) {
  Confusion c;
  const auto rows = parse_csv(text_of(file));
  if (rows.size() < 2 || rows[0].size() < 2) return c;
  const size_t k = rows[0].size() - 1;
  for (size_t i = 1; i <= k; ++i) c.names.push_back(rows[0][i]);
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() != k + 1) return {};
    std::vector<int64_t> row;
    for (size_t i = 1; i <= k; ++i) {
      try {
        row.push_back(std::stoll(rows[r][i]));
      } catch (const std::exception&) {
        return {};
      }
    }
    c.counts.push_back(row);
  }
  if (c.counts.size() != k) return {};
  return c;
}

std::string confusion_sections(const Run& r) {
  const Confusion c = read_confusion(r.dir / "confusion.csv");
  if (c.names.empty()) return "";
  const size_t k = c.names.size();
  const std::string on = r.result.is_object() ? r.result.value("evaluated_on", "test") : "test";
  std::ostringstream os;
  os << "<section id=\"confusion\"><h2>Confusion matrix</h2><p class=\"axis-note\">Rows: the true class; columns: the "
        "predicted class; "
     << esc(on) << " data. Blue: right; red: wrong, darker for more of the row.</p><div class=\"scroll\"><table class=\"confusion\"><thead><tr><th></th>";
  for (const auto& n : c.names) os << "<th scope=\"col\">" << esc(n) << "</th>";
  os << "</tr></thead><tbody>";
  std::vector<int64_t> totals;
  for (size_t t = 0; t < k; ++t) {
    const int64_t total = std::accumulate(c.counts[t].begin(), c.counts[t].end(), int64_t{0});
    totals.push_back(total);
    os << "<tr><th scope=\"row\">" << esc(c.names[t]) << "</th>";
    for (size_t p = 0; p < k; ++p) {
      const int64_t n = c.counts[t][p];
      const double f = total ? static_cast<double>(n) / static_cast<double>(total) : 0.0;
      // Right answers in blue by their share of the row; mistakes in red, stronger (x3) so that a
      // few percent of confusion stands out.
      const double a = t == p ? f : std::min(1.0, 3.0 * f);
      const std::string rgb = t == p ? "31,111,180" : "192,57,43";
      os << "<td title=\"true " << esc(c.names[t]) << ", predicted " << esc(c.names[p]) << ": " << n << "\" style=\"background:rgba("
         << rgb << "," << fmt("%.3f", n == 0 ? 0.0 : 0.08 + 0.92 * a) << ");color:" << (a > 0.55 ? "#fff" : "#1d232b") << "\">"
         << (n == 0 ? "" : std::to_string(n)) << "</td>";
    }
    os << "</tr>";
  }
  os << "</tbody></table></div></section>\n";

  os << "<section id=\"per-class\"><h2>Per-class accuracy</h2><div class=\"scroll\"><table class=\"grid\"><thead><tr>"
        "<th>class</th><th>right</th><th>of</th><th>accuracy</th><th style=\"width:40%\"></th></tr></thead><tbody>";
  for (size_t t = 0; t < k; ++t) {
    const double acc = totals[t] ? static_cast<double>(c.counts[t][t]) / static_cast<double>(totals[t]) : NAN;
    os << "<tr><td>" << esc(c.names[t]) << "</td><td class=\"num\">" << grouped(c.counts[t][t]) << "</td><td class=\"num\">"
       << grouped(totals[t]) << "</td><td class=\"num\">" << (std::isnan(acc) ? "&ndash;" : pct(acc))
       << "</td><td><div class=\"bar\"><span style=\"width:" << fmt("%.1f", std::isnan(acc) ? 0.0 : 100.0 * acc)
       << "%\"></span></div></td></tr>";
  }
  os << "</tbody></table></div></section>\n";
  return os.str();
}

std::string mistakes_section(const Run& r) {
  const json m = json_of(r.dir / "misclassified.json");
  if (!m.is_object() || !m.contains("pairs") || m["pairs"].empty()) return "";
  std::ostringstream os;
  os << "<section id=\"mistakes\"><h2>Most confused classes</h2><p class=\"axis-note\">The (true, predicted) pairs the "
        "model mixes up most often, with some of the "
     << esc(m.value("evaluated_on", "test")) << " samples it got wrong and its confidence in the wrong class.</p><div class=\"pairs\">";
  for (const auto& p : m["pairs"]) {
    const std::string t = p.value("true_name", ""), pr = p.value("predicted_name", "");
    os << "<div class=\"pair\"><h3>" << esc(t) << " taken for " << esc(pr) << ": " << grouped(p.value("count", int64_t{0}))
       << (p.value("count", int64_t{0}) == 1 ? " time" : " times") << "</h3><div class=\"thumbs\">";
    for (const auto& ex : p.value("examples", json::array())) {
      os << "<figure>";
      if (ex.contains("png"))
        os << "<img alt=\"" << esc(t) << " predicted as " << esc(pr) << "\" src=\"data:image/png;base64,"
           << ex["png"].get<std::string>() << "\">";
      os << "<figcaption>#" << ex.value("index", int64_t{0}) << "<br>" << esc(pr) << " "
         << fmt("%.0f%%", 100.0 * ex.value("confidence", 0.0)) << "</figcaption></figure>";
    }
    os << "</div></div>";
  }
  os << "</div></section>\n";
  return os.str();
}

std::string files_footer(const fs::path& dir) {
  std::string out = "<p>Files: ";
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && e.path().filename() != "report.html" && e.path().filename().string().find(".tmp.") == std::string::npos)
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names) out += "<a href=\"" + relative_link(dir / n, dir) + "\">" + esc(n) + "</a>";
  return out + "</p>";
}

}  // namespace

std::string run_report_html(const std::string& run_dir) {
  check(is_run_folder(run_dir), "report: '" + run_dir + "' is not a run folder (no config.json)");
  const Run r = load_run(run_dir);
  int next_id = 0;
  std::string subtitle = "A run of nnlab";
  if (r.info.is_object() && r.info.contains("started")) subtitle += ", started " + esc(r.info["started"].get<std::string>());
  subtitle += " &middot; <code>" + esc(r.dir.string()) + "</code>";
  const bool classifier = !read_confusion(r.dir / "confusion.csv").names.empty();
  const bool mistakes = json_of(r.dir / "misclassified.json").is_object();
  std::vector<std::pair<std::string, std::string>> toc{{"overview", "Overview"}, {"experiment", "Experiment"},
                                                       {"curves", "Curves"}};
  if (!r.history.empty()) toc.emplace_back("diagnosis", "Diagnosis");
  if (classifier) toc.emplace_back("confusion", "Confusion matrix"), toc.emplace_back("per-class", "Per class");
  if (mistakes) toc.emplace_back("mistakes", "Mistakes");
  std::string html = page_start(r.name, subtitle, status_badge(r), toc, refresh_interval(r));
  html += overview_section(r);
  html += curves_section(r, next_id);
  html += diagnosis_section(r);
  html += confusion_sections(r);
  html += mistakes_section(r);
  html += experiment_section(r);
  html += page_end(files_footer(r.dir));
  return html;
}

}  // namespace nnlab
