// Checks and constants shared by the loss files (private to src/losses/ and src/metrics.cpp).
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/tensor.hpp"
#include "nnlab/text.hpp"

namespace nnlab::losses {

// Keras's backend epsilon: probabilities are clipped to [kEpsilon, 1 - kEpsilon] before the log.
inline constexpr float kEpsilon = 1e-7f;


// Keras's label_smoothing option, in [0, 1] (0, the default, leaves the targets as they are).
inline double read_label_smoothing(ConfigReader& options) {
  const double s = options.get<double>("label_smoothing", 0.0);
  if (!(s >= 0.0 && s <= 1.0))
    throw Error(options.where() + ": label_smoothing must be in [0, 1], got " + number_str(s));
  return s;
}

// Throws unless the batch is not empty and target has pred's rows and features per row.
inline void check_same_shape(const std::string& loss, const Tensor& pred, const Tensor& target) {
  if (!(pred.rows() > 0)) throw Error(loss + ": empty batch, prediction shape " + shape_str(pred.shape()));
  if (!(target.rows() == pred.rows() && target.cols() == pred.cols()))
    throw Error(loss + ": target shape " + shape_str(target.shape()) + " does not match prediction shape " +
                shape_str(pred.shape()));
}

// Throws at the first NaN or infinite target value.
inline void check_finite(const std::string& loss, const Tensor& target) {
  const int64_t cols = target.cols();
  for (int64_t i = 0; i < target.size(); ++i)
    if (!(std::isfinite(target[i])))
      throw Error(loss + ": target value " + number_str(target[i]) + " at row " + std::to_string(i / cols) +
                  ", column " + std::to_string(i % cols) + " is not a finite number");
}

// The class index held in row r of target (batch, 1); throws unless it is an integer in
// [0, classes).
inline int64_t class_index(const std::string& loss, const Tensor& target, int64_t r, int64_t classes) {
  const float v = target[r];
  if (!(std::isfinite(v) && v == std::floor(v) && v >= 0.0f && v < static_cast<float>(classes)))
    throw Error(loss + ": class index " + number_str(v) + " at row " + std::to_string(r) +
                " is not an integer in [0, " + std::to_string(classes) + ")");
  return static_cast<int64_t>(v);
}

// The mean over every element of a per-element loss, and its gradient: f(y, t) returns the loss of
// one output y against its target t and dloss/dy, and the gradient is that slope / n. The shared
// loop of mse, mae and binary_crossentropy (whose mean over features then batch is the mean over all
// n elements); y is a prediction, or a logit for a loss fused with its output activation.
template <class F>
double mean_elementwise_loss(const std::string& name, const Tensor& pred, const Tensor& target, Tensor* grad, F f) {
  check_same_shape(name, pred, target);
  check_finite(name, target);
  const int64_t n = pred.size();
  const double scale = 1.0 / static_cast<double>(n);
  float* g = nullptr;
  if (grad) {
    grad->resize(pred.shape());
    g = grad->data();
  }
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const auto [value, slope] = f(static_cast<double>(pred[i]), static_cast<double>(target[i]));
    sum += value;
    if (g) g[i] = static_cast<float>(slope * scale);
  }
  return sum * scale;
}

}  // namespace nnlab::losses
