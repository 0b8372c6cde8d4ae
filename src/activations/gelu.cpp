// gelu: y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), the exact form (Keras's approximate=False).
#include <cmath>

#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

constexpr float kInvSqrt2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

class Gelu final : public Activation {
 public:
  std::string name() const override { return "gelu"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    map(x, y, rows * cols, [](float v) { return 0.5f * v * (1.0f + std::erf(v * kInvSqrt2)); });
  }

  // dy/dx = Phi(x) + x phi(x), phi the standard normal density
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    map_grad(x, y, dy, dx, rows * cols, [](float v, float) {
      const float cdf = 0.5f * (1.0f + std::erf(v * kInvSqrt2));
      return cdf + v * kInvSqrt2Pi * std::exp(-0.5f * v * v);
    });
  }
};

}  // namespace

std::unique_ptr<Activation> make_gelu(float /*unused*/) { return std::make_unique<Gelu>(); }

}  // namespace nnlab::activations
