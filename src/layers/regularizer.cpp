#include "nnlab/layers/regularizer.hpp"

#include <cmath>
#include <vector>

#include "nnlab/error.hpp"

namespace nnlab {

void KernelPenalty::validate(const std::string& where) const {
  check(l1 >= 0.0f && std::isfinite(l1), where + ": l1 must be a non-negative number, got " + std::to_string(l1));
  check(l2 >= 0.0f && std::isfinite(l2), where + ": l2 must be a non-negative number, got " + std::to_string(l2));
  check(max_norm >= 0.0f && std::isfinite(max_norm),
        where + ": max_norm must be positive (or 0 for none), got " + std::to_string(max_norm));
}

double KernelPenalty::loss(std::span<const float> w) const {
  double a = 0, s = 0;
  for (float v : w) {
    a += std::fabs(v);
    s += static_cast<double>(v) * v;
  }
  return l1 * a + l2 * s;
}

void KernelPenalty::add_gradient(std::span<const float> w, std::span<float> g) const {
  const float two_l2 = 2.0f * l2;
  for (size_t i = 0; i < w.size(); ++i) {
    const float sign = w[i] > 0 ? 1.0f : (w[i] < 0 ? -1.0f : 0.0f);
    g[i] += l1 * sign + two_l2 * w[i];
  }
}

void KernelPenalty::constrain(std::span<float> w, int64_t in, int64_t out) const {
  if (max_norm <= 0.0f) return;
  std::vector<double> norms(static_cast<size_t>(out), 0.0);
  for (int64_t r = 0; r < in; ++r)
    for (int64_t c = 0; c < out; ++c) norms[static_cast<size_t>(c)] += static_cast<double>(w[r * out + c]) * w[r * out + c];
  std::vector<float> scale(static_cast<size_t>(out));
  for (int64_t c = 0; c < out; ++c) {
    const double n = std::sqrt(norms[static_cast<size_t>(c)]);
    scale[static_cast<size_t>(c)] = static_cast<float>(std::min(n, static_cast<double>(max_norm)) / (1e-7 + n));
  }
  for (int64_t r = 0; r < in; ++r)
    for (int64_t c = 0; c < out; ++c) w[r * out + c] *= scale[static_cast<size_t>(c)];
}

}  // namespace nnlab
