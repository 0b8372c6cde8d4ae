#include "nnlab/layers/flatten.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"

namespace nnlab {

void Flatten::forward(const Tensor& x, Tensor& y, Mode, Rng&) {
  y.resize(x.rows(), x.cols());
  std::memcpy(y.data(), x.data(), sizeof(float) * static_cast<size_t>(x.size()));
}

void Flatten::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, bool) {
  if (!dx) return;
  dx->resize(x.shape());
  std::memcpy(dx->data(), dy.data(), sizeof(float) * static_cast<size_t>(dy.size()));
}

std::unique_ptr<Flatten> Flatten::from_config(ConfigReader&) { return std::make_unique<Flatten>(); }

nlohmann::json Flatten::config() const { return {{"type", "flatten"}}; }

}  // namespace nnlab
