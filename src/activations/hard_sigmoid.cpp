// hard_sigmoid: y = relu6(x + 3) / 6 = clamp(x / 6 + 0.5, 0, 1), as Keras 3.
#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class HardSigmoid final : public Activation {
 public:
  std::string name() const override { return "hard_sigmoid"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    map(x, y, rows * cols, [](float v) {
      const float r = v / 6.0f + 0.5f;
      return r < 0.0f ? 0.0f : (r > 1.0f ? 1.0f : r);
    });
  }

  // dy/dx = 1/6 for -3 < x < 3, else 0
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    map_grad(x, y, dy, dx, rows * cols,
             [](float v, float) { return (v > -3.0f && v < 3.0f) ? 1.0f / 6.0f : 0.0f; });
  }
};

}  // namespace

std::unique_ptr<Activation> make_hard_sigmoid(float /*unused*/) { return std::make_unique<HardSigmoid>(); }

}  // namespace nnlab::activations
