// A panel's layout: the data ranges of its axes, their ticks and tick labels, and the margins and
// plot area that make room for them.
#include <algorithm>
#include <cmath>
#include <limits>

#include "nnlab/error.hpp"
#include "nnlab/report/plot.hpp"
#include "svg_internal.hpp"

namespace nnlab::plot {

namespace svg {

namespace {

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
    // Padding a range near the ends of double's own range must not step off them.
    d0 = std::max(std::pow(10.0, l0 - p), std::numeric_limits<double>::min());
    d1 = std::min(std::pow(10.0, l1 + p), std::numeric_limits<double>::max());
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
  d0 = std::max(lo, std::numeric_limits<double>::lowest());
  d1 = std::min(hi, std::numeric_limits<double>::max());
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

}  // namespace

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

}  // namespace svg

PanelFrame panel_frame(const Figure& fig, size_t index) { return svg::layout(fig, index).frame; }

}  // namespace nnlab::plot
