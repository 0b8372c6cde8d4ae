// Preprocessing applied by the dataset readers to raw pixels 0-255: scale to [0, 1] (the course's
// x / 255), standardise ((x - mean) / std with statistics computed on the data, or given, so a
// test set uses its training set's), and the output shape: flat (n, 784) or images (n, 28, 28).
#pragma once
#include <optional>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab {

// Mean and standard deviation: one value for all features, or one per feature.
struct Standardisation {
  std::vector<float> mean;
  std::vector<float> stddev;  // a std below 1e-6 (a constant feature) is stored as 1
  bool per_feature() const { return mean.size() > 1; }
};

struct Preprocess {
  bool scale = true;         // divide pixels by 255
  bool standardise = false;  // then subtract the mean and divide by the std
  bool per_feature = false;  // standardise each feature with its own mean/std instead of one global pair
  bool flatten = true;       // (n, features) rather than (n, rows, cols)
  // Statistics to standardise with (a training set's); when absent they are computed on the data read.
  std::optional<Standardisation> statistics;
};

// Statistics of x (n, features...) over all samples: global, or per feature.
Standardisation compute_standardisation(const Tensor& x, bool per_feature = false);

// x <- (x - mean) / std in place; per-feature statistics must match x's features.
void apply_standardisation(Tensor& x, const Standardisation& s);

// Standardises train with its own statistics and test with the same ones; returns them.
Standardisation standardise(InMemoryDataset& train, InMemoryDataset& test, bool per_feature = false);

// Applies p to x (n, ...) holding raw pixel values 0-255 in its final shape: scales, then
// standardises, in place. (p.flatten is the reader's business: it picks the shape.)
void apply_preprocess(Tensor& x, const Preprocess& p);

}  // namespace nnlab
