// The course's pictures, built from the SVG primitives of svg.cpp: training curves, run
// comparisons, activation curves and decision regions (their grid from decision_grid.cpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "decision_grid.hpp"
#include "nnlab/activations/activation.hpp"
#include "nnlab/error.hpp"
#include "nnlab/report/plot.hpp"

namespace nnlab {

namespace {

using plot::Figure;
using plot::Marker;
using plot::Panel;
using plot::Series;

// Column names in the order a reader expects (loss and metrics first, then their validation twins).
std::vector<std::string> history_keys(const History& h) {
  std::vector<std::string> keys;
  for (const auto& l : h.logs)
    for (const auto& [k, _] : l)
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  return keys;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Keras prints epochs from 1; History keeps them from 0.
std::vector<double> epoch_axis(const History& h) {
  std::vector<double> x;
  for (size_t i = 0; i < h.logs.size(); ++i) x.push_back(i < h.epochs.size() ? h.epochs[i] + 1.0 : i + 1.0);
  return x;
}

bool lower_is_better(const std::string& name) {
  for (const char* w : {"loss", "error", "mse", "mae", "mape", "msle", "crossentropy", "hinge", "divergence", "lr"})
    if (name.find(w) != std::string::npos) return true;
  return false;
}

bool has_finite(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double d) { return std::isfinite(d); });
}

// Index of the best finite value, or -1.
long best_index(const std::vector<double>& v, bool lower) {
  long best = -1;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) continue;
    if (best < 0 || (lower ? v[i] < v[best] : v[i] > v[best])) best = static_cast<long>(i);
  }
  return best;
}

// A log scale reads better when a positive quantity spans well over a decade (loss over 1,000 epochs).
bool wants_log(const std::vector<const std::vector<double>*>& columns, double ratio) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const auto* c : columns)
    for (double v : *c) {
      if (!std::isfinite(v)) continue;
      if (v <= 0) return false;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  return hi > 0 && lo < hi && hi / lo >= ratio;
}

std::string format_value(const std::string& name, double v) {
  char buf[64];
  if (name.find("accuracy") != std::string::npos && v >= 0 && v <= 1)
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string file_name(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '_';
  return out.empty() ? "metric" : out;
}

// One quantity per epoch: the training column and its validation twin, the best epoch marked.
Panel curve_panel(const History& h, const std::string& name, const std::string& title) {
  Panel p;
  p.title = title;
  p.x.label = "epoch";
  p.x.integer = true;
  p.x.pad = 0.02;
  p.y.label = name;
  const auto x = epoch_axis(h);
  const auto train = h.column(name), val = h.column("val_" + name);
  const bool lower = lower_is_better(name);
  if (has_finite(train)) p.series.push_back({.name = name, .x = x, .y = train, .color = 0});
  if (has_finite(val)) p.series.push_back({.name = "val_" + name, .x = x, .y = val, .color = 1});
  p.y.log = lower && wants_log({&train, &val}, 30);
  const bool on_val = has_finite(val);
  const auto& col = on_val ? val : train;
  const long b = best_index(col, lower);
  if (b >= 0) {
    const std::string what = on_val ? "val_" + name : name;
    // Named by what it ranks ("lowest val_loss", "highest val_accuracy"): a loss chart and an accuracy
    // chart of one run usually mark different epochs, so a bare "best epoch" would mean two things.
    const std::string label = (lower ? "lowest " : "highest ") + what + ": epoch " +
                              std::to_string(static_cast<long>(x[b])) + " (" + format_value(name, col[b]) + ")";
    p.markers.push_back({.x = x[b], .y = col[b], .label = label, .color = 3, .vline = h.logs.size() > 1});
  }
  if (p.series.empty()) p.note = "no finite values";
  if (p.y.log) p.note = "log scale";
  return p;
}

}  // namespace

