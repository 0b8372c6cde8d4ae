#include "nnlab/training/objective.hpp"

#include "nnlab/error.hpp"

namespace nnlab {

Objective::Objective(const Loss& loss, const Model& model)
    : loss_(loss), fused_(loss.fuses(model.output_activation())) {}

double Objective::loss_and_gradient(const Model& model, const Tensor& out, const Tensor& target, Tensor* grad) const {
  if (!fused_) return loss_.compute(out, target, grad);
  const Tensor* logits = model.output_logits();
  if (logits == nullptr) {  // the message is built only here: this runs every batch
    throw Error("loss " + loss_.name() + ": the model's last layer keeps no logits for its " +
                loss_.fused_activation() + " (call forward first)");
  }
  return loss_.compute_fused(*logits, target, grad);
}

}  // namespace nnlab
