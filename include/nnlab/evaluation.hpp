// Evaluation output users expect from a classifier: accuracy, per-class accuracy and a confusion
// matrix (rows: true class, columns: predicted class), with class names (Sign Language MNIST's
// letters A-Y, Fashion-MNIST's clothes) in every printout.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/model.hpp"

namespace nnlab {

// A misclassified sample: where it is in the dataset, its class, the model's class and the model's
// probability for that wrong class.
struct Mistake {
  int64_t index = 0, truth = 0, predicted = 0;
  double confidence = 0;
};

struct ConfusionMatrix {
  int64_t classes = 0;
  std::vector<std::string> names;  // one per class ("0".."k-1" when the dataset has none)
  std::vector<int64_t> counts;     // (classes, classes): counts[true * classes + predicted]
  std::vector<Mistake> mistakes;   // every misclassified sample, in dataset order

  int64_t at(int64_t truth, int64_t predicted) const { return counts[static_cast<size_t>(truth * classes + predicted)]; }
  int64_t total() const;
  double accuracy() const;
  std::vector<double> per_class_accuracy() const;  // recall of each true class; NaN where it has no samples
  std::string to_text() const;                     // aligned table plus per-class accuracy
  std::string to_csv() const;                      // header "true\\predicted,<names>", one row per true class
  // The (true, predicted) pairs of different classes with the most samples, most first (ties: lower
  // true class, then lower predicted class); pairs with no samples are left out.
  std::vector<std::pair<int64_t, int64_t>> most_confused(size_t top) const;
};

// Predicts every sample of a classification dataset (argmax of the outputs; > 0.5 for a single
// sigmoid output) and counts outcomes. batch_size 0: the model's infer_batch_size().
ConfusionMatrix confusion_matrix(Model& model, const Dataset& data, int64_t batch_size = 0);

// The mean of the model's outputs for x and for each of `copies` (augmented versions of x, each of
// x's shape: data/augment.hpp's augmented_copies): test-time augmentation's prediction.
Tensor predict_averaged(Model& model, const Tensor& x, const std::vector<Tensor>& copies, int64_t batch_size = 0);

}  // namespace nnlab
