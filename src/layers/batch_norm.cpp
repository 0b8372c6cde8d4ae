#include "nnlab/layers/batch_norm.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <type_traits>
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

// out[k][c] = the sum over rows r of term_k(r, c), c < features, in double, chunk by chunk and, in a
// chunk, row by row in order. `terms(r, c0, w, t)` writes row r's K terms for the w <= kBlock columns
// from c0 into t[k * kBlock + j], j < w. A chunk is summed a block of kBlock columns at a time into
// accumulators the compiler keeps in registers (a whole row at once would keep them in memory, each
// row waiting on the last row's stores); a chunk's rows are read once per block, the later blocks
// from cache. The blocks are as wide as the registers allow: 32 columns with AVX-512's 32 registers of
// 8 doubles, whose rows of 32 channels (a convolution's) are then read in order once, in 0.45 ms less a
// training step of batch_norm over 28x28x32 at batch 128 than with 16 (3.9 against 4.35 ms on lscpu's
// "AMD EPYC", family 26 model 2, Zen 5); 16 with 16 registers of 4 (AVX2). Each column's sum is the
// same either way: its terms in row order.
#ifdef __AVX512F__
constexpr int64_t kBlock = 32;
#else
constexpr int64_t kBlock = 16;
#endif

template <int K, class Terms>
void column_sums(int64_t rows, int64_t features, std::vector<double>& partial, std::vector<double>* const (&out)[K],
                 Terms terms) {
  const int64_t chunks = (rows + kChunk - 1) / kChunk;
  const int64_t blocks = (features + kBlock - 1) / kBlock;
  const int64_t width = K * blocks * kBlock;
  partial.resize(static_cast<size_t>(chunks * width));  // every value is written below
#pragma omp parallel for schedule(static) if (on_pool(rows, features))
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t end = std::min(rows, (k + 1) * kChunk);
    for (int64_t b = 0; b < blocks; ++b) {
      double acc[K * kBlock] = {};
      double t[K * kBlock] = {};  // a last, narrower block leaves its tail at 0
      const int64_t c0 = b * kBlock, w = std::min(kBlock, features - c0);
      auto add = [&](int64_t r, auto width) {
        terms(r, c0, width, t);
#pragma omp simd
        for (int64_t j = 0; j < K * kBlock; ++j) acc[j] += t[j];
      };
      if (w == kBlock) {  // the width a constant, so the row's loops are whole vectors
        for (int64_t r = k * kChunk; r < end; ++r) add(r, std::integral_constant<int64_t, kBlock>{});
      } else {
        for (int64_t r = k * kChunk; r < end; ++r) add(r, w);
      }
      double* p = partial.data() + k * width;
      for (int j = 0; j < K; ++j)
        for (int64_t i = 0; i < kBlock; ++i) p[j * blocks * kBlock + b * kBlock + i] = acc[j * kBlock + i];
    }
  }
  for (int j = 0; j < K; ++j) {
    std::vector<double>& o = *out[j];
    o.assign(static_cast<size_t>(features), 0.0);
    for (int64_t k = 0; k < chunks; ++k)
      for (int64_t c = 0; c < features; ++c)
        o[static_cast<size_t>(c)] += partial[static_cast<size_t>(k * width + j * blocks * kBlock + c)];
  }
}

// body(r0, r1) over rows [r0, r1), on the thread pool when the pass is large.
template <class Body>
void over_rows(int64_t rows, int64_t features, Body body) {
  const int64_t chunks = (rows + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (on_pool(rows, features))
  for (int64_t k = 0; k < chunks; ++k) body(k * kChunk, std::min(rows, (k + 1) * kChunk));
}

// Few features a row (a convolution's channels) make short rows, and a loop over one row at a time
// spends more on starting and ending its vector loop than on the row. The row passes below take kTile
// values at a time, whole rows, with each per-feature value repeated to the same length (`tile`), so
// every value gets the same operations as row by row.
constexpr int64_t kTile = 256;

int64_t tile_rows(int64_t features) { return std::max<int64_t>(1, kTile / features); }

// out: for each array of `in` (f values), tile_rows(f) * f values, those f repeated; one after another.
template <class T>
void tile(int64_t f, std::initializer_list<const T*> in, std::vector<T>& out) {
  const int64_t len = tile_rows(f) * f;
  out.resize(in.size() * static_cast<size_t>(len));
  T* o = out.data();
  for (const T* a : in)
    for (int64_t i = 0; i < len; ++i) *o++ = a[i % f];
}

// body(r, count) over the rows: the `count` values from row r on, a whole tile of rows (count =
// tile_rows(f) * f) but for a chunk's last tile, which may have fewer rows.
template <class Body>
void over_tiles(int64_t rows, int64_t f, Body body) {
  const int64_t per = tile_rows(f);
  over_rows(rows, f, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r += per) {
      const int64_t end = std::min(r1, r + per);
      body(r, (end - r) * f);
    }
  });
}

