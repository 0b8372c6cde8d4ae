#include "nnlab/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>

#include "nnlab/error.hpp"
#include "nnlab/metrics.hpp"

namespace nnlab {

int64_t ConfusionMatrix::total() const { return std::accumulate(counts.begin(), counts.end(), int64_t{0}); }

double ConfusionMatrix::accuracy() const {
  int64_t correct = 0;
  for (int64_t c = 0; c < classes; ++c) correct += at(c, c);
  const int64_t n = total();
  return n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

std::vector<double> ConfusionMatrix::per_class_accuracy() const {
  std::vector<double> out;
  for (int64_t t = 0; t < classes; ++t) {
    int64_t row = 0;
    for (int64_t p = 0; p < classes; ++p) row += at(t, p);
    out.push_back(row ? static_cast<double>(at(t, t)) / static_cast<double>(row)
                      : std::numeric_limits<double>::quiet_NaN());
  }
  return out;
}

std::string ConfusionMatrix::to_text() const {
  std::ostringstream os;
  size_t w = 6;
  for (const auto& n : names) w = std::max(w, n.size() + 1);
  for (int64_t t = 0; t < classes; ++t)
    for (int64_t p = 0; p < classes; ++p) w = std::max(w, std::to_string(at(t, p)).size() + 1);
  const size_t label_w = std::max<size_t>(12, w);
  os << "Confusion matrix (rows: true class, columns: predicted)\n";
  os << std::setw(static_cast<int>(label_w)) << "";
  for (const auto& n : names) os << std::setw(static_cast<int>(w)) << n;
  os << "\n";
  const auto acc = per_class_accuracy();
  for (int64_t t = 0; t < classes; ++t) {
    os << std::setw(static_cast<int>(label_w)) << names[static_cast<size_t>(t)];
    for (int64_t p = 0; p < classes; ++p) os << std::setw(static_cast<int>(w)) << at(t, p);
    os << "\n";
  }
  os << "\nPer-class accuracy\n";
  for (int64_t t = 0; t < classes; ++t) {
    os << "  " << std::left << std::setw(static_cast<int>(label_w)) << names[static_cast<size_t>(t)] << std::right;
    if (std::isnan(acc[static_cast<size_t>(t)])) os << "   (no samples)\n";
    else os << std::fixed << std::setprecision(2) << std::setw(7) << 100.0 * acc[static_cast<size_t>(t)] << "%\n";
  }
  return os.str();
}

std::string ConfusionMatrix::to_csv() const {
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::ostringstream os;
  os << "true\\predicted";
  for (const auto& n : names) os << "," << quote(n);
  os << "\n";
  for (int64_t t = 0; t < classes; ++t) {
    os << quote(names[static_cast<size_t>(t)]);
    for (int64_t p = 0; p < classes; ++p) os << "," << at(t, p);
    os << "\n";
  }
  return os.str();
}

std::vector<std::pair<int64_t, int64_t>> ConfusionMatrix::most_confused(size_t top) const {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t t = 0; t < classes; ++t)
    for (int64_t p = 0; p < classes; ++p)
      if (t != p && at(t, p) > 0) pairs.emplace_back(t, p);
  std::stable_sort(pairs.begin(), pairs.end(), [&](const auto& a, const auto& b) {
    return at(a.first, a.second) > at(b.first, b.second);
  });
  if (pairs.size() > top) pairs.resize(top);
  return pairs;
}

ConfusionMatrix confusion_matrix(Model& model, const Dataset& data, int64_t batch_size) {
  check(data.num_classes > 0, "confusion matrix: dataset '" + data.name + "' has no classes");
  check(data.target_width() == 1, "confusion matrix: expected one class index per sample");
  batch_size = model.inference_batch(batch_size, "confusion matrix");
  ConfusionMatrix cm;
  cm.classes = data.num_classes;
  cm.names = data.class_names;
  if (static_cast<int64_t>(cm.names.size()) != cm.classes) {
    cm.names.clear();
    for (int64_t c = 0; c < cm.classes; ++c) cm.names.push_back(std::to_string(c));
  }
  cm.counts.assign(static_cast<size_t>(cm.classes * cm.classes), 0);
  std::vector<int64_t> idx;
  Tensor x, y;
  for (int64_t b = 0; b < data.size(); b += batch_size) {
    const int64_t e = std::min(data.size(), b + batch_size);
    idx.resize(static_cast<size_t>(e - b));
    std::iota(idx.begin(), idx.end(), b);
    data.gather(idx, x, y);
    const Tensor& out = model.infer(x);
    for (int64_t r = 0; r < out.rows(); ++r) {
      const int64_t pred = out.cols() == 1 ? (out.at(r, 0) > 0.5f ? 1 : 0) : argmax_row(out, r);
      const auto truth = static_cast<int64_t>(y.at(r, 0));
      if (pred != truth && pred < cm.classes) {
        const double p1 = out.at(r, 0);
        const double confidence = out.cols() == 1 ? (pred == 1 ? p1 : 1.0 - p1) : out.at(r, pred);
        cm.mistakes.push_back({.index = b + r, .truth = truth, .predicted = pred, .confidence = confidence});
      }
      if (pred < cm.classes) cm.counts[static_cast<size_t>(truth * cm.classes + pred)]++;
      else throw Error("confusion matrix: the model predicted output " + std::to_string(pred) + " but the dataset has " +
                       std::to_string(cm.classes) + " classes");
    }
  }
  return cm;
}

Tensor predict_averaged(Model& model, const Tensor& x, const std::vector<Tensor>& copies, int64_t batch_size) {
  Tensor mean = model.predict(x, batch_size);
  for (const Tensor& c : copies) {
    check(c.shape() == x.shape(), "test-time augmentation: a copy of shape " + shape_str(c.shape()) +
                                      " for inputs of shape " + shape_str(x.shape()));
    const Tensor y = model.predict(c, batch_size);
    for (int64_t i = 0; i < mean.size(); ++i) mean[i] += y[i];
  }
  const float scale = 1.0f / static_cast<float>(copies.size() + 1);
  for (float& v : mean.span()) v *= scale;
  return mean;
}

}  // namespace nnlab
