// sigmoid: y = 1 / (1 + exp(-x)), computed without overflow for large |x|.
#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class Sigmoid final : public Activation {
 public:
  std::string name() const override { return "sigmoid"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    map(x, y, rows * cols, [](float v) { return stable_sigmoid(v); });
  }

  // dy/dx = y (1 - y)
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    map_grad(x, y, dy, dx, rows * cols, [](float, float s) { return s * (1.0f - s); });
  }
};

}  // namespace

std::unique_ptr<Activation> make_sigmoid(float /*unused*/) { return std::make_unique<Sigmoid>(); }

}  // namespace nnlab::activations
