// The HTML report (report.html): a run's page, the comparison of several runs, and a sweep's or an
// ensemble's page, each one self-contained file. Charts come from the SVG code (svg.cpp, plots.cpp),
// images from the PNG writer (png.cpp), both inline; the page's CSS is below in kStyle.
#include "nnlab/report/html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/report/diagnosis.hpp"
#include "nnlab/report/plot.hpp"
#include "nnlab/report/png.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nnlab {

std::string base64_encode(const std::string& bytes) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += abc[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? abc[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

// ---- small helpers ------------------------------------------------------------------------------

std::string esc(const std::string& s) { return plot::xml_escape(s); }

// A file's text, or "" when it is missing (a section of the page is then left out).
std::string text_of(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return "";
  try {
    return read_file(p.string());
  } catch (const Error&) {
    return "";
  }
}

json json_of(const fs::path& p) {
  const std::string t = text_of(p);
  if (t.empty()) return json();
  try {
    return json::parse(t);
  } catch (const json::exception&) {
    return json();
  }
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}
std::string pct(double v) { return fmt("%.2f%%", 100.0 * v); }
std::string grouped(int64_t n) {  // 535818 -> "535,818"
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}
std::string seconds(double s) {
  if (s < 60) return fmt("%.1f s", s);
  const long m = static_cast<long>(s / 60);
  return std::to_string(m) + " min " + fmt("%.0f s", s - 60.0 * static_cast<double>(m));
}
std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char b[40];
  std::tm local{};
  localtime_r(&t, &local);  // ensemble members write their pages from several threads
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &local);
  return b;
}

// The name a folder goes by: its last path component ("runs/a/" -> "a").
std::string folder_name(const std::string& dir) {
  fs::path p(dir);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();
  const std::string n = p.filename().string();
  return n.empty() || n == "." ? fs::absolute(p).lexically_normal().filename().string() : n;
}

// A link from the folder `from` to the file `to`, with forward slashes, each part percent-escaped where needed.
std::string relative_link(const fs::path& to, const fs::path& from) {
  std::error_code ec;
  fs::path rel = fs::relative(fs::absolute(to), fs::absolute(from), ec);
  if (ec || rel.empty()) rel = fs::absolute(to);
  std::string out;
  for (char c : rel.generic_string()) {
    if (std::isalnum(static_cast<unsigned char>(c)) || std::string("/-_.~").find(c) != std::string::npos)
      out += c;
    else
      out += fmt("%%%02X", static_cast<unsigned char>(c));
  }
  return out;
}

// Minimal CSV reading for nnlab's own files: commas, double-quoted fields with "" for a quote.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = any = true;
    } else if (c == ',') {
      row.push_back(field), field.clear(), any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) row.push_back(field), rows.push_back(row);
      row.clear(), field.clear(), any = false;
    } else {
      field += c, any = true;
    }
  }
  if (any || !field.empty()) row.push_back(field), rows.push_back(row);
  return rows;
}

// A run's settings as "key.path" -> value text, for tables and comparisons. Arrays of plain values
// stay one entry ("[256, 128]"); arrays of tables (the layers) are numbered: model.layers[1].units.
void flatten(const json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else if (j.is_array() && std::any_of(j.begin(), j.end(), [](const json& v) { return v.is_structured(); })) {
    if (j.empty()) out[prefix] = "[]";
    for (size_t i = 0; i < j.size(); ++i) flatten(j[i], prefix + "[" + std::to_string(i + 1) + "]", out);
  } else {
    out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
  }
}

// An inline SVG chart: ids made unique in the page (every chart numbers its clip paths from 0), and
// the size left to CSS so the chart shrinks on a phone.
std::string inline_svg(const plot::Figure& fig, const std::string& label, int& next_id) {
  std::string svg = plot::render_svg(fig);
  const std::string prefix = "c" + std::to_string(next_id++) + "-";
  for (const std::string from : {"id=\"clip", "url(#clip"}) {
    const std::string to = from.substr(0, from.size() - 4) + prefix + "clip";
    for (size_t pos = 0; (pos = svg.find(from, pos)) != std::string::npos; pos += to.size()) svg.replace(pos, from.size(), to);
  }
  const std::string open = "<svg ";
  if (const auto p = svg.find(open); p != std::string::npos)
    svg.replace(p, open.size(), "<svg class=\"chart\" role=\"img\" aria-label=\"" + esc(label) + "\" ");
  return svg;
}

