// Global average pooling, as Keras's GlobalAveragePooling2D: (batch, height, width, channels) ->
// (batch, channels), each channel's mean over the image. No parameters.
#pragma once
#include "nnlab/layers/layer.hpp"

namespace nnlab {

class GlobalAveragePool2D : public Layer {
 public:
  static std::unique_ptr<GlobalAveragePool2D> from_config(ConfigReader& c);
  std::string type() const override { return "global_average_pool2d"; }
  Shape build(const Shape& input) override;  // (h, w, c) -> (c)
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  nlohmann::json config() const override;

 private:
  Shape in_;  // (h, w, c)
};

}  // namespace nnlab
