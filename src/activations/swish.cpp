// swish (also called silu): y = x * sigmoid(x).
#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class Swish final : public Activation {
 public:
  std::string name() const override { return "swish"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    map(x, y, rows * cols, [](float v) { return v * stable_sigmoid(v); });
  }

  // dy/dx = s + x s (1 - s) with s = sigmoid(x)
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    map_grad(x, y, dy, dx, rows * cols, [](float v, float) {
      const float s = stable_sigmoid(v);
      return s * (1.0f + v * (1.0f - s));
    });
  }
};

}  // namespace

std::unique_ptr<Activation> make_swish(float /*unused*/) { return std::make_unique<Swish>(); }

}  // namespace nnlab::activations
