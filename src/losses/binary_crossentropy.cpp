// binary_crossentropy: mean over the features of -(t log p + (1 - t) log(1 - p)), then mean over
// the batch. From probabilities p clipped to [1e-7, 1 - 1e-7] like Keras, or fused with a sigmoid
// output from its logits z, where the loss max(z, 0) - z t + log1p(exp(-|z|)) never forms log(0).
#include <algorithm>
#include <cmath>

#include "common.hpp"
#include "nnlab/losses/loss.hpp"

namespace nnlab::losses {
namespace {

class BinaryCrossentropy final : public Loss {
 public:
  std::string name() const override { return name_; }
  bool fuses(const std::string& activation) const override { return activation == "sigmoid"; }

  // pred, target, grad: (batch, out); pred holds probabilities.
  double compute(const Tensor& pred, const Tensor& target, Tensor* grad) const override {
    check_same_shape(name_, pred, target);
    check_finite(name_, target);
    const int64_t n = pred.size();  // the mean over features then batch is the mean over all n
    const double scale = 1.0 / static_cast<double>(n);
    constexpr float lo = kEpsilon, hi = 1.0f - kEpsilon;  // clipped in float32, as Keras
    float* g = nullptr;
    if (grad) {
      grad->resize(pred.shape());
      g = grad->data();
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double p = std::clamp(pred[i], lo, hi);
      const double t = target[i];
      sum -= t * std::log(p) + (1.0 - t) * std::log(1.0 - p);
      if (!g) continue;
      const bool clipped = pred[i] < lo || pred[i] > hi;  // the clip passes no gradient where it bites
      g[i] = clipped ? 0.0f : static_cast<float>((-t / p + (1.0 - t) / (1.0 - p)) * scale);
    }
    return sum * scale;
  }

  // logits, target, grad: (batch, out); grad is dLoss/dlogits = (sigmoid(z) - t) / n.
  double compute_fused(const Tensor& logits, const Tensor& target, Tensor* grad) const override {
    check_same_shape(name_, logits, target);
    check_finite(name_, target);
    const int64_t n = logits.size();
    const double scale = 1.0 / static_cast<double>(n);
    float* g = nullptr;
    if (grad) {
      grad->resize(logits.shape());
      g = grad->data();
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double z = logits[i];
      const double t = target[i];
      const double e = std::exp(-std::fabs(z));  // in (0, 1]: never overflows
      sum += std::max(z, 0.0) - z * t + std::log1p(e);
      if (g) {
        const double s = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);  // sigmoid(z)
        g[i] = static_cast<float>((s - t) * scale);
      }
    }
    return sum * scale;
  }

 private:
  const std::string name_ = "binary_crossentropy";  // passed to the checks: no string built per batch
};

}  // namespace

std::unique_ptr<Loss> make_binary_crossentropy() { return std::make_unique<BinaryCrossentropy>(); }

}  // namespace nnlab::losses
