// nnlab's binary dataset format (.nnds), for datasets larger than memory, and MappedDataset, which
// reads such a file and copies only the rows a batch asks for, holding at most a set budget of it.
//
// File layout (little-endian):
//   "NNLABDS1"                      8-byte magic
//   u64 n                           samples
//   u32 d, u64 dims[d]              shape of one sample, e.g. 1, (784) or 2, (28, 28)
//   u32 target_width                floats per target (1 for a class index)
//   u32 classes                     0 for regression targets
//   u8  dtype                       0: uint8 pixels, read as value / 255; 1: float32
//   u32 m, then m x (u32 len, bytes)  class names (m is 0 or classes)
//   zero padding to a multiple of 64 bytes
//   x: n * prod(dims) values of dtype
//   y: n * target_width float32
#pragma once
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "nnlab/data/dataset.hpp"

namespace nnlab {

enum class BinaryDtype : uint8_t { U8 = 0, F32 = 1 };

// Writes a dataset in chunks without holding it: append() any number of times, then finish(),
// which writes the header and renames the temporary file onto `path` (so a crash leaves no half
// file behind). Destroying an unfinished writer removes its temporary files.
class BinaryDatasetWriter {
 public:
  BinaryDatasetWriter(std::string path, Shape sample_shape, int64_t target_width, int64_t classes,
                      BinaryDtype dtype, std::vector<std::string> class_names = {});
  ~BinaryDatasetWriter();
  BinaryDatasetWriter(const BinaryDatasetWriter&) = delete;
  BinaryDatasetWriter& operator=(const BinaryDatasetWriter&) = delete;

  // x: m samples of sample_shape (m * features floats); y: m * target_width floats. With U8, x
  // must lie in [0, 1] and is stored as round(x * 255).
  void append(std::span<const float> x, std::span<const float> y);
  void append(const Tensor& x, const Tensor& y) { append(x.span(), y.span()); }
  // Raw pixels 0-255 for U8 files (stored as they are).
  void append_pixels(std::span<const uint8_t> x, std::span<const float> y);

  void finish();
  int64_t count() const { return n_; }

 private:
  void check_targets(std::span<const float> y, int64_t m) const;
  void cleanup() noexcept;

  std::string path_, tmp_x_, tmp_y_;
  Shape sample_shape_;
  int64_t features_ = 0, target_width_ = 0, classes_ = 0;
  BinaryDtype dtype_;
  std::vector<std::string> class_names_;
  std::FILE* fx_ = nullptr;  // header placeholder then x
  std::FILE* fy_ = nullptr;  // y, appended to the x file by finish()
  int64_t n_ = 0;
  std::vector<uint8_t> buf_;  // conversion buffer
  bool finished_ = false;
};

// Writes any dataset (read through gather() in chunks) to path.
void write_binary_dataset(const std::string& path, const Dataset& data, BinaryDtype dtype = BinaryDtype::F32);

// How much of a dataset file MappedDataset may hold in memory.
struct MappedDatasetOptions {
  // Bytes of the file that may be resident at once (default 64 MiB). A file no larger than this is
  // memory-mapped whole; a larger one streams: its samples are read with pread() per batch and only
  // its targets are kept in memory, when they fit in the budget. 0 streams everything.
  int64_t memory_budget = int64_t{64} << 20;
  void validate() const;  // throws nnlab::Error naming the bad value
};

// A dataset file opened read-only; gather() copies the requested rows (converting uint8 pixels to
// value / 255), so resident memory stays within MappedDatasetOptions::memory_budget however big the
// file is. Small files are memory-mapped (no system call per batch); larger ones are read with
// pread() rather than through a mapping, because file pages touched through a mapping count in
// the process's resident memory and, on kernels that map large page-cache folios whole, grow it by
// up to 2 MiB per sample touched (see src/data/binary/reader.cpp for the measurements behind this
// choice).
class MappedDataset : public Dataset {
 public:
  explicit MappedDataset(const std::string& path, MappedDatasetOptions options = {});
  ~MappedDataset() override;
  MappedDataset(MappedDataset&& other) noexcept;
  MappedDataset(const MappedDataset&) = delete;
  MappedDataset& operator=(const MappedDataset&) = delete;

  int64_t size() const override { return n_; }
  Shape sample_shape() const override { return sample_shape_; }
  int64_t target_width() const override { return target_width_; }
  void gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const override;

  BinaryDtype dtype() const { return dtype_; }
  const std::string& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }
  // True when samples are read with pread() (the file is larger than the memory budget); false
  // when the whole file is mapped.
  bool streaming() const { return map_ == nullptr; }
  // True when the targets are held in memory (always when mapped; when streaming, if they fit).
  bool targets_in_memory() const { return y_ != nullptr; }

 private:
  // Streaming gather: reads the rows of indices (m) into x (m, features) and y (m, target_width).
  void read_rows(std::span<const int64_t> indices, float* x, float* y) const;

  std::string path_;
  MappedDatasetOptions options_;
  int fd_ = -1;                  // open while streaming
  void* map_ = nullptr;          // the whole file, when it fits the budget
  uint64_t file_size_ = 0;
  uint64_t x_offset_ = 0;        // where x starts in the file
  uint64_t y_offset_ = 0;        // where y starts in the file
  const uint8_t* x_ = nullptr;   // (n, features) of dtype, when mapped
  const uint8_t* y_ = nullptr;   // (n, target_width) float32, when mapped or held in targets_
  std::vector<float> targets_;   // (n, target_width), when streaming with targets in memory
  int64_t n_ = 0, features_ = 0, target_width_ = 0;
  Shape sample_shape_;
  BinaryDtype dtype_ = BinaryDtype::F32;
};

}  // namespace nnlab
