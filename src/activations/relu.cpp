// relu: y = max(x, 0).
#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class Relu final : public Activation {
 public:
  std::string name() const override { return "relu"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    map(x, y, rows * cols, [](float v) { return v > 0.0f ? v : 0.0f; });
  }

  // dy/dx = 1 for x > 0, else 0 (0 at the kink, as Keras).
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    map_grad(x, y, dy, dx, rows * cols, [](float v, float) { return v > 0.0f ? 1.0f : 0.0f; });
  }
};

}  // namespace

std::unique_ptr<Activation> make_relu(float /*unused*/) { return std::make_unique<Relu>(); }

}  // namespace nnlab::activations
