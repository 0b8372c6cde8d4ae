// Spatial dropout over images NHWC, as Keras's SpatialDropout2D: in training each sample's channels
// are dropped whole (every pixel of a channel zeroed together) with probability `rate`, and the kept
// ones scaled by 1 / (1 - rate), so the expected output equals the input; at inference it is the
// identity. Neighbouring pixels of a feature map are strongly correlated, so dropping single values
// (dropout) barely regularises a convolution's output; dropping whole maps does (Tompson et al. 2015).
// The backward pass applies the same mask and scale. No parameters.
#pragma once
#include "nnlab/layers/layer.hpp"

namespace nnlab {

class SpatialDropout2D : public Layer {
 public:
  explicit SpatialDropout2D(float rate);
  static std::unique_ptr<SpatialDropout2D> from_config(ConfigReader& c);
  std::string type() const override { return "spatial_dropout2d"; }
  Shape build(const Shape& input) override;  // (h, w, c), unchanged
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  nlohmann::json config() const override;

  float rate() const { return rate_; }
  // (batch, channels): 0 or 1 / (1 - rate) per sample and channel, from the last training pass.
  const Tensor& mask() const { return mask_; }

 private:
  float rate_;
  Shape in_;  // (h, w, c)
  bool last_train_ = false;
  Tensor mask_;
};

}  // namespace nnlab
