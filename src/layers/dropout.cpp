#include "nnlab/layers/dropout.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/text.hpp"
#include "dropout_mask.hpp"

namespace nnlab {

Dropout::Dropout(float rate) : rate_(rate) {
  check(rate >= 0.0f && rate < 1.0f, "dropout: rate must be in [0, 1), got " + number_str(rate));
}

void Dropout::forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) {
  y.resize(x.shape());
  last_train_ = mode == Mode::Train && rate_ > 0.0f;
  if (!last_train_) {
    std::memcpy(y.data(), x.data(), sizeof(float) * static_cast<size_t>(x.size()));
    return;
  }
  mask_.resize(x.shape());
  float* m = mask_.data();
  const int64_t n = x.size();
  draw_keep_mask(rng, rate_, m, n);
  const float* xd = x.data();
  float* yd = y.data();
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) yd[i] = xd[i] * m[i];
}

void Dropout::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, bool) {
  if (!dx) return;
  dx->resize(x.shape());
  if (!last_train_) {
    std::memcpy(dx->data(), dy.data(), sizeof(float) * static_cast<size_t>(dy.size()));
    return;
  }
  const float* m = mask_.data();
  const float* g = dy.data();
  float* d = dx->data();
  const int64_t n = dy.size();
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) d[i] = g[i] * m[i];
}

std::unique_ptr<Dropout> Dropout::from_config(ConfigReader& c) {
  return std::make_unique<Dropout>(c.require<float>("rate"));
}

nlohmann::json Dropout::config() const { return {{"type", "dropout"}, {"rate", rate_}}; }

}  // namespace nnlab
