// The reader of nnlab's binary dataset format: MappedDataset.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>
#include <utility>

#include "format.hpp"
#include "nnlab/data/binary.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

using namespace nnds;

// Why large files are read with pread() and not through a mapping: every file page touched through
// a mapping counts in the process's resident memory (RssFile) until it is unmapped, so a shuffled
// epoch over a mapped file drives RSS to the file's size. Dropping the pages with
// madvise(MADV_DONTNEED) once a byte budget is spent does not bound it either: on Linux 6.x the
// page cache holds large folios and one read fault maps a 64 KiB fault-around window or a whole
// 2 MiB folio, so a single 1,000-sample batch of a 1.3 GB file mapped hundreds of MB. Measured on
// the project's 2-core VM (Linux 6.18, ext4, file in the page cache), 2M shuffled samples of
// 128 + 4 bytes from a 10M-sample file, 80 MB of it the index permutation:
//   mapping, no release                 VmHWM 1337 MB (the whole file)
//   mapping, MADV_DONTNEED every batch  VmHWM  293 MB, 6x slower than pread (every touch refaults)
//   pread per sample (x and y)          VmHWM   79 MB (none of the file), about 2 us a sample
// So a file larger than the budget is read with pread(): sorted by offset, neighbouring records
// (sequential batches, as evaluate() makes) are fetched in one call, and the targets, 4 bytes a
// sample, are read into memory once when they fit the budget (then about 1.4 us a sample). Files
// within the budget are mapped whole: at most the budget becomes resident and a gather makes no
// system call.

