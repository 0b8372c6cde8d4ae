#include "nnlab/layers/global_average_pool2d.hpp"

#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "spatial.hpp"

namespace nnlab {

Shape GlobalAveragePool2D::build(const Shape& input) {
  in_ = image_input(input, "global_average_pool2d '" + name + "'");
  return {in_[2]};
}

// y (n, c) = the mean of x (n, h * w, c) over its middle axis, summed in pixel order.
void GlobalAveragePool2D::forward(const Tensor& x, Tensor& y, Mode, Rng&) {
  const int64_t n = x.rows(), pixels = in_[0] * in_[1], c = in_[2];
  if (x.cols() != pixels * c)
    throw Error("global_average_pool2d '" + name + "': input has " + std::to_string(x.cols()) +
                " values per sample, expected " + shape_str(in_));
  y.resize(n, c);
  const float scale = 1.0f / static_cast<float>(pixels);
#pragma omp parallel for schedule(static) if (n * pixels * c >= 1 << 16)
  for (int64_t s = 0; s < n; ++s) {
    float* out = y.data() + s * c;
    const float* in = x.data() + s * pixels * c;
    for (int64_t k = 0; k < c; ++k) out[k] = 0.0f;
    for (int64_t p = 0; p < pixels; ++p)
      for (int64_t k = 0; k < c; ++k) out[k] += in[p * c + k];
    for (int64_t k = 0; k < c; ++k) out[k] *= scale;
  }
}

// dx (n, h * w, c) = dy (n, c) / (h * w) at every pixel.
void GlobalAveragePool2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, bool) {
  if (!dx) return;
  const int64_t n = x.rows(), pixels = in_[0] * in_[1], c = in_[2];
  dx->resize_rows(n, in_);
  const float scale = 1.0f / static_cast<float>(pixels);
#pragma omp parallel for schedule(static) if (n * pixels * c >= 1 << 16)
  for (int64_t s = 0; s < n; ++s)
    for (int64_t p = 0; p < pixels; ++p)
      for (int64_t k = 0; k < c; ++k) dx->data()[(s * pixels + p) * c + k] = dy.data()[s * c + k] * scale;
}

std::unique_ptr<GlobalAveragePool2D> GlobalAveragePool2D::from_config(ConfigReader&) {
  return std::make_unique<GlobalAveragePool2D>();
}

nlohmann::json GlobalAveragePool2D::config() const { return {{"type", "global_average_pool2d"}}; }

}  // namespace nnlab
