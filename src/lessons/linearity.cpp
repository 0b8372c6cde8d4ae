#include <algorithm>
#include <cmath>

#include "nnlab/error.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/layers/dense.hpp"
#include "nnlab/lessons.hpp"

namespace nnlab {

static Model stack(const std::vector<int64_t>& sizes, const std::string& hidden_activation, uint64_t seed) {
  Model m;
  for (size_t i = 1; i < sizes.size(); ++i)
    m.add<Dense>(sizes[i], i + 1 < sizes.size() ? hidden_activation : "linear");
  m.build({sizes[0]}, seed);
  Rng rng(seed + 1);
  for (auto& t : m.named_tensors())  // non-zero biases, so the collapse of b is not trivial
    if (t.name.ends_with(".bias"))
      for (float& v : t.value) v = rng.uniform(-0.5f, 0.5f);
  return m;
}

LinearityReport linearity_demo(uint64_t seed, std::vector<int64_t> sizes, int64_t samples) {
  check(sizes.size() >= 3, "linearity: need at least an input, one hidden and one output size");
  LinearityReport r;
  r.sizes = sizes;
  r.samples = samples;
  Model linear = stack(sizes, "linear", seed);
  Model relu = stack(sizes, "relu", seed);  // same seed: identical weights, only the activation differs

  // Collapse: W = W1 W2 ... Wk, b = (...((b1 W2 + b2) W3 + b3)...).
  const int64_t in = sizes.front();
  Tensor w({in, sizes[1]}), b({1, sizes[1]});
  auto tensors = linear.named_tensors();
  std::copy(tensors[0].value.begin(), tensors[0].value.end(), w.data());
  std::copy(tensors[1].value.begin(), tensors[1].value.end(), b.data());
  for (size_t l = 1; l + 1 < sizes.size(); ++l) {
    const int64_t k = sizes[l], n = sizes[l + 1];
    const float* wl = tensors[2 * l].value.data();
    Tensor w2({in, n}), b2({1, n});
    std::copy(tensors[2 * l + 1].value.begin(), tensors[2 * l + 1].value.end(), b2.data());
    kernels::gemm(false, false, in, n, k, 1.0f, w.data(), wl, 0.0f, w2.data());
    kernels::gemm(false, false, 1, n, k, 1.0f, b.data(), wl, 1.0f, b2.data());
    w = std::move(w2);
    b = std::move(b2);
  }
  r.collapsed_w = w;
  r.collapsed_b = b;

  Rng rng(seed + 2);
  Tensor x({samples, in});
  for (float& v : x.span()) v = rng.uniform(-3.0f, 3.0f);
  const int64_t out = sizes.back();
  Tensor single({samples, out});
  for (int64_t i = 0; i < samples; ++i) std::copy(b.data(), b.data() + out, single.data() + i * out);
  kernels::gemm(false, false, samples, out, in, 1.0f, x.data(), w.data(), 1.0f, single.data());
  const Tensor y_lin = linear.predict(x), y_relu = relu.predict(x);
  for (int64_t i = 0; i < single.size(); ++i) {
    r.max_diff_linear = std::max(r.max_diff_linear, static_cast<double>(std::fabs(y_lin[i] - single[i])));
    r.max_diff_relu = std::max(r.max_diff_relu, static_cast<double>(std::fabs(y_relu[i] - single[i])));
  }
  return r;
}

}  // namespace nnlab
