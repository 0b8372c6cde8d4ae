// Private to src/report/plots.cpp and decision_grid.cpp: a data set's points as the decision-region
// pictures draw them, and a model's classes for points, which decision_grid() also computes.
#pragma once
#include <cstdint>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/model.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab::plot {

struct Points {
  Tensor x;                // (n, 2)
  std::vector<int> label;  // class per sample
};

// Every k-th sample of `data`, about `limit` of them, with its class; throws unless the samples have
// two features.
Points gather_points(const Dataset& data, int64_t limit);
// Per row of model outputs: the predicted class and its probability (P(class 1) for one output).
void classify(Model& model, const Tensor& out, std::vector<int>& cls, std::vector<double>& prob, int& classes);
// x (n, 2) reshaped to the model's per-sample input shape (e.g. (1, 2)).
Tensor as_model_input(const Tensor& x, const Model& model);

}  // namespace nnlab::plot
