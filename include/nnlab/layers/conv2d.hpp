// Conv2D with Keras's options and defaults, images NHWC (batch, height, width, channels) as Keras.
// y = act(conv(x, K) + b); the kernel K is (kernel_h, kernel_w, in_channels, filters) as Keras saves
// it, so weights move to and from Keras unchanged; b is (filters). Forward and backward run on
// oneDNN's convolution primitives, made once per batch size and reused (see conv2d.cpp).
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "nnlab/activations/activation.hpp"
#include "nnlab/layers/layer.hpp"
#include "nnlab/layers/regularizer.hpp"

namespace nnlab {

struct Conv2DOptions {
  int64_t filters = 0;
  std::array<int64_t, 2> kernel_size{0, 0};    // (height, width)
  std::array<int64_t, 2> strides{1, 1};        // (height, width)
  std::string padding = "valid";               // "valid" or "same" (TensorFlow's arithmetic)
  std::array<int64_t, 2> dilation_rate{1, 1};  // (height, width)
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";  // fans: kh * kw * in and kh * kw * filters
  KernelPenalty penalty;                              // l1, l2, max_norm (per filter) on the kernel
};

class Conv2D : public Layer {
 public:
  explicit Conv2D(Conv2DOptions options);
  ~Conv2D() override;
  static std::unique_ptr<Conv2D> from_config(ConfigReader& c);
  std::string type() const override { return "conv2d"; }
  Shape build(const Shape& input) override;  // (h, w, c) -> (out_h, out_w, filters)
  std::vector<ParamSpec> param_specs() const override;
  void bind(std::vector<ParamView> views) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  double penalty() const override { return opt_.penalty.penalised() ? opt_.penalty.loss(w_.value) : 0.0; }
  void add_penalty_gradient() override;
  void apply_constraints() override;
  std::string output_activation() const override;
  const Tensor* preactivation(const Tensor& x) const override;  // null for linear and relu
  nlohmann::json config() const override;

  const Conv2DOptions& options() const { return opt_; }
  std::span<float> kernel() { return w_.value; }  // (kernel_h, kernel_w, in_channels, filters)
  std::span<float> bias() { return b_.value; }    // (filters)

  struct Plan;  // oneDNN primitives and memories for one batch size (conv2d.cpp)

 private:
  Plan& plan(int64_t batch);
  std::string where() const;
  Conv2DOptions opt_;
  std::unique_ptr<Activation> act_;  // null for linear
  bool relu_ = false;                // relu is a post-op of the convolution; z_ is not kept
  Shape in_, out_;                   // (h, w, c) and (out_h, out_w, filters)
  std::array<int64_t, 4> pads_{};    // top, bottom, left, right
  ParamView w_, b_;
  Tensor z_;   // (batch, out_h, out_w, filters) pre-activation, for activations other than relu
  Tensor dz_;  // (batch, out_h, out_w, filters) scratch
  std::vector<std::unique_ptr<Plan>> plans_;  // the last few batch sizes, most recent first
};

}  // namespace nnlab
