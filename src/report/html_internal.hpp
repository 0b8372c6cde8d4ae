// Private to src/report/html*.cpp: what the report's pages share: reading run folders
// (html_run_folder.cpp), and the page's frame, number formats and inline charts (html_page.cpp).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "nnlab/report/plot.hpp"
#include "nnlab/training/history.hpp"

namespace nnlab::report {

// ---- reading run folders (html_run_folder.cpp) --------------------------------------------------

std::string text_of(const std::filesystem::path& p);
// A file's JSON, or null when it is missing or not JSON.
nlohmann::json json_of(const std::filesystem::path& p);
std::string folder_name(const std::string& dir);
std::vector<std::vector<std::string>> parse_csv(const std::string& text);
void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out);

// Everything read from a run folder.
struct Run {
  std::filesystem::path dir;
  std::string name;       // the experiment's name (config.json), else the folder's
  nlohmann::json config, info, result;
  History history;
  bool finished = false;  // result.json exists
  int epochs_planned = 0;
};

Run load_run(const std::string& dir);
std::pair<double, int> best_of(const History& h, const std::string& column);
// The run folders in a sweep's or ensemble's folder, by name.
std::vector<Run> collection_runs(const std::string& dir);

// ---- the page (html_page.cpp) -------------------------------------------------------------------

std::string esc(const std::string& s);
std::string fmt(const char* f, double v);
std::string pct(double v);
std::string grouped(int64_t n);
std::string seconds(double s);
std::string relative_link(const std::filesystem::path& to, const std::filesystem::path& from);
std::string inline_svg(const plot::Figure& fig, const std::string& label, int& next_id);
std::string page_start(const std::string& title, const std::string& subtitle, const std::string& badge_html,
                       const std::vector<std::pair<std::string, std::string>>& toc, int refresh_seconds);
std::string page_end(const std::string& footer_html);
std::string card(const std::string& value, const std::string& key);
// The badge class of a diagnosis verdict: "good", "over", "under" or "".
std::string verdict_class(const std::string& v);

}  // namespace nnlab::report
