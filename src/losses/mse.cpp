// mse: mean over the features of (pred - target)^2, then mean over the batch.
#include <cmath>

#include "common.hpp"
#include "nnlab/losses/loss.hpp"

namespace nnlab::losses {
namespace {

class MeanSquaredError final : public Loss {
 public:
  const std::string& name() const override { return name_; }
  Targets targets() const override { return Targets::Values; }

  // pred, target, grad: (batch, out)
  double compute(const Tensor& pred, const Tensor& target, Tensor* grad) const override {
    return mean_elementwise_loss(name_, pred, target, grad, [](double y, double t) {
      const double d = y - t;
      return std::pair{d * d, 2.0 * d};
    });
  }

 private:
  const std::string name_ = "mse";  // passed to the checks: no string built per batch
};

}  // namespace

std::unique_ptr<Loss> make_mse(ConfigReader&) { return std::make_unique<MeanSquaredError>(); }

}  // namespace nnlab::losses
