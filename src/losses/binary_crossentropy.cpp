// binary_crossentropy: mean over the features of -(t log p + (1 - t) log(1 - p)), then mean over
// the batch, with the targets smoothed by label_smoothing s (Keras's): t -> t (1 - s) + s / 2. From probabilities p clipped to [1e-7, 1 - 1e-7] like Keras, or fused with a sigmoid
// output from its logits z, where the loss max(z, 0) - z t + log1p(exp(-|z|)) never forms log(0).
#include <algorithm>
#include <cmath>

#include "common.hpp"
#include "nnlab/losses/loss.hpp"

namespace nnlab::losses {
namespace {

class BinaryCrossentropy final : public Loss {
 public:
  explicit BinaryCrossentropy(double label_smoothing) : keep_(1.0 - label_smoothing), half_(0.5 * label_smoothing) {}
  const std::string& name() const override { return name_; }
  Targets targets() const override { return Targets::Binary; }
  std::string fused_activation() const override { return "sigmoid"; }

  // pred, target, grad: (batch, out); pred holds probabilities.
  double compute(const Tensor& pred, const Tensor& target, Tensor* grad) const override {
    constexpr double lo = kEpsilon, hi = 1.0f - kEpsilon;  // clipped in float32, as Keras
    return mean_elementwise_loss(name_, pred, target, grad, [=, this](double y, double target_value) {
      const double t = smooth(target_value);
      const double p = std::clamp(y, lo, hi);
      const bool clipped = y < lo || y > hi;  // the clip passes no gradient where it bites
      return std::pair{-(t * std::log(p) + (1.0 - t) * std::log(1.0 - p)),
                       clipped ? 0.0 : -t / p + (1.0 - t) / (1.0 - p)};
    });
  }

  // logits, target, grad: (batch, out); grad is dLoss/dlogits = (sigmoid(z) - t) / n.
  double compute_fused(const Tensor& logits, const Tensor& target, Tensor* grad) const override {
    return mean_elementwise_loss(name_, logits, target, grad, [this](double z, double target_value) {
      const double t = smooth(target_value);
      const double e = std::exp(-std::fabs(z));                         // in (0, 1]: never overflows
      const double s = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);  // sigmoid(z)
      return std::pair{std::max(z, 0.0) - z * t + std::log1p(e), s - t};
    });
  }

 private:
  const std::string name_ = "binary_crossentropy";  // passed to the checks: no string built per batch
  double keep_, half_;  // label smoothing s (Keras's): t -> t (1 - s) + s / 2
  double smooth(double t) const { return t * keep_ + half_; }
};

}  // namespace

std::unique_ptr<Loss> make_binary_crossentropy(ConfigReader& options) {
  return std::make_unique<BinaryCrossentropy>(read_label_smoothing(options));
}

}  // namespace nnlab::losses
