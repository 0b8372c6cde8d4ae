// The loss of a model's outputs, one path for training, evaluation and the gradient check. When the
// loss fuses with the model's output activation (cross-entropy after sigmoid or softmax), loss and
// gradient come from the logits and backward starts below the activation; that is settled once,
// when the objective is made, from properties of the loss and the model, never from names per step.
#pragma once
#include "nnlab/losses/loss.hpp"
#include "nnlab/model.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab {

class Objective {
 public:
  Objective(const Loss& loss, const Model& model);

  // After model.forward() returned `out`: the batch's mean loss against `target`; when grad is not
  // null it receives the gradient that model.backward(*grad, fused()) takes.
  double loss_and_gradient(const Model& model, const Tensor& out, const Tensor& target, Tensor* grad) const;
  bool fused() const { return fused_; }

 private:
  const Loss& loss_;
  bool fused_;
};

}  // namespace nnlab
