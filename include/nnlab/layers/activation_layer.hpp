// ActivationLayer: applies an activation function on its own, like Keras's Activation layer.
#pragma once
#include <memory>

#include "nnlab/activations/activation.hpp"
#include "nnlab/layers/layer.hpp"

namespace nnlab {

class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(const std::string& spec);
  static std::unique_ptr<ActivationLayer> from_config(ConfigReader& c);
  std::string type() const override { return "activation"; }
  Shape build(const Shape& input) override { return input; }
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  std::string output_activation() const override { return act_->name(); }
  const Tensor* preactivation(const Tensor& x) const override { return &x; }
  nlohmann::json config() const override;

 private:
  std::unique_ptr<Activation> act_;
};

}  // namespace nnlab
