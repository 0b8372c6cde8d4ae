// The combination rules (vote, average, stacking) and the stacking combiner's training.
#include <algorithm>
#include <cmath>

#include "nnlab/ensemble.hpp"
#include "nnlab/error.hpp"
#include "nnlab/layers/dense.hpp"
#include "nnlab/losses/loss.hpp"
#include "nnlab/metrics.hpp"
#include "nnlab/optimizers/optimizer.hpp"
#include "nnlab/text.hpp"
#include "nnlab/training/trainer.hpp"

namespace nnlab {

std::string combination_name(Combination c) {
  switch (c) {
    case Combination::Vote: return "vote";
    case Combination::Average: return "average";
    case Combination::Stacking: return "stacking";
  }
  return "?";
}

Combination parse_combination(const std::string& name) {
  if (name == "vote") return Combination::Vote;
  if (name == "average") return Combination::Average;
  if (name == "stacking") return Combination::Stacking;
  throw Error("unknown combination '" + name + "' (known: vote, average, stacking)");
}

namespace {

// All members' outputs share one (n, C) shape.
void check_outputs(const std::vector<Tensor>& outs) {
  check(!outs.empty(), "ensemble: no member outputs to combine");
  for (size_t k = 0; k < outs.size(); ++k) {
    check(outs[k].shape().size() == 2 && outs[k].cols() >= 1,
          "ensemble: member " + std::to_string(k + 1) + "'s outputs have shape " + shape_str(outs[k].shape()) +
              ", expected (samples, classes)");
    check(outs[k].shape() == outs[0].shape(), "ensemble: member " + std::to_string(k + 1) + "'s outputs have shape " +
                                                  shape_str(outs[k].shape()) + " but member 1's have " +
                                                  shape_str(outs[0].shape()));
  }
}

}  // namespace

std::vector<int64_t> predicted_classes(const Tensor& probs) {
  std::vector<int64_t> out(static_cast<size_t>(probs.rows()));
  for (int64_t r = 0; r < probs.rows(); ++r)
    out[static_cast<size_t>(r)] = probs.cols() == 1 ? (probs.at(r, 0) > 0.5f ? 1 : 0) : argmax_row(probs, r);
  return out;
}

EnsemblePrediction combine_vote(const std::vector<Tensor>& outs) {
  check_outputs(outs);
  const int64_t n = outs[0].rows(), cols = outs[0].cols();
  const int64_t classes = cols == 1 ? 2 : cols;  // one sigmoid output: classes 0 and 1
  const double k = static_cast<double>(outs.size());
  EnsemblePrediction p;
  p.outputs = Tensor({n, cols});
  p.classes.resize(static_cast<size_t>(n));
  std::vector<int64_t> votes(static_cast<size_t>(classes));
  std::vector<double> mass(static_cast<size_t>(classes));  // summed probability: breaks ties
  std::vector<std::vector<int64_t>> member_classes;
  for (const auto& o : outs) member_classes.push_back(predicted_classes(o));
  for (int64_t r = 0; r < n; ++r) {
    std::fill(votes.begin(), votes.end(), 0);
    std::fill(mass.begin(), mass.end(), 0.0);
    for (size_t m = 0; m < outs.size(); ++m) {
      ++votes[static_cast<size_t>(member_classes[m][static_cast<size_t>(r)])];
      if (cols == 1) {
        mass[1] += outs[m].at(r, 0);
        mass[0] += 1.0 - outs[m].at(r, 0);
      } else {
        for (int64_t c = 0; c < cols; ++c) mass[static_cast<size_t>(c)] += outs[m].at(r, c);
      }
    }
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c) {
      const auto i = static_cast<size_t>(c), b = static_cast<size_t>(best);
      if (votes[i] > votes[b] || (votes[i] == votes[b] && mass[i] > mass[b])) best = c;
    }
    p.classes[static_cast<size_t>(r)] = best;
    if (cols == 1) p.outputs.at(r, 0) = static_cast<float>(static_cast<double>(votes[1]) / k);
    else
      for (int64_t c = 0; c < cols; ++c) p.outputs.at(r, c) = static_cast<float>(static_cast<double>(votes[static_cast<size_t>(c)]) / k);
  }
  return p;
}

EnsemblePrediction combine_average(const std::vector<Tensor>& outs) {
  check_outputs(outs);
  EnsemblePrediction p;
  p.outputs = Tensor(outs[0].shape(), 0.0f);
  const auto k = static_cast<float>(outs.size());
  for (const auto& o : outs)
    for (int64_t i = 0; i < o.size(); ++i) p.outputs[i] += o[i];
  for (int64_t i = 0; i < p.outputs.size(); ++i) p.outputs[i] /= k;
  p.classes = predicted_classes(p.outputs);
  return p;
}

