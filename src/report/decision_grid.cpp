// Decision regions: the classes a 2-input model predicts over a grid covering the data
// (decision_grid), from the data's points and the model's classes for them (shared with plots.cpp).
#include <algorithm>
#include <cmath>

#include "decision_grid.hpp"
#include "nnlab/error.hpp"
#include "nnlab/report/plot.hpp"

namespace nnlab::plot {

std::pair<int, int> DecisionGrid::cell_at(double x, double y) const {
  const auto index = [](double v, double a, double b, int n) {
    const double t = b == a ? 0 : (v - a) / (b - a);
    return std::clamp(static_cast<int>(std::floor(t * n)), 0, std::max(0, n - 1));
  };
  return {index(x, x0, x1, nx), index(y, y0, y1, ny)};
}

int DecisionGrid::class_at(double x, double y) const {
  const auto [i, j] = cell_at(x, y);
  return cls.at(static_cast<size_t>(j) * nx + i);
}

Points gather_points(const Dataset& data, int64_t limit) {
  check(shape_size(data.sample_shape()) == 2, "decision regions: the data '" + data.name + "' has " +
                                                  std::to_string(shape_size(data.sample_shape())) +
                                                  " features per sample; need 2");
  const int64_t n = data.size();
  check(n > 0, "decision regions: the data '" + data.name + "' is empty");
  const int64_t stride = std::max<int64_t>(1, (n + limit - 1) / limit);
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < n; i += stride) idx.push_back(i);
  Points pts;
  Tensor y;
  data.gather(idx, pts.x, y);
  pts.x.resize({static_cast<int64_t>(idx.size()), 2});  // (n, 2) whatever the sample shape
  const int64_t w = y.cols();
  for (int64_t i = 0; i < y.rows(); ++i) {
    if (w == 1) {
      const float v = y.at(i, 0);
      pts.label.push_back(data.num_classes >= 2 ? static_cast<int>(std::lround(v)) : (v > 0.5f ? 1 : 0));
    } else {
      int best = 0;
      for (int64_t c = 1; c < w; ++c) best = y.at(i, c) > y.at(i, best) ? static_cast<int>(c) : best;
      pts.label.push_back(best);
    }
  }
  return pts;
}

void classify(Model& model, const Tensor& out, std::vector<int>& cls, std::vector<double>& prob, int& classes) {
  const int64_t k = out.cols();
  const std::string act = model.output_activation();
  if (k == 1) {
    check(act == "sigmoid" || act == "linear" || act.empty(),
          "decision regions: need one sigmoid output (or softmax outputs); the model's output activation is '" + act + "'");
    classes = 2;
    for (int64_t i = 0; i < out.rows(); ++i) {
      double p = out.at(i, 0);
      if (act != "sigmoid") p = 1.0 / (1.0 + std::exp(-p));  // a logit
      prob.push_back(p);
      cls.push_back(p > 0.5 ? 1 : 0);
    }
    return;
  }
  classes = static_cast<int>(k);
  for (int64_t i = 0; i < out.rows(); ++i) {
    std::vector<double> r(static_cast<size_t>(k));
    for (int64_t c = 0; c < k; ++c) r[c] = out.at(i, c);
    if (act != "softmax") {
      const double m = *std::max_element(r.begin(), r.end());
      double s = 0;
      for (double& v : r) s += (v = std::exp(v - m));
      for (double& v : r) v /= s;
    }
    const auto best = std::max_element(r.begin(), r.end()) - r.begin();
    cls.push_back(static_cast<int>(best));
    prob.push_back(r[best]);
  }
}

Tensor as_model_input(const Tensor& x, const Model& model) {
  if (model.input_shape().size() == 1) return x;
  Shape s = model.input_shape();
  s.insert(s.begin(), x.rows());
  return Tensor(s, std::vector<float>(x.data(), x.data() + x.size()));
}

namespace {

void check_model(Model& model) {
  check(model.built(), "decision regions: the model is not built");
  check(shape_size(model.input_shape()) == 2,
        "decision regions: need a model with 2 inputs, got input shape " + shape_str(model.input_shape()));
}

}  // namespace

DecisionGrid decision_grid(Model& model, const Dataset& data, int resolution, double pad) {
  check(resolution >= 2 && resolution <= 1000, "decision regions: resolution must be 2..1000, got " + std::to_string(resolution));
  check_model(model);
  const Points pts = gather_points(data, 100000);
  DecisionGrid g;
  float lo[2] = {pts.x.at(0, 0), pts.x.at(0, 1)}, hi[2] = {lo[0], lo[1]};
  for (int64_t i = 0; i < pts.x.rows(); ++i)
    for (int d = 0; d < 2; ++d) lo[d] = std::min(lo[d], pts.x.at(i, d)), hi[d] = std::max(hi[d], pts.x.at(i, d));
  double r[2][2];
  for (int d = 0; d < 2; ++d) {
    const double span = hi[d] > lo[d] ? hi[d] - lo[d] : 1.0;
    r[d][0] = lo[d] - pad * span;
    r[d][1] = hi[d] + pad * span;
  }
  g.x0 = r[0][0], g.x1 = r[0][1], g.y0 = r[1][0], g.y1 = r[1][1];
  g.nx = g.ny = resolution;
  Tensor grid({static_cast<int64_t>(g.nx) * g.ny, 2});
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      const int64_t k = static_cast<int64_t>(j) * g.nx + i;
      grid.at(k, 0) = static_cast<float>(g.x0 + (i + 0.5) * (g.x1 - g.x0) / g.nx);
      grid.at(k, 1) = static_cast<float>(g.y0 + (j + 0.5) * (g.y1 - g.y0) / g.ny);
    }
  const Tensor out = model.predict(as_model_input(grid, model));
  classify(model, out, g.cls, g.prob, g.classes);
  return g;
}

}  // namespace nnlab::plot
