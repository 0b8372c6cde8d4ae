// A panel drawn as SVG: grid, heat maps, series, scatter points, markers with their labels, the
// frame with ticks and axis labels, and the legend, in that order (later parts on top). Marker
// labels and the legend go where they hide the fewest of the points already drawn.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "nnlab/report/plot.hpp"
#include "svg_internal.hpp"

namespace nnlab::plot::svg {

namespace {

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

struct LegendEntry {
  std::string text;
  std::string color;
  bool dashed = false;
  bool dot = false;  // a point instead of a line
};

using Occupied = std::vector<std::pair<double, double>>;  // sample points of everything drawn

// The panel's title and note above the plot area, and the clip path that keeps the data inside it.
void draw_header(std::ostringstream& os, const Panel& p, const Layout& L, const Box& area, const std::string& clip) {
  const PanelFrame& F = L.frame;
  if (!p.title.empty()) draw_text(os, F.left + F.width / 2, L.title_y, p.title, kTitleFont, "middle", " font-weight=\"bold\"");
  if (!p.note.empty()) draw_text(os, F.left + F.width / 2, L.note_y, p.note, kTickFont, "middle", " fill=\"#555\"");
  os << "<clipPath id=\"" << clip << "\"><rect x=\"" << num(area.x0) << "\" y=\"" << num(area.y0) << "\" width=\""
     << num(F.width) << "\" height=\"" << num(F.height) << "\"/></clipPath>\n";
}

// The grid: light lines across the plot area at every x and y tick.
void draw_grid(std::ostringstream& os, const Layout& L, const Box& area) {
  const PanelFrame& F = L.frame;
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
}

// A heat map's class boundary: the edges between cells of different class, as one path.
void draw_class_boundary(std::ostringstream& os, const Heatmap& h, const PanelFrame& F, double dx, double dy) {
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

// A heat map: runs of equal colour along each row merged into one rectangle, then its class boundary.
void draw_heatmap(std::ostringstream& os, const Heatmap& h, const PanelFrame& F) {
  if (h.nx <= 0 || h.ny <= 0 || h.cls.size() != static_cast<size_t>(h.nx) * h.ny) return;
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
  if (h.boundary) draw_class_boundary(os, h, F, dx, dy);
}

// Thin lines at x = 0 and y = 0, where zero is inside the axes' ranges.
void draw_zero_lines(std::ostringstream& os, const Panel& p, const PanelFrame& F, const Box& area) {
  os << "<g stroke=\"#999\" stroke-width=\"1\">\n";
  if (usable(0, p.x.log) && F.x.d0 < 0 && F.x.d1 > 0)
    os << "<line x1=\"" << num(F.x(0)) << "\" y1=\"" << num(area.y0) << "\" x2=\"" << num(F.x(0)) << "\" y2=\"" << num(area.y1) << "\"/>\n";
  if (usable(0, p.y.log) && F.y.d0 < 0 && F.y.d1 > 0)
    os << "<line x1=\"" << num(area.x0) << "\" y1=\"" << num(F.y(0)) << "\" x2=\"" << num(area.x1) << "\" y2=\"" << num(F.y(0)) << "\"/>\n";
  os << "</g>\n";
}

// A series' path data; its points, and samples along its segments, go to `occupied`.
std::string path_data(const SeriesPixels& px, Occupied& occupied) {
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
  return d.str();
}

// The panel's series on one y axis (secondary: the right one): a line each, with dots where asked
// and at isolated points, and their legend entries.
void draw_series(std::ostringstream& os, const Panel& p, const PanelFrame& F, bool secondary, Occupied& occupied,
                 std::vector<LegendEntry>& legend) {
  const std::vector<Series>& list = secondary ? p.series2 : p.series;
  const Scale& sy = secondary ? F.y2 : F.y;
  for (size_t n = 0; n < list.size(); ++n) {
    const Series& s = list[n];
    const int ci = s.color >= 0 ? s.color : static_cast<int>(n + (secondary ? p.series.size() : 0));
    const std::string& color = palette(ci);
    const SeriesPixels px = to_pixels(s, F.x, sy);
    if (!s.name.empty()) legend.push_back({s.name + (secondary ? " (right axis)" : ""), color, s.dashed, false});
    if (px.runs.empty()) continue;
    os << "<path class=\"series\" data-name=\"" << xml_escape(s.name) << "\" d=\"" << path_data(px, occupied)
       << "\" fill=\"none\" stroke=\"" << color << "\" stroke-width=\"" << num(s.width)
       << "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" << (s.dashed ? " stroke-dasharray=\"7 5\"" : "")
       << "/>\n";
    for (const auto& run : px.runs)
      if (s.points || run.size() == 1)
        for (const auto& [x, y] : run)
          os << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"" << num(s.width + 1.5) << "\" fill=\""
             << color << "\"/>\n";
  }
}

// Scatter points, outlined, with their legend entries.
void draw_scatter(std::ostringstream& os, const Panel& p, const PanelFrame& F, Occupied& occupied,
                  std::vector<LegendEntry>& legend) {
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
}

// Where a marker's label goes: its box, the text's anchor point, and how far off the point it is.
struct LabelPlace {
  Box b;
  double tx, ty, best_off;
  bool right;
};

// The label goes beside the point (above or below, right or left, near or a little further off)
// where it stays inside the plot area and covers the fewest drawn points.
LabelPlace place_label(double x, double y, double w, const Box& area, const Occupied& occupied,
                       const std::vector<Box>& label_boxes) {
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
  return {b, tx, ty, best_off, right};
}

// Markers: the point and an optional guide line, drawn now; their labels on white patches are
// returned, to go on top of everything else. `label_boxes` gets the points and the labels.
std::string draw_markers(std::ostringstream& os, const Panel& p, const PanelFrame& F, const Box& area,
                         const Occupied& occupied, std::vector<Box>& label_boxes) {
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
    const auto [b, tx, ty, best_off, right] =
        place_label(x, y, text_width(m.label, kLegendFont), area, occupied, label_boxes);
    // A thin line joins a label set further off to its point.
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
  return labels.str();
}

// The frame around the plot area, the ticks with their labels, and the axis labels (the y axes'
// turned on their side).
void draw_axes(std::ostringstream& os, const Panel& p, const Layout& L, const Box& area) {
  const PanelFrame& F = L.frame;
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
}

// The legend: at the corner (or edge middle) of the plot area that covers the fewest drawn points
// and no marker label.
void draw_legend(std::ostringstream& os, const std::vector<LegendEntry>& legend, const PanelFrame& F, const Box& area,
                 const Occupied& occupied, const std::vector<Box>& label_boxes) {
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

}  // namespace

void draw_panel(std::ostringstream& os, const Figure& fig, size_t index) {
  const Panel& p = fig.panels[index];
  const Layout L = layout(fig, index);
  const PanelFrame& F = L.frame;
  const Box area{F.left, F.top, F.left + F.width, F.top + F.height};
  const std::string clip = "clip" + std::to_string(index);

  os << "<g class=\"panel\">\n";
  draw_header(os, p, L, area, clip);
  draw_grid(os, L, area);

  os << "<g clip-path=\"url(#" << clip << ")\">\n";
  for (const Heatmap& h : p.heatmaps) draw_heatmap(os, h, F);
  if (p.zero_lines) draw_zero_lines(os, p, F, area);
  // Series, keeping their pixels for the placement of the marker labels and the legend.
  Occupied occupied;
  std::vector<LegendEntry> legend;
  draw_series(os, p, F, false, occupied, legend);
  if (F.has_y2) draw_series(os, p, F, true, occupied, legend);
  draw_scatter(os, p, F, occupied, legend);
  os << "</g>\n";  // end of the clipped group

  std::vector<Box> label_boxes;
  const std::string labels = draw_markers(os, p, F, area, occupied, label_boxes);
  draw_axes(os, p, L, area);
  if (p.legend && !legend.empty()) draw_legend(os, legend, F, area, occupied, label_boxes);
  os << labels;
  os << "</g>\n";
}

}  // namespace nnlab::plot::svg