const char* kStyle = R"CSS(
:root { --fg: #1d232b; --muted: #5b6573; --line: #dde2e8; --bg: #f5f7fa; --card: #fff; --accent: #1f6fb4;
        --good: #2a8a3e; --warn: #b7791f; --bad: #c0392b; --hl: #fff3bf; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif;
       color: var(--fg); background: var(--bg); -webkit-text-size-adjust: 100%; }
header.top { background: #1d2b3a; color: #fff; padding: 1.2rem 1rem 1rem; }
header.top .wrap { max-width: 1180px; margin: 0 auto; }
header.top h1 { margin: 0 0 .2rem; font-size: 1.6rem; line-height: 1.25; word-break: break-word; }
header.top p { margin: 0; color: #c8d3df; }
nav.toc { max-width: 1180px; margin: .6rem auto 0; padding: 0 1rem; display: flex; flex-wrap: wrap; gap: .3rem .9rem;
          font-size: .92rem; }
nav.toc a { color: var(--accent); text-decoration: none; }
main { max-width: 1180px; margin: 0 auto; padding: .5rem 1rem 2rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.1rem;
          margin: 1rem 0; }
h2 { font-size: 1.25rem; margin: 0 0 .7rem; }
h3 { font-size: 1.02rem; margin: 1rem 0 .5rem; }
a { color: var(--accent); }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 99px; font-size: .85rem; font-weight: 600;
         background: #e3e8ee; color: var(--fg); vertical-align: middle; }
.badge.running { background: #ffe8a3; } .badge.finished { background: #cdeccf; }
.badge.good { background: #cdeccf; } .badge.over { background: #f8d3cd; } .badge.under { background: #ffe8a3; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(165px, 1fr)); gap: .7rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .7rem .9rem; }
.card .v { font-size: 1.35rem; font-weight: 650; line-height: 1.2; }
.card .k { color: var(--muted); font-size: .85rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 1rem; }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: .88rem; margin-top: .3rem; }
svg.chart { width: 100%; height: auto; display: block; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: .93rem; }
table.kv td, table.kv th { padding: .3rem .8rem .3rem 0; border-bottom: 1px solid var(--line); text-align: left;
                           vertical-align: top; }
table.kv th { color: var(--muted); font-weight: 500; white-space: nowrap; }
table.grid th, table.grid td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: right;
                               white-space: nowrap; }
table.grid th:first-child, table.grid td:first-child { text-align: left; }
table.grid thead th { border-bottom: 2px solid var(--line); font-weight: 600; }
tr.differs td, tr.differs th { background: var(--hl); }
td.num { font-variant-numeric: tabular-nums; }
pre { background: #f0f3f6; border-radius: 8px; padding: .7rem; overflow-x: auto; font-size: .8rem; line-height: 1.35; }
details summary { cursor: pointer; color: var(--accent); margin: .6rem 0; }
.verdict { font-size: 1.1rem; font-weight: 650; }
ul.cures li { margin: .2rem 0; }
table.confusion { border-collapse: separate; border-spacing: 2px; font-size: .8rem; }
table.confusion td { width: 2.6rem; height: 2.1rem; text-align: center; border-radius: 3px;
                     font-variant-numeric: tabular-nums; }
table.confusion th { font-weight: 500; color: var(--muted); padding: 0 .3rem; }
table.confusion thead th { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; height: 6.5rem;
                           white-space: nowrap; padding: .2rem 0; }
table.confusion tbody th { text-align: right; white-space: nowrap; }
.axis-note { color: var(--muted); font-size: .85rem; margin: .3rem 0; }
.bar { background: #e6ebf0; border-radius: 4px; height: .8rem; min-width: 3rem; width: 100%; position: relative; }
.bar span { position: absolute; left: 0; top: 0; bottom: 0; background: var(--accent); border-radius: 4px; }
.pairs { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 330px), 1fr)); gap: .9rem; }
.pair { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .7rem; }
.pair h3 { margin: 0 0 .4rem; font-size: .95rem; }
.thumbs { display: flex; flex-wrap: wrap; gap: .4rem; }
.thumbs figure { text-align: center; font-size: .75rem; color: var(--muted); width: 66px; }
.thumbs img { width: 66px; height: 66px; image-rendering: pixelated; border-radius: 4px; background: #000;
              display: block; }
footer { color: var(--muted); font-size: .85rem; max-width: 1180px; margin: 0 auto; padding: 0 1rem 2rem; }
footer a { margin-right: .7rem; }
@media (max-width: 600px) {
  body { font-size: 15px; }
  header.top h1 { font-size: 1.3rem; }
  section { padding: .8rem .75rem; border-radius: 8px; }
  main { padding: .3rem .5rem 1.5rem; }
  .card .v { font-size: 1.2rem; }
  .cards { grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); }
  table.confusion td { width: 1.9rem; height: 1.7rem; font-size: .7rem; }
}
)CSS";

