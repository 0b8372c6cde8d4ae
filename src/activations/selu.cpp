// selu: y = scale * x for x > 0, scale * alpha * (exp(x) - 1) otherwise, with Keras's constants.
#include <cmath>

#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

constexpr float kAlpha = 1.67326324235437728481f;
constexpr float kScale = 1.05070098735548049342f;

class Selu final : public Activation {
 public:
  std::string name() const override { return "selu"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    map(x, y, rows * cols, [](float v) { return v > 0.0f ? kScale * v : kScale * kAlpha * std::expm1(v); });
  }

  // dy/dx = scale for x > 0, else scale * alpha * exp(x) = y + scale * alpha
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    map_grad(x, y, dy, dx, rows * cols,
             [](float v, float out) { return v > 0.0f ? kScale : out + kScale * kAlpha; });
  }
};

}  // namespace

std::unique_ptr<Activation> make_selu(float /*unused*/) { return std::make_unique<Selu>(); }

}  // namespace nnlab::activations