namespace {

const std::array<float, 256>& pixel_table() {  // i / 255, exactly as the readers scale
  static const std::array<float, 256> t = [] {
    std::array<float, 256> a{};
    for (int i = 0; i < 256; ++i) a[size_t(i)] = static_cast<float>(i) / 255.0f;
    return a;
  }();
  return t;
}

constexpr uint64_t kGapBytes = 16 << 10;     // read through a gap this small rather than make another call
constexpr uint64_t kMaxRunBytes = 1 << 20;  // bytes per pread at most (unless one record is bigger)

// Reads exactly `bytes` at `offset`; returns "" or why it could not.
std::string pread_exact(int fd, void* dst, uint64_t bytes, uint64_t offset) {
  auto* p = static_cast<uint8_t*>(dst);
  while (bytes > 0) {
    const ssize_t got = ::pread(fd, p, std::min<uint64_t>(bytes, uint64_t{1} << 30), static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return std::generic_category().message(errno);
    }
    if (got == 0) return "the file ended early (did it change after it was opened?)";
    p += got;
    bytes -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return "";
}

struct Want {
  int64_t sample, row;  // sample `sample` of the file goes to row `row` of the batch
};
struct Run {
  size_t first, last;    // wants[first, last)
  uint64_t begin, end;   // the file bytes they lie in
};

// Groups wants (sorted by sample) into runs of records of `record` bytes starting at `base`.
std::vector<Run> plan_runs(const std::vector<Want>& wants, uint64_t base, uint64_t record) {
  std::vector<Run> runs;
  for (size_t i = 0; i < wants.size(); ++i) {
    const uint64_t b = base + static_cast<uint64_t>(wants[i].sample) * record, e = b + record;
    if (!runs.empty() && b <= runs.back().end + kGapBytes && e - runs.back().begin <= kMaxRunBytes) {
      runs.back().last = i + 1;
      runs.back().end = std::max(runs.back().end, e);
    } else {
      runs.push_back({i, i + 1, b, e});
    }
  }
  return runs;
}

// Reads every run and calls use(row, bytes of the record) for each want. One thread: the calls
// wait on the kernel, and spreading them over OpenMP threads was 7x slower on a busy 2-core machine
// (spinning threads); the trainer's prefetch thread already overlaps reading with compute. Throws
// naming the file when a read fails.
template <class Use>
void read_runs(int fd, const std::string& path, const std::vector<Want>& wants, const std::vector<Run>& runs,
               uint64_t base, uint64_t record, Use use) {
  static thread_local std::vector<uint8_t> scratch;  // kept between batches: no allocation per call
  for (const Run& run : runs) {
    scratch.resize(std::max<size_t>(scratch.size(), run.end - run.begin));
    const std::string why = pread_exact(fd, scratch.data(), run.end - run.begin, run.begin);
    check(why.empty(), path + ": cannot read " + std::to_string(run.end - run.begin) + " bytes at offset " +
                           std::to_string(run.begin) + ": " + why);
    for (size_t i = run.first; i < run.last; ++i) {
      const uint64_t at = base + static_cast<uint64_t>(wants[i].sample) * record - run.begin;
      use(wants[i].row, scratch.data() + at);
    }
  }
}

// Opens path read-only and checks that it starts with the magic; returns the descriptor and the
// file's size.
std::pair<int, uint64_t> open_dataset_file(const std::string& path) {
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
  return {fd, size};
}

// What the header declares.
struct Header {
  uint64_t n = 0;
  Shape sample_shape;
  unsigned __int128 features = 1;
  uint32_t target_width = 0, classes = 0;
  uint8_t dtype = 0;
  std::vector<std::string> class_names;
  uint64_t data_offset = 0;  // where x starts: the header padded to kAlign

  unsigned __int128 x_bytes() const { return n * features * (dtype == 0 ? 1u : 4u); }
  unsigned __int128 y_bytes() const { return static_cast<unsigned __int128>(n) * target_width * 4u; }
};

// Reads the header from the start of the file (size bytes at base), checking each field against
// the format's limits as it goes.
Header parse_header(const uint8_t* base, uint64_t size, const std::string& path) {
  uint64_t off = 8;
  auto take = [&](uint64_t bytes) {
    check(off + bytes <= size, path + ": truncated header (" + std::to_string(size) + " bytes)");
    const uint8_t* p = base + off;
    off += bytes;
    return p;
  };
  auto u64 = [&] { uint64_t v; std::memcpy(&v, take(8), 8); return v; };
  auto u32 = [&] { uint32_t v; std::memcpy(&v, take(4), 4); return v; };

  Header h;
  h.n = u64();
  const uint32_t d = u32();
  check(d >= 1 && d <= kMaxDims, path + ": header declares " + std::to_string(d) + " sample dimensions (1 to " +
                                     std::to_string(kMaxDims) + " allowed)");
  for (uint32_t i = 0; i < d; ++i) {
    const uint64_t dim = u64();
    check(dim >= 1 && dim < kMaxDim, path + ": header declares a sample dimension of " + std::to_string(dim));
    h.sample_shape.push_back(static_cast<int64_t>(dim));
    h.features *= dim;
    check(h.features <= (uint64_t{1} << 40), path + ": header declares samples of more than 2^40 values");
  }
  h.target_width = u32();
  check(h.target_width >= 1 && h.target_width <= kMaxTargetWidth,
        path + ": header declares target width " + std::to_string(h.target_width));
  h.classes = u32();
  check(h.classes <= kMaxClasses, path + ": header declares " + std::to_string(h.classes) + " classes");
  h.dtype = *take(1);
  check(h.dtype <= 1, path + ": header declares unknown dtype " + std::to_string(h.dtype) + " (0: uint8, 1: float32)");
  const uint32_t names = u32();
  check(names == 0 || names == h.classes, path + ": header has " + std::to_string(names) + " class names for " +
                                              std::to_string(h.classes) + " classes");
  for (uint32_t i = 0; i < names; ++i) {
    const uint32_t len = u32();
    check(len <= kMaxNameBytes, path + ": class name of " + std::to_string(len) + " bytes in the header");
    const auto* s = reinterpret_cast<const char*>(take(len));
    h.class_names.emplace_back(s, len);
  }
  h.data_offset = (off + kAlign - 1) / kAlign * kAlign;
  return h;
}

// Throws unless the samples the header declares fill the rest of the file exactly.
void check_file_size(const Header& h, uint64_t size, const std::string& path) {
  const unsigned __int128 expected = h.data_offset + h.x_bytes() + h.y_bytes();
  if (expected != size) {
    const bool big = expected > (static_cast<unsigned __int128>(1) << 63);
    throw Error(path + ": header declares " + std::to_string(h.n) + " samples of shape " + shape_str(h.sample_shape) +
                " (" + (h.dtype == 0 ? "uint8" : "float32") + ") and " + std::to_string(h.target_width) +
                " target floats each, " +
                (big ? std::string("far more than any file") : std::to_string(static_cast<uint64_t>(expected)) +
                                                                   " bytes") +
                ", but the file has " + std::to_string(size) + " bytes" +
                (expected > size ? " (truncated)" : " (trailing data)"));
  }
}

// The targets are checked once, when they are in memory: a damaged label is refused before
// anything trains or a run folder exists. (Features are checked batch by batch.)
void check_targets(const uint8_t* y, const Header& h, const std::string& path) {
  const uint32_t tw = h.target_width, classes = h.classes;
  for (uint64_t i = 0; i < h.n * tw; ++i) {
    float v;
    std::memcpy(&v, y + 4 * i, 4);
    const bool ok = std::isfinite(v) && (classes == 0 || tw != 1 ||
                                         (v >= 0 && v < static_cast<float>(classes) && v == std::floor(v)));
    if (!ok) {
      throw Error(path + ": sample " + std::to_string(i / tw) + " has target " + num(v) +
                  (classes > 0 && tw == 1 ? ", not a class in [0, " + std::to_string(classes) + ")"
                                          : ", not a finite number") +
                  " (a damaged file?)");
    }
  }
}

}  // namespace

void MappedDatasetOptions::validate() const {
  check(memory_budget >= 0,
        "memory_budget must be at least 0 bytes, got " + std::to_string(memory_budget));
}

MappedDataset::MappedDataset(const std::string& path, MappedDatasetOptions options)
    : path_(path), options_(options) {
  options_.validate();
  name = path;
  const auto [fd, size] = open_dataset_file(path);
  // The header is parsed through a mapping of the whole file; a file larger than the budget is
  // unmapped again afterwards (only the header's pages were touched).
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int map_errno = errno;
  if (map == MAP_FAILED) {
    ::close(fd);
    throw Error(path + ": cannot map: " + std::strerror(map_errno));
  }
  map_ = map;
  file_size_ = size;
  fd_ = fd;
  try {
    const auto* base = static_cast<const uint8_t*>(map_);
    Header h = parse_header(base, size, path);
    check_file_size(h, size, path);
    n_ = static_cast<int64_t>(h.n);
    sample_shape_ = h.sample_shape;
    features_ = static_cast<int64_t>(h.features);
    target_width_ = h.target_width;
    num_classes = h.classes;
    class_names = std::move(h.class_names);
    dtype_ = static_cast<BinaryDtype>(h.dtype);
    x_offset_ = h.data_offset;
    y_offset_ = h.data_offset + static_cast<uint64_t>(h.x_bytes());
    const auto budget = static_cast<uint64_t>(options_.memory_budget);
    if (size <= budget) {
      // Small enough to map whole: gathers copy straight from the mapping.
      x_ = base + x_offset_;
      y_ = base + y_offset_;
      ::madvise(map_, size, MADV_WILLNEED);
      ::close(fd_);
      fd_ = -1;
    } else {
      ::munmap(map_, size);
      map_ = nullptr;
      ::posix_fadvise(fd_, 0, 0, POSIX_FADV_RANDOM);  // shuffled batches: no readahead
      if (static_cast<uint64_t>(h.y_bytes()) <= budget) {
        targets_.resize(static_cast<size_t>(h.n) * h.target_width);
        const std::string why = pread_exact(fd_, targets_.data(), static_cast<uint64_t>(h.y_bytes()), y_offset_);
        check(why.empty(), path + ": cannot read the targets: " + why);
        y_ = reinterpret_cast<const uint8_t*>(targets_.data());
      }
    }
    if (y_) check_targets(y_, h, path);
  } catch (...) {
    if (map_) ::munmap(map_, size);
    map_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw;
  }
}

MappedDataset::MappedDataset(MappedDataset&& o) noexcept
    : Dataset(o), path_(std::move(o.path_)), options_(o.options_), fd_(o.fd_), map_(o.map_),
      file_size_(o.file_size_), x_offset_(o.x_offset_), y_offset_(o.y_offset_), x_(o.x_), y_(o.y_),
      targets_(std::move(o.targets_)), n_(o.n_), features_(o.features_), target_width_(o.target_width_),
      sample_shape_(std::move(o.sample_shape_)), dtype_(o.dtype_) {
  o.fd_ = -1;
  o.map_ = nullptr;
  o.x_ = o.y_ = nullptr;
  o.n_ = 0;
}

MappedDataset::~MappedDataset() {
  if (map_) ::munmap(map_, file_size_);
  if (fd_ >= 0) ::close(fd_);
}

void MappedDataset::read_rows(std::span<const int64_t> indices, float* xd, float* yd) const {
  const int64_t f = features_, tw = target_width_;
  std::vector<Want> wants(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) wants[i] = {indices[i], static_cast<int64_t>(i)};
  std::sort(wants.begin(), wants.end(), [](const Want& a, const Want& b) { return a.sample < b.sample; });

  const uint64_t x_record = static_cast<uint64_t>(f) * (dtype_ == BinaryDtype::U8 ? 1u : 4u);
  const auto x_runs = plan_runs(wants, x_offset_, x_record);
  if (dtype_ == BinaryDtype::F32) {
    read_runs(fd_, path_, wants, x_runs, x_offset_, x_record, [&](int64_t row, const uint8_t* src) {
      std::memcpy(xd + row * f, src, x_record);
    });
  } else {
    const auto& table = pixel_table();
    read_runs(fd_, path_, wants, x_runs, x_offset_, x_record, [&](int64_t row, const uint8_t* src) {
      float* dst = xd + row * f;
      for (int64_t j = 0; j < f; ++j) dst[j] = table[src[j]];
    });
  }
  const uint64_t y_record = static_cast<uint64_t>(tw) * 4u;
  if (y_) {
    for (const Want& w : wants) std::memcpy(yd + w.row * tw, y_ + static_cast<uint64_t>(w.sample) * y_record, y_record);
  } else {
    read_runs(fd_, path_, wants, plan_runs(wants, y_offset_, y_record), y_offset_, y_record,
              [&](int64_t row, const uint8_t* src) { std::memcpy(yd + row * tw, src, y_record); });
  }
}

void MappedDataset::gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const {
  const int64_t m = static_cast<int64_t>(indices.size());
  for (int64_t s : indices) {
    if (s < 0 || s >= n_) {  // the message only when it fails: this runs for every sample
      throw Error(path_ + ": sample index " + std::to_string(s) + " is not in [0, " + std::to_string(n_) + ")");
    }
  }
  x.resize_rows(m, sample_shape_);
  y.resize(m, target_width_);
  float* xd = x.data();
  float* yd = y.data();
  const int64_t f = features_, tw = target_width_;
  if (streaming()) {
    read_rows(indices, xd, yd);
  } else {
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
  }
  if (dtype_ == BinaryDtype::F32) {  // NaN or infinity would train silently to nonsense
    bool finite = true;
    for (int64_t i = 0; i < m * f; ++i) finite &= std::isfinite(xd[i]);
    if (!finite) {
      const int64_t bad = std::find_if(xd, xd + m * f, [](float v) { return !std::isfinite(v); }) - xd;
      throw Error(path_ + ": sample " + std::to_string(indices[static_cast<size_t>(bad / f)]) + " has feature " +
                  std::to_string(bad % f) + " = " + num(xd[bad]) + "; features must be finite numbers (a damaged file?)");
    }
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
