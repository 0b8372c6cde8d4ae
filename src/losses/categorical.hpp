// Cross-entropy over classes, shared by categorical_crossentropy and
// sparse_categorical_crossentropy (private to src/losses/).
#pragma once
#include <string>

#include "nnlab/tensor.hpp"

namespace nnlab::losses {

// Throws unless target fits pred (batch, classes): class indices (batch, 1) when `indices`, each an
// integer in [0, classes); otherwise finite rows of pred's shape (one-hot or soft labels).
void check_categorical_target(const std::string& loss, const Tensor& pred, const Tensor& target,
                              bool indices);

// From probabilities pred (batch, classes), each row first normalised to sum 1 and then clipped to
// [1e-7, 1 - 1e-7], as Keras. Mean over the batch of -sum_c t_c log(p_c), where t_c is the target
// smoothed as Keras: t (1 - smoothing) + smoothing / classes.
double categorical_crossentropy(const std::string& loss, const Tensor& pred, const Tensor& target,
                                bool indices, double smoothing, Tensor* grad);

// From the logits z (batch, classes) of a softmax, through log-softmax.
// dLoss/dz = (softmax(z) * sum_c t_c - t) / batch, which is (softmax(z) - onehot) / batch.
double categorical_crossentropy_from_logits(const std::string& loss, const Tensor& logits,
                                            const Tensor& target, bool indices, double smoothing, Tensor* grad);

}  // namespace nnlab::losses
