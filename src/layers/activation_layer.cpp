#include "nnlab/layers/activation_layer.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"

namespace nnlab {

ActivationLayer::ActivationLayer(const std::string& spec) : act_(make_activation(spec)) {}

void ActivationLayer::forward(const Tensor& x, Tensor& y, Mode, Rng&) {
  y.resize(x.shape());
  act_->forward(x.data(), y.data(), x.rows(), x.cols());
}

void ActivationLayer::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                               bool dy_is_preactivation) {
  if (!dx) return;
  dx->resize(x.shape());
  if (dy_is_preactivation) {
    std::memcpy(dx->data(), dy.data(), sizeof(float) * static_cast<size_t>(dy.size()));
  } else {
    act_->backward(x.data(), y.data(), dy.data(), dx->data(), x.rows(), x.cols());
  }
}

std::unique_ptr<ActivationLayer> ActivationLayer::from_config(ConfigReader& c) {
  return std::make_unique<ActivationLayer>(c.require<std::string>("activation"));
}

nlohmann::json ActivationLayer::config() const { return {{"type", "activation"}, {"activation", act_->name()}}; }

}  // namespace nnlab
