// Maxout (Goodfellow et al. 2013): `pieces` affine maps per unit, the output is their maximum.
// z = x W + b with W (in, units * pieces), grouped as (units, pieces); y[u] = max_k z[u, k].
#pragma once
#include <vector>

#include "nnlab/layers/dense.hpp"  // kDefaultKernelInitializer
#include "nnlab/layers/layer.hpp"

namespace nnlab {

class Maxout : public Layer {
 public:
  static constexpr int64_t kDefaultPieces = 2;

  Maxout(int64_t units, int64_t pieces, std::string kernel_initializer = kDefaultKernelInitializer);
  static std::unique_ptr<Maxout> from_config(ConfigReader& c);
  std::string type() const override { return "maxout"; }
  Shape build(const Shape& input) override;
  std::vector<ParamSpec> param_specs() const override;
  void bind(std::vector<ParamView> views) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  nlohmann::json config() const override;

 private:
  int64_t units_, pieces_, in_ = 0;
  std::string init_;
  ParamView w_, b_;
  Tensor z_;                   // (batch, units * pieces)
  Tensor dz_;                  // (batch, units * pieces)
  std::vector<int32_t> arg_;   // (batch, units): the winning piece
};

}  // namespace nnlab
