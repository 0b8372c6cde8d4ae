// Tensor: a dense float32 array with a shape, row-major. The first dimension is the batch.
// resize() keeps the allocation when it shrinks or regrows, so buffers are reused across batches.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nnlab {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);  // "(2, 8)"
// Product of dimensions; 1 for an empty shape. Sizes come from files and settings, so the product is
// checked: a negative dimension or one beyond 2^63 - 1 elements throws nnlab::Error naming the shape.
int64_t shape_size(const Shape& s);
// a * b for counts (a, b >= 0), throwing nnlab::Error "<what> ... is too large" when it overflows.
int64_t checked_mul(int64_t a, int64_t b, const std::string& what);

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f);
  Tensor(Shape shape, std::vector<float> values);  // values.size() must equal the shape's size

  void resize(const Shape& shape);  // contents are unspecified afterwards
  // Resizes to (rows, cols) without building a Shape: no allocation for a batch buffer resized to
  // the same size every step.
  void resize(int64_t rows, int64_t cols);
  // Resizes to (rows, row_shape...). Allocates nothing once the tensor has held that many values
  // with that many dimensions (a batch buffer resized every step).
  void resize_rows(int64_t rows, std::span<const int64_t> row_shape);
  void fill(float v);

  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  int64_t rows() const { return shape_.empty() ? 0 : shape_[0]; }
  int64_t cols() const { return rows() == 0 ? 0 : size() / rows(); }  // features per sample
  int64_t size() const { return static_cast<int64_t>(data_.size()); }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::span<float> span() { return data_; }
  std::span<const float> span() const { return data_; }
  float& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }
  float& at(int64_t r, int64_t c) { return data_[static_cast<size_t>(r * cols() + c)]; }
  float at(int64_t r, int64_t c) const { return data_[static_cast<size_t>(r * cols() + c)]; }

  // Rows [begin, end) as a new tensor.
  Tensor slice_rows(int64_t begin, int64_t end) const;

 private:
  Shape shape_;
  std::vector<float> data_;
};

}  // namespace nnlab
