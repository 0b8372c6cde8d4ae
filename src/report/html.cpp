// The HTML report (report.html): a run's page (html_run.cpp), the comparison of several runs, and a
// sweep's or an ensemble's page (html_compare.cpp), each one self-contained file; here, which pages
// `nnlab report` writes, and the misclassified examples a run's page shows. Charts come from the SVG
// code (svg*.cpp, plots.cpp), images from the PNG writer (png.cpp), both inline; the page's frame
// and CSS are in html_page.cpp.
#include "nnlab/report/html.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "html_internal.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/report/png.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nnlab {

using report::collection_runs;

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