// y = gamma * xhat + beta with xhat = (x - mean) * inv_std (backward recomputes xhat with the same
// operations).
void normalize(int64_t n, int64_t f, const float* xd, float* yd, const float* mean, const float* inv_std,
               const float* gamma, const float* beta, std::vector<float>& tiled) {
  tile(f, {mean, inv_std, gamma, beta}, tiled);
  const int64_t len = tile_rows(f) * f;
  const float* t = tiled.data();
  over_tiles(n, f, [=](int64_t r, int64_t count) {
    const float* __restrict in = xd + r * f;
    float* __restrict out = yd + r * f;
    const float* __restrict m = t;
    const float* __restrict s = t + len;
    const float* __restrict gg = t + 2 * len;
    const float* __restrict bb = t + 3 * len;
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) {
      const float xh = (in[i] - m[i]) * s[i];
      out[i] = gg[i] * xh + bb[i];
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
  last_train_ = mode == Mode::Train;
  if (!last_train_) {
    infer_rows(n, xd, yd);
    return;
  }
  const float* g = gamma_.value.data();
  const float* b = beta_.value.data();
  inv_std_.resize(static_cast<size_t>(f));
  mean_.resize(static_cast<size_t>(f));
  float* mean = mean_.data();
  float* inv_std = inv_std_.data();
  column_sums<1>(n, f, partial_, {&sum_}, [=](int64_t r, int64_t c0, int64_t w, double* __restrict t) {
    const float* __restrict row = xd + r * f + c0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) t[j] = static_cast<double>(row[j]);
  });
  for (int64_t c = 0; c < f; ++c) mean[c] = static_cast<float>(sum_[static_cast<size_t>(c)] / static_cast<double>(n));
  column_sums<1>(n, f, partial_, {&sum2_}, [=](int64_t r, int64_t c0, int64_t w, double* __restrict t) {
    const float* __restrict row = xd + r * f + c0;
    const float* __restrict m = mean + c0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) {
      const double d = row[j] - m[j];
      t[j] = d * d;
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
  normalize(n, f, xd, yd, mean, inv_std, g, b, tiled_);
}

void BatchNorm::infer_rows(int64_t rows, const float* x, float* y) {
  const int64_t f = features_;
  inv_std_.resize(static_cast<size_t>(f));
  mean_.resize(static_cast<size_t>(f));
  for (int64_t c = 0; c < f; ++c) {
    inv_std_[static_cast<size_t>(c)] = 1.0f / std::sqrt(moving_var_.value[static_cast<size_t>(c)] + epsilon_);
    mean_[static_cast<size_t>(c)] = moving_mean_.value[static_cast<size_t>(c)];
  }
  normalize(rows, f, x, y, mean_.data(), inv_std_.data(), gamma_.value.data(), beta_.value.data(), tiled_);
}

// Each step of normalize's y = gamma * ((x - mean) * inv_std) + beta (a subtraction, a product by
// inv_std > 0, then a product by gamma and a sum with beta, fused or not) rounds a non-decreasing
// function of its operand to float, and rounding is non-decreasing, so y is a non-decreasing function
// of x when gamma > 0. A NaN gamma fails the test.
bool BatchNorm::commutes_with_max_pool() const {
  return std::all_of(gamma_.value.begin(), gamma_.value.end(), [](float g) { return g > 0.0f; });
}

void BatchNorm::infer_any_shape(const Tensor& x, Tensor& y) {
  const int64_t f = features_;
  if (x.shape().empty() || x.shape().back() != f) {
    throw Error("batch_norm '" + name + "': input " + shape_str(x.shape()) + " does not end in its " +
                std::to_string(f) + " features");
  }
  y.resize(x.shape());
  last_train_ = false;
  infer_rows(x.size() / f, x.data(), y.data());
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
  column_sums<2>(n, f, partial_, {&sum_, &sum2_}, [=](int64_t r, int64_t c0, int64_t w, double* __restrict t) {
    const float* __restrict dyr = g + r * f + c0;
    const float* __restrict xr = xd + r * f + c0;
    const float* __restrict m = mean + c0;
    const float* __restrict s = inv_std + c0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) {
      const float xh = (xr[j] - m[j]) * s[j];
      t[j] = static_cast<double>(dyr[j]);
      t[kBlock + j] = static_cast<double>(dyr[j]) * xh;
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
  // tiled_ holds what forward tiled: mean, inv_std, gamma (and beta), unchanged since.
  tile(f, {sum_.data(), sum2_.data()}, tiled_sums_);
  const int64_t len = tile_rows(f) * f;
  const float* t = tiled_.data();
  const double* ts = tiled_sums_.data();
  over_tiles(n, f, [=](int64_t r, int64_t count) {
    const float* dyd = g + r * f;  // out may be dyd (backward_in_place): each value read, then written
    const float* __restrict in = xd + r * f;
    float* out = d + r * f;
    const float* __restrict m = t;
    const float* __restrict s = t + len;
    const float* __restrict gm = t + 2 * len;
    const double* __restrict s1 = ts;
    const double* __restrict s2 = ts + len;
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) {
      // dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat))
      const float xh = (in[i] - m[i]) * s[i];
      const auto v = static_cast<float>(gm[i] * s[i] * (dyd[i] - s1[i] * inv_n - xh * s2[i] * inv_n));
      out[i] = !mask || in[i] > 0.0f ? v : 0.0f;
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
