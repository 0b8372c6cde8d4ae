#include "nnlab/data/dataset.hpp"

#include <cstring>

#include "nnlab/error.hpp"

namespace nnlab {

InMemoryDataset::InMemoryDataset(Tensor x, Tensor y, int64_t classes) : x_(std::move(x)), y_(std::move(y)) {
  check(x_.rows() == y_.rows(), "dataset: " + std::to_string(x_.rows()) + " samples but " +
                                    std::to_string(y_.rows()) + " targets");
  num_classes = classes;
  if (classes > 0) {
    check(y_.cols() == 1, "dataset: class targets must be one index per sample");
    for (int64_t i = 0; i < y_.rows(); ++i) {
      const float c = y_[i];
      check(c >= 0 && c < static_cast<float>(classes) && c == static_cast<float>(static_cast<int64_t>(c)),
            "dataset: target " + std::to_string(c) + " of sample " + std::to_string(i) +
                " is not a class index in [0, " + std::to_string(classes) + ")");
    }
  }
}

Shape InMemoryDataset::sample_shape() const {
  return Shape(x_.shape().begin() + 1, x_.shape().end());
}

void InMemoryDataset::gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  x.resize_rows(n, std::span(x_.shape()).subspan(1));
  y.resize_rows(n, std::span(y_.shape()).subspan(1));
  const int64_t xc = x_.cols(), yc = y_.cols();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t s = indices[static_cast<size_t>(i)];
    std::memcpy(x.data() + i * xc, x_.data() + s * xc, sizeof(float) * static_cast<size_t>(xc));
    std::memcpy(y.data() + i * yc, y_.data() + s * yc, sizeof(float) * static_cast<size_t>(yc));
  }
}

std::pair<InMemoryDataset, InMemoryDataset> InMemoryDataset::split_tail(double fraction) const {
  check(fraction > 0 && fraction < 1, "validation_split must be in (0, 1), got " + std::to_string(fraction));
  const int64_t n = size();
  const int64_t cut = n - static_cast<int64_t>(static_cast<double>(n) * fraction);
  check(cut > 0 && cut < n, "validation_split " + std::to_string(fraction) + " leaves an empty part of " +
                                std::to_string(n) + " samples");
  InMemoryDataset a(x_.slice_rows(0, cut), y_.slice_rows(0, cut), num_classes);
  InMemoryDataset b(x_.slice_rows(cut, n), y_.slice_rows(cut, n), num_classes);
  a.class_names = b.class_names = class_names;
  a.name = name + "[:" + std::to_string(cut) + "]";
  b.name = name + "[" + std::to_string(cut) + ":]";
  return {std::move(a), std::move(b)};
}

InMemoryDataset InMemoryDataset::head(int64_t n) const {
  n = std::min(n, size());
  InMemoryDataset d(x_.slice_rows(0, n), y_.slice_rows(0, n), num_classes);
  d.class_names = class_names;
  d.name = name;
  return d;
}

}  // namespace nnlab
