// Losses. Each one lives in its own file under src/losses/ and is registered by one line in
// src/losses/registry.cpp. Values are Keras's: the mean over the batch of the per-sample loss.
//
// Targets: for categorical_crossentropy either one-hot rows (batch, classes) or class indices
// (batch, 1); for sparse_categorical_crossentropy class indices (batch, 1); otherwise the same
// shape as the prediction.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nnlab/tensor.hpp"

namespace nnlab {

// What a loss's targets hold, which decides the accuracy Keras reports beside it.
enum class Targets {
  Values,        // any real numbers (mse, mae): no accuracy
  Binary,        // 0 or 1 per output (binary_crossentropy): binary accuracy, threshold 0.5
  Classes,       // one class a sample, as one-hot rows or class indices: categorical accuracy (argmax)
  ClassIndices,  // one class index a sample (sparse_categorical_crossentropy): categorical accuracy
};

class Loss {
 public:
  virtual ~Loss() = default;
  virtual const std::string& name() const = 0;  // a member: per-batch checks build no string
  virtual Targets targets() const = 0;
  // pred: (batch, out). Returns the mean loss; when grad is not null writes dLoss/dpred into it
  // (resized to pred's shape).
  virtual double compute(const Tensor& pred, const Tensor& target, Tensor* grad) const = 0;
  // The output activation ("sigmoid", "softmax") whose logits this loss can take, computing loss and
  // gradient from them without ever forming log(0); "" for none. training/objective.hpp settles once
  // whether a model's output uses it.
  virtual std::string fused_activation() const { return ""; }
  bool fuses(const std::string& activation) const {
    return !activation.empty() && activation == fused_activation();
  }
  // Like compute, but from the logits z of the fused activation; grad is dLoss/dz.
  virtual double compute_fused(const Tensor& logits, const Tensor& target, Tensor* grad) const;
};

// "mse", "mae", "binary_crossentropy", "categorical_crossentropy",
// "sparse_categorical_crossentropy" (aliases: mean_squared_error, mean_absolute_error).
// options: the loss's settings by Keras's names, each loss reading its own: label_smoothing in [0, 1]
// for binary_crossentropy (targets t -> t (1 - s) + s / 2) and categorical_crossentropy (one-hot
// rows or class indices -> t (1 - s) + s / classes), 0 by default. Unknown keys and bad values raise
// nnlab::Error naming the loss.
std::unique_ptr<Loss> make_loss(const std::string& name, const nlohmann::json& options = nlohmann::json::object());
std::vector<std::string> loss_names();
// The loss a model's output implies when nothing names one (a model imported from another
// framework): softmax -> categorical_crossentropy, one sigmoid output -> binary_crossentropy, else mse.
std::string implied_loss(const std::string& output_activation, int64_t outputs);

}  // namespace nnlab
