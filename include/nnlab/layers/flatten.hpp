// Flatten: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...). No parameters.
#pragma once
#include "nnlab/layers/layer.hpp"

namespace nnlab {

class Flatten : public Layer {
 public:
  static std::unique_ptr<Flatten> from_config(ConfigReader& c);
  std::string type() const override { return "flatten"; }
  Shape build(const Shape& input) override { return {shape_size(input)}; }
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  nlohmann::json config() const override;
};

}  // namespace nnlab
