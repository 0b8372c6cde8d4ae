// categorical_crossentropy: mean over the batch of -sum_c t_c log(p_c). The target is one-hot (or
// soft) rows (batch, classes), or class indices (batch, 1), smoothed by label_smoothing (Keras's).
// Fused with a softmax output it works from the logits through log-softmax, so it never forms log(0).
#include <algorithm>
#include <cmath>

#include "categorical.hpp"
#include "common.hpp"
#include "nnlab/losses/loss.hpp"

namespace nnlab::losses {
namespace {

// The weight of class c in row r of the target: t[r, c] for rows, 1 or 0 for a class index, then
// smoothed: t (1 - smoothing) + smoothing / classes (Keras's label_smoothing).
struct RowTarget {
  const float* row;  // (classes), or null for an index target
  int64_t index;
  double keep, floor;  // 1 - smoothing, smoothing / classes
  double operator()(int64_t c) const { return (row ? row[c] : (c == index ? 1.0 : 0.0)) * keep + floor; }
};

RowTarget row_target(const Tensor& target, int64_t r, int64_t classes, bool indices, double smoothing) {
  const double keep = 1.0 - smoothing, floor = smoothing / static_cast<double>(classes);
  if (indices) return {nullptr, static_cast<int64_t>(target[r]), keep, floor};
  return {target.data() + r * classes, -1, keep, floor};
}

class CategoricalCrossentropy final : public Loss {
 public:
  explicit CategoricalCrossentropy(double label_smoothing) : smoothing_(label_smoothing) {}
  const std::string& name() const override { return name_; }
  Targets targets() const override { return Targets::Classes; }
  std::string fused_activation() const override { return "softmax"; }

  // pred, grad: (batch, classes); target: (batch, classes) or (batch, 1) of class indices.
  double compute(const Tensor& pred, const Tensor& target, Tensor* grad) const override {
    return categorical_crossentropy(name_, pred, target, holds_indices(pred, target), smoothing_, grad);
  }

  double compute_fused(const Tensor& logits, const Tensor& target, Tensor* grad) const override {
    return categorical_crossentropy_from_logits(name_, logits, target, holds_indices(logits, target), smoothing_,
                                                grad);
  }

 private:
  const std::string name_ = "categorical_crossentropy";  // passed to the checks: no string built per batch
  double smoothing_;
  static bool holds_indices(const Tensor& pred, const Tensor& target) {
    return target.cols() == 1 && pred.cols() > 1;
  }
};

}  // namespace

void check_categorical_target(const std::string& loss, const Tensor& pred, const Tensor& target,
                              bool indices) {
  if (!indices) {
    check_same_shape(loss, pred, target);
    check_finite(loss, target);
    return;
  }
  if (pred.rows() <= 0) throw Error(loss + ": empty batch, prediction shape " + shape_str(pred.shape()));
  if (target.rows() != pred.rows() || target.cols() != 1) {
    throw Error(loss + ": target shape " + shape_str(target.shape()) +
                " is not one class index per row for prediction shape " + shape_str(pred.shape()));
  }
  for (int64_t r = 0; r < target.rows(); ++r) class_index(loss, target, r, pred.cols());
}

double categorical_crossentropy(const std::string& loss, const Tensor& pred, const Tensor& target,
                                bool indices, double smoothing, Tensor* grad) {
  check_categorical_target(loss, pred, target, indices);
  const int64_t batch = pred.rows(), classes = pred.cols();
  const double scale = 1.0 / static_cast<double>(batch);
  constexpr double lo = kEpsilon, hi = 1.0f - kEpsilon;  // Keras clips in float32
  if (grad) grad->resize(pred.shape());
  double sum = 0.0;
  for (int64_t r = 0; r < batch; ++r) {
    const float* p = pred.data() + r * classes;
    const RowTarget t = row_target(target, r, classes, indices, smoothing);
    double s = 0.0;
    for (int64_t c = 0; c < classes; ++c) s += p[c];
    // q = p / s; L = -sum_c t_c log(clip(q_c)); g_c = dL/dq_c = -t_c / q_c where the clip passes.
    // dq_c/dp_j = (delta_cj - q_c) / s, so dL/dp_j = (g_j - sum_c g_c q_c) / s.
    double gq = 0.0;  // sum_c g_c q_c = -(sum of t_c over the unclipped classes)
    for (int64_t c = 0; c < classes; ++c) {
      const double q = p[c] / s, tc = t(c);
      if (tc == 0.0) continue;
      sum -= tc * std::log(std::clamp(q, lo, hi));
      if (q >= lo && q <= hi) gq -= tc;
    }
    if (!grad) continue;
    float* g = grad->data() + r * classes;
    for (int64_t c = 0; c < classes; ++c) {
      const double q = p[c] / s;
      const double gc = (q >= lo && q <= hi) ? -t(c) / q : 0.0;
      g[c] = static_cast<float>((gc - gq) / s * scale);
    }
  }
  return sum * scale;
}

double categorical_crossentropy_from_logits(const std::string& loss, const Tensor& logits,
                                            const Tensor& target, bool indices, double smoothing, Tensor* grad) {
  check_categorical_target(loss, logits, target, indices);
  const int64_t batch = logits.rows(), classes = logits.cols();
  const double scale = 1.0 / static_cast<double>(batch);
  if (grad) grad->resize(logits.shape());
  double sum = 0.0;
  for (int64_t r = 0; r < batch; ++r) {
    const float* z = logits.data() + r * classes;
    const RowTarget t = row_target(target, r, classes, indices, smoothing);
    const double m = *std::max_element(z, z + classes);
    double e = 0.0;
    for (int64_t c = 0; c < classes; ++c) e += std::exp(z[c] - m);
    const double lse = m + std::log(e);  // log sum_c exp(z_c)
    // L = sum_c t_c (lse - z_c)
    double total = 0.0;
    for (int64_t c = 0; c < classes; ++c) {
      const double tc = t(c);
      total += tc;
      if (tc != 0.0) sum += tc * (lse - z[c]);
    }
    if (!grad) continue;
    float* g = grad->data() + r * classes;
    for (int64_t c = 0; c < classes; ++c)
      g[c] = static_cast<float>((std::exp(z[c] - lse) * total - t(c)) * scale);
  }
  return sum * scale;
}

std::unique_ptr<Loss> make_categorical_crossentropy(ConfigReader& options) {
  return std::make_unique<CategoricalCrossentropy>(read_label_smoothing(options));
}

}  // namespace nnlab::losses
