// Weight penalties and constraints for a layer's kernel, as Keras's kernel_regularizer and
// kernel_constraint: L1 adds l1 * sum|w| to the loss, L2 adds l2 * sum w^2 (Keras's l2(0.01)
// convention, gradient 2 * l2 * w); max-norm rescales each unit's incoming weight vector (a kernel
// column) to norm at most max_norm after every optimizer step.
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace nnlab {

struct KernelPenalty {
  float l1 = 0.0f;
  float l2 = 0.0f;
  float max_norm = 0.0f;  // 0: no constraint

  void validate(const std::string& where) const;
  bool penalised() const { return l1 > 0.0f || l2 > 0.0f; }
  double loss(std::span<const float> w) const;
  void add_gradient(std::span<const float> w, std::span<float> g) const;
  // w: (in, out); each column's L2 norm is clipped to max_norm.
  void constrain(std::span<float> w, int64_t in, int64_t out) const;
};

}  // namespace nnlab
