// Losses. Each one lives in its own file under src/losses/ and is registered by one line in
// src/losses/registry.cpp. Values are Keras's: the mean over the batch of the per-sample loss.
//
// Targets: for categorical_crossentropy either one-hot rows (batch, classes) or class indices
// (batch, 1); for sparse_categorical_crossentropy class indices (batch, 1); otherwise the same
// shape as the prediction.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nnlab/tensor.hpp"

namespace nnlab {

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;
  // pred: (batch, out). Returns the mean loss; when grad is not null writes dLoss/dpred into it
  // (resized to pred's shape).
  virtual double compute(const Tensor& pred, const Tensor& target, Tensor* grad) const = 0;
  // True when this loss can take the logits of the given output activation ("sigmoid", "softmax")
  // and compute loss and gradient from them without ever forming log(0).
  virtual bool fuses(const std::string& /*activation*/) const { return false; }
  // Like compute, but from the logits z of the fused activation; grad is dLoss/dz.
  virtual double compute_fused(const Tensor& logits, const Tensor& target, Tensor* grad) const;
};

// "mse", "mae", "binary_crossentropy", "categorical_crossentropy",
// "sparse_categorical_crossentropy" (aliases: mean_squared_error, mean_absolute_error).
std::unique_ptr<Loss> make_loss(const std::string& name);
std::vector<std::string> loss_names();

}  // namespace nnlab
