// The writer of nnlab's binary dataset format: streams samples to a temporary file, then writes
// the header and renames it into place.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "format.hpp"
#include "nnlab/data/binary.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

using namespace nnds;

namespace {

constexpr int64_t kChunk = 8192;  // samples per gather() when writing a dataset

// Through memcpy rather than vector::insert, which GCC 12 at -O3 warns about (-Warray-bounds, a
// false positive) once this file is compiled apart from the reader.
template <class T>
void put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

std::vector<uint8_t> make_header(uint64_t n, const Shape& shape, uint32_t target_width, uint32_t classes,
                                 BinaryDtype dtype, const std::vector<std::string>& names) {
  std::vector<uint8_t> h(kMagic, kMagic + 8);
  put<uint64_t>(h, n);
  put<uint32_t>(h, static_cast<uint32_t>(shape.size()));
  for (int64_t d : shape) put<uint64_t>(h, static_cast<uint64_t>(d));
  put<uint32_t>(h, target_width);
  put<uint32_t>(h, classes);
  put<uint8_t>(h, static_cast<uint8_t>(dtype));
  put<uint32_t>(h, static_cast<uint32_t>(names.size()));
  for (const std::string& s : names) {
    put<uint32_t>(h, static_cast<uint32_t>(s.size()));
    h.insert(h.end(), s.begin(), s.end());
  }
  h.resize((h.size() + kAlign - 1) / kAlign * kAlign, 0);
  return h;
}

}  // namespace

BinaryDatasetWriter::BinaryDatasetWriter(std::string path, Shape sample_shape, int64_t target_width, int64_t classes,
                                         BinaryDtype dtype, std::vector<std::string> class_names)
    : path_(std::move(path)), sample_shape_(std::move(sample_shape)), target_width_(target_width), classes_(classes),
      dtype_(dtype), class_names_(std::move(class_names)) {
  check(!sample_shape_.empty() && sample_shape_.size() <= kMaxDims,
        path_ + ": a sample needs 1 to " + std::to_string(kMaxDims) + " dimensions, got shape " +
            shape_str(sample_shape_));
  for (int64_t d : sample_shape_)
    check(d > 0 && static_cast<uint64_t>(d) < kMaxDim, path_ + ": bad sample shape " + shape_str(sample_shape_));
  features_ = shape_size(sample_shape_);
  check(target_width_ > 0 && target_width_ <= kMaxTargetWidth,
        path_ + ": target width " + std::to_string(target_width_) + " is not in [1, 2^20]");
  check(classes_ >= 0 && classes_ <= kMaxClasses, path_ + ": " + std::to_string(classes_) + " classes");
  check(dtype_ == BinaryDtype::U8 || dtype_ == BinaryDtype::F32, path_ + ": unknown dtype");
  check(class_names_.empty() || static_cast<int64_t>(class_names_.size()) == classes_,
        path_ + ": " + std::to_string(class_names_.size()) + " class names for " + std::to_string(classes_) +
            " classes");
  for (const std::string& s : class_names_)
    check(s.size() <= kMaxNameBytes, path_ + ": class name longer than " + std::to_string(kMaxNameBytes) + " bytes");

  const std::string suffix = ".tmp-" + std::to_string(::getpid());
  tmp_x_ = path_ + suffix;
  tmp_y_ = path_ + suffix + "-y";
  fx_ = std::fopen(tmp_x_.c_str(), "wb");
  check(fx_ != nullptr, tmp_x_ + ": cannot create: " + std::strerror(errno));
  fy_ = std::fopen(tmp_y_.c_str(), "w+b");
  if (!fy_) {
    const std::string why = std::strerror(errno);
    cleanup();
    throw Error(tmp_y_ + ": cannot create: " + why);
  }
  std::setvbuf(fx_, nullptr, _IOFBF, size_t{1} << 20);
  std::setvbuf(fy_, nullptr, _IOFBF, size_t{1} << 20);
  // A placeholder header of the final size; finish() rewrites it with the sample count.
  const auto h = make_header(0, sample_shape_, static_cast<uint32_t>(target_width_), static_cast<uint32_t>(classes_),
                             dtype_, class_names_);
  if (std::fwrite(h.data(), 1, h.size(), fx_) != h.size()) {
    const std::string why = std::strerror(errno);
    cleanup();
    throw Error(tmp_x_ + ": write failed: " + why);
  }
}

BinaryDatasetWriter::~BinaryDatasetWriter() {
  if (!finished_) cleanup();
}

void BinaryDatasetWriter::cleanup() noexcept {
  if (fx_) std::fclose(fx_);
  if (fy_) std::fclose(fy_);
  fx_ = fy_ = nullptr;
  std::remove(tmp_x_.c_str());
  std::remove(tmp_y_.c_str());
}

void BinaryDatasetWriter::check_targets(std::span<const float> y, int64_t m) const {
  if (classes_ == 0 || target_width_ != 1) return;
  for (int64_t i = 0; i < m; ++i) {
    const float c = y[static_cast<size_t>(i)];
    check(c >= 0 && c < static_cast<float>(classes_) && c == std::floor(c),
          path_ + ": sample " + std::to_string(n_ + i) + " has target " + num(c) + ", not a class in [0, " +
              std::to_string(classes_) + ")");
  }
}

