// The SVG writer behind every plot: ticks, scales, panel layout and the drawing of series,
// markers, heat maps, scatter points and legends, as plain SVG text.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "nnlab/error.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/report/plot.hpp"

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
  const double decades = std::log10(hi / lo);
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
    t = d1 == d0 ? 0.5 : (v - d0) / (d1 - d0);
  }
  return p0 + t * (p1 - p0);
}

// ---- layout -----------------------------------------------------------------------------------

namespace {

constexpr double kTitleFont = 15, kLabelFont = 13, kTickFont = 11, kLegendFont = 12;

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

bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v, bool log) {
    if (!usable(v, log)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
};

// The data range of an axis, padded, with the axis's fixed range winning.
void finish_range(const Axis& axis, Range r, double& d0, double& d1) {
  if (axis.min < axis.max && (!axis.log || axis.min > 0)) {
    d0 = axis.min;
    d1 = axis.max;
    return;
  }
  if (r.empty()) {
    r.lo = axis.log ? 1 : 0;
    r.hi = axis.log ? 10 : 1;
  }
  if (axis.log) {
    double l0 = std::log10(r.lo), l1 = std::log10(r.hi);
    if (l1 - l0 < 1e-12) {
      l0 -= 0.5;
      l1 += 0.5;
    }
    const double p = (l1 - l0) * axis.pad;
    d0 = std::pow(10.0, l0 - p);
    d1 = std::pow(10.0, l1 + p);
    return;
  }
  double lo = r.lo, hi = r.hi;
  if (hi - lo <= std::max(1e-12, 1e-9 * std::fabs(hi))) {
    const double half = axis.integer ? 0.5 : (lo == 0 ? 0.5 : 0.1 * std::fabs(lo));
    lo -= half;
    hi += half;
  } else {
    const double p = (hi - lo) * axis.pad;
    lo -= p;
    hi += p;
  }
  d0 = lo;
  d1 = hi;
}

std::vector<double> axis_ticks(const Axis& axis, double d0, double d1, int target, double& step) {
  std::vector<double> t = axis.log ? log_ticks(d0, d1) : nice_ticks(d0, d1, target, axis.integer);
  step = t.size() >= 2 ? t[1] - t[0] : (t.empty() ? 1.0 : std::fabs(t[0]));
  return t;
}

std::vector<std::string> tick_labels(const Axis& axis, const std::vector<double>& ticks, double step) {
  std::vector<std::string> out;
  for (double v : ticks) {
    double st = step;
    if (axis.log) {  // 1, 2, 5 x 10^k: as few decimals as each value needs
      int d = 0;
      while (d < 10 && std::fabs(std::round(v * std::pow(10.0, d)) / std::pow(10.0, d) - v) > 1e-9 * std::fabs(v)) ++d;
      st = std::pow(10.0, -d);
    }
    out.push_back(format_tick(v, st));
  }
  return out;
}

struct Layout {
  double cell_x = 0, cell_y = 0, cell_w = 0, cell_h = 0;  // the panel's whole cell
  PanelFrame frame;
  std::vector<double> xt, yt, y2t;
  std::vector<std::string> xl, yl, y2l;
  double title_y = 0, note_y = 0;
  double left_margin = 0, right_margin = 0;
};

Range x_range(const Panel& p) {
  Range r;
  for (const auto* list : {&p.series, &p.series2})
    for (const auto& s : *list)
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
        if (std::isfinite(s.y[i])) r.add(s.x[i], p.x.log);
  for (const auto& m : p.markers) r.add(m.x, p.x.log);
  for (const auto& s : p.scatter)
    for (double v : s.x) r.add(v, p.x.log);
  for (const auto& h : p.heatmaps) {
    r.add(h.x0, p.x.log);
    r.add(h.x1, p.x.log);
  }
  return r;
}

Range y_range(const Panel& p, bool secondary) {
  const Axis& axis = secondary ? p.y2 : p.y;
  Range r;
  for (const auto& s : secondary ? p.series2 : p.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i])) r.add(s.y[i], axis.log);
  for (const auto& m : p.markers)
    if (m.secondary == secondary) r.add(m.y, axis.log);
  if (!secondary) {
    for (const auto& s : p.scatter)
      for (double v : s.y) r.add(v, axis.log);
    for (const auto& h : p.heatmaps) {
      r.add(h.y0, axis.log);
      r.add(h.y1, axis.log);
    }
  }
  return r;
}

