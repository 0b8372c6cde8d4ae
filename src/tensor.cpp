#include "nnlab/tensor.hpp"

#include <algorithm>

#include "nnlab/error.hpp"

namespace nnlab {

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + ")";
}

int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) {
    throw Error(what + ": " + std::to_string(a) + " x " + std::to_string(b) + " is " +
                (a < 0 || b < 0 ? "negative" : "beyond 2^63 - 1, too large to hold"));
  }
  return r;
}

int64_t shape_size(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    // A zero anywhere makes the product 0 without overflowing; otherwise every step is checked.
    if (d < 0 || (n != 0 && d != 0 && __builtin_mul_overflow(n, d, &n))) {
      throw Error("shape " + shape_str(s) + (d < 0 ? " has a negative dimension" : " has more than 2^63 - 1 elements"));
    }
    if (d == 0) n = 0;
  }
  return n;
}

Tensor::Tensor(Shape shape, float fill) : shape_(std::move(shape)) {
  for (int64_t d : shape_) check(d >= 0, "tensor: negative dimension in shape " + shape_str(shape_));
  data_.assign(static_cast<size_t>(shape_size(shape_)), fill);
}

Tensor::Tensor(Shape shape, std::vector<float> values) : shape_(std::move(shape)), data_(std::move(values)) {
  check(static_cast<int64_t>(data_.size()) == shape_size(shape_),
        "tensor: " + std::to_string(data_.size()) + " values do not fill shape " + shape_str(shape_));
}

void Tensor::resize(const Shape& shape) {
  shape_ = shape;
  data_.resize(static_cast<size_t>(shape_size(shape_)));
}

void Tensor::resize(int64_t rows, int64_t cols) {
  if (shape_.size() == 2) {
    shape_[0] = rows;
    shape_[1] = cols;
  } else {
    shape_ = {rows, cols};
  }
  data_.resize(static_cast<size_t>(shape_size(shape_)));
}

void Tensor::resize_rows(int64_t rows, std::span<const int64_t> row_shape) {
  shape_.resize(row_shape.size() + 1);  // keeps the storage when the rank is the same
  shape_[0] = rows;
  std::copy(row_shape.begin(), row_shape.end(), shape_.begin() + 1);
  data_.resize(static_cast<size_t>(shape_size(shape_)));
}

void Tensor::fill(float v) { std::fill(data_.begin(), data_.end(), v); }

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  check(begin >= 0 && begin <= end && end <= rows(), "tensor: row slice out of range");
  Shape s = shape_;
  s[0] = end - begin;
  const int64_t c = cols();
  return Tensor(s, std::vector<float>(data_.begin() + begin * c, data_.begin() + end * c));
}

}  // namespace nnlab