// The page's frame: head (title, viewport, style, refresh), a header, a table of contents.
std::string page_start(const std::string& title, const std::string& subtitle, const std::string& badge_html,
                       const std::vector<std::pair<std::string, std::string>>& toc, int refresh_seconds) {
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
     << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  if (refresh_seconds > 0) os << "<meta http-equiv=\"refresh\" content=\"" << refresh_seconds << "\">\n";
  os << "<meta name=\"generator\" content=\"nnlab\">\n<title>" << esc(title) << "</title>\n<style>" << kStyle
     << "</style>\n</head>\n<body>\n<header class=\"top\"><div class=\"wrap\"><h1>" << esc(title) << " " << badge_html
     << "</h1><p>" << subtitle << "</p></div></header>\n";
  if (!toc.empty()) {
    os << "<nav class=\"toc\">";
    for (const auto& [id, name] : toc) os << "<a href=\"#" << id << "\">" << esc(name) << "</a>";
    os << "</nav>\n";
  }
  os << "<main>\n";
  return os.str();
}

std::string page_end(const std::string& footer_html) {
  return "</main>\n<footer>" + footer_html + "<p>Written by nnlab on " + esc(now_text()) +
         ". One self-contained file: no scripts, nothing loaded from the network.</p></footer>\n</body>\n</html>\n";
}

std::string card(const std::string& value, const std::string& key) {
  return "<div class=\"card\"><div class=\"v\">" + esc(value) + "</div><div class=\"k\">" + esc(key) + "</div></div>";
}

std::string verdict_class(const std::string& v) {
  if (v == "good fit") return "good";
  if (v == "overfitting") return "over";
  if (v == "underfitting") return "under";
  return "";
}

// ---- one run --------------------------------------------------------------------------------

// Everything read from a run folder.
struct Run {
  fs::path dir;
  std::string name;       // the experiment's name (config.json), else the folder's
  json config, info, result;
  History history;
  bool finished = false;  // result.json exists
  int epochs_planned = 0;
};

Run load_run(const std::string& dir) {
  Run r;
  r.dir = dir;
  r.config = json_of(r.dir / "config.json");
  r.info = json_of(r.dir / "run.json");
  r.result = json_of(r.dir / "result.json");
  r.finished = !r.result.is_null();
  r.name = r.config.is_object() && r.config.contains("name") && r.config["name"].is_string()
               ? r.config["name"].get<std::string>()
               : folder_name(dir);
  const std::string h = text_of(r.dir / "history.csv");
  if (!h.empty()) {
    try {
      r.history = History::from_csv(h, (r.dir / "history.csv").string());
    } catch (const Error&) {
    }
  }
  if (r.config.is_object() && r.config.contains("train") && r.config["train"].is_object())
    r.epochs_planned = r.config["train"].value("epochs", 1);
  else if (r.config.is_object())
    r.epochs_planned = 1;
  return r;
}

