// The course's first lessons as library calls: the command line's `xor` and `linearity` commands
// are thin printers around these.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nnlab/model.hpp"

namespace nnlab {

// Trains a model on a truth table ("xor", "and", "or") the way the course does: binary
// cross-entropy, SGD lr 0.1, one batch of all four rows, `epochs` epochs.
// architecture: "logistic" = Dense(1, sigmoid); "mlp" = Dense(8, relu), Dense(1, sigmoid).
struct TruthTableRun {
  std::string table, architecture;
  uint64_t seed = 0;
  std::vector<float> outputs;  // the four outputs for inputs (0,0), (0,1), (1,0), (1,1)
  std::vector<float> targets;
  double loss = 0;
  int64_t params = 0;
  bool all_correct = false;    // every output on the right side of 0.5
};
Model truth_table_model(const std::string& architecture, uint64_t seed);
TruthTableRun train_truth_table(const std::string& table, const std::string& architecture, uint64_t seed,
                                int epochs = 1000, float learning_rate = 0.1f, Model* trained = nullptr);

// Linearity of stacked layers: a stack of Dense layers without activations is one linear map.
// Builds Dense(in->h1), Dense(h1->h2), Dense(h2->out) with random weights and biases, collapses them
// into one W (in, out) and b (out), and measures the largest difference between the stack and the
// single layer on random inputs; then repeats with a relu after each hidden layer, where the
// collapsed map no longer matches.
struct LinearityReport {
  std::vector<int64_t> sizes;  // in, h1, h2, out
  Tensor collapsed_w;          // (in, out)
  Tensor collapsed_b;          // (1, out)
  double max_diff_linear = 0;  // stack without activations vs the single layer
  double max_diff_relu = 0;    // stack with relu vs the same single layer
  int64_t samples = 0;
};
LinearityReport linearity_demo(uint64_t seed = 42, std::vector<int64_t> sizes = {4, 8, 6, 3}, int64_t samples = 1000);

// Backpropagation checked: the gradient of the loss with respect to every parameter tensor, from
// Model::backward, against central finite differences (step eps) on up to `per_tensor` randomly
// chosen elements of each tensor. Error measure: |numeric - analytic| / max(1, |numeric| + |analytic|);
// a correct backward pass stays far below the tolerance 1e-2 in float32.
struct GradientCheckRow {
  std::string tensor;  // "dense_1.kernel"
  int64_t checked = 0;
  double max_error = 0;
};
struct GradientCheckReport {
  std::vector<GradientCheckRow> rows;
  double max_error = 0;
  double tolerance = 1e-2;
  bool passed() const { return max_error < tolerance; }
};
class Loss;
GradientCheckReport gradient_check(Model& model, const Loss& loss, const Tensor& x, const Tensor& y,
                                   int64_t per_tensor = 50, uint64_t seed = 1, double eps = 1e-3);

}  // namespace nnlab
