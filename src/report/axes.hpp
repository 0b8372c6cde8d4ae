// Private to src/report (and tests/test_plots.cpp, which checks them): the axes of a plot: tick
// values and labels, the data-to-pixel scales, and where a panel's plot area lies. Not part of the
// public API: users draw with the Figure and render_svg() of nnlab/report/plot.hpp.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "nnlab/report/plot.hpp"

namespace nnlab::plot {

// Tick values inside [lo, hi], about `target` of them, at steps of 1, 2 or 5 x 10^k:
// nice_ticks(0, 0.87) = {0, 0.2, 0.4, 0.6, 0.8}. integer: steps of at least 1.
std::vector<double> nice_ticks(double lo, double hi, int target = 5, bool integer = false);
// Log-scale ticks in [lo, hi] (both > 0): powers of ten, plus 2 and 5 times them over short ranges.
std::vector<double> log_ticks(double lo, double hi);
// A tick label: "0.2", "1000", "1e-05" -> "1e-5"; `step` decides the decimals.
std::string format_tick(double value, double step);

// Maps data values to SVG pixels along one axis.
struct Scale {
  double d0 = 0, d1 = 1;  // data range
  double p0 = 0, p1 = 1;  // pixel range (p0 for d0)
  bool log = false;
  double operator()(double v) const;
};

// Where panel `index` of `fig` is drawn: its plot area in SVG pixels and its scales, exactly as
// render_svg() uses them.
struct PanelFrame {
  double left = 0, top = 0, width = 0, height = 0;  // the plot area (inside the axes)
  Scale x, y, y2;
  bool has_y2 = false;
};
PanelFrame panel_frame(const Figure& fig, size_t index);

}  // namespace nnlab::plot