// Best value of a history column (lowest for losses), its 1-based epoch; {NaN, 0} when absent.
std::pair<double, int> best_of(const History& h, const std::string& column) {
  const auto c = h.column(column);
  const bool lower = column.find("loss") != std::string::npos;
  int best = -1;
  for (size_t i = 0; i < c.size(); ++i)
    if (std::isfinite(c[i]) && (best < 0 || (lower ? c[i] < c[static_cast<size_t>(best)] : c[i] > c[static_cast<size_t>(best)])))
      best = static_cast<int>(i);
  if (best < 0) return {NAN, 0};
  return {c[static_cast<size_t>(best)], (static_cast<size_t>(best) < h.epochs.size() ? h.epochs[static_cast<size_t>(best)] : best) + 1};
}

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
  std::optional<Experiment> e;
  if (r.config.is_object()) {
    try {
      e = Experiment::from_json(r.config, (r.dir / "config.json").string());
    } catch (const Error&) {
    }
  }
  const json& info = r.info;
  auto info_s = [&](const char* k) { return info.is_object() && info.contains(k) && info[k].is_string() ? info[k].get<std::string>() : std::string(); };
  if (e) {
    std::string data = esc(e->data.dataset == "file" ? e->data.train : e->data.dataset);
    if (info.is_object() && info.contains("samples")) {
      const json& s = info["samples"];
      data += " &middot; " + grouped(s.value("train", int64_t{0})) + " training";
      if (s.value("validation", int64_t{0}) > 0 && s.value("validation_from", "") != "test")
        data += ", " + grouped(s.value("validation", int64_t{0})) + " validation";
      if (s.value("test", int64_t{0}) > 0) data += ", " + grouped(s.value("test", int64_t{0})) + " test samples";
      if (s.value("validation_from", "") == "test") data += " (the test set also validates each epoch)";
    }
    if (e->data.limit > 0) data += " &middot; limit " + grouped(e->data.limit);
    if (e->data.test_limit > 0) data += " &middot; test limit " + grouped(e->data.test_limit);
    row("data", data);
    if (info.is_object() && info.contains("input_shape")) row("input", esc(info["input_shape"].dump()));
    if (info.is_object() && info.contains("class_names") && !info["class_names"].empty()) {
      std::string names;
      for (const auto& n : info["class_names"]) names += (names.empty() ? "" : ", ") + n.get<std::string>();
      row("classes", esc(names));
    }
    std::string opt = esc(e->train.optimizer);
    if (!e->train.optimizer_options.empty()) {
      std::string o;
      for (auto it = e->train.optimizer_options.begin(); it != e->train.optimizer_options.end(); ++it)
        o += (o.empty() ? "" : ", ") + it.key() + " " + (it->is_string() ? it->get<std::string>() : it->dump());
      opt += " (" + esc(o) + ")";
    }
    row("optimizer", opt);
    row("loss", esc(e->train.loss));
    row("training", std::to_string(e->train.epochs) + " epochs, batch size " + std::to_string(e->train.batch_size) +
                        (e->train.shuffle ? ", shuffled every epoch" : ", not shuffled") +
                        (e->train.validation_split > 0 ? ", validation split " + fmt("%g", e->train.validation_split) : ""));
    for (const auto& [k, v] : {std::pair{"schedule", &e->schedule}, std::pair{"early stopping", &e->early_stopping},
                               std::pair{"reduce lr on plateau", &e->reduce_lr_on_plateau}, std::pair{"augmentation", &e->augment}})
      if (!v->is_null()) row(k, "<code>" + esc(v->dump()) + "</code>");
    row("seed", std::to_string(e->seed));
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

// ---- several runs -------------------------------------------------------------------------------

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

std::vector<Run> collection_runs(const std::string& dir) {
  std::vector<Run> runs;
  std::error_code ec;
  std::vector<fs::path> subs;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory(ec) && is_run_folder(e.path().string())) subs.push_back(e.path());
  std::sort(subs.begin(), subs.end());
  for (const auto& s : subs) runs.push_back(load_run(s.string()));
  return runs;
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

// The image of sample `index` of `data` as a PNG, or "" when its samples are not images.
std::string sample_png(const Dataset& data, int64_t index) {
  const Shape s = data.sample_shape();
  int64_t h = 0, w = 0;
  if (s.size() == 2 || (s.size() == 3 && s[2] == 1)) {
    h = s[0], w = s[1];
  } else if (s.size() == 1) {
    const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(s[0]))));
    if (side * side == s[0] && side >= 8) h = w = side;
  }
  if (h < 4 || w < 4) return "";
  Tensor x, y;
  const int64_t idx[1] = {index};
  data.gather(idx, x, y);
  const float* v = x.data();
  const size_t n = static_cast<size_t>(h * w);
  float lo = *std::min_element(v, v + n), hi = *std::max_element(v, v + n);
  if (lo >= 0 && hi <= 1) lo = 0, hi = 1;  // pixels scaled to [0, 1]: keep their brightness
  else if (lo >= 0 && hi <= 255 && hi > 1) lo = 0, hi = 255;
  const float range = hi > lo ? hi - lo : 1.0f;
  std::vector<uint8_t> px(n);
  for (size_t i = 0; i < n; ++i) px[i] = static_cast<uint8_t>(std::clamp((v[i] - lo) / range * 255.0f + 0.5f, 0.0f, 255.0f));
  return encode_png_gray(w, h, px.data());
}

}  // namespace

