// Metrics computed per batch and averaged per epoch.
#pragma once
#include <string>

#include "nnlab/tensor.hpp"

namespace nnlab {

// Keras's "accuracy" for the given loss: binary accuracy (threshold 0.5) after binary_crossentropy,
// categorical accuracy (argmax) after the categorical losses. Returns the number of correct samples.
// Throws for regression losses, where accuracy has no meaning.
int64_t count_correct(const std::string& loss, const Tensor& pred, const Tensor& target);
bool accuracy_applies(const std::string& loss);

// Index of the largest value in row r.
int64_t argmax_row(const Tensor& t, int64_t r);

}  // namespace nnlab
