// Accuracy as Keras reports it for each classification loss.
#include "nnlab/metrics.hpp"

#include "losses/common.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

bool accuracy_applies(const Loss& loss) { return loss.targets() != Targets::Values; }

bool accuracy_applies(const std::string& loss) { return accuracy_applies(*make_loss(loss)); }

int64_t count_correct(const std::string& loss, const Tensor& pred, const Tensor& target) {
  return count_correct(*make_loss(loss), pred, target);
}

int64_t argmax_row(const Tensor& t, int64_t r) {
  if (!(r >= 0 && r < t.rows()))
    throw Error("argmax_row: row " + std::to_string(r) + " is outside a tensor of shape " + shape_str(t.shape()));
  const int64_t cols = t.cols();
  const float* row = t.data() + r * cols;
  int64_t best = 0;  // the first of equal maxima, as numpy's argmax
  for (int64_t c = 1; c < cols; ++c)
    if (row[c] > row[best]) best = c;
  return best;
}

// pred: (batch, out). target: pred's shape, or (batch, 1) class indices for the categorical losses.
int64_t count_correct(const Loss& l, const Tensor& pred, const Tensor& target) {
  const Targets kind = l.targets();
  if (kind == Targets::Values)
    throw Error("accuracy does not apply to loss '" + l.name() +
                "'; it applies to binary_crossentropy, categorical_crossentropy "
                "and sparse_categorical_crossentropy");
  const int64_t batch = pred.rows(), cols = pred.cols();
  int64_t correct = 0;
  const std::string& loss = l.name();
  if (kind == Targets::Binary) {
    // A sample is correct when every output is on the target's side of 0.5.
    losses::check_same_shape(loss, pred, target);
    for (int64_t r = 0; r < batch; ++r) {
      bool all = true;
      for (int64_t c = 0; c < cols; ++c) all = all && ((pred.at(r, c) > 0.5f) == (target.at(r, c) > 0.5f));
      correct += all;
    }
    return correct;
  }
  // Categorical: the largest output is the target class.
  const bool indices = kind == Targets::ClassIndices || (target.cols() == 1 && cols > 1);
  if (indices) {
    if (!(target.rows() == batch && target.cols() == 1))
      throw Error(loss + ": target shape " + shape_str(target.shape()) +
                  " is not one class index per row for prediction shape " + shape_str(pred.shape()));
  } else {
    losses::check_same_shape(loss, pred, target);
  }
  for (int64_t r = 0; r < batch; ++r) {
    const int64_t want = indices ? losses::class_index(loss, target, r, cols) : argmax_row(target, r);
    correct += argmax_row(pred, r) == want;
  }
  return correct;
}

}  // namespace nnlab