Tensor stack_features(const std::vector<Tensor>& outs) {
  check_outputs(outs);
  const int64_t n = outs[0].rows(), cols = outs[0].cols(), k = static_cast<int64_t>(outs.size());
  Tensor f({n, k * cols});  // (n, K * C)
  for (int64_t r = 0; r < n; ++r)
    for (int64_t m = 0; m < k; ++m)
      std::copy_n(outs[static_cast<size_t>(m)].data() + r * cols, cols, f.data() + r * k * cols + m * cols);
  return f;
}

EnsemblePrediction combine_stacking(Model& combiner, const std::vector<Tensor>& outs) {
  const Tensor f = stack_features(outs);
  check(shape_size(combiner.input_shape()) == f.cols(),
        "ensemble: the stacking combiner takes " + std::to_string(shape_size(combiner.input_shape())) +
            " inputs but " + std::to_string(outs.size()) + " members with " + std::to_string(outs[0].cols()) +
            " outputs give " + std::to_string(f.cols()));
  EnsemblePrediction p;
  p.outputs = combiner.predict(f);
  p.classes = predicted_classes(p.outputs);
  return p;
}

void CombinerOptions::validate() const {
  check(epochs >= 1, "combiner: epochs must be at least 1, got " + std::to_string(epochs));
  check(min_steps >= 0, "combiner: min_steps must be 0 or more, got " + std::to_string(min_steps));
  check(batch_size >= 1, "combiner: batch_size must be at least 1, got " + std::to_string(batch_size));
  check(learning_rate > 0, "combiner: learning_rate must be positive, got " + number_str(learning_rate));
}

Model train_combiner(const std::vector<Tensor>& holdout_outputs, const Tensor& labels, const CombinerOptions& o) {
  o.validate();
  Tensor f = stack_features(holdout_outputs);
  const int64_t cols = holdout_outputs[0].cols();
  check(labels.rows() == f.rows() && labels.cols() == 1,
        "combiner: labels of shape " + shape_str(labels.shape()) + " for " + std::to_string(f.rows()) +
            " samples; expected one class index per sample");
  Model m;
  m.add<Dense>(cols, cols == 1 ? "sigmoid" : "softmax");
  m.build({f.cols()}, o.seed);
  if (o.start_from_average) {
    const int64_t k = static_cast<int64_t>(holdout_outputs.size());
    auto t = m.named_tensors();  // dense_1.kernel (K * C, C), dense_1.bias (C)
    std::fill(t[0].value.begin(), t[0].value.end(), 0.0f);
    std::fill(t[1].value.begin(), t[1].value.end(), cols == 1 ? -5.0f : 0.0f);  // sigmoid: 10 (mean - 0.5)
    for (int64_t member = 0; member < k; ++member)
      for (int64_t c = 0; c < cols; ++c) t[0].value[static_cast<size_t>((member * cols + c) * cols + c)] = 10.0f / static_cast<float>(k);
  }
  const int64_t steps = (f.rows() + o.batch_size - 1) / o.batch_size;
  InMemoryDataset data(std::move(f), labels, cols == 1 ? 2 : cols);
  data.name = "holdout";
  Trainer t(m, make_loss(cols == 1 ? "binary_crossentropy" : "categorical_crossentropy"),
            make_optimizer("adam", {{"learning_rate", o.learning_rate}}));
  FitOptions fit;
  fit.epochs = static_cast<int>(std::max<int64_t>(o.epochs, (o.min_steps + steps - 1) / steps));
  fit.batch_size = o.batch_size;
  fit.seed = o.seed;
  fit.verbose = 0;
  t.fit(data, fit);
  return m;
}

double accuracy_of(const std::vector<int64_t>& classes, const Tensor& labels) {
  check(labels.rows() == static_cast<int64_t>(classes.size()) && labels.cols() == 1,
        "accuracy: " + std::to_string(classes.size()) + " predictions for labels of shape " + shape_str(labels.shape()));
  if (classes.empty()) return 0;
  int64_t right = 0;
  for (size_t i = 0; i < classes.size(); ++i) right += std::llround(labels[static_cast<int64_t>(i)]) == classes[i];
  return static_cast<double>(right) / static_cast<double>(classes.size());
}

}  // namespace nnlab
