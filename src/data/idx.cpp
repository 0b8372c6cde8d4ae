// IDX reader (the MNIST file format): raw or gzip, validated header by header before any data is
// read or allocated.
#include <cstdio>
#include <cstring>

#include "file_reader.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr uint64_t kMaxBytes = uint64_t{1} << 34;
constexpr int64_t kParallelMin = int64_t{1} << 16;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

uint32_t big_endian(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Reads the magic and `dims` big-endian dimensions of an IDX file; checks the magic.
std::vector<uint64_t> read_header(detail::FileReader& r, uint32_t magic, int dims, const char* what) {
  unsigned char buf[16];
  const size_t want = 4 + 4 * static_cast<size_t>(dims);
  const size_t got = r.read(buf, want);
  check(got >= 4, r.path() + ": truncated: an IDX " + what + " header needs " + std::to_string(want) +
                      " bytes, the file has " + std::to_string(got) + r.end_note());
  const uint32_t m = big_endian(buf);
  if (m != magic) {
    std::string hint;
    if (m == kImagesMagic) hint = " (this is an images file: are the images and labels swapped?)";
    else if (m == kLabelsMagic) hint = " (this is a labels file: are the images and labels swapped?)";
    else if ((m >> 8) == 0x08) hint = " (an IDX file of " + std::to_string(m & 0xff) + " dimensions)";
    throw Error(r.path() + ": wrong magic number " + hex32(m) + ", expected " + hex32(magic) + " for IDX " + what +
                hint);
  }
  check(got == want, r.path() + ": truncated: an IDX " + what + " header needs " + std::to_string(want) +
                         " bytes, the file has " + std::to_string(got) + r.end_note());
  std::vector<uint64_t> d;
  for (int i = 0; i < dims; ++i) d.push_back(big_endian(buf + 4 + 4 * i));
  return d;
}

// Reads exactly `bytes` bytes of data following the header, and checks nothing follows.
std::vector<uint8_t> read_body(detail::FileReader& r, uint64_t bytes, size_t header_bytes, const char* what) {
  if (!r.gzip()) {
    const uint64_t expected = header_bytes + bytes;
    check(r.file_size() >= expected, r.path() + ": truncated: the header declares " + what + " needing " +
                                         std::to_string(expected) + " bytes, the file has " +
                                         std::to_string(r.file_size()));
    check(r.file_size() == expected, r.path() + ": " + std::to_string(r.file_size() - expected) +
                                         " bytes more than the header declares (" + std::to_string(expected) +
                                         " bytes for " + what + "): not an IDX file or a damaged one");
  }
  std::vector<uint8_t> data;
  const size_t got = r.read_append(data, static_cast<size_t>(bytes));
  check(got == bytes, r.path() + ": truncated: the header declares " + what + " needing " +
                          std::to_string(header_bytes + bytes) + " bytes (uncompressed), the file has " +
                          std::to_string(header_bytes + got) + r.end_note());
  unsigned char extra;
  check(r.read(&extra, 1) == 0, r.path() + ": more data than the header declares (" +
                                    std::to_string(header_bytes + bytes) + " bytes for " + what +
                                    "): not an IDX file or a damaged one");
  return data;
}

}  // namespace

InMemoryDataset read_idx(const std::string& images_path, const std::string& labels_path, const Preprocess& preprocess,
                         const LabelMap& labels) {
  check(!labels.empty(), images_path + ": read_idx needs a declared label set");
  detail::FileReader images(images_path);
  detail::FileReader label_file(labels_path);

  // Both headers first: nothing is allocated for a file whose header does not add up.
  const auto dims = read_header(images, kImagesMagic, 3, "images");
  const uint64_t n = dims[0], rows = dims[1], cols = dims[2];
  check(n > 0 && rows > 0 && cols > 0, images_path + ": the header declares " + std::to_string(n) + " images of " +
                                           std::to_string(rows) + "x" + std::to_string(cols) +
                                           " pixels: no data");
  // Each factor is below 2^32, so checking in two steps cannot overflow.
  const uint64_t pixels = rows * cols;
  check(pixels <= kMaxBytes && n <= kMaxBytes / pixels,
        images_path + ": the header declares " + std::to_string(n) + " images of " + std::to_string(rows) + "x" +
            std::to_string(cols) + " pixels, more than the 2^34 bytes an IDX file can sensibly hold: "
            "not an IDX images file or a damaged one");
  const uint64_t nl = read_header(label_file, kLabelsMagic, 1, "labels")[0];
  check(nl == n, images_path + " declares " + std::to_string(n) + " images but " + labels_path + " declares " +
                     std::to_string(nl) + " labels");

  const std::string what = std::to_string(n) + " images of " + std::to_string(rows) + "x" + std::to_string(cols);
  const std::vector<uint8_t> raw_labels = read_body(label_file, n, 8, (std::to_string(n) + " labels").c_str());
  Tensor y({static_cast<int64_t>(n), 1});
  for (uint64_t i = 0; i < n; ++i) {
    const auto o = labels.find(raw_labels[i]);
    if (!o)
      throw Error(labels_path + ": label " + std::to_string(raw_labels[i]) + " of image " + std::to_string(i) +
                  " is not one of the declared labels " + labels.describe() + " (" + std::to_string(labels.size()) +
                  " classes)");
    y[static_cast<int64_t>(i)] = static_cast<float>(*o);
  }

  const std::vector<uint8_t> px = read_body(images, n * pixels, 16, what.c_str());
  Shape shape = preprocess.flatten ? Shape{static_cast<int64_t>(n), static_cast<int64_t>(pixels)}
                                   : Shape{static_cast<int64_t>(n), static_cast<int64_t>(rows),
                                           static_cast<int64_t>(cols)};
  Tensor x(shape);
  float* xd = x.data();
  const int64_t total = static_cast<int64_t>(px.size());
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
  for (int64_t i = 0; i < total; ++i) xd[i] = static_cast<float>(px[static_cast<size_t>(i)]);
  apply_preprocess(x, preprocess);

  InMemoryDataset d(std::move(x), std::move(y), labels.size());
  d.class_names = labels.names();
  d.name = images_path;
  return d;
}

}  // namespace nnlab
