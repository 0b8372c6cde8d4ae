// nnlab's binary dataset format: a streaming writer and a memory-mapped reader.
#include "nnlab/data/binary.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "nnlab/error.hpp"

namespace nnlab {

static_assert(std::endian::native == std::endian::little, "the binary dataset format is written little-endian");

namespace {

constexpr char kMagic[8] = {'N', 'N', 'L', 'A', 'B', 'D', 'S', '1'};
constexpr size_t kAlign = 64;
constexpr uint32_t kMaxDims = 8;
constexpr uint64_t kMaxDim = uint64_t{1} << 31;
constexpr uint32_t kMaxTargetWidth = uint32_t{1} << 20;
constexpr uint32_t kMaxClasses = uint32_t{1} << 24;
constexpr uint32_t kMaxNameBytes = 4096;
constexpr int64_t kChunk = 8192;  // samples per gather() when writing a dataset

template <class T>
void put(std::vector<uint8_t>& out, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof(T));
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

const std::array<float, 256>& pixel_table() {  // i / 255, exactly as the readers scale
  static const std::array<float, 256> t = [] {
    std::array<float, 256> a{};
    for (int i = 0; i < 256; ++i) a[size_t(i)] = static_cast<float>(i) / 255.0f;
    return a;
  }();
  return t;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

// --- writer ---------------------------------------------------------------------------------

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

// --- memory-mapped reader ---------------------------------------------------------------------

MappedDataset::MappedDataset(const std::string& path) : path_(path) {
  name = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw Error(path + ": cannot stat: " + why);
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  char magic[8] = {};
  if (size < 8 || ::pread(fd, magic, 8, 0) != 8 || std::memcmp(magic, kMagic, 8) != 0) {
    ::close(fd);
    throw Error(path + ": not an nnlab dataset file (it does not start with \"NNLABDS1\")");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  check(map != MAP_FAILED, path + ": cannot map: " + std::strerror(map_errno));
  map_ = map;
  map_size_ = size;
  try {
    const auto* base = static_cast<const uint8_t*>(map_);
    uint64_t off = 8;
    auto take = [&](uint64_t bytes) {
      check(off + bytes <= size, path + ": truncated header (" + std::to_string(size) + " bytes)");
      const uint8_t* p = base + off;
      off += bytes;
      return p;
    };
    auto u64 = [&] { uint64_t v; std::memcpy(&v, take(8), 8); return v; };
    auto u32 = [&] { uint32_t v; std::memcpy(&v, take(4), 4); return v; };

    const uint64_t n = u64();
    const uint32_t d = u32();
    check(d >= 1 && d <= kMaxDims, path + ": header declares " + std::to_string(d) + " sample dimensions (1 to " +
                                       std::to_string(kMaxDims) + " allowed)");
    unsigned __int128 features = 1;
    for (uint32_t i = 0; i < d; ++i) {
      const uint64_t dim = u64();
      check(dim >= 1 && dim < kMaxDim, path + ": header declares a sample dimension of " + std::to_string(dim));
      sample_shape_.push_back(static_cast<int64_t>(dim));
      features *= dim;
      check(features <= (uint64_t{1} << 40), path + ": header declares samples of more than 2^40 values");
    }
    const uint32_t tw = u32();
    check(tw >= 1 && tw <= kMaxTargetWidth, path + ": header declares target width " + std::to_string(tw));
    const uint32_t classes = u32();
    check(classes <= kMaxClasses, path + ": header declares " + std::to_string(classes) + " classes");
    const uint8_t dt = *take(1);
    check(dt <= 1, path + ": header declares unknown dtype " + std::to_string(dt) + " (0: uint8, 1: float32)");
    const uint32_t names = u32();
    check(names == 0 || names == classes, path + ": header has " + std::to_string(names) + " class names for " +
                                              std::to_string(classes) + " classes");
    for (uint32_t i = 0; i < names; ++i) {
      const uint32_t len = u32();
      check(len <= kMaxNameBytes, path + ": class name of " + std::to_string(len) + " bytes in the header");
      const auto* s = reinterpret_cast<const char*>(take(len));
      class_names.emplace_back(s, len);
    }
    off = (off + kAlign - 1) / kAlign * kAlign;
    dtype_ = static_cast<BinaryDtype>(dt);
    const unsigned __int128 x_bytes = n * features * (dtype_ == BinaryDtype::U8 ? 1u : 4u);
    const unsigned __int128 y_bytes = static_cast<unsigned __int128>(n) * tw * 4u;
    const unsigned __int128 expected = off + x_bytes + y_bytes;
    if (expected != size) {
      const bool big = expected > (static_cast<unsigned __int128>(1) << 63);
      throw Error(path + ": header declares " + std::to_string(n) + " samples of shape " + shape_str(sample_shape_) +
                  " (" + (dt == 0 ? "uint8" : "float32") + ") and " + std::to_string(tw) + " target floats each, " +
                  (big ? std::string("far more than any file") : std::to_string(static_cast<uint64_t>(expected)) +
                                                                     " bytes") +
                  ", but the file has " + std::to_string(size) + " bytes" +
                  (expected > size ? " (truncated)" : " (trailing data)"));
    }
    n_ = static_cast<int64_t>(n);
    features_ = static_cast<int64_t>(features);
    target_width_ = tw;
    num_classes = classes;
    x_ = base + off;
    y_ = base + off + static_cast<uint64_t>(x_bytes);
    ::madvise(map_, map_size_, MADV_RANDOM);
  } catch (...) {
    ::munmap(map_, map_size_);
    map_ = nullptr;
    throw;
  }
}

MappedDataset::MappedDataset(MappedDataset&& o) noexcept
    : Dataset(o), path_(std::move(o.path_)), map_(o.map_), map_size_(o.map_size_), x_(o.x_), y_(o.y_), n_(o.n_),
      features_(o.features_), target_width_(o.target_width_), sample_shape_(std::move(o.sample_shape_)),
      dtype_(o.dtype_) {
  o.map_ = nullptr;
  o.x_ = o.y_ = nullptr;
  o.n_ = 0;
}

MappedDataset::~MappedDataset() {
  if (map_) ::munmap(map_, map_size_);
}

void MappedDataset::gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const {
  const int64_t m = static_cast<int64_t>(indices.size());
  for (int64_t s : indices)
    check(s >= 0 && s < n_, path_ + ": sample index " + std::to_string(s) + " is not in [0, " + std::to_string(n_) +
                                ")");
  Shape xs{m};
  xs.insert(xs.end(), sample_shape_.begin(), sample_shape_.end());
  x.resize(xs);
  y.resize({m, target_width_});
  float* xd = x.data();
  float* yd = y.data();
  const int64_t f = features_, tw = target_width_;
  const auto& table = pixel_table();
#pragma omp parallel for schedule(static) if (m * f >= (int64_t{1} << 18))
  for (int64_t i = 0; i < m; ++i) {
    const int64_t s = indices[static_cast<size_t>(i)];
    if (dtype_ == BinaryDtype::F32) {
      std::memcpy(xd + i * f, x_ + s * f * 4, sizeof(float) * static_cast<size_t>(f));
    } else {
      const uint8_t* src = x_ + s * f;
      float* dst = xd + i * f;
      for (int64_t j = 0; j < f; ++j) dst[j] = table[src[j]];
    }
    std::memcpy(yd + i * tw, y_ + s * tw * 4, sizeof(float) * static_cast<size_t>(tw));
  }
  if (num_classes > 0 && tw == 1)
    for (int64_t i = 0; i < m; ++i) {
      const float c = yd[i];
      check(c >= 0 && c < static_cast<float>(num_classes) && c == std::floor(c),
            path_ + ": sample " + std::to_string(indices[static_cast<size_t>(i)]) + " has target " + num(c) +
                ", not a class in [0, " + std::to_string(num_classes) + ") (a damaged file?)");
    }
}

}  // namespace nnlab