void BinaryDatasetWriter::append(std::span<const float> x, std::span<const float> y) {
  check(!finished_ && fx_, path_ + ": append after finish()");
  const int64_t m = static_cast<int64_t>(y.size()) / target_width_;
  check(static_cast<int64_t>(y.size()) == m * target_width_ && static_cast<int64_t>(x.size()) == m * features_,
        path_ + ": append got " + std::to_string(x.size()) + " x values and " + std::to_string(y.size()) +
            " y values; samples need " + std::to_string(features_) + " and " + std::to_string(target_width_));
  check_targets(y, m);
  if (dtype_ == BinaryDtype::F32) {
    if (std::fwrite(x.data(), sizeof(float), x.size(), fx_) != x.size())
      throw Error(tmp_x_ + ": write failed: " + std::strerror(errno));
  } else {
    buf_.resize(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const float v = x[i];
      if (!(v >= 0.0f && v <= 1.0f))
        throw Error(path_ + ": sample " + std::to_string(n_ + static_cast<int64_t>(i) / features_) + " feature " +
                    std::to_string(static_cast<int64_t>(i) % features_) + " is " + num(v) +
                    "; a uint8 dataset holds pixels / 255 in [0, 1] (write float32 instead)");
      buf_[i] = static_cast<uint8_t>(std::lround(v * 255.0f));
    }
    if (std::fwrite(buf_.data(), 1, buf_.size(), fx_) != buf_.size())
      throw Error(tmp_x_ + ": write failed: " + std::strerror(errno));
  }
  if (std::fwrite(y.data(), sizeof(float), y.size(), fy_) != y.size())
    throw Error(tmp_y_ + ": write failed: " + std::strerror(errno));
  n_ += m;
}

void BinaryDatasetWriter::append_pixels(std::span<const uint8_t> x, std::span<const float> y) {
  check(!finished_ && fx_, path_ + ": append after finish()");
  check(dtype_ == BinaryDtype::U8, path_ + ": raw pixels can only be appended to a uint8 dataset");
  const int64_t m = static_cast<int64_t>(y.size()) / target_width_;
  check(static_cast<int64_t>(y.size()) == m * target_width_ && static_cast<int64_t>(x.size()) == m * features_,
        path_ + ": append got " + std::to_string(x.size()) + " pixels and " + std::to_string(y.size()) +
            " y values; samples need " + std::to_string(features_) + " and " + std::to_string(target_width_));
  check_targets(y, m);
  if (std::fwrite(x.data(), 1, x.size(), fx_) != x.size())
    throw Error(tmp_x_ + ": write failed: " + std::strerror(errno));
  if (std::fwrite(y.data(), sizeof(float), y.size(), fy_) != y.size())
    throw Error(tmp_y_ + ": write failed: " + std::strerror(errno));
  n_ += m;
}

void BinaryDatasetWriter::finish() {
  check(!finished_ && fx_, path_ + ": finish() called twice");
  try {
    // y follows x: copy the side file over.
    check(std::fflush(fy_) == 0, tmp_y_ + ": write failed: " + std::strerror(errno));
    std::rewind(fy_);
    std::vector<char> chunk(size_t{1} << 20);
    for (;;) {
      const size_t got = std::fread(chunk.data(), 1, chunk.size(), fy_);
      if (got == 0) {
        check(!std::ferror(fy_), tmp_y_ + ": read failed: " + std::strerror(errno));
        break;
      }
      check(std::fwrite(chunk.data(), 1, got, fx_) == got, tmp_x_ + ": write failed: " + std::strerror(errno));
    }
    const auto h = make_header(static_cast<uint64_t>(n_), sample_shape_, static_cast<uint32_t>(target_width_),
                               static_cast<uint32_t>(classes_), dtype_, class_names_);
    check(std::fseek(fx_, 0, SEEK_SET) == 0 && std::fwrite(h.data(), 1, h.size(), fx_) == h.size() &&
              std::fflush(fx_) == 0 && ::fsync(::fileno(fx_)) == 0,
          tmp_x_ + ": write failed: " + std::strerror(errno));
    const int rc = std::fclose(fx_);
    fx_ = nullptr;
    check(rc == 0, tmp_x_ + ": write failed: " + std::strerror(errno));
    check(std::rename(tmp_x_.c_str(), path_.c_str()) == 0,
          path_ + ": cannot rename " + tmp_x_ + " onto it: " + std::strerror(errno));
  } catch (...) {
    cleanup();
    throw;
  }
  finished_ = true;
  std::fclose(fy_);
  fy_ = nullptr;
  std::remove(tmp_y_.c_str());
}

void write_binary_dataset(const std::string& path, const Dataset& data, BinaryDtype dtype) {
  BinaryDatasetWriter w(path, data.sample_shape(), data.target_width(), data.num_classes, dtype, data.class_names);
  Tensor x, y;
  std::vector<int64_t> idx;
  for (int64_t begin = 0; begin < data.size(); begin += kChunk) {
    const int64_t end = std::min(data.size(), begin + kChunk);
    idx.resize(static_cast<size_t>(end - begin));
    for (int64_t i = begin; i < end; ++i) idx[static_cast<size_t>(i - begin)] = i;
    data.gather(idx, x, y);
    w.append(x, y);
  }
  w.finish();
}

}  // namespace nnlab