std::vector<std::pair<std::string, plot::Figure>> history_figures(const History& h) {
  check(!h.empty(), "plot: the history has no epochs (nothing to draw)");
  const auto keys = history_keys(h);
  const auto has = [&](const std::string& k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
  std::vector<std::pair<std::string, Figure>> figures;

  if (has("loss") || has("val_loss")) {
    Figure fig;
    fig.panels.push_back(curve_panel(h, "loss", has("val_loss") ? "Training and validation loss" : "Training loss"));
    const auto lr = h.column("lr");
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (double v : lr)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (lo < hi && hi - lo > 1e-9 * std::fabs(hi)) {  // the rate changed: show it under the loss
      Panel p;
      p.title = "Learning rate";
      p.x = fig.panels[0].x;
      p.y.label = "lr";
      p.y.log = wants_log({&lr}, 10);
      p.height = 240;
      p.legend = false;
      p.series.push_back({.name = "lr", .x = epoch_axis(h), .y = lr, .color = 2});
      fig.panels.push_back(std::move(p));
    }
    figures.emplace_back("loss", std::move(fig));
  }

  std::vector<std::string> metrics;
  for (const auto& k : keys) {
    std::string base = k.starts_with("val_") ? k.substr(4) : k;
    if (base == "loss" || base == "lr" || base.empty()) continue;
    if (std::find(metrics.begin(), metrics.end(), base) == metrics.end()) metrics.push_back(base);
  }
  for (const auto& m : metrics) {
    Figure fig;
    fig.panels.push_back(curve_panel(h, m, (has("val_" + m) ? "Training and validation " : "Training ") + m));
    figures.emplace_back(file_name(m), std::move(fig));
  }
  return figures;
}

std::vector<std::string> plot_history(const History& h, const std::string& path_prefix) {
  check(!h.empty(), "plot: the history has no epochs (nothing to draw for '" + path_prefix + "')");
  std::vector<std::string> written;
  for (const auto& [name, fig] : history_figures(h)) {
    written.push_back(path_prefix + name + ".svg");
    plot::write_svg(fig, written.back());
  }
  return written;
}

plot::Figure runs_figure(const std::vector<std::pair<std::string, History>>& runs, const std::string& metric,
                         const std::vector<std::pair<std::string, double>>& levels) {
  check(!runs.empty(), "plot: no runs to compare");
  const bool lower = lower_is_better(metric);
  const bool ranked = metric != "lr";  // the learning rate has no best epoch
  Figure fig;
  Panel& p = fig.panels.emplace_back();
  p.title = metric + " of " + std::to_string(runs.size()) + (runs.size() == 1 ? " run" : " runs");
  p.x.label = "epoch";
  p.x.integer = true;
  p.x.pad = 0.02;
  p.y.label = metric;
  std::vector<std::vector<double>> cols;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& [name, h] = runs[i];
    auto col = h.column(metric);
    check(has_finite(col), "plot: run '" + name + "' has no column '" + metric + "' (available: " +
                               join(history_keys(h)) + ")");
    const auto x = epoch_axis(h);
    const long b = best_index(col, lower);
    const int color = static_cast<int>(i % plot::kPaletteSize);
    p.series.push_back({.name = ranked ? name + " (" + (lower ? "lowest " : "highest ") + format_value(metric, col[b]) +
                                             " at epoch " + std::to_string(static_cast<long>(x[b])) + ")"
                                       : name,
                        .x = x, .y = col, .color = color, .dashed = i >= static_cast<size_t>(plot::kPaletteSize)});
    if (ranked) p.markers.push_back({.x = x[b], .y = col[b], .label = "", .color = color});
    cols.push_back(std::move(col));
  }
  double first = 1, last = 1;  // the epochs the level lines span
  for (const auto& s : p.series) {
    first = std::min(first, s.x.front());
    last = std::max(last, s.x.back());
  }
  for (size_t i = 0; i < levels.size(); ++i) {
    const auto& [name, value] = levels[i];
    p.series.push_back({.name = name + " " + format_value(metric, value),
                        .x = {first, last},
                        .y = {value, value},
                        .color = static_cast<int>((runs.size() + i) % plot::kPaletteSize),
                        .dashed = true});
    cols.push_back({value});
  }
  std::vector<const std::vector<double>*> ptrs;
  for (const auto& c : cols) ptrs.push_back(&c);
  p.y.log = ranked && lower && wants_log(ptrs, 30);  // linear for lr: a cosine ends near 0
  p.note = ranked ? std::string("dots: each run's epoch of ") + (lower ? "lowest " : "highest ") + metric : "";
  if (!levels.empty()) p.note += std::string(p.note.empty() ? "" : "; ") + "dashed: values without epochs";
  if (p.y.log) p.note += p.note.empty() ? "log scale" : "; log scale";
  return fig;
}

void plot_runs(const std::vector<std::pair<std::string, History>>& runs, const std::string& metric,
               const std::string& path, const std::vector<std::pair<std::string, double>>& levels) {
  plot::write_svg(runs_figure(runs, metric, levels), path);
}

