#include "nnlab/layers/spatial_dropout2d.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/text.hpp"
#include "dropout_mask.hpp"
#include "spatial.hpp"

namespace nnlab {

namespace {

// out = in times each sample's channel factors (mask: n x c), over every pixel: the forward pass with
// the inputs, the backward pass with the gradients.
void scale_channels(const float* in, const float* mask, float* out, int64_t n, int64_t pixels, int64_t c) {
  for (int64_t s = 0; s < n; ++s) {
    const float* ms = mask + s * c;
    for (int64_t p = 0; p < pixels; ++p) {
      const int64_t at = (s * pixels + p) * c;
#pragma omp simd
      for (int64_t k = 0; k < c; ++k) out[at + k] = in[at + k] * ms[k];
    }
  }
}

}  // namespace

SpatialDropout2D::SpatialDropout2D(float rate) : rate_(rate) {
  check(rate >= 0.0f && rate < 1.0f, "spatial_dropout2d: rate must be in [0, 1), got " + number_str(rate));
}

Shape SpatialDropout2D::build(const Shape& input) {
  in_ = image_input(input, "spatial_dropout2d '" + name + "'");
  return in_;
}

void SpatialDropout2D::forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) {
  const int64_t n = x.rows(), pixels = in_[0] * in_[1], c = in_[2];
  if (x.cols() != pixels * c)
    throw Error("spatial_dropout2d '" + name + "': input has " + std::to_string(x.cols()) +
                " values per sample, expected " + shape_str(in_));
  y.resize(x.shape());
  last_train_ = mode == Mode::Train && rate_ > 0.0f;
  if (!last_train_) {
    std::memcpy(y.data(), x.data(), sizeof(float) * static_cast<size_t>(x.size()));
    return;
  }
  // One keep decision per sample and channel, drawn in that order as dropout draws its units (two
  // 32-bit decisions from each 64-bit draw).
  mask_.resize(n, c);
  draw_keep_mask(rng, rate_, mask_.data(), n * c);
  scale_channels(x.data(), mask_.data(), y.data(), n, pixels, c);
}

void SpatialDropout2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, bool) {
  if (!dx) return;
  dx->resize(x.shape());
  if (!last_train_) {
    std::memcpy(dx->data(), dy.data(), sizeof(float) * static_cast<size_t>(dy.size()));
    return;
  }
  const int64_t n = x.rows(), pixels = in_[0] * in_[1], c = in_[2];
  scale_channels(dy.data(), mask_.data(), dx->data(), n, pixels, c);
}

std::unique_ptr<SpatialDropout2D> SpatialDropout2D::from_config(ConfigReader& c) {
  return std::make_unique<SpatialDropout2D>(c.require<float>("rate"));
}

nlohmann::json SpatialDropout2D::config() const { return {{"type", "spatial_dropout2d"}, {"rate", rate_}}; }

}  // namespace nnlab
