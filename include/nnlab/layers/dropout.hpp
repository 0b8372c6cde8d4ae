// Dropout with Keras semantics: in training each unit is zeroed with probability `rate` and the kept
// ones are scaled by 1 / (1 - rate), so the expected output equals the input; at inference it is the
// identity. The backward pass applies the same mask and the same scale.
#pragma once
#include "nnlab/layers/layer.hpp"

namespace nnlab {

class Dropout : public Layer {
 public:
  explicit Dropout(float rate);
  static std::unique_ptr<Dropout> from_config(ConfigReader& c);
  std::string type() const override { return "dropout"; }
  Shape build(const Shape& input) override { return input; }
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  nlohmann::json config() const override;

  float rate() const { return rate_; }
  const Tensor& mask() const { return mask_; }  // (batch, features): 0 or 1 / (1 - rate), last training pass

 private:
  float rate_;
  bool last_train_ = false;
  Tensor mask_;
};

}  // namespace nnlab
