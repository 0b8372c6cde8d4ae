// What the report pages read from run folders: files that may be missing, CSV, a run's settings
// flattened, and a run (config, run info, result, history) as one Run.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "html_internal.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/report/html.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nnlab {

namespace report {

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

// The name a folder goes by: its last path component ("runs/a/" -> "a").
std::string folder_name(const std::string& dir) {
  fs::path p(dir);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();
  const std::string n = p.filename().string();
  return n.empty() || n == "." ? fs::absolute(p).lexically_normal().filename().string() : n;
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

}  // namespace report

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

}  // namespace nnlab
