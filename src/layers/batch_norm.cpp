#include "nnlab/layers/batch_norm.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

BatchNorm::BatchNorm(float momentum, float epsilon) : momentum_(momentum), epsilon_(epsilon) {
  check(momentum >= 0.0f && momentum < 1.0f, "batch_norm: momentum must be in [0, 1), got " + std::to_string(momentum));
  check(epsilon > 0.0f, "batch_norm: epsilon must be positive, got " + std::to_string(epsilon));
}

// Flat input (features): one statistic per feature. Images (height, width, channels): one per
// channel, over the batch and every pixel, as Keras's BatchNormalization (axis=-1) on NHWC. Either
// way the last axis is the one normalised, and a batch is read as (rows, features) with rows the
// batch times the pixels.
Shape BatchNorm::build(const Shape& input) {
  check(input.size() == 1 || input.size() == 3,
        "batch_norm '" + name + "' expects flat input (features) or images (height, width, channels), got " +
            shape_str(input));
  check(input.back() >= 1, "batch_norm '" + name + "': no features to normalise in " + shape_str(input));
  features_ = input.back();
  per_sample_ = shape_size(input);
  return input;
}

std::vector<ParamSpec> BatchNorm::param_specs() const {
  return {{"gamma", {features_}, true},
          {"beta", {features_}, true},
          {"moving_mean", {features_}, false},
          {"moving_variance", {features_}, false}};
}

void BatchNorm::bind(std::vector<ParamView> v) {
  gamma_ = v.at(0);
  beta_ = v.at(1);
  moving_mean_ = v.at(2);
  moving_var_ = v.at(3);
}

void BatchNorm::init_params(Rng&) {
  for (float& g : gamma_.value) g = 1.0f;
  for (float& b : beta_.value) b = 0.0f;
  for (float& m : moving_mean_.value) m = 0.0f;
  for (float& v : moving_var_.value) v = 1.0f;
}

