// softsign: y = x / (1 + |x|).
#include <cmath>

#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class Softsign final : public Activation {
 public:
  std::string name() const override { return "softsign"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    map(x, y, rows * cols, [](float v) { return v / (1.0f + std::fabs(v)); });
  }

  // dy/dx = 1 / (1 + |x|)^2
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    map_grad(x, y, dy, dx, rows * cols, [](float v, float) {
      const float d = 1.0f + std::fabs(v);
      return 1.0f / (d * d);
    });
  }
};

}  // namespace

std::unique_ptr<Activation> make_softsign(float /*unused*/) { return std::make_unique<Softsign>(); }

}  // namespace nnlab::activations
