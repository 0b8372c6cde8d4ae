// mae: mean over the features of |pred - target|, then mean over the batch; the slope is
// sign(pred - target), 0 where they are equal.
#include <cmath>

#include "common.hpp"
#include "nnlab/losses/loss.hpp"

namespace nnlab::losses {
namespace {

class MeanAbsoluteError final : public Loss {
 public:
  const std::string& name() const override { return name_; }
  Targets targets() const override { return Targets::Values; }

  // pred, target, grad: (batch, out)
  double compute(const Tensor& pred, const Tensor& target, Tensor* grad) const override {
    return mean_elementwise_loss(name_, pred, target, grad, [](double y, double t) {
      const double d = y - t;
      return std::pair{std::fabs(d), d > 0.0 ? 1.0 : (d < 0.0 ? -1.0 : 0.0)};
    });
  }

 private:
  const std::string name_ = "mae";  // passed to the checks: no string built per batch
};

}  // namespace

std::unique_ptr<Loss> make_mae(ConfigReader&) { return std::make_unique<MeanAbsoluteError>(); }

}  // namespace nnlab::losses
