#include "nnlab/layers/batch_norm.hpp"

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
  last_train_ = mode == Mode::Train;
  if (!last_train_) {
    for (int64_t c = 0; c < f; ++c)
      inv_std_[static_cast<size_t>(c)] = 1.0f / std::sqrt(moving_var_.value[static_cast<size_t>(c)] + epsilon_);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < f; ++c)
        yd[r * f + c] = g[c] * (xd[r * f + c] - moving_mean_.value[static_cast<size_t>(c)]) * inv_std_[static_cast<size_t>(c)] + b[c];
    return;
  }
  sum_.assign(static_cast<size_t>(f), 0.0);
  sum2_.assign(static_cast<size_t>(f), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < f; ++c) sum_[static_cast<size_t>(c)] += xd[r * f + c];
  mean_.resize(static_cast<size_t>(f));
  for (int64_t c = 0; c < f; ++c) mean_[static_cast<size_t>(c)] = static_cast<float>(sum_[static_cast<size_t>(c)] / static_cast<double>(n));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < f; ++c) {
      const double d = xd[r * f + c] - mean_[static_cast<size_t>(c)];
      sum2_[static_cast<size_t>(c)] += d * d;
    }
  xhat_.resize(x.shape());
  for (int64_t c = 0; c < f; ++c) {
    const auto var = static_cast<float>(sum2_[static_cast<size_t>(c)] / static_cast<double>(n));
    inv_std_[static_cast<size_t>(c)] = 1.0f / std::sqrt(var + epsilon_);
    float& mm = moving_mean_.value[static_cast<size_t>(c)];
    float& mv = moving_var_.value[static_cast<size_t>(c)];
    mm = momentum_ * mm + (1.0f - momentum_) * mean_[static_cast<size_t>(c)];
    mv = momentum_ * mv + (1.0f - momentum_) * var;
  }
  float* xh = xhat_.data();
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < f; ++c) {
      xh[r * f + c] = (xd[r * f + c] - mean_[static_cast<size_t>(c)]) * inv_std_[static_cast<size_t>(c)];
      yd[r * f + c] = g[c] * xh[r * f + c] + b[c];
    }
}

void BatchNorm::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, bool) {
  const int64_t f = features_, n = x.rows() * (per_sample_ / f);
  const float* g = dy.data();
  float* dg = gamma_.grad.data();
  float* db = beta_.grad.data();
  const float* gamma = gamma_.value.data();
  if (!last_train_) {  // inference statistics are constants: y = gamma * (x - m) * s + beta
    std::fill(dg, dg + f, 0.0f);
    std::fill(db, db + f, 0.0f);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < f; ++c) {
        dg[c] += g[r * f + c] * (x.data()[r * f + c] - moving_mean_.value[static_cast<size_t>(c)]) * inv_std_[static_cast<size_t>(c)];
        db[c] += g[r * f + c];
      }
    if (dx) {
      dx->resize(x.shape());
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < f; ++c) dx->data()[r * f + c] = g[r * f + c] * gamma[c] * inv_std_[static_cast<size_t>(c)];
    }
    return;
  }
  const float* xh = xhat_.data();
  sum_.assign(static_cast<size_t>(f), 0.0);   // sum of dy
  sum2_.assign(static_cast<size_t>(f), 0.0);  // sum of dy * xhat
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < f; ++c) {
      sum_[static_cast<size_t>(c)] += g[r * f + c];
      sum2_[static_cast<size_t>(c)] += static_cast<double>(g[r * f + c]) * xh[r * f + c];
    }
  for (int64_t c = 0; c < f; ++c) {
    db[c] = static_cast<float>(sum_[static_cast<size_t>(c)]);
    dg[c] = static_cast<float>(sum2_[static_cast<size_t>(c)]);
  }
  if (!dx) return;
  dx->resize(x.shape());
  float* d = dx->data();
  const auto inv_n = 1.0 / static_cast<double>(n);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < f; ++c) {
      const size_t cc = static_cast<size_t>(c);
      // dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat))
      d[r * f + c] = static_cast<float>(gamma[c] * inv_std_[cc] *
                                        (g[r * f + c] - sum_[cc] * inv_n - xh[r * f + c] * sum2_[cc] * inv_n));
    }
}

std::unique_ptr<BatchNorm> BatchNorm::from_config(ConfigReader& c) {
  return std::make_unique<BatchNorm>(c.get("momentum", kDefaultMomentum), c.get("epsilon", kDefaultEpsilon));
}

nlohmann::json BatchNorm::config() const {
  return {{"type", "batch_norm"}, {"momentum", momentum_}, {"epsilon", epsilon_}};
}

}  // namespace nnlab
