// Reshape, as Keras's Reshape(target_shape): the same values per sample seen in another shape;
// one dimension may be -1, inferred from the rest. No parameters, no copy of meaning: NHWC rows are
// row-major, so (784) -> (28, 28, 1) turns flat pixels into an image.
#pragma once
#include "nnlab/layers/layer.hpp"

namespace nnlab {

class Reshape : public Layer {
 public:
  explicit Reshape(Shape target_shape);
  static std::unique_ptr<Reshape> from_config(ConfigReader& c);
  std::string type() const override { return "reshape"; }
  Shape build(const Shape& input) override;
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  nlohmann::json config() const override;

 private:
  Shape target_;  // as given, with at most one -1
  Shape out_;     // the built output shape per sample
};

}  // namespace nnlab
