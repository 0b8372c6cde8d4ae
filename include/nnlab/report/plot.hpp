// Plots as SVG text, with no dependencies: line charts (training curves, learning rate, activation
// curves) and decision-region maps. The primitives (Figure, Panel, Series, ...) are drawn by
// render_svg() in src/report/svg.cpp; the course's pictures are built from them in
// src/report/plots.cpp.
//
//   nnlab::plot::Figure fig;
//   auto& p = fig.panels.emplace_back();
//   p.title = "loss"; p.x.label = "epoch"; p.y.label = "loss";
//   p.series.push_back({.name = "loss", .x = {1, 2, 3}, .y = {0.9, 0.5, 0.4}});
//   nnlab::plot::write_svg(fig, "loss.svg");
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/model.hpp"
#include "nnlab/training/history.hpp"

namespace nnlab {
namespace plot {

// ---- primitives -------------------------------------------------------------------------------

// Colours by index into a fixed palette (matplotlib's "tab10"); indices wrap around.
const std::string& palette(int index);
constexpr int kPaletteSize = 10;

struct Axis {
  std::string label;
  bool log = false;      // log10 scale; values <= 0 are not drawn
  bool integer = false;  // ticks on whole numbers only (epochs)
  double min = 0, max = 0;  // fixed range when min < max; otherwise from the data (padded)
  double pad = 0.05;        // fraction of the data range added on both sides
};

struct Series {
  std::string name;          // legend text; "" = not in the legend
  std::vector<double> x, y;  // same length; a non-finite y (NaN) leaves a gap
  int color = -1;            // palette index; -1 = the series' position in its panel
  bool dashed = false;
  bool points = false;       // a dot at every point (isolated points always get one)
  double width = 2.0;        // stroke width in pixels
};

// A labelled point, e.g. "best epoch 4".
struct Marker {
  double x = 0, y = 0;
  std::string label;
  int color = 3;         // palette index (red)
  bool vline = false;    // a dotted vertical guide line through the point
  bool secondary = false;  // y is on the panel's secondary (right) axis
};

// Cells coloured by class over a rectangle: decision regions.
struct Heatmap {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // the area covered
  int nx = 0, ny = 0;                     // cells across and up
  std::vector<int> cls;         // (ny, nx), row 0 at y0: the class of each cell (colour = palette[class])
  std::vector<double> shade;    // (ny, nx) in [0, 1]: how sure (pale to strong); empty = all 0.5
  bool boundary = true;         // outline the edges between cells of different class
};

// Points without lines, coloured by palette index.
struct Scatter {
  std::string name;  // legend text
  std::vector<double> x, y;
  int color = 0;
  double radius = 5;
};

struct Panel {
  std::string title;
  Axis x, y;
  std::vector<Series> series;
  // Series drawn against a secondary y axis on the right (e.g. the learning rate); y2 labels it.
  std::vector<Series> series2;
  Axis y2;
  std::vector<Marker> markers;
  std::vector<Heatmap> heatmaps;  // drawn first, under everything
  std::vector<Scatter> scatter;
  bool legend = true;
  bool zero_lines = false;  // thin lines at x = 0 and y = 0
  double height = 0;        // pixels; 0 = the figure's panel_height
  std::string note;         // a small line of text under the title
};

struct Figure {
  std::string title;  // over all panels; "" = none
  std::vector<Panel> panels;
  int columns = 1;    // panels per row
  double panel_width = 640, panel_height = 400;
};

// The whole figure as an SVG document (valid XML, with width, height and viewBox).
std::string render_svg(const Figure& fig);
// Writes render_svg(fig) to path (atomically); throws nnlab::Error naming the path on failure.
void write_svg(const Figure& fig, const std::string& path);
// Escapes &, <, >, " and ' for XML text and attributes.
std::string xml_escape(const std::string& text);

// ---- decision regions -------------------------------------------------------------------------

// The classes a 2-input model predicts over a grid covering the data (padded by `pad` times the
// data's range on every side). One sigmoid output: class = p > 0.5; several outputs: argmax.
struct DecisionGrid {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  int nx = 0, ny = 0;
  int classes = 2;
  std::vector<int> cls;          // (ny, nx), row 0 at y0
  std::vector<double> prob;      // (ny, nx): P(class 1) for one sigmoid output, else the top probability
  // The cell whose centre is nearest to (x, y), as (column, row).
  std::pair<int, int> cell_at(double x, double y) const;
  int class_at(double x, double y) const;
};
DecisionGrid decision_grid(Model& model, const Dataset& data, int resolution = 80, double pad = 0.25);

}  // namespace plot

// ---- the course's pictures (src/report/plots.cpp) ----------------------------------------------

// Training curves from a History, one SVG per quantity, named <path_prefix><name>.svg:
//   loss.svg: loss and val_loss per epoch (epochs counted from 1, as Keras prints them), the epoch of
//     the lowest val_loss marked "lowest val_loss: epoch N (value)" (the lowest loss when there is no
//     validation); when the "lr" column changes, a second panel below shows the learning rate.
//   <metric>.svg for every other column (accuracy with val_accuracy, ...), marked at the highest value
//     ("highest val_accuracy: epoch N (value)"; lowest for error-like names: mse, mae, ...).
// path_prefix is usually a folder with a trailing slash ("runs/x/"). Returns the files written.
// Throws nnlab::Error when the history has no epochs.
std::vector<std::string> plot_history(const History& h, const std::string& path_prefix);
// The same charts as figures, each with its file name without ".svg" ("loss", "accuracy", ...), for
// pages that inline them (the HTML report).
std::vector<std::pair<std::string, plot::Figure>> history_figures(const History& h);

// One column (e.g. "val_loss") of several runs overlaid in one chart; each legend entry names the
// run and its best value ("wide (lowest 0.6 at epoch 2)"; "highest" for accuracies), each run's dot
// marks that epoch, and the chart's note says which ("dots: each run's epoch of lowest val_loss"). levels: values without epochs drawn as dashed horizontal lines across the
// chart, each named in the legend (an ensemble's combinations against its members' curves). Throws
// nnlab::Error naming the run and the available columns when a run lacks the column.
void plot_runs(const std::vector<std::pair<std::string, History>>& runs, const std::string& metric,
               const std::string& path, const std::vector<std::pair<std::string, double>>& levels = {});
// The chart plot_runs writes, as a figure.
plot::Figure runs_figure(const std::vector<std::pair<std::string, History>>& runs, const std::string& metric,
                         const std::vector<std::pair<std::string, double>>& levels = {});

// Every activation of activation_names() over x in [-6, 6], one small panel each: the function solid,
// its derivative (from the activation's backward with dy = 1) dashed. Softmax is drawn as the first
// output of softmax([x, 0]); aliases (silu = swish) share a panel.
void plot_activations(const std::string& path);

// Decision regions of a 2-input classifier (one sigmoid output, or softmax outputs): the grid of
// predicted classes (shaded by confidence, the class boundary outlined) with the data's points
// coloured by label.
void plot_decision_regions(Model& model, const Dataset& data, const std::string& path, const std::string& title);
// Several models side by side over the same data (the XOR lesson: logistic unit beside the MLP).
// models: (model, panel title) pairs.
void plot_decision_regions_side_by_side(const std::vector<std::pair<Model*, std::string>>& models,
                                        const Dataset& data, const std::string& path, const std::string& title);

// What the first conv2d layer learned (`nnlab plot filters`): its kernels (each filter's weights,
// averaged over its input channels, on one scale: grey 0, white positive, black negative) and its
// feature maps for `image` (the model's input shape's values; the layer's output after its
// activation, at inference), one cell per filter in each grid (<g class="filter"> and <g
// class="feature-map">), the image above them; greyscale PNGs inlined in the SVG. Returns the number
// of filters. Throws nnlab::Error when the model has no conv2d layer or the image does not fit.
int64_t plot_filters(Model& model, const Tensor& image, const std::string& path, const std::string& title = "");

}  // namespace nnlab
