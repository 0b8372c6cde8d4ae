// Plots: nice ticks, well-formed SVG, the best-epoch marker where the axis puts that epoch,
// decision regions of the XOR lesson, and `nnlab plot` end to end.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>
#include <set>

#include "cli_runner.hpp"
#include "nnlab/nnlab.hpp"
#include "nnlab/report/plot.hpp"
#include "report/axes.hpp"  // the axes are private to the report; tested here
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace plot = nnlab::plot;
using nnlab::testing::run_nnlab;

using nnlab::testing::crafted_history;

namespace {

// A tiny XML checker: tags balanced and properly nested, attribute values quoted, '&' only in
// entities, no '<' inside attribute values. Returns "" when well-formed, else what is wrong.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> stack;
  size_t i = 0;
  int roots = 0;
  auto entity_ok = [&](size_t at) {
    static const std::regex ent("^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);");
    return std::regex_search(s.substr(at, 12), ent);
  };
  while (i < s.size()) {
    if (s[i] == '&' && !entity_ok(i)) return "bare & at " + std::to_string(i);
    if (s[i] != '<') {
      if (stack.empty() && !std::isspace(static_cast<unsigned char>(s[i]))) return "text outside the root at " + std::to_string(i);
      ++i;
      continue;
    }
    if (s.compare(i, 4, "<!--") == 0) {
      const size_t e = s.find("-->", i);
      if (e == std::string::npos) return "unclosed comment";
      i = e + 3;
      continue;
    }
    if (s.compare(i, 2, "<?") == 0) {
      const size_t e = s.find("?>", i);
      if (e == std::string::npos) return "unclosed declaration";
      i = e + 2;
      continue;
    }
    const bool closing = s.compare(i, 2, "</") == 0;
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '-' || s[j] == ':' || s[j] == '_')) ++j;
    const std::string name = s.substr(name_start, j - name_start);
    if (name.empty()) return "tag without a name at " + std::to_string(i);
    // Attributes: name="value" pairs.
    bool self_closing = false;
    while (true) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size()) return "unterminated tag " + name;
      if (s[j] == '>') {
        ++j;
        break;
      }
      if (s.compare(j, 2, "/>") == 0) {
        self_closing = true;
        j += 2;
        break;
      }
      if (closing) return "attributes in a closing tag " + name;
      const size_t a = j;
      while (j < s.size() && s[j] != '=' && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '>') ++j;
      if (j == a || j >= s.size() || s[j] != '=') return "attribute without a value in " + name;
      ++j;
      if (j >= s.size() || (s[j] != '"' && s[j] != '\'')) return "unquoted attribute in " + name;
      const char q = s[j++];
      const size_t e = s.find(q, j);
      if (e == std::string::npos) return "unterminated attribute in " + name;
      for (size_t k = j; k < e; ++k) {
        if (s[k] == '<') return "'<' in an attribute of " + name;
        if (s[k] == '&' && !entity_ok(k)) return "bare & in an attribute of " + name;
      }
      j = e + 1;
    }
    if (closing) {
      if (stack.empty() || stack.back() != name) return "</" + name + "> does not close <" + (stack.empty() ? "" : stack.back()) + ">";
      stack.pop_back();
    } else if (!self_closing) {
      if (stack.empty()) ++roots;
      stack.push_back(name);
    } else if (stack.empty()) {
      ++roots;
    }
    i = j;
  }
  if (!stack.empty()) return "<" + stack.back() + "> never closed";
  if (roots != 1) return std::to_string(roots) + " root elements";
  return "";
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

