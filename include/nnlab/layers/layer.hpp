// Layer: the unit a Sequential model stacks. Shapes below are (batch, features...).
// A layer declares its parameters in build(); the model allocates one flat parameter buffer and one
// flat gradient buffer and binds each layer's views into them, so zeroing gradients is one fill and
// an optimizer step is one loop.
#pragma once
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <vector>

#include "nnlab/random.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab {

class ConfigReader;  // each layer's static from_config reads its own options through one

enum class Mode { Train, Infer };

struct ParamSpec {
  std::string name;  // "kernel", "bias": the model prefixes the layer's name
  Shape shape;
  bool trainable = true;  // false for running statistics (never touched by the optimizer)
};

// A view of one parameter tensor inside the model's flat buffers.
struct ParamView {
  std::span<float> value;
  std::span<float> grad;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string type() const = 0;  // "dense", "activation", "maxout", ...

  // Fixes the input shape (per sample, without batch) and returns the output shape per sample.
  virtual Shape build(const Shape& input) = 0;
  virtual std::vector<ParamSpec> param_specs() const { return {}; }
  // Called once after build with one view per entry of param_specs(), in order.
  virtual void bind(std::vector<ParamView> /*views*/) {}
  virtual void init_params(Rng& /*rng*/) {}

  // x: (batch, in...), y: (batch, out...). y is resized by the layer.
  virtual void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) = 0;
  // Writes (overwrites) parameter gradients and, when dx is not null, dL/dx (resized by the layer).
  // x and y are the tensors of the last forward call. When dy_is_preactivation is true, dy is already
  // the gradient with respect to the input of this layer's output activation (see output_activation).
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                        bool dy_is_preactivation = false) = 0;

  // Weight penalties (L1/L2) this layer adds to the training loss, and their gradient, added to the
  // parameter gradients after backward(); constraints (max-norm) applied after each optimizer step.
  virtual double penalty() const { return 0.0; }
  virtual void add_penalty_gradient() {}
  virtual void apply_constraints() {}

  // Name of the activation applied last by this layer ("sigmoid", "softmax", ...), or "" if none.
  // A loss fused with that activation computes its gradient from the pre-activation values.
  virtual std::string output_activation() const { return ""; }
  // The values before the output activation from the last forward call (logits), or null.
  virtual const Tensor* preactivation(const Tensor& /*x*/) const { return nullptr; }
  // Model::build calls this when the layer before ends in relu (output_activation() == "relu"). A
  // layer that returns true multiplies the dx of its backward by relu's derivative, (x > 0) of its own
  // input, in a pass it makes anyway; the model then gives the layer before dy_is_preactivation, and
  // that layer skips its own pass over relu's mask.
  virtual bool fuse_input_relu() { return false; }
  // True when backward may write dx over dy (the model then passes the same tensor as both when dy is
  // one of its own buffers): each dx value depends on dy at its own position and on values read
  // before any is written. It saves a buffer, and writing into lines just read costs less than
  // fetching a cold buffer's lines to overwrite them.
  virtual bool backward_in_place() const { return false; }

  // Model::infer (predictions, evaluation: never followed by a backward pass). True when forward in
  // Mode::Infer maps each value through a non-decreasing function of that value and its position on
  // the last axis (its channel) alone, with the parameters as they are now: the largest of some values
  // of a channel then maps to the largest of their images, so the layer gives exactly the same output
  // after a max pooling as before it, and infer pools first and maps the pooled values (a quarter of
  // them behind a 2x2 pooling) with infer_any_shape.
  virtual bool commutes_with_max_pool() const { return false; }
  // forward(x, y, Mode::Infer, ...) on x of any shape with the same last axis (called only when
  // commutes_with_max_pool()).
  virtual void infer_any_shape(const Tensor& /*x*/, Tensor& /*y*/) {}

  // Architecture as JSON (type plus options), enough to rebuild the layer with make_layer().
  virtual nlohmann::json config() const = 0;
  std::string describe() const;  // one line for the summary, e.g. "dense(8, relu)"

  std::string name;  // unique within a model, e.g. "dense_1"
};

// Builds a layer from its JSON config ({"type": "dense", "units": 8, ...}). Throws nnlab::Error
// naming the bad key or value.
std::unique_ptr<Layer> make_layer(const nlohmann::json& config);

}  // namespace nnlab
