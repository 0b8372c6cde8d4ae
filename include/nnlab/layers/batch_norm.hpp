// Batch normalisation (Ioffe & Szegedy 2015) with Keras's defaults: momentum 0.99, epsilon 1e-3.
// Training: normalise each feature with the batch's mean and (biased) variance, then scale by gamma
// and shift by beta, and update the moving statistics. Inference: use the moving statistics, which
// are non-trainable state saved with the model. On images (height, width, channels) each channel is
// one feature, its statistics taken over the batch and every pixel (Keras's axis=-1 on NHWC).
#pragma once
#include "nnlab/layers/layer.hpp"

namespace nnlab {

class BatchNorm : public Layer {
 public:
  static constexpr float kDefaultMomentum = 0.99f;
  static constexpr float kDefaultEpsilon = 1e-3f;

  explicit BatchNorm(float momentum = kDefaultMomentum, float epsilon = kDefaultEpsilon);
  static std::unique_ptr<BatchNorm> from_config(ConfigReader& c);
  std::string type() const override { return "batch_norm"; }
  Shape build(const Shape& input) override;
  std::vector<ParamSpec> param_specs() const override;
  void bind(std::vector<ParamView> views) override;
  void init_params(Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  // After a relu (a conv2d's or dense layer's own, or an activation layer), dx takes relu's mask
  // (x > 0) in its own pass: the layer before skips a read and write of the whole tensor.
  bool fuse_input_relu() override { return input_relu_ = true; }
  // Inference maps each channel through gamma * (x - mean) * inv_std + beta, increasing in x when gamma
  // is positive (inv_std always is), and so commutes with a max pooling after it (Model::infer).
  bool commutes_with_max_pool() const override;
  bool backward_in_place() const override { return true; }  // its sums first, then dx value by value
  void infer_any_shape(const Tensor& x, Tensor& y) override;
  nlohmann::json config() const override;

 private:
  void infer_rows(int64_t rows, const float* x, float* y);  // rows of features_ values, moving statistics
  float momentum_, epsilon_;
  int64_t features_ = 0;    // the last axis: features, or channels
  int64_t per_sample_ = 0;  // values per sample
  ParamView gamma_, beta_, moving_mean_, moving_var_;
  std::vector<float> inv_std_;        // (features)
  std::vector<float> mean_;           // (features) the last forward's mean (backward recomputes xhat)
  std::vector<double> sum_, sum2_;    // (features) scratch
  std::vector<double> partial_;       // (chunks of rows, features) partial sums, scratch (batch_norm.cpp)
  std::vector<float> tiled_;          // the last forward's mean, inv_std, gamma, beta, repeated over a few rows (batch_norm.cpp)
  std::vector<double> tiled_sums_;    // the same for backward's two sums
  bool last_train_ = false;
  bool input_relu_ = false;  // the input is a relu's output: backward applies relu's derivative to dx
};

}  // namespace nnlab
