// tanh: y = tanh(x).
#include <cmath>

#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class Tanh final : public Activation {
 public:
  std::string name() const override { return "tanh"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    map(x, y, rows * cols, [](float v) { return std::tanh(v); });
  }

  // dy/dx = 1 - y^2
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    map_grad(x, y, dy, dx, rows * cols, [](float, float t) { return 1.0f - t * t; });
  }
};

}  // namespace

std::unique_ptr<Activation> make_tanh(float /*unused*/) { return std::make_unique<Tanh>(); }

}  // namespace nnlab::activations
