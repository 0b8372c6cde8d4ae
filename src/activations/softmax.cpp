// softmax: each row y = exp(x - max(x)) / sum(exp(x - max(x))). Subtracting the row's maximum keeps
// exp from overflowing; the result is unchanged.
#include <algorithm>
#include <cmath>

#include "common.hpp"
#include "nnlab/activations/activation.hpp"

namespace nnlab::activations {
namespace {

class Softmax final : public Activation {
 public:
  std::string name() const override { return "softmax"; }

  // x, y: (rows, cols)
  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    if (cols <= 0) return;
#pragma omp parallel for if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      const float m = *std::max_element(xr, xr + cols);
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t c = 0; c < cols; ++c) {
        yr[c] = std::exp(xr[c] - m);
        sum += yr[c];
      }
      const float inv = 1.0f / sum;  // sum >= 1: the maximum contributes exp(0)
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
    }
  }

  // Per row: dx = y * (dy - sum(dy * y)). dx may alias dy: the sum is taken before dx is written.
  void backward(const float* /*x*/, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
#pragma omp parallel for if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float* yr = y + r * cols;
      const float* dyr = dy + r * cols;
      float* dxr = dx + r * cols;
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int64_t c = 0; c < cols; ++c) dot += dyr[c] * yr[c];
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) dxr[c] = yr[c] * (dyr[c] - dot);
    }
  }
};

}  // namespace

std::unique_ptr<Activation> make_softmax(float /*unused*/) { return std::make_unique<Softmax>(); }

}  // namespace nnlab::activations
