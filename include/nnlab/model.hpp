// Sequential model: a stack of layers, with all trainable parameters in one flat buffer and their
// gradients in another (named views per layer), and non-trainable state (running statistics) in a
// third.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <vector>

#include "nnlab/layers/layer.hpp"
#include "nnlab/random.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab {

struct NamedTensor {
  std::string name;  // "dense_1.kernel"
  Shape shape;
  std::span<float> value;
  bool trainable;
};

class Model {
 public:
  Model() = default;
  Model(Model&&) = default;
  Model& operator=(Model&&) = default;

  Model& add(std::unique_ptr<Layer> layer);
  template <class L, class... Args>
  Model& add(Args&&... args) {
    return add(std::make_unique<L>(std::forward<Args>(args)...));
  }

  // Fixes the input shape (per sample), allocates the parameter buffers and initialises them from
  // the seed. Layers are named "<type>_<k>" in order when they have no name. Before allocating,
  // the sizes are checked, naming the layer that breaks a limit: the parameters with their gradients
  // must fit this machine's memory, and, when max_values >= 0 (load_model passes the number of
  // values its file holds), parameters and state together must not exceed max_values.
  void build(const Shape& input, uint64_t seed = 42, int64_t max_values = -1);
  bool built() const { return built_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }

  // Forward pass over a batch x: (batch, input...). Returns the output (batch, output...), which
  // stays valid until the next forward call. Intermediate activations are kept for backward().
  const Tensor& forward(const Tensor& x, Mode mode);
  // forward(x, Mode::Infer) for predictions and evaluation: the same output, bit for bit, sooner. A
  // layer that commutes with the max pooling after it (batch_norm with gamma > 0) runs after the
  // pooling instead, on a quarter of the values behind a 2x2 one; that layer's own output is then not
  // written, so no backward() may follow (it throws) until the next forward().
  const Tensor& infer(const Tensor& x);
  // Backward pass from dL/d(output), or from dL/d(logits of the last layer's output activation)
  // when from_logits is true. Fills grads().
  void backward(const Tensor& grad, bool from_logits);
  // The same, calling done(offset) after each layer: grads()[offset, end) are then final (layers fill
  // the flat buffer from its end, the last layer first), so their sum over data-parallel ranks can
  // start while backward continues (dist::GradientReducer).
  void backward(const Tensor& grad, bool from_logits, const std::function<void(size_t offset)>& done);
  // The layers' weight penalties (added to the training loss) and constraints (after each step).
  double penalty() const;
  void apply_constraints();
  // The last layer's pre-activation values from the last forward call (for fused losses).
  const Tensor* output_logits() const;
  std::string output_activation() const;

  // Inference in batches (batch_size 0: infer_batch_size()).
  Tensor predict(const Tensor& x, int64_t batch_size = 0);
  // The same over n samples in memory the model does not own (a numpy array): x holds n rows of the
  // input's size, out receives n rows of the output's size.
  void predict(const float* x, int64_t n, float* out, int64_t batch_size = 0);
  // The batch size at which infer() gets through many samples soonest: the largest, up to `most`,
  // whose layer outputs together take at most kInferBatchBytes, so that each layer's input is still
  // in cache when it reads it. A dense network keeps `most`; fashion-cnn (365 KB of outputs an
  // image) takes 45 images: 0.40 s for 10,000 against 0.65 s at 256, on 1 thread of lscpu's "AMD
  // EPYC", family 26 model 2 (Zen 5).
  static constexpr int64_t kInferBatchBytes = int64_t{16} << 20;
  int64_t infer_batch_size(int64_t most = 256) const;
  // A caller's batch size for inference: as given when positive, infer_batch_size() for 0; a negative
  // one throws, the message starting with `who`.
  int64_t inference_batch(int64_t batch_size, const std::string& who) const;

  std::span<float> params() { return params_; }
  std::span<float> grads() { return grads_; }
  std::span<float> state() { return state_; }
  std::vector<NamedTensor> named_tensors();
  int64_t param_count() const { return static_cast<int64_t>(params_.size() + state_.size()); }
  int64_t trainable_count() const { return static_cast<int64_t>(params_.size()); }

  size_t num_layers() const { return layers_.size(); }
  Layer& layer(size_t i) { return *layers_.at(i); }
  const Layer& layer(size_t i) const { return *layers_.at(i); }
  const Shape& layer_output_shape(size_t i) const { return out_shapes_.at(i); }
  int64_t layer_param_count(size_t i) const { return layer_params_.at(i); }

  // Keras-like table: layer, output shape, parameter count, and the totals.
  std::string summary() const;
  // {"input": [...], "layers": [layer configs]}; from_config() rebuilds an unbuilt-then-built model.
  nlohmann::json config() const;
  static Model from_config(const nlohmann::json& config, uint64_t seed = 42, int64_t max_values = -1);

  Rng& rng() { return rng_; }

 private:
  void check_input_width(int64_t cols) const;  // throws, naming both, unless cols is the input's size
  void start_pass(const Tensor& x);              // forward's and infer's checks; x becomes the input
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Shape> out_shapes_;
  std::vector<int64_t> layer_params_;
  std::vector<int64_t> layer_trainable_;  // each layer's values in params_ (its share of the flat buffer)
  std::vector<Tensor> acts_;       // acts_[i] is the output of layer i (batch, ...)
  // grad_bufs_[i]: dL/d(input of layer i), one a layer like acts_, so each keeps its size from batch to
  // batch (two alternated buffers shrank and grew back every batch, and std::vector zero-fills what
  // it grows back: 25 MB a step in fashion-cnn at batch 128). A layer that computes its backward in
  // place (backward_in_place) writes its dx over its dy, grad_bufs_[i + 1], and leaves its own unused.
  std::vector<Tensor> grad_bufs_;
  std::vector<char> relu_fused_;   // relu_fused_[i]: layer i + 1 applies layer i's relu derivative (fuse_input_relu)
  std::vector<char> before_max_pool_;  // before_max_pool_[i]: layer i + 1 is a max pooling, not the last layer
  Tensor pooled_;                  // infer's scratch: a max pooling's output before the layer it swapped with
  bool acts_partial_ = false;      // the last pass was infer() and skipped some outputs
  const Tensor* input_ = nullptr;  // the batch of the last forward call
  Shape input_shape_, output_shape_;
  std::vector<float> params_, grads_, state_;
  std::vector<std::pair<size_t, std::vector<ParamSpec>>> specs_;
  Rng rng_;
  bool built_ = false;
};

}  // namespace nnlab