void expect_svg_document(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<svg", 0), 0u) << svg.substr(0, 80);
  ASSERT_GE(svg.size(), 7u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_NE(svg.find("viewBox=\"0 0 "), std::string::npos);
  EXPECT_NE(svg.find(" width=\""), std::string::npos);
  EXPECT_NE(svg.find(" height=\""), std::string::npos);
  EXPECT_EQ(xml_problem(svg), "");
}

// The number in attribute `attr` of the first element that contains `marker` (e.g. class="marker").
double attr_of(const std::string& svg, const std::string& marker, const std::string& attr) {
  const size_t at = svg.find(marker);
  if (at == std::string::npos) return NAN;
  const size_t start = svg.rfind('<', at);
  const size_t end = svg.find('>', at);
  const std::string tag = svg.substr(start, end - start);
  const std::regex re(" " + attr + "=\"([-0-9.]+)\"");
  std::smatch m;
  return std::regex_search(tag, m, re) ? std::stod(m[1]) : NAN;
}

// The x coordinate of each centred tick label (x-axis ticks) in the first panel.
std::map<std::string, double> x_tick_positions(const std::string& svg) {
  const size_t first = svg.find("<g class=\"panel\">");
  const size_t second = svg.find("<g class=\"panel\">", first + 1);
  const std::string panel = svg.substr(first, second == std::string::npos ? std::string::npos : second - first);
  const size_t ticks = panel.find("<g class=\"ticks\"");
  const std::string part = panel.substr(ticks, panel.find("</g>", ticks) - ticks);
  std::map<std::string, double> out;
  const std::regex re("<text x=\"([-0-9.]+)\" y=\"[-0-9.]+\" font-size=\"11\" text-anchor=\"middle\">([^<]*)</text>");
  for (auto it = std::sregex_iterator(part.begin(), part.end(), re); it != std::sregex_iterator(); ++it)
    out[(*it)[2]] = std::stod((*it)[1]);
  return out;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(PlotTicks, NiceStepsOfOneTwoFive) {
  const auto t = plot::nice_ticks(0, 0.87);
  ASSERT_EQ(t.size(), 5u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], 0.2 * static_cast<double>(i), 1e-12);

  const auto u = plot::nice_ticks(-1, 1);
  const std::vector<double> want_u{-1, -0.5, 0, 0.5, 1};
  ASSERT_EQ(u.size(), want_u.size());
  for (size_t i = 0; i < u.size(); ++i) EXPECT_NEAR(u[i], want_u[i], 1e-12);
  EXPECT_FALSE(std::signbit(u[2])) << "zero must not print as -0";

  const auto v = plot::nice_ticks(3, 987);  // inside the range only
  EXPECT_DOUBLE_EQ(v.front(), 200);
  EXPECT_DOUBLE_EQ(v.back(), 800);

  const auto e = plot::nice_ticks(1, 3, 6, /*integer=*/true);  // epochs: no 1.5
  EXPECT_EQ(e, (std::vector<double>{1, 2, 3}));

  const auto l = plot::log_ticks(0.001, 10);
  EXPECT_EQ(l.size(), 5u);
  for (size_t i = 0; i < l.size(); ++i) EXPECT_NEAR(l[i], std::pow(10.0, static_cast<int>(i) - 3), 1e-15);

  // The widest span doubles allow (the quotient hi / lo overflows): a handful of powers of ten inside it.
  const auto wide = plot::log_ticks(1e-300, 1e300);
  ASSERT_FALSE(wide.empty());
  EXPECT_LE(wide.size(), 100u);
  for (const double t : wide) EXPECT_TRUE(t >= 1e-300 && t <= 1e300) << t;

  const auto huge = plot::nice_ticks(-1.7e308, 1.7e308);  // hi - lo overflows to infinity
  ASSERT_GE(huge.size(), 2u);
  for (const double t : huge) EXPECT_TRUE(std::isfinite(t) && std::fabs(t) <= 1.7e308) << t;

  EXPECT_EQ(plot::format_tick(0.2, 0.2), "0.2");
  EXPECT_EQ(plot::format_tick(0.05, 0.05), "0.05");
  EXPECT_EQ(plot::format_tick(1000, 200), "1000");
  EXPECT_EQ(plot::format_tick(1e-5, 1e-5), "1e-5");
  EXPECT_EQ(plot::format_tick(1e-17, 0.2), "0");
}

TEST(PlotSvg, ChartIsWellFormedWithOnePathPerSeriesAndEscapedText) {
  plot::Figure fig;
  auto& p = fig.panels.emplace_back();
  p.title = "a <title> & \"quotes\"";
  p.x.label = "epoch";
  p.y.label = "loss";
  p.series.push_back({.name = "train & co", .x = {1, 2, 3, 4}, .y = {3, 2, 1.5, 1}});
  p.series.push_back({.name = "val", .x = {1, 2, 3, 4}, .y = {3.2, NAN, 1.8, 2}, .dashed = true});
  p.series.push_back({.name = "third", .x = {1, 2, 3, 4}, .y = {1, 1, 1, 1}});
  p.markers.push_back({.x = 3, .y = 1.8, .label = "best epoch 3"});
  const std::string svg = plot::render_svg(fig);
  expect_svg_document(svg);
  EXPECT_EQ(count(svg, "class=\"series\""), 3u);
  EXPECT_NE(svg.find("a &lt;title&gt; &amp; &quot;quotes&quot;"), std::string::npos);
  EXPECT_NE(svg.find("train &amp; co"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  // The NaN leaves a gap: the val path starts twice.
  const size_t val = svg.find("data-name=\"val\"");
  ASSERT_NE(val, std::string::npos);
  const std::string d = svg.substr(val, svg.find("/>", val) - val);
  EXPECT_EQ(count(d, "M"), 2u) << d;

  // The marker sits where the frame's scales put (3, 1.8).
  const plot::PanelFrame f = plot::panel_frame(fig, 0);
  EXPECT_NEAR(attr_of(svg, "class=\"marker\"", "cx"), f.x(3), 0.06);
  EXPECT_NEAR(attr_of(svg, "class=\"marker\"", "cy"), f.y(1.8), 0.06);
  EXPECT_GT(f.x(4), f.x(1));
  EXPECT_LT(f.y(3), f.y(1)) << "larger values are higher up";
  EXPECT_GE(f.left, 0);
  EXPECT_LE(f.left + f.width, fig.panel_width);

  EXPECT_EQ(xml_problem("<svg><g></svg>"), "</svg> does not close <g>");  // the checker itself can fail
  EXPECT_NE(xml_problem("<svg a=\"x & y\"/>"), "");
}

TEST(PlotSvg, SecondaryAxisAndLogScale) {
  plot::Figure fig;
  auto& p = fig.panels.emplace_back();
  p.y.log = true;
  p.y.label = "loss";
  p.y2.label = "learning rate";
  p.series.push_back({.name = "loss", .x = {1, 2, 3}, .y = {10, 1, 0.01}});
  p.series2.push_back({.name = "lr", .x = {1, 2, 3}, .y = {0.1, 0.05, 0.01}});
  const std::string svg = plot::render_svg(fig);
  expect_svg_document(svg);
  const plot::PanelFrame f = plot::panel_frame(fig, 0);
  EXPECT_TRUE(f.has_y2);
  // Log scale: equal ratios, equal distances.
  EXPECT_NEAR(f.y(10) - f.y(1), f.y(1) - f.y(0.1), 1e-9);
  EXPECT_NE(svg.find(">learning rate</text>"), std::string::npos);
  EXPECT_NE(svg.find("lr (right axis)"), std::string::npos);
}

TEST(PlotHistory, BestEpochMarkedWhereTheAxisPutsIt) {
  const fs::path dir = fresh_dir("nnlab_plot_history");
  // val_loss is lowest at the 4th epoch (index 3), val_accuracy highest at the 3rd; lr is cut twice.
  const auto h = crafted_history({1.0, 0.8, 0.6, 0.5, 0.45, 0.42}, {1.1, 0.9, 0.7, 0.65, 0.7, 0.8},
                                 {0.5, 0.6, 0.7, 0.8, 0.85, 0.9}, {0.5, 0.6, 0.75, 0.7, 0.7, 0.69},
                                 {0.1, 0.1, 0.01, 0.01, 0.001, 0.001});
  const auto files = nnlab::plot_history(h, (dir / "").string());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], (dir / "loss.svg").string());
  EXPECT_EQ(files[1], (dir / "accuracy.svg").string());

  const std::string loss = nnlab::read_file(files[0]);
  expect_svg_document(loss);
  EXPECT_EQ(count(loss, "class=\"series\""), 3u) << "loss, val_loss and the lr panel";
  EXPECT_EQ(count(loss, "<g class=\"panel\">"), 2u);
  EXPECT_NE(loss.find("lowest val_loss: epoch 4 (0.65)"), std::string::npos);
  // The marker's x is epoch 4 on the axis as drawn: interpolate between the tick labels 2 and 6.
  const auto ticks = x_tick_positions(loss);
  ASSERT_TRUE(ticks.count("2") && ticks.count("6")) << loss;
  const double px_per_epoch = (ticks.at("6") - ticks.at("2")) / 4;
  EXPECT_GT(px_per_epoch, 10);
  EXPECT_NEAR(attr_of(loss, "class=\"marker\"", "cx"), ticks.at("2") + 2 * px_per_epoch, 0.2);

  const std::string acc = nnlab::read_file(files[1]);
  expect_svg_document(acc);
  EXPECT_EQ(count(acc, "class=\"series\""), 2u);
  EXPECT_NE(acc.find("highest val_accuracy: epoch 3 (75.00%)"), std::string::npos);
  const auto aticks = x_tick_positions(acc);
  ASSERT_TRUE(aticks.count("3"));
  EXPECT_NEAR(attr_of(acc, "class=\"marker\"", "cx"), aticks.at("3"), 0.2);
  fs::remove_all(dir);
}

TEST(PlotHistory, OneEpochNaNsAndNoValidation) {
  const fs::path dir = fresh_dir("nnlab_plot_edge");
  // One epoch: a dot, not an empty path, and the marker at epoch 1.
  const auto one = nnlab::plot_history(crafted_history({0.7}, {0.69}), (dir / "one-").string());
  ASSERT_EQ(one.size(), 1u);
  const std::string s1 = nnlab::read_file(one[0]);
  expect_svg_document(s1);
  EXPECT_NE(s1.find("lowest val_loss: epoch 1"), std::string::npos);
  EXPECT_GE(count(s1, "<circle"), 3u) << "two series dots and the marker";
  EXPECT_EQ(s1.find("nan"), std::string::npos);

  // NaN losses (a diverged run) and no validation: the lowest training loss is marked.
  const auto nan = nnlab::plot_history(crafted_history({0.9, NAN, 0.5, INFINITY, 0.6}, {}), (dir / "nan-").string());
  ASSERT_EQ(nan.size(), 1u);
  const std::string s2 = nnlab::read_file(nan[0]);
  expect_svg_document(s2);
  EXPECT_NE(s2.find("lowest loss: epoch 3"), std::string::npos);
  EXPECT_EQ(s2.find("nan"), std::string::npos);
  EXPECT_EQ(s2.find("inf"), std::string::npos);
  EXPECT_EQ(count(s2, "<g class=\"panel\">"), 1u) << "no lr panel without an lr column";

  // Losses at the ends of double's range (a fuzzed history.csv found the log axis overflowing here):
  // a well-formed chart with finite coordinates.
  for (const auto& losses : {std::vector<double>{1e-300, 1e300}, std::vector<double>{-1.7e308, 1.7e308},
                             std::vector<double>{4.9e-324, 1.7e308}}) {
    const auto wide = nnlab::plot_history(crafted_history(losses, losses), (dir / "wide-").string());
    ASSERT_EQ(wide.size(), 1u);
    const std::string s3 = nnlab::read_file(wide[0]);
    expect_svg_document(s3);
    EXPECT_EQ(s3.find("nan"), std::string::npos) << losses[0];
    EXPECT_EQ(s3.find("inf"), std::string::npos) << losses[0];
  }

  EXPECT_THROW(nnlab::plot_history(nnlab::History{}, (dir / "x-").string()), nnlab::Error);
  fs::remove_all(dir);
}

TEST(PlotRuns, OverlaysOneColumnOfEachRun) {
  const fs::path dir = fresh_dir("nnlab_plot_runs");
  std::vector<std::pair<std::string, nnlab::History>> runs{
      {"wide", crafted_history({1, 0.5, 0.3}, {1, 0.6, 0.7})},
      {"deep", crafted_history({1, 0.6, 0.4, 0.3}, {1.1, 0.8, 0.5, 0.45})}};
  const std::string path = (dir / "cmp.svg").string();
  nnlab::plot_runs(runs, "val_loss", path);
  const std::string svg = nnlab::read_file(path);
  expect_svg_document(svg);
  EXPECT_EQ(count(svg, "class=\"series\""), 2u);
  // The legend and the note say what the dots rank by: a sweep's table ranks by val_accuracy, this
  // chart by the lowest val_loss, and "best epoch" alone would mean both.
  EXPECT_NE(svg.find("wide (lowest 0.6 at epoch 2)"), std::string::npos);
  EXPECT_NE(svg.find("deep (lowest 0.45 at epoch 4)"), std::string::npos);
  EXPECT_NE(svg.find("dots: each run&apos;s epoch of lowest val_loss"), std::string::npos) << svg;
  EXPECT_EQ(svg.find("best"), std::string::npos);
  EXPECT_EQ(count(svg, "class=\"marker\""), 2u) << "one dot per run at its best epoch";
  // The learning rate has no best epoch: no dots, plain names.
  std::vector<std::pair<std::string, nnlab::History>> schedules{
      {"step", crafted_history({1, 1, 1}, {1, 1, 1}, {}, {}, {0.1, 0.01, 0.001})},
      {"constant", crafted_history({1, 1, 1}, {1, 1, 1}, {}, {}, {0.1, 0.1, 0.1})}};
  nnlab::plot_runs(schedules, "lr", path);
  const std::string lr_svg = nnlab::read_file(path);
  EXPECT_EQ(count(lr_svg, "class=\"marker\""), 0u);
  EXPECT_EQ(lr_svg.find("best"), std::string::npos);
  EXPECT_EQ(lr_svg.find("dots:"), std::string::npos);
  // An accuracy chart marks the highest value, and says so.
  std::vector<std::pair<std::string, nnlab::History>> accs{
      {"a", crafted_history({1, 0.5, 0.4}, {1, 0.6, 0.7}, {0.5, 0.7, 0.8}, {0.5, 0.8, 0.75})}};
  nnlab::plot_runs(accs, "val_accuracy", path);
  const std::string acc_svg = nnlab::read_file(path);
  EXPECT_NE(acc_svg.find("a (highest 80.00% at epoch 2)"), std::string::npos) << acc_svg;
  EXPECT_NE(acc_svg.find("dots: each run&apos;s epoch of highest val_accuracy"), std::string::npos);
  // Levels (an ensemble's combinations): one dashed series each, named with its value.
  nnlab::plot_runs(runs, "val_loss", path, {{"vote", 0.4}, {"average", 0.35}});
  const std::string levels_svg = nnlab::read_file(path);
  EXPECT_EQ(count(levels_svg, "class=\"series\""), 4u);
  EXPECT_NE(levels_svg.find("vote 0.4"), std::string::npos);
  EXPECT_NE(levels_svg.find("average 0.35"), std::string::npos);
  EXPECT_NE(levels_svg.find("dashed: values without epochs"), std::string::npos);
  try {
    nnlab::plot_runs(runs, "val_accuracy", path);
    FAIL() << "expected an error for a missing column";
  } catch (const nnlab::Error& e) {
    EXPECT_NE(std::string(e.what()).find("val_accuracy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("available: loss, val_loss"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(PlotActivations, OnePanelPerActivationWithFunctionAndDerivative) {
  const fs::path dir = fresh_dir("nnlab_plot_act");
  const std::string path = (dir / "act.svg").string();
  nnlab::plot_activations(path);
  const std::string svg = nnlab::read_file(path);
  expect_svg_document(svg);
  std::set<std::string> canonical;
  for (const auto& n : nnlab::activation_names()) canonical.insert(nnlab::make_activation(n)->name());
  EXPECT_EQ(count(svg, "<g class=\"panel\">"), canonical.size());
  EXPECT_EQ(count(svg, "class=\"series\""), 2 * canonical.size());
  EXPECT_EQ(count(svg, "stroke-dasharray=\"7 5\""), canonical.size()) << "one dashed derivative per panel";
  EXPECT_NE(svg.find(">relu</text>"), std::string::npos);
  EXPECT_NE(svg.find("swish = silu"), std::string::npos);
  EXPECT_NE(svg.find("softmax([x, 0])[0]"), std::string::npos);
  fs::remove_all(dir);
}

TEST(PlotDecisionRegions, XorMlpColoursTheFourCornersAndTheLogisticUnitCannot) {
  const nnlab::InMemoryDataset data = nnlab::truth_table("xor");
  nnlab::Model mlp, logistic;
  const auto r = nnlab::train_truth_table("xor", "mlp", 1, 1000, 0.1f, &mlp);
  ASSERT_TRUE(r.all_correct) << "precondition: seed 1 solves XOR";
  nnlab::train_truth_table("xor", "logistic", 1, 1000, 0.1f, &logistic);

  const plot::DecisionGrid g = plot::decision_grid(mlp, data, 40);
  EXPECT_EQ(g.nx, 40);
  EXPECT_EQ(g.cls.size(), 1600u);
  EXPECT_NEAR(g.x0, -0.25, 1e-6);
  EXPECT_NEAR(g.x1, 1.25, 1e-6);
  const double corners[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  const int xor_class[4] = {0, 1, 1, 0};
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(g.class_at(corners[k][0], corners[k][1]), xor_class[k]) << "corner " << k;
    // The outermost grid cells beyond each data corner agree.
    const int ci = corners[k][0] > 0.5 ? g.nx - 1 : 0, cj = corners[k][1] > 0.5 ? g.ny - 1 : 0;
    EXPECT_EQ(g.cls[static_cast<size_t>(cj) * g.nx + ci], xor_class[k]) << "outer cell " << k;
  }
  // The cell holding (1, 1) is the one whose centre is nearest to it.
  const auto [i, j] = g.cell_at(1, 1);
  EXPECT_LE(std::fabs(g.x0 + (i + 0.5) * (g.x1 - g.x0) / g.nx - 1), (g.x1 - g.x0) / g.nx / 2 + 1e-9);
  EXPECT_LE(std::fabs(g.y0 + (j + 0.5) * (g.y1 - g.y0) / g.ny - 1), (g.y1 - g.y0) / g.ny / 2 + 1e-9);

  // A straight boundary gets at least one XOR corner wrong.
  const plot::DecisionGrid gl = plot::decision_grid(logistic, data, 40);
  int right = 0;
  for (int k = 0; k < 4; ++k) right += gl.class_at(corners[k][0], corners[k][1]) == xor_class[k];
  EXPECT_LT(right, 4);

  const fs::path dir = fresh_dir("nnlab_plot_regions");
  const std::string path = (dir / "xor.svg").string();
  nnlab::plot_decision_regions_side_by_side({{&logistic, "logistic"}, {&mlp, "MLP"}}, data, path, "XOR");
  const std::string svg = nnlab::read_file(path);
  expect_svg_document(svg);
  EXPECT_EQ(count(svg, "<g class=\"panel\">"), 2u);
  EXPECT_EQ(count(svg, "class=\"boundary\""), 2u);
  EXPECT_EQ(count(svg, "class=\"heatmap\""), 2u);
  EXPECT_NE(svg.find("4 of 4 points right"), std::string::npos);

  nnlab::plot_decision_regions(mlp, data, (dir / "one.svg").string(), "MLP");
  expect_svg_document(nnlab::read_file((dir / "one.svg").string()));

  nnlab::Model three;  // three inputs: no 2-D picture
  three.add<nnlab::Dense>(1, "sigmoid");
  three.build({3});
  EXPECT_THROW(plot::decision_grid(three, data), nnlab::Error);
  fs::remove_all(dir);
}

TEST(PlotCli, RedrawsARunFolderComparesRunsAndFailsClearly) {
  const fs::path dir = fresh_dir("nnlab_plot_cli");
  const std::string run = (dir / "run").string(), run2 = (dir / "run2").string();
  auto t = run_nnlab("train xor --epochs 20 --quiet --out " + run);
  ASSERT_EQ(t.exit_code, 0) << t.output;
  auto t2 = run_nnlab("train xor --epochs 25 --seed 2 --quiet --out " + run2);
  ASSERT_EQ(t2.exit_code, 0) << t2.output;
  fs::remove(dir / "run" / "loss.svg");  // whatever train wrote, plot must write it again

  auto p = run_nnlab("plot " + run);
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_NE(p.output.find((dir / "run" / "loss.svg").string()), std::string::npos) << p.output;
  EXPECT_NE(p.output.find((dir / "run" / "accuracy.svg").string()), std::string::npos) << p.output;
  for (const char* f : {"loss.svg", "accuracy.svg"}) {
    ASSERT_TRUE(fs::exists(dir / "run" / f)) << f;
    expect_svg_document(nnlab::read_file((dir / "run" / f).string()));
  }

  const std::string cmp = (dir / "cmp.svg").string();
  auto c = run_nnlab("plot " + run + " " + run2 + " --metric loss --out " + cmp);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  const std::string svg = nnlab::read_file(cmp);
  expect_svg_document(svg);
  EXPECT_EQ(count(svg, "class=\"series\""), 2u);
  EXPECT_NE(svg.find("run2 (lowest"), std::string::npos);

  auto a = run_nnlab("plot activations --out " + (dir / "act.svg").string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  expect_svg_document(nnlab::read_file((dir / "act.svg").string()));

  auto x = run_nnlab("xor --seeds 1 --plot " + (dir / "xor.svg").string());
  ASSERT_EQ(x.exit_code, 0) << x.output;
  EXPECT_NE(x.output.find("Decision regions: " + (dir / "xor.svg").string()), std::string::npos) << x.output;
  expect_svg_document(nnlab::read_file((dir / "xor.svg").string()));

  // Errors: one line, non-zero exit, naming the bad path or value.
  auto missing = run_nnlab("plot /no/such/run");
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("'/no/such/run' does not exist"), std::string::npos) << missing.output;
  EXPECT_LE(count(missing.output, "\n"), 1u) << missing.output;

  fs::create_directories(dir / "empty");
  auto nohist = run_nnlab("plot " + (dir / "empty").string());
  EXPECT_EQ(nohist.exit_code, 1) << nohist.output;
  EXPECT_NE(nohist.output.find("history.csv"), std::string::npos) << nohist.output;

  auto badcol = run_nnlab("plot " + run + " " + run2 + " --metric val_nope --out " + cmp);
  EXPECT_EQ(badcol.exit_code, 1) << badcol.output;
  EXPECT_NE(badcol.output.find("'val_nope'"), std::string::npos) << badcol.output;
  EXPECT_NE(badcol.output.find("available: 'accuracy', 'loss', 'lr'"), std::string::npos) << badcol.output;
  fs::remove_all(dir);
}
