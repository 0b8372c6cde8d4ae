// elu(alpha): y = x for x > 0, alpha * (exp(x) - 1) otherwise. Keras's default alpha is 1.
#include <cmath>

#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class Elu final : public Activation {
 public:
  explicit Elu(float alpha) : alpha_(alpha) {}
  std::string name() const override { return "elu(" + number_str(alpha_) + ")"; }

  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    const float a = alpha_;
    map(x, y, rows * cols, [a](float v) { return v > 0.0f ? v : a * std::expm1(v); });
  }

  // dy/dx = 1 for x > 0, else alpha * exp(x) = y + alpha
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    const float a = alpha_;
    map_grad(x, y, dy, dx, rows * cols, [a](float v, float out) { return v > 0.0f ? 1.0f : out + a; });
  }

 private:
  float alpha_;
};

}  // namespace

std::unique_ptr<Activation> make_elu(float alpha) { return std::make_unique<Elu>(alpha); }

}  // namespace nnlab::activations
