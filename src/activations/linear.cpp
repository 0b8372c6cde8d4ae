// linear: y = x.
#include <algorithm>

#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class Linear final : public Activation {
 public:
  std::string name() const override { return "linear"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    std::copy(x, x + rows * cols, y);
  }

  // dx = dy
  void backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    if (dx != dy) std::copy(dy, dy + rows * cols, dx);
  }
};

}  // namespace

std::unique_ptr<Activation> make_linear(float /*unused*/) { return std::make_unique<Linear>(); }

}  // namespace nnlab::activations
