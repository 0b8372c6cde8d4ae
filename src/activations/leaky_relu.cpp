// leaky_relu(alpha): y = x for x > 0, alpha * x otherwise. Keras's default negative slope is 0.2.
#include <cmath>

#include "common.hpp"
#include "nnlab/activations/activation.hpp"
#include "nnlab/error.hpp"

namespace nnlab::activations {
namespace {

class LeakyRelu final : public Activation {
 public:
  explicit LeakyRelu(float alpha) : alpha_(alpha) {}
  std::string name() const override { return "leaky_relu(" + number_str(alpha_) + ")"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    const float a = alpha_;
    map(x, y, rows * cols, [a](float v) { return v > 0.0f ? v : a * v; });
  }

  // dy/dx = 1 for x > 0, else alpha
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    const float a = alpha_;
    map_grad(x, y, dy, dx, rows * cols, [a](float v, float) { return v > 0.0f ? 1.0f : a; });
  }

 private:
  float alpha_;
};

}  // namespace

std::unique_ptr<Activation> make_leaky_relu(float alpha) {
  check(alpha >= 0.0f, "the negative slope must be >= 0");
  return std::make_unique<LeakyRelu>(alpha);
}

}  // namespace nnlab::activations
