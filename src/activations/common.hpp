// Helpers shared by the activation files (private to src/activations/).
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "nnlab/text.hpp"

namespace nnlab::activations {

// Below this many elements a loop runs on the calling thread: OpenMP's pool is the process's, and
// waking it costs more than a small element-wise loop.
inline constexpr int64_t kParallelMin = 65536;

// y[i] = f(x[i]) for i < n.
template <class F>
void map(const float* x, float* y, int64_t n, F f) {
#pragma omp parallel for simd if (parallel : n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// dx[i] = dy[i] * g(x[i], y[i]) for i < n, where g is f's derivative written with the input x and
// the output y = f(x). dx may alias dy.
template <class G>
void map_grad(const float* x, const float* y, const float* dy, float* dx, int64_t n, G g) {
#pragma omp parallel for simd if (parallel : n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * g(x[i], y[i]);
}

// 1 / (1 + exp(-x)) without overflow: exp is only taken of -|x|, so sigmoid(-100) is 0, not NaN.
inline float stable_sigmoid(float x) {
  const float e = std::exp(-std::fabs(x));  // in (0, 1]
  const float s = 1.0f / (1.0f + e);        // sigmoid(|x|)
  return x >= 0.0f ? s : e * s;             // sigmoid(-|x|) = e / (1 + e)
}


}  // namespace nnlab::activations
