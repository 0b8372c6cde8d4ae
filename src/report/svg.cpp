// The SVG writer behind every plot: the document, ticks, scales and text, as plain SVG text. Each
// panel is laid out in svg_layout.cpp and drawn in svg_panel.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/report/plot.hpp"
#include "svg_internal.hpp"

namespace nnlab::plot {

const std::string& palette(int index) {
  static const std::string colors[kPaletteSize] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  const int i = ((index % kPaletteSize) + kPaletteSize) % kPaletteSize;
  return colors[i];
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') out += ' ';
        else out += c;
    }
  }
  return out;
}

// ---- ticks ------------------------------------------------------------------------------------

static double nice_step(double span, int target, bool integer) {
  const double raw = span / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
  return integer ? std::max(1.0, step) : step;
}

std::vector<double> nice_ticks(double lo, double hi, int target, bool integer) {
  std::vector<double> out;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return out;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= 0) {
    out.push_back(lo);
    return out;
  }
  if (!std::isfinite(hi - lo)) {  // -1e308..1e308: the span overflows; tick half the range, then double
    out = nice_ticks(lo / 2, hi / 2, target, integer);
    for (double& v : out) v *= 2;
    return out;
  }
  const double step = nice_step(hi - lo, target, integer);
  const double eps = step * 1e-9;
  const auto first = static_cast<int64_t>(std::ceil((lo - eps) / step));
  for (int64_t k = first;; ++k) {
    double v = static_cast<double>(k) * step;
    if (v > hi + eps) break;
    if (std::fabs(v) < eps) v = 0.0;  // no "-0"
    out.push_back(v);
    if (out.size() > 1000) break;  // cannot happen with a finite span; a guard all the same
  }
  return out;
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> out;
  if (!(lo > 0) || !(hi > 0) || !std::isfinite(lo) || !std::isfinite(hi)) return out;
  if (lo > hi) std::swap(lo, hi);
  // The difference of logarithms, not log10(hi / lo): the quotient overflows to infinity for a span
  // like 1e-300..1e300 (a history.csv can hold anything), and infinity cannot become a stride.
  const double decades = std::log10(hi) - std::log10(lo);
  if (decades < 1.0) return nice_ticks(lo, hi, 4);  // within one decade: ordinary ticks read better
  const int e0 = static_cast<int>(std::floor(std::log10(lo))), e1 = static_cast<int>(std::ceil(std::log10(hi)));
  const bool with_2_5 = decades <= 2.5;
  const int stride = std::max(1, static_cast<int>(std::ceil(decades / 7.0)));
  for (int e = e0; e <= e1; ++e) {
    const double p = std::pow(10.0, e);
    for (double m : {1.0, 2.0, 5.0}) {
      if (m != 1.0 && !with_2_5) continue;
      if (m == 1.0 && (e - e0) % stride != 0) continue;
      const double v = m * p;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
    }
  }
  return out;
}

std::string format_tick(double value, double step) {
  if (!std::isfinite(value)) return "nan";
  if (std::fabs(value) <= std::fabs(step) * 1e-9 || value == 0.0) return "0";
  const double a = std::fabs(value);
  char buf[64];
  if (a >= 1e6 || a < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.3g", value);
    std::string s = buf;
    // 1e-05 -> 1e-5, 2.5e+06 -> 2.5e6
    const size_t e = s.find('e');
    if (e != std::string::npos) {
      std::string mant = s.substr(0, e), ex = s.substr(e + 1);
      bool neg = false;
      if (!ex.empty() && (ex[0] == '+' || ex[0] == '-')) {
        neg = ex[0] == '-';
        ex.erase(0, 1);
      }
      while (ex.size() > 1 && ex[0] == '0') ex.erase(0, 1);
      s = mant + "e" + (neg ? "-" : "") + ex;
    }
    return s;
  }
  const double st = step > 0 && std::isfinite(step) ? step : a;
  const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(st) - 1e-9)), 0, 10);
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

double Scale::operator()(double v) const {
  double t;
  if (log) {
    const double l0 = std::log10(d0), l1 = std::log10(d1);
    t = l1 == l0 ? 0.5 : (std::log10(v) - l0) / (l1 - l0);
  } else {
    t = d1 == d0 ? 0.5 : (v / 2 - d0 / 2) / (d1 / 2 - d0 / 2);  // halves: d1 - d0 may overflow
  }
  return p0 + t * (p1 - p0);
}

// ---- text -------------------------------------------------------------------------------------

namespace svg {

double text_width(const std::string& s, double font) {
  // Average advance of a sans-serif face; good enough to reserve room and avoid overlaps.
  double units = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    units += (c == 'i' || c == 'l' || c == '.' || c == ',' || c == '1' || c == '(' || c == ')' || c == ' ') ? 0.42 : 0.62;
  }
  return units * font;
}

std::string num(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

void draw_text(std::ostringstream& os, double x, double y, const std::string& text, double font,
               const char* anchor, const char* extra) {
  os << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\"" << num(font) << "\" text-anchor=\""
     << anchor << "\"" << extra << ">" << xml_escape(text) << "</text>\n";
}

}  // namespace svg

using svg::draw_panel;
using svg::draw_text;
using svg::num;

std::string render_svg(const Figure& fig) {
  const int cols = std::max(1, fig.columns);
  const size_t n = fig.panels.size();
  const size_t used_cols = std::min<size_t>(static_cast<size_t>(cols), std::max<size_t>(1, n));
  const double width = fig.panel_width * static_cast<double>(used_cols);
  double height = fig.title.empty() ? 0 : 40;
  for (size_t r = 0; r * cols < n; ++r) {
    double h = 0;
    for (size_t i = r * cols; i < std::min(n, (r + 1) * cols); ++i)
      h = std::max(h, fig.panels[i].height > 0 ? fig.panels[i].height : fig.panel_height);
    height += h;
  }
  if (n == 0) height = std::max(height, 40.0);
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << num(width) << "\" height=\""
     << num(height) << "\" viewBox=\"0 0 " << num(width) << " " << num(height)
     << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  os << "<rect x=\"0\" y=\"0\" width=\"" << num(width) << "\" height=\"" << num(height) << "\" fill=\"white\"/>\n";
  if (!fig.title.empty())
    draw_text(os, width / 2, 27, fig.title, 17, "middle", " font-weight=\"bold\"");
  for (size_t i = 0; i < n; ++i) draw_panel(os, fig, i);
  os << "</svg>\n";
  return os.str();
}

void write_svg(const Figure& fig, const std::string& path) {
  check(!path.empty(), "plot: empty output path");
  write_file_atomic(path, render_svg(fig));
}

}  // namespace nnlab::plot