double max_width(const std::vector<std::string>& labels, double font) {
  double w = 0;
  for (const auto& l : labels) w = std::max(w, text_width(l, font));
  return w;
}

// min_left, min_right: margins at least this wide, so that panels stacked in a column share their
// plot area's left and right edges.
Layout layout_panel(const Figure& fig, size_t index, double min_left, double min_right) {
  check(index < fig.panels.size(), "plot: no panel " + std::to_string(index));
  const Panel& p = fig.panels[index];
  Layout L;
  const int cols = std::max(1, fig.columns);
  const size_t row = index / static_cast<size_t>(cols), col = index % static_cast<size_t>(cols);
  auto panel_h = [&](size_t i) { return fig.panels[i].height > 0 ? fig.panels[i].height : fig.panel_height; };
  double y = fig.title.empty() ? 0 : 40;
  for (size_t r = 0; r < row; ++r) {
    double h = 0;
    for (size_t i = r * cols; i < std::min(fig.panels.size(), (r + 1) * cols); ++i) h = std::max(h, panel_h(i));
    y += h;
  }
  L.cell_x = static_cast<double>(col) * fig.panel_width;
  L.cell_y = y;
  L.cell_w = fig.panel_width;
  L.cell_h = panel_h(index);

  const bool y2 = !p.series2.empty();
  double top = 14;
  if (!p.title.empty()) {
    L.title_y = L.cell_y + top + kTitleFont;
    top += kTitleFont + 8;
  }
  if (!p.note.empty()) {
    L.note_y = L.cell_y + top + kTickFont;
    top += kTickFont + 6;
  }
  top += 6;
  const double bottom = 22 + kTickFont + (p.x.label.empty() ? 0 : kLabelFont + 6);
  PanelFrame& F = L.frame;
  F.top = L.cell_y + top;
  F.height = std::max(20.0, L.cell_h - top - bottom);

  double d0, d1;
  finish_range(p.y, y_range(p, false), d0, d1);
  double ystep;
  L.yt = axis_ticks(p.y, d0, d1, std::max(3, static_cast<int>(F.height / 60)), ystep);
  L.yl = tick_labels(p.y, L.yt, ystep);
  F.y = {d0, d1, F.top + F.height, F.top, p.y.log};

  double left = 10 + max_width(L.yl, kTickFont) + 8 + (p.y.label.empty() ? 0 : kLabelFont + 8);
  double right = 18;
  if (y2) {
    F.has_y2 = true;
    finish_range(p.y2, y_range(p, true), d0, d1);
    double step2;
    L.y2t = axis_ticks(p.y2, d0, d1, std::max(3, static_cast<int>(F.height / 60)), step2);
    L.y2l = tick_labels(p.y2, L.y2t, step2);
    F.y2 = {d0, d1, F.top + F.height, F.top, p.y2.log};
    right = 10 + max_width(L.y2l, kTickFont) + 8 + (p.y2.label.empty() ? 0 : kLabelFont + 8);
  }
  left = std::max(left, min_left);
  right = std::max(right, min_right);
  L.left_margin = left;
  L.right_margin = right;
  F.left = L.cell_x + left;
  F.width = std::max(20.0, L.cell_w - left - right);

  finish_range(p.x, x_range(p), d0, d1);
  double xstep;
  // Fewer ticks when the labels are long.
  int xtarget = std::max(2, static_cast<int>(F.width / 90));
  L.xt = axis_ticks(p.x, d0, d1, xtarget, xstep);
  L.xl = tick_labels(p.x, L.xt, xstep);
  while (xtarget > 2 && L.xt.size() > 1 && max_width(L.xl, kTickFont) + 12 > F.width / static_cast<double>(L.xt.size())) {
    --xtarget;
    L.xt = axis_ticks(p.x, d0, d1, xtarget, xstep);
    L.xl = tick_labels(p.x, L.xt, xstep);
  }
  F.x = {d0, d1, F.left, F.left + F.width, p.x.log};
  return L;
}