namespace {

// Rows (of `features` values: samples, or samples' pixels) per partial sum. The statistics are sums of
// fixed chunks of rows added in chunk order, so they are the same whatever the thread count; a batch of
// at most kChunk rows (every dense layer's usual batch) is one chunk, summed row by row in order.
constexpr int64_t kChunk = 256;

bool on_pool(int64_t rows, int64_t features) { return rows * features >= (int64_t{1} << 15) && !omp_in_parallel(); }

// out[k][c] = the sum over rows r of term_k(r, c), c < features, in double, chunk by chunk. `add(r, p)`
// adds row r's terms into p[k * features + c]; the K sums share one pass over the rows.
template <int K, class Add>
void column_sums(int64_t rows, int64_t features, std::vector<double>& partial, std::vector<double>* const (&out)[K],
                 Add add) {
  const int64_t chunks = (rows + kChunk - 1) / kChunk;
  const int64_t width = K * features;
  partial.assign(static_cast<size_t>(chunks * width), 0.0);
#pragma omp parallel for schedule(static) if (on_pool(rows, features))
  for (int64_t k = 0; k < chunks; ++k) {
    double* p = partial.data() + k * width;
    const int64_t end = std::min(rows, (k + 1) * kChunk);
    for (int64_t r = k * kChunk; r < end; ++r) add(r, p);
  }
  for (int j = 0; j < K; ++j) {
    std::vector<double>& o = *out[j];
    o.assign(static_cast<size_t>(features), 0.0);
    for (int64_t k = 0; k < chunks; ++k)
      for (int64_t c = 0; c < features; ++c) o[static_cast<size_t>(c)] += partial[static_cast<size_t>(k * width + j * features + c)];
  }
}

// body(r0, r1) over rows [r0, r1), on the thread pool when the pass is large.
template <class Body>
void over_rows(int64_t rows, int64_t features, Body body) {
  const int64_t chunks = (rows + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (on_pool(rows, features))
  for (int64_t k = 0; k < chunks; ++k) body(k * kChunk, std::min(rows, (k + 1) * kChunk));
}

// y = gamma * xhat + beta with xhat = (x - mean) * inv_std, row by row (backward recomputes xhat
// with the same operations).
void normalize(int64_t n, int64_t f, const float* xd, float* yd, const float* mean, const float* inv_std,
               const float* gamma, const float* beta) {
  over_rows(n, f, [=](int64_t r0, int64_t r1) {
    const float* __restrict in = xd;
    float* __restrict out = yd;
    const float* __restrict m = mean;
    const float* __restrict s = inv_std;
    const float* __restrict gg = gamma;
    const float* __restrict bb = beta;
    for (int64_t r = r0; r < r1; ++r)
#pragma omp simd
      for (int64_t c = 0; c < f; ++c) {
        const float xh = (in[r * f + c] - m[c]) * s[c];
        out[r * f + c] = gg[c] * xh + bb[c];
      }
  });
}

}  // namespace

void BatchNorm::forward(const Tensor& x, Tensor& y, Mode mode, Rng&) {
  const int64_t f = features_;
  if (x.cols() != per_sample_) {  // the message only when it fails: this runs every batch
    throw Error("batch_norm '" + name + "': input has " + std::to_string(x.cols()) + " values per sample, expected " +
                std::to_string(per_sample_));
  }
  const int64_t n = x.rows() * (per_sample_ / f);  // rows of f values: samples, or samples' pixels
  y.resize(x.shape());
  const float* xd = x.data();
  float* yd = y.data();
  const float* g = gamma_.value.data();
  const float* b = beta_.value.data();
  inv_std_.resize(static_cast<size_t>(f));
  mean_.resize(static_cast<size_t>(f));
  float* mean = mean_.data();
  float* inv_std = inv_std_.data();
  last_train_ = mode == Mode::Train;
  if (!last_train_) {
    for (int64_t c = 0; c < f; ++c) {
      inv_std[c] = 1.0f / std::sqrt(moving_var_.value[static_cast<size_t>(c)] + epsilon_);
      mean[c] = moving_mean_.value[static_cast<size_t>(c)];
    }
    normalize(n, f, xd, yd, mean, inv_std, g, b);
    return;
  }
  column_sums<1>(n, f, partial_, {&sum_}, [=](int64_t r, double* __restrict p) {
    const float* __restrict row = xd + r * f;
#pragma omp simd
    for (int64_t c = 0; c < f; ++c) p[c] += static_cast<double>(row[c]);
  });
  for (int64_t c = 0; c < f; ++c) mean[c] = static_cast<float>(sum_[static_cast<size_t>(c)] / static_cast<double>(n));
  column_sums<1>(n, f, partial_, {&sum2_}, [=](int64_t r, double* __restrict p) {
    const float* __restrict row = xd + r * f;
    const float* __restrict m = mean;
#pragma omp simd
    for (int64_t c = 0; c < f; ++c) {
      const double d = row[c] - m[c];
      p[c] += d * d;
    }
  });
  for (int64_t c = 0; c < f; ++c) {
    const auto var = static_cast<float>(sum2_[static_cast<size_t>(c)] / static_cast<double>(n));
    inv_std[c] = 1.0f / std::sqrt(var + epsilon_);
    float& mm = moving_mean_.value[static_cast<size_t>(c)];
    float& mv = moving_var_.value[static_cast<size_t>(c)];
    mm = momentum_ * mm + (1.0f - momentum_) * mean[c];
    mv = momentum_ * mv + (1.0f - momentum_) * var;
  }
  // The normalised input xhat is not kept: backward recomputes it from x with the same float
  // operations, which costs less than writing and reading it back.
  normalize(n, f, xd, yd, mean, inv_std, g, b);
}

void BatchNorm::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, bool) {
  const int64_t f = features_, n = x.rows() * (per_sample_ / f);
  const float* g = dy.data();
  float* dg = gamma_.grad.data();
  float* db = beta_.grad.data();
  const float* gamma = gamma_.value.data();
  const float* inv_std = inv_std_.data();
  const float* xd = x.data();
  // Forward left the statistics it normalised with: the batch's in training, the moving ones at
  // inference. One pass for both sums, sum(dy) and sum(dy * xhat), xhat recomputed as forward did.
  const float* mean = mean_.data();
  column_sums<2>(n, f, partial_, {&sum_, &sum2_}, [=](int64_t r, double* __restrict p) {
    const float* __restrict dyr = g + r * f;
    const float* __restrict xr = xd + r * f;
    const float* __restrict m = mean;
    const float* __restrict s = inv_std;
#pragma omp simd
    for (int64_t c = 0; c < f; ++c) {
      const float xh = (xr[c] - m[c]) * s[c];
      p[c] += static_cast<double>(dyr[c]);
      p[f + c] += static_cast<double>(dyr[c]) * xh;
    }
  });
  for (int64_t c = 0; c < f; ++c) {
    db[c] = static_cast<float>(sum_[static_cast<size_t>(c)]);
    dg[c] = static_cast<float>(sum2_[static_cast<size_t>(c)]);
  }
  if (!dx) return;
  dx->resize(x.shape());
  float* d = dx->data();
  // After a relu (fuse_input_relu), dx is relu's input gradient: zero where the relu output x is not
  // positive, which is the mask relu's own backward would apply.
  const bool mask = input_relu_;
  if (!last_train_) {  // inference statistics are constants, so dx = dy * gamma * inv_std
    over_rows(n, f, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = 0; c < f; ++c) {
          const float v = g[r * f + c] * gamma[c] * inv_std[c];
          d[r * f + c] = !mask || xd[r * f + c] > 0.0f ? v : 0.0f;
        }
    });
    return;
  }
  const auto inv_n = 1.0 / static_cast<double>(n);
  const double* s1 = sum_.data();
  const double* s2 = sum2_.data();
  over_rows(n, f, [=](int64_t r0, int64_t r1) {
    const float* __restrict dyd = g;
    const float* __restrict in = xd;
    float* __restrict out = d;
    const float* __restrict m = mean;
    const float* __restrict s = inv_std;
    const float* __restrict gm = gamma;
    for (int64_t r = r0; r < r1; ++r)
#pragma omp simd
      for (int64_t c = 0; c < f; ++c) {
        // dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat))
        const float xh = (in[r * f + c] - m[c]) * s[c];
        const auto v = static_cast<float>(gm[c] * s[c] * (dyd[r * f + c] - s1[c] * inv_n - xh * s2[c] * inv_n));
        out[r * f + c] = !mask || in[r * f + c] > 0.0f ? v : 0.0f;
      }
  });
}

std::unique_ptr<BatchNorm> BatchNorm::from_config(ConfigReader& c) {
  return std::make_unique<BatchNorm>(c.get("momentum", kDefaultMomentum), c.get("epsilon", kDefaultEpsilon));
}

nlohmann::json BatchNorm::config() const {
  return {{"type", "batch_norm"}, {"momentum", momentum_}, {"epsilon", epsilon_}};
}

}  // namespace nnlab
