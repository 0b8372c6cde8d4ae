// sparse_categorical_crossentropy: categorical_crossentropy with class indices (batch, 1) as the
// target. Fused with a softmax output it works from the logits.
#include "categorical.hpp"
#include "nnlab/config_reader.hpp"
#include "nnlab/losses/loss.hpp"

namespace nnlab::losses {
namespace {

class SparseCategoricalCrossentropy final : public Loss {
 public:
  const std::string& name() const override { return name_; }
  Targets targets() const override { return Targets::ClassIndices; }
  std::string fused_activation() const override { return "softmax"; }

  // pred, grad: (batch, classes); target: (batch, 1) of class indices.
  double compute(const Tensor& pred, const Tensor& target, Tensor* grad) const override {
    return categorical_crossentropy(name_, pred, target, /*indices=*/true, /*smoothing=*/0.0, grad);
  }

  double compute_fused(const Tensor& logits, const Tensor& target, Tensor* grad) const override {
    return categorical_crossentropy_from_logits(name_, logits, target, /*indices=*/true, /*smoothing=*/0.0, grad);
  }

 private:
  const std::string name_ = "sparse_categorical_crossentropy";  // passed to the checks: no string built per batch
};

}  // namespace

std::unique_ptr<Loss> make_sparse_categorical_crossentropy(ConfigReader&) {
  return std::make_unique<SparseCategoricalCrossentropy>();
}

}  // namespace nnlab::losses
