// Helpers of the tests that drive one layer directly: LoneLayer, a layer outside a model, made from
// its config, built on an input shape, with its own parameter and gradient buffers (state included, in
// param_specs() order) and random values in them; random tensors; a sample shape with its batch.
#pragma once
#include <memory>
#include <utility>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "nnlab/nnlab.hpp"

namespace nnlab::testing {

// Uniform values in [lo, hi) from the seed.
inline Tensor random_tensor(Shape s, uint64_t seed, float lo = -1.5f, float hi = 1.5f) {
  Tensor t(std::move(s));
  Rng rng(seed);
  for (float& v : t.span()) v = rng.uniform(lo, hi);
  return t;
}

// (n, s...): the shape of a batch of n samples of shape s.
inline Shape batch_of(int64_t n, Shape s) {
  s.insert(s.begin(), n);
  return s;
}

struct LoneLayer {
  std::unique_ptr<Layer> layer;
  Shape out;
  std::vector<float> params, grads;
  std::vector<size_t> offsets;  // where each of param_specs() starts in params
  LoneLayer(const nlohmann::json& config, const Shape& input, uint64_t seed) : layer(make_layer(config)) {
    layer->name = "under_test";
    out = layer->build(input);
    size_t total = 0;
    for (const auto& s : layer->param_specs()) {
      offsets.push_back(total);
      total += static_cast<size_t>(shape_size(s.shape));
    }
    params.resize(total);
    grads.assign(total, 0.0f);
    std::vector<ParamView> views;
    size_t at = 0;
    for (const auto& s : layer->param_specs()) {
      const auto n = static_cast<size_t>(shape_size(s.shape));
      views.push_back({std::span<float>(params).subspan(at, n), std::span<float>(grads).subspan(at, n)});
      at += n;
    }
    layer->bind(std::move(views));
    Rng rng(seed);
    for (float& v : params) v = rng.uniform(-1.0f, 1.0f);
  }
  // The values and gradient of param_specs()[i].
  std::span<float> value(size_t i) { return std::span<float>(params).subspan(offsets.at(i), size(i)); }
  std::span<float> grad(size_t i) { return std::span<float>(grads).subspan(offsets.at(i), size(i)); }
  size_t size(size_t i) const { return static_cast<size_t>(shape_size(layer->param_specs().at(i).shape)); }
};

}  // namespace nnlab::testing