// ---- public ---------------------------------------------------------------------------------------

bool is_run_folder(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / "config.json", ec);
}

bool is_collection_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || is_run_folder(dir)) return false;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory(ec) && is_run_folder(e.path().string())) return true;
  return false;
}

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

std::string write_report(const std::vector<std::string>& dirs, const std::string& out) {
  check(!dirs.empty(), "report: give a run folder (or several, or a sweep or ensemble folder)");
  for (const auto& d : dirs) {
    std::error_code ec;
    check(fs::is_directory(d, ec), "report: '" + d + "' is not a folder (expected a run folder from `nnlab train`)");
    if (dirs.size() > 1)
      check(is_run_folder(d), "report: '" + d + "' is not a run folder (no config.json); compare run folders, or give one sweep or ensemble folder alone");
  }
  if (dirs.size() == 1) {
    const std::string& d = dirs[0];
    if (is_run_folder(d)) {
      const std::string path = out.empty() ? (fs::path(d) / "report.html").string() : out;
      write_file_atomic(path, run_report_html(d));
      return path;
    }
    check(is_collection_folder(d), "report: '" + d + "' is neither a run folder (no config.json) nor a sweep or ensemble folder");
    for (const auto& r : collection_runs(d)) write_file_atomic((r.dir / "report.html").string(), run_report_html(r.dir.string()));
    const std::string path = out.empty() ? (fs::path(d) / "report.html").string() : out;
    write_file_atomic(path, collection_report_html(d));
    return path;
  }
  const std::string path = out.empty() ? "report-compare.html" : out;
  for (const auto& d : dirs)  // each run's page, for the links
    if (!fs::exists(fs::path(d) / "report.html")) write_file_atomic((fs::path(d) / "report.html").string(), run_report_html(d));
  write_file_atomic(path, compare_report_html(dirs, path));
  return path;
}

void write_misclassified(const ConfusionMatrix& cm, const Dataset& data, const std::string& path,
                         const std::string& evaluated_on, size_t pairs, size_t per_pair) {
  json j{{"evaluated_on", evaluated_on}, {"pairs", json::array()}};
  for (const auto& [t, p] : cm.most_confused(pairs)) {
    json pair{{"true", t},
              {"predicted", p},
              {"true_name", cm.names.at(static_cast<size_t>(t))},
              {"predicted_name", cm.names.at(static_cast<size_t>(p))},
              {"count", cm.at(t, p)},
              {"examples", json::array()}};
    // The most confident mistakes of the pair first: the ones worth a look.
    std::vector<const Mistake*> of_pair;
    for (const auto& m : cm.mistakes)
      if (m.truth == t && m.predicted == p) of_pair.push_back(&m);
    std::stable_sort(of_pair.begin(), of_pair.end(), [](const Mistake* a, const Mistake* b) { return a->confidence > b->confidence; });
    for (size_t i = 0; i < of_pair.size() && i < per_pair; ++i) {
      json ex{{"index", of_pair[i]->index}, {"confidence", of_pair[i]->confidence}};
      const std::string png = sample_png(data, of_pair[i]->index);
      if (!png.empty()) ex["png"] = base64_encode(png);
      pair["examples"].push_back(ex);
    }
    j["pairs"].push_back(pair);
  }
  write_file_atomic(path, j.dump(1) + "\n");
}

}  // namespace nnlab
