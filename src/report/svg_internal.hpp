// Private to src/report/svg*.cpp: what the SVG document (svg.cpp), the panel layout
// (svg_layout.cpp) and the panel drawing (svg_panel.cpp) share: font sizes, numbers and text as SVG,
// and where a panel's parts go.
#pragma once
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "axes.hpp"
#include "nnlab/report/plot.hpp"

namespace nnlab::plot::svg {

inline constexpr double kTitleFont = 15, kLabelFont = 13, kTickFont = 11, kLegendFont = 12;

double text_width(const std::string& s, double font);
// A coordinate as SVG text: one decimal at most, "12" rather than "12.0", never "-0".
std::string num(double v);
inline bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }
void draw_text(std::ostringstream& os, double x, double y, const std::string& text, double font,
               const char* anchor = "middle", const char* extra = "");

struct Layout {
  double cell_x = 0, cell_y = 0, cell_w = 0, cell_h = 0;  // the panel's whole cell
  PanelFrame frame;
  std::vector<double> xt, yt, y2t;
  std::vector<std::string> xl, yl, y2l;
  double title_y = 0, note_y = 0;
  double left_margin = 0, right_margin = 0;
};

// Panel `index` of `fig` laid out with the margins of its column, so that stacked panels line up.
Layout layout(const Figure& fig, size_t index);

void draw_panel(std::ostringstream& os, const Figure& fig, size_t index);

}  // namespace nnlab::plot::svg
