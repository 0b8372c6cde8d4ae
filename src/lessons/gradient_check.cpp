#include <algorithm>
#include <cmath>
#include <numeric>

#include "nnlab/lessons.hpp"
#include "nnlab/losses/loss.hpp"
#include "nnlab/training/objective.hpp"

namespace nnlab {

namespace {

// The training loss as the trainer takes it (the same Objective), plus the weights' penalty.
double loss_of(Model& model, const Objective& objective, const Tensor& x, const Tensor& y, Tensor* grad) {
  const Tensor& out = model.forward(x, Mode::Infer);
  return objective.loss_and_gradient(model, out, y, grad) + model.penalty();
}

}  // namespace

GradientCheckReport gradient_check(Model& model, const Loss& loss, const Tensor& x, const Tensor& y,
                                   int64_t per_tensor, uint64_t seed, double eps) {
  // Inference mode keeps dropout and batch statistics fixed between the evaluations.
  const Objective objective(loss, model);
  Tensor g;
  loss_of(model, objective, x, y, &g);
  model.backward(g, objective.fused());
  const std::vector<float> analytic(model.grads().begin(), model.grads().end());
  const float* params0 = model.params().data();
  GradientCheckReport report;
  Rng rng(seed);
  for (auto& t : model.named_tensors()) {
    if (!t.trainable) continue;
    GradientCheckRow row{t.name, 0, 0.0};
    std::vector<size_t> idx(t.value.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    std::shuffle(idx.begin(), idx.end(), rng.engine());
    idx.resize(std::min<size_t>(idx.size(), static_cast<size_t>(per_tensor)));
    const size_t offset = static_cast<size_t>(t.value.data() - params0);
    for (size_t i : idx) {
      const float orig = t.value[i];
      const float plus = static_cast<float>(orig + eps), minus = static_cast<float>(orig - eps);
      t.value[i] = plus;
      const double fp = loss_of(model, objective, x, y, nullptr);
      t.value[i] = minus;
      const double fm = loss_of(model, objective, x, y, nullptr);
      t.value[i] = orig;
      const double num = (fp - fm) / (static_cast<double>(plus) - static_cast<double>(minus));
      const double ana = analytic[offset + i];
      row.max_error = std::max(row.max_error, std::fabs(num - ana) / std::max(1.0, std::fabs(num) + std::fabs(ana)));
      ++row.checked;
    }
    report.max_error = std::max(report.max_error, row.max_error);
    report.rows.push_back(row);
  }
  return report;
}

}  // namespace nnlab
