// Knowledge distillation (Hinton, Vinyals and Dean, 2015; Keras's keras.distillation.Distiller with
// LogitsDistillation): a student learns from the labels and from trained teachers' predictions on
// the same (augmented) batch. With teacher log-probabilities u, the student's logits z and
// temperature T, the soft targets are q = softmax(u / T) and the loss is
//   w * hard_loss + (1 - w) * T^2 * mean over the batch of KL(q || softmax(z / T)),
// w = student_loss_weight (Keras's default 0.5), T = temperature (Keras's default 3). T^2 keeps the
// soft term's gradient, T (softmax(z / T) - q), as large as the hard term's whatever T is.
// Several teachers act as one: the mean of their probabilities.
#pragma once
#include <memory>
#include <vector>

#include "nnlab/model.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab {

struct DistillOptions {
  double temperature = 3.0;
  double student_loss_weight = 0.5;
};

class Distiller {
 public:
  // teachers: trained models ending in softmax, whose inputs and outputs have the student's sizes
  // (run_experiment checks them and names the files).
  Distiller(std::vector<std::shared_ptr<Model>> teachers, DistillOptions options);

  // After the student's forward on x: `hard_loss` and `grad` (its gradient with respect to the
  // student's logits) become the distillation loss and its gradient.
  double combine(const Tensor& x, const Tensor& student_logits, double hard_loss, Tensor& grad);

  // The soft part alone for given teacher log-probabilities (batch, classes): T^2 times the mean KL
  // divergence; adds (1 - w) times its gradient to *grad when grad is not null.
  double soft_loss(const Tensor& teacher_log_probs, const Tensor& student_logits, Tensor* grad);

  // The teachers' log-probabilities for a batch (the log of their mean probability).
  const Tensor& teacher_log_probs(const Tensor& x);

  const DistillOptions& options() const { return options_; }

 private:
  std::vector<std::shared_ptr<Model>> teachers_;
  DistillOptions options_;
  Tensor log_probs_;  // (batch, classes), reused across steps
  std::vector<double> q_, s_;  // (classes) a row's softened log-probabilities, teacher's and student's
};

}  // namespace nnlab