Layout layout(const Figure& fig, size_t index) {
  const size_t cols = static_cast<size_t>(std::max(1, fig.columns));
  double left = 0, right = 0;
  for (size_t i = index % cols; i < fig.panels.size(); i += cols) {
    const Layout own = layout_panel(fig, i, 0, 0);
    left = std::max(left, own.left_margin);
    right = std::max(right, own.right_margin);
  }
  return layout_panel(fig, index, left, right);
}

// ---- drawing ----------------------------------------------------------------------------------

struct Box {
  double x0, y0, x1, y1;
  bool contains(double x, double y) const { return x >= x0 && x <= x1 && y >= y0 && y <= y1; }
  bool overlaps(const Box& b) const { return x0 < b.x1 && b.x0 < x1 && y0 < b.y1 && b.y0 < y1; }
};

std::string blend_with_white(const std::string& hex, double alpha) {
  auto channel = [&](int i) { return std::stoi(hex.substr(1 + 2 * i, 2), nullptr, 16); };
  char buf[8];
  int c[3];
  for (int i = 0; i < 3; ++i) c[i] = static_cast<int>(std::lround(255 - alpha * (255 - channel(i))));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

struct SeriesPixels {
  std::vector<std::vector<std::pair<double, double>>> runs;  // connected pieces, in pixels
};

SeriesPixels to_pixels(const Series& s, const Scale& sx, const Scale& sy) {
  SeriesPixels out;
  bool open = false;
  for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
    if (!usable(s.x[i], sx.log) || !usable(s.y[i], sy.log)) {
      open = false;
      continue;
    }
    if (!open) out.runs.emplace_back();
    out.runs.back().emplace_back(sx(s.x[i]), sy(s.y[i]));
    open = true;
  }
  return out;
}

void draw_text(std::ostringstream& os, double x, double y, const std::string& text, double font,
               const char* anchor = "middle", const char* extra = "") {
  os << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\"" << num(font) << "\" text-anchor=\""
     << anchor << "\"" << extra << ">" << xml_escape(text) << "</text>\n";
}

struct LegendEntry {
  std::string text;
  std::string color;
  bool dashed = false;
  bool dot = false;  // a point instead of a line
};

