// Dense (fully connected): y = act(x W + b). W is (in, units) as in Keras, b is (units).
// Glorot-uniform weights and zero biases by default; "he_uniform"/"he_normal" as options.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nnlab/activations/activation.hpp"
#include "nnlab/layers/layer.hpp"
#include "nnlab/layers/regularizer.hpp"

namespace nnlab {

// Also Maxout's default: a layer without kernel_initializer starts from Glorot-uniform weights.
inline constexpr const char* kDefaultKernelInitializer = "glorot_uniform";

struct DenseOptions {
  int64_t units = 0;
  std::string activation = "linear";
  bool use_bias = true;
  // glorot_uniform, glorot_normal, he_uniform, he_normal, zeros
  std::string kernel_initializer = kDefaultKernelInitializer;
  KernelPenalty penalty;  // l1, l2, max_norm on the kernel
};

class Dense : public Layer {
 public:
  explicit Dense(DenseOptions options);
  Dense(int64_t units, const std::string& activation = "linear");
  static std::unique_ptr<Dense> from_config(ConfigReader& c);  // DenseOptions' defaults for absent keys
  std::string type() const override { return "dense"; }
  Shape build(const Shape& input) override;
  std::vector<ParamSpec> param_specs() const override;
  void bind(std::vector<ParamView> views) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  double penalty() const override { return opt_.penalty.penalised() ? opt_.penalty.loss(w_.value) : 0.0; }
  void add_penalty_gradient() override;
  void apply_constraints() override { opt_.penalty.constrain(w_.value, in_, opt_.units); }
  std::string output_activation() const override;
  // The pre-activation of the last forward call; null for linear and for relu, whose is not kept.
  const Tensor* preactivation(const Tensor& x) const override;
  nlohmann::json config() const override;

  const DenseOptions& options() const { return opt_; }
  std::span<float> kernel() { return w_.value; }  // (in, units)
  std::span<float> bias() { return b_.value; }    // (units)

 private:
  DenseOptions opt_;
  std::unique_ptr<Activation> act_;  // null for linear
  bool relu_ = false;                // relu is fused into the product's output pass; z_ is not kept
  int64_t in_ = 0;
  ParamView w_, b_;
  Tensor z_;   // (batch, units) pre-activation, kept for backward for activations other than relu
  Tensor dz_;  // (batch, units) scratch
  std::vector<float> xt_;  // (in, batch + 16) scratch: x transposed for the weight gradient
};

// Fills a kernel (fan_in, fan_out) by the named initialiser. Throws for an unknown name.
void initialize_kernel(const std::string& initializer, std::span<float> w, int64_t fan_in, int64_t fan_out, Rng& rng);

}  // namespace nnlab
