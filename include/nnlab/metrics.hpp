// Metrics computed per batch and averaged per epoch.
#pragma once
#include <string>

#include "nnlab/losses/loss.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab {

// Keras's "accuracy" beside a loss, chosen by what its targets hold (Loss::targets()): binary accuracy
// (threshold 0.5) for binary targets, categorical accuracy (argmax) for classes. Returns the number
// of correct samples. Throws for losses of real values, where accuracy has no meaning.
int64_t count_correct(const Loss& loss, const Tensor& pred, const Tensor& target);
bool accuracy_applies(const Loss& loss);
// The same by the loss's name (make_loss's names).
int64_t count_correct(const std::string& loss, const Tensor& pred, const Tensor& target);
bool accuracy_applies(const std::string& loss);

// Index of the largest value in row r.
int64_t argmax_row(const Tensor& t, int64_t r);

}  // namespace nnlab