void plot_activations(const std::string& path) {
  constexpr int n = 481;  // x in [-6, 6] in steps of 0.025
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = -6.0f + 12.0f * static_cast<float>(i) / (n - 1);
  std::vector<double> xs(x.begin(), x.end());

  Figure fig;
  fig.title = "Activation functions f(x) (solid) and their derivatives f'(x) (dashed)";
  fig.columns = 4;
  fig.panel_width = 380;
  fig.panel_height = 280;
  std::vector<std::string> canon;
  for (const auto& name : activation_names()) {
    const auto act = make_activation(name);
    const std::string c = act->name();
    if (auto it = std::find(canon.begin(), canon.end(), c); it != canon.end()) {  // an alias: silu = swish
      fig.panels[static_cast<size_t>(it - canon.begin())].title += " = " + name;
      continue;
    }
    std::vector<float> y, dx;
    std::string title = c;
    if (name == "softmax") {  // row-wise: softmax([x, 0]), first output; its slope is y0 (1 - y0)
      std::vector<float> in(2 * n, 0.0f), out(2 * n), dy(2 * n, 0.0f), g(2 * n);
      for (int i = 0; i < n; ++i) in[2 * i] = x[i], dy[2 * i] = 1.0f;
      act->forward(in.data(), out.data(), n, 2);
      act->backward(in.data(), out.data(), dy.data(), g.data(), n, 2);
      for (int i = 0; i < n; ++i) y.push_back(out[2 * i]), dx.push_back(g[2 * i]);
      title = "softmax([x, 0])[0]";
    } else {
      y.resize(n);
      dx.resize(n);
      const std::vector<float> ones(n, 1.0f);
      act->forward(x.data(), y.data(), n, 1);
      act->backward(x.data(), y.data(), ones.data(), dx.data(), n, 1);
    }
    Panel p;
    p.title = title;
    p.x.label = "x";
    p.x.pad = 0;
    p.zero_lines = true;
    p.series.push_back({.name = "f(x)", .x = xs, .y = std::vector<double>(y.begin(), y.end()), .color = 0});
    p.series.push_back({.name = "f'(x)", .x = xs, .y = std::vector<double>(dx.begin(), dx.end()), .color = 3, .dashed = true});
    fig.panels.push_back(std::move(p));
    canon.push_back(c);
  }
  plot::write_svg(fig, path);
}

void plot_decision_regions_side_by_side(const std::vector<std::pair<Model*, std::string>>& models,
                                        const Dataset& data, const std::string& path, const std::string& title) {
  check(!models.empty(), "decision regions: no models to draw");
  const auto pts = plot::gather_points(data, 3000);
  Figure fig;
  fig.title = title;
  fig.columns = static_cast<int>(models.size());
  fig.panel_width = 500;
  fig.panel_height = 480;
  for (const auto& [model, name] : models) {
    check(model != nullptr, "decision regions: null model for '" + name + "'");
    const plot::DecisionGrid g = plot::decision_grid(*model, data);
    Panel p;
    p.title = name;
    p.x.label = "x1";
    p.y.label = "x2";
    p.x.min = g.x0, p.x.max = g.x1, p.y.min = g.y0, p.y.max = g.y1;
    plot::Heatmap hm;
    hm.x0 = g.x0, hm.x1 = g.x1, hm.y0 = g.y0, hm.y1 = g.y1, hm.nx = g.nx, hm.ny = g.ny, hm.cls = g.cls;
    const bool one_output = shape_size(model->output_shape()) == 1;  // prob = P(class 1)
    for (double pr : g.prob)
      hm.shade.push_back(one_output ? std::fabs(pr - 0.5) * 2 : (pr - 1.0 / g.classes) / (1.0 - 1.0 / g.classes));
    p.heatmaps.push_back(std::move(hm));

    // The points, one scatter per class, and the model's accuracy on them.
    std::vector<int> pred;
    std::vector<double> prob;
    int classes = 2;
    plot::classify(*model, model->predict(plot::as_model_input(pts.x, *model)), pred, prob, classes);
    int correct = 0;
    const int max_label = *std::max_element(pts.label.begin(), pts.label.end());
    for (int c = 0; c <= std::max(max_label, classes - 1); ++c) {
      plot::Scatter s;
      s.color = c;
      s.name = c < static_cast<int>(data.class_names.size()) ? data.class_names[c] : "class " + std::to_string(c);
      s.radius = pts.label.size() <= 50 ? 7 : pts.label.size() <= 500 ? 4 : 2.5;
      for (size_t i = 0; i < pts.label.size(); ++i)
        if (pts.label[i] == c) s.x.push_back(pts.x.at(static_cast<int64_t>(i), 0)), s.y.push_back(pts.x.at(static_cast<int64_t>(i), 1));
      if (!s.x.empty()) p.scatter.push_back(std::move(s));
    }
    for (size_t i = 0; i < pts.label.size(); ++i) correct += pred[i] == pts.label[i];
    char note[160];
    std::snprintf(note, sizeof note, "%d of %zu points right (%.0f%%); shade: predicted class, darker = surer", correct,
                  pts.label.size(), 100.0 * correct / static_cast<double>(pts.label.size()));
    p.note = note;
    fig.panels.push_back(std::move(p));
  }
  plot::write_svg(fig, path);
}

void plot_decision_regions(Model& model, const Dataset& data, const std::string& path, const std::string& title) {
  plot_decision_regions_side_by_side({{&model, title}}, data, path, "");
}

}  // namespace nnlab
