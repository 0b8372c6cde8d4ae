// mae: mean over the features of |pred - target|, then mean over the batch.
#include "common.hpp"
#include "nnlab/losses/loss.hpp"

namespace nnlab::losses {
namespace {

class MeanAbsoluteError final : public Loss {
 public:
  std::string name() const override { return "mae"; }

  // pred, target, grad: (batch, out)
  double compute(const Tensor& pred, const Tensor& target, Tensor* grad) const override {
    check_same_shape(name(), pred, target);
    check_finite(name(), target);
    const int64_t n = pred.size();  // the mean over features then batch is the mean over all n
    const double scale = 1.0 / static_cast<double>(n);
    float* g = nullptr;
    if (grad) {
      grad->resize(pred.shape());
      g = grad->data();
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(pred[i]) - target[i];
      sum += std::fabs(d);
      // d|d|/dd = sign(d), 0 where pred == target
      if (g) g[i] = static_cast<float>(d > 0.0 ? scale : (d < 0.0 ? -scale : 0.0));
    }
    return sum * scale;
  }
};

}  // namespace

std::unique_ptr<Loss> make_mae() { return std::make_unique<MeanAbsoluteError>(); }

}  // namespace nnlab::losses
