// softplus: y = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) so it never overflows.
#include <cmath>

#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class Softplus final : public Activation {
 public:
  std::string name() const override { return "softplus"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    map(x, y, rows * cols,
        [](float v) { return (v > 0.0f ? v : 0.0f) + std::log1p(std::exp(-std::fabs(v))); });
  }

  // dy/dx = sigmoid(x)
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    map_grad(x, y, dy, dx, rows * cols, [](float v, float) { return stable_sigmoid(v); });
  }
};

}  // namespace

std::unique_ptr<Activation> make_softplus(float /*unused*/) { return std::make_unique<Softplus>(); }

}  // namespace nnlab::activations