void draw_panel(std::ostringstream& os, const Figure& fig, size_t index) {
  const Panel& p = fig.panels[index];
  const Layout L = layout(fig, index);
  const PanelFrame& F = L.frame;
  const Box area{F.left, F.top, F.left + F.width, F.top + F.height};
  const std::string clip = "clip" + std::to_string(index);

  os << "<g class=\"panel\">\n";
  if (!p.title.empty()) draw_text(os, F.left + F.width / 2, L.title_y, p.title, kTitleFont, "middle", " font-weight=\"bold\"");
  if (!p.note.empty()) draw_text(os, F.left + F.width / 2, L.note_y, p.note, kTickFont, "middle", " fill=\"#555\"");
  os << "<clipPath id=\"" << clip << "\"><rect x=\"" << num(area.x0) << "\" y=\"" << num(area.y0) << "\" width=\""
     << num(F.width) << "\" height=\"" << num(F.height) << "\"/></clipPath>\n";

  // Grid.
  os << "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n";
  for (double v : L.xt) {
    const double x = F.x(v);
    os << "<line x1=\"" << num(x) << "\" y1=\"" << num(area.y0) << "\" x2=\"" << num(x) << "\" y2=\"" << num(area.y1) << "\"/>\n";
  }
  for (double v : L.yt) {
    const double y = F.y(v);
    os << "<line x1=\"" << num(area.x0) << "\" y1=\"" << num(y) << "\" x2=\"" << num(area.x1) << "\" y2=\"" << num(y) << "\"/>\n";
  }
  os << "</g>\n";

  os << "<g clip-path=\"url(#" << clip << ")\">\n";
  // Heat maps: runs of equal colour along each row merged into one rectangle.
  for (const Heatmap& h : p.heatmaps) {
    if (h.nx <= 0 || h.ny <= 0 || h.cls.size() != static_cast<size_t>(h.nx) * h.ny) continue;
    const double dx = (h.x1 - h.x0) / h.nx, dy = (h.y1 - h.y0) / h.ny;
    auto level = [&](size_t k) {
      const double s = h.shade.size() == h.cls.size() ? std::clamp(h.shade[k], 0.0, 1.0) : 0.5;
      return static_cast<int>(std::lround(s * 7));
    };
    os << "<g class=\"heatmap\" shape-rendering=\"crispEdges\">\n";
    for (int j = 0; j < h.ny; ++j) {
      const double ya = F.y(h.y0 + (j + 1) * dy), yb = F.y(h.y0 + j * dy);
      int i = 0;
      while (i < h.nx) {
        const size_t k = static_cast<size_t>(j) * h.nx + i;
        const int c = h.cls[k], lv = level(k);
        int e = i + 1;
        while (e < h.nx && h.cls[k + (e - i)] == c && level(k + (e - i)) == lv) ++e;
        const double xa = F.x(h.x0 + i * dx), xb = F.x(h.x0 + e * dx);
        os << "<rect x=\"" << num(std::min(xa, xb)) << "\" y=\"" << num(std::min(ya, yb)) << "\" width=\""
           << num(std::fabs(xb - xa) + 0.6) << "\" height=\"" << num(std::fabs(yb - ya) + 0.6) << "\" fill=\""
           << blend_with_white(palette(c), 0.15 + 0.45 * lv / 7.0) << "\"/>\n";
        i = e;
      }
    }
    os << "</g>\n";
    if (h.boundary) {
      std::ostringstream d;
      for (int j = 0; j < h.ny; ++j)
        for (int i = 0; i < h.nx; ++i) {
          const size_t k = static_cast<size_t>(j) * h.nx + i;
          if (i + 1 < h.nx && h.cls[k] != h.cls[k + 1]) {
            const double x = F.x(h.x0 + (i + 1) * dx);
            d << "M" << num(x) << " " << num(F.y(h.y0 + j * dy)) << "V" << num(F.y(h.y0 + (j + 1) * dy));
          }
          if (j + 1 < h.ny && h.cls[k] != h.cls[k + h.nx]) {
            const double y = F.y(h.y0 + (j + 1) * dy);
            d << "M" << num(F.x(h.x0 + i * dx)) << " " << num(y) << "H" << num(F.x(h.x0 + (i + 1) * dx));
          }
        }
      if (!d.str().empty())
        os << "<path class=\"boundary\" d=\"" << d.str()
           << "\" fill=\"none\" stroke=\"#222\" stroke-width=\"1.6\" stroke-linecap=\"square\"/>\n";
    }
  }
  if (p.zero_lines) {
    os << "<g stroke=\"#999\" stroke-width=\"1\">\n";
    if (usable(0, p.x.log) && F.x.d0 < 0 && F.x.d1 > 0)
      os << "<line x1=\"" << num(F.x(0)) << "\" y1=\"" << num(area.y0) << "\" x2=\"" << num(F.x(0)) << "\" y2=\"" << num(area.y1) << "\"/>\n";
    if (usable(0, p.y.log) && F.y.d0 < 0 && F.y.d1 > 0)
      os << "<line x1=\"" << num(area.x0) << "\" y1=\"" << num(F.y(0)) << "\" x2=\"" << num(area.x1) << "\" y2=\"" << num(F.y(0)) << "\"/>\n";
    os << "</g>\n";
  }

  // Series, keeping their pixels for the legend's placement.
  std::vector<std::pair<double, double>> occupied;  // sample points of everything drawn
  std::vector<LegendEntry> legend;
  auto draw_series = [&](const std::vector<Series>& list, const Scale& sy, bool secondary) {
    for (size_t n = 0; n < list.size(); ++n) {
      const Series& s = list[n];
      const int ci = s.color >= 0 ? s.color : static_cast<int>(n + (secondary ? p.series.size() : 0));
      const std::string& color = palette(ci);
      const SeriesPixels px = to_pixels(s, F.x, sy);
      if (!s.name.empty()) legend.push_back({s.name + (secondary ? " (right axis)" : ""), color, s.dashed, false});
      if (px.runs.empty()) continue;
      std::ostringstream d;
      for (const auto& run : px.runs) {
        for (size_t i = 0; i < run.size(); ++i) {
          d << (i == 0 ? "M" : "L") << num(run[i].first) << " " << num(run[i].second);
          if (i > 0) {  // samples along the segment, every ~6 px
            const auto [xa, ya] = run[i - 1];
            const auto [xb, yb] = run[i];
            const int k = std::min(200, static_cast<int>(std::hypot(xb - xa, yb - ya) / 6));
            for (int t = 1; t <= k; ++t)
              occupied.emplace_back(xa + (xb - xa) * t / (k + 1), ya + (yb - ya) * t / (k + 1));
          }
          occupied.push_back(run[i]);
        }
      }
      os << "<path class=\"series\" data-name=\"" << xml_escape(s.name) << "\" d=\"" << d.str()
         << "\" fill=\"none\" stroke=\"" << color << "\" stroke-width=\"" << num(s.width)
         << "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" << (s.dashed ? " stroke-dasharray=\"7 5\"" : "")
         << "/>\n";
      for (const auto& run : px.runs)
        if (s.points || run.size() == 1)
          for (const auto& [x, y] : run)
            os << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"" << num(s.width + 1.5) << "\" fill=\""
               << color << "\"/>\n";
    }
  };
  draw_series(p.series, F.y, false);
  if (F.has_y2) draw_series(p.series2, F.y2, true);

  for (const Scatter& s : p.scatter) {
    const std::string& color = palette(s.color);
    if (!s.name.empty()) legend.push_back({s.name, color, false, true});
    os << "<g class=\"scatter\" fill=\"" << color << "\" stroke=\"#222\" stroke-width=\"1.2\">\n";
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.x[i], p.x.log) || !usable(s.y[i], p.y.log)) continue;
      const double x = F.x(s.x[i]), y = F.y(s.y[i]);
      os << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"" << num(s.radius) << "\"/>\n";
      for (int t = 0; t < 4; ++t) occupied.emplace_back(x, y);  // points weigh more than line samples
    }
    os << "</g>\n";
  }
  os << "</g>\n";  // end of the clipped group

  // Markers: the point, an optional guide line, and a label on a white patch.
  std::vector<Box> label_boxes;
  std::ostringstream labels;
  for (const Marker& m : p.markers) {
    const Scale& sy = m.secondary && F.has_y2 ? F.y2 : F.y;
    if (!usable(m.x, p.x.log) || !usable(m.y, sy.log)) continue;
    const double x = F.x(m.x), y = sy(m.y);
    const std::string& color = palette(m.color);
    if (m.vline)
      os << "<line class=\"marker-line\" x1=\"" << num(x) << "\" y1=\"" << num(area.y0) << "\" x2=\"" << num(x)
         << "\" y2=\"" << num(area.y1) << "\" stroke=\"" << color << "\" stroke-width=\"1\" stroke-dasharray=\"2 3\"/>\n";
    os << "<circle class=\"marker\" cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"5.5\" fill=\"" << color
       << "\" stroke=\"white\" stroke-width=\"1.5\"/>\n";
    const Box point{x - 7, y - 7, x + 7, y + 7};
    if (m.label.empty()) {
      label_boxes.push_back(point);
      continue;
    }
    // The label goes beside the point (above or below, right or left, near or a little further off)
    // where it stays inside the plot area and covers the fewest drawn points; a thin line joins a
    // label set further off to its point.
    const double w = text_width(m.label, kLegendFont);
    bool right = true;
    double tx = 0, ty = 0, best_cover = std::numeric_limits<double>::infinity(), best_off = 9;
    Box b{};
    for (double off : {9.0, 30.0, 60.0})
      for (int k = 0; k < 4; ++k) {
        const bool r = k == 0 || k == 2, a = k < 2;  // right of the point, above it
        const double cx = r ? x + 9 : x - 9, cy = a ? y - off : y + off + kLegendFont;
        const Box cand{r ? cx - 3 : cx - w - 3, cy - kLegendFont, r ? cx + w + 3 : cx + 3, cy + 4};
        double cover = off > 9 ? 2 : 0;  // near is better when all else is equal
        for (const auto& [ox, oy] : occupied) cover += cand.contains(ox, oy);
        if (cand.x0 < area.x0 || cand.x1 > area.x1 || cand.y0 < area.y0 || cand.y1 > area.y1) cover += 1e6;
        for (const Box& lb : label_boxes) cover += cand.overlaps(lb) ? 1e3 : 0;
        if (cover < best_cover) best_cover = cover, right = r, tx = cx, ty = cy, b = cand, best_off = off;
      }
    if (best_off > 9)
      labels << "<line x1=\"" << num(x) << "\" y1=\"" << num(y) << "\" x2=\"" << num(right ? b.x0 : b.x1) << "\" y2=\""
             << num(ty < y ? b.y1 : b.y0) << "\" stroke=\"" << color << "\" stroke-width=\"1\"/>\n";
    label_boxes.push_back(point);
    label_boxes.push_back(b);
    labels << "<rect x=\"" << num(b.x0) << "\" y=\"" << num(b.y0) << "\" width=\"" << num(b.x1 - b.x0) << "\" height=\""
           << num(b.y1 - b.y0) << "\" fill=\"white\" fill-opacity=\"0.85\" rx=\"2\"/>\n";
    labels << "<text class=\"marker-label\" x=\"" << num(tx) << "\" y=\"" << num(ty) << "\" font-size=\""
           << num(kLegendFont) << "\" text-anchor=\"" << (right ? "start" : "end") << "\" fill=\"" << color
           << "\" font-weight=\"bold\">" << xml_escape(m.label) << "</text>\n";
  }

  // Frame, ticks and axis labels.
  os << "<rect x=\"" << num(area.x0) << "\" y=\"" << num(area.y0) << "\" width=\"" << num(F.width) << "\" height=\""
     << num(F.height) << "\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n";
  os << "<g stroke=\"#444\" stroke-width=\"1\">\n";
  for (double v : L.xt)
    os << "<line x1=\"" << num(F.x(v)) << "\" y1=\"" << num(area.y1) << "\" x2=\"" << num(F.x(v)) << "\" y2=\"" << num(area.y1 + 5) << "\"/>\n";
  for (double v : L.yt)
    os << "<line x1=\"" << num(area.x0 - 5) << "\" y1=\"" << num(F.y(v)) << "\" x2=\"" << num(area.x0) << "\" y2=\"" << num(F.y(v)) << "\"/>\n";
  for (double v : L.y2t)
    os << "<line x1=\"" << num(area.x1) << "\" y1=\"" << num(F.y2(v)) << "\" x2=\"" << num(area.x1 + 5) << "\" y2=\"" << num(F.y2(v)) << "\"/>\n";
  os << "</g>\n<g class=\"ticks\" fill=\"#333\">\n";
  for (size_t i = 0; i < L.xt.size(); ++i) draw_text(os, F.x(L.xt[i]), area.y1 + 8 + kTickFont, L.xl[i], kTickFont);
  for (size_t i = 0; i < L.yt.size(); ++i) draw_text(os, area.x0 - 8, F.y(L.yt[i]) + kTickFont * 0.35, L.yl[i], kTickFont, "end");
  for (size_t i = 0; i < L.y2t.size(); ++i) draw_text(os, area.x1 + 8, F.y2(L.y2t[i]) + kTickFont * 0.35, L.y2l[i], kTickFont, "start");
  os << "</g>\n";
  if (!p.x.label.empty()) draw_text(os, area.x0 + F.width / 2, area.y1 + 14 + kTickFont + kLabelFont, p.x.label, kLabelFont);
  if (!p.y.label.empty()) {
    const double x = L.cell_x + 8 + kLabelFont, y = area.y0 + F.height / 2;
    draw_text(os, x, y, p.y.label, kLabelFont, "middle", (" transform=\"rotate(-90 " + num(x) + " " + num(y) + ")\"").c_str());
  }
  if (F.has_y2 && !p.y2.label.empty()) {
    const double x = L.cell_x + L.cell_w - 8, y = area.y0 + F.height / 2;
    draw_text(os, x, y, p.y2.label, kLabelFont, "middle", (" transform=\"rotate(-90 " + num(x) + " " + num(y) + ")\"").c_str());
  }

  // Legend: at the corner (or edge middle) of the plot area that covers the fewest drawn points
  // and no marker label.
  if (p.legend && !legend.empty()) {
    double tw = 0;
    for (const auto& e : legend) tw = std::max(tw, text_width(e.text, kLegendFont));
    const double row = kLegendFont + 6, bw = 10 + 26 + 6 + tw + 10, bh = 8 + row * legend.size() + 2;
    const double in = 8;
    const double xs[3] = {area.x1 - in - bw, area.x0 + in, area.x0 + (F.width - bw) / 2};
    const double ys[3] = {area.y0 + in, area.y1 - in - bh, area.y0 + (F.height - bh) / 2};
    // Preference order: top right, top left, bottom right, bottom left, top middle, bottom middle,
    // middle right, middle left.
    const int order[8][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {2, 0}, {2, 1}, {0, 2}, {1, 2}};
    double best_score = std::numeric_limits<double>::infinity();
    Box best{};
    for (const auto& o : order) {
      const Box b{xs[o[0]], ys[o[1]], xs[o[0]] + bw, ys[o[1]] + bh};
      double score = 0;
      for (const auto& [x, y] : occupied) score += b.contains(x, y);
      for (const Box& lb : label_boxes) score += b.overlaps(lb) ? 1000 : 0;
      if (score < best_score - 1e-9) {
        best_score = score;
        best = b;
      }
    }
    os << "<g class=\"legend\">\n<rect x=\"" << num(best.x0) << "\" y=\"" << num(best.y0) << "\" width=\"" << num(bw)
       << "\" height=\"" << num(bh) << "\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#bbb\" rx=\"3\"/>\n";
    for (size_t i = 0; i < legend.size(); ++i) {
      const auto& e = legend[i];
      const double cy = best.y0 + 8 + row * i + row / 2 - 2;
      const double lx = best.x0 + 10;
      if (e.dot) {
        os << "<circle cx=\"" << num(lx + 13) << "\" cy=\"" << num(cy) << "\" r=\"5\" fill=\"" << e.color
           << "\" stroke=\"#222\" stroke-width=\"1.2\"/>\n";
      } else {
        os << "<line x1=\"" << num(lx) << "\" y1=\"" << num(cy) << "\" x2=\"" << num(lx + 26) << "\" y2=\"" << num(cy)
           << "\" stroke=\"" << e.color << "\" stroke-width=\"2.5\"" << (e.dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>\n";
      }
      draw_text(os, lx + 32, cy + kLegendFont * 0.35, e.text, kLegendFont, "start");
    }
    os << "</g>\n";
  }
  os << labels.str();
  os << "</g>\n";
}

}  // namespace

PanelFrame panel_frame(const Figure& fig, size_t index) { return layout(fig, index).frame; }

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
