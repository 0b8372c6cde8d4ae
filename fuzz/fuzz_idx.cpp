// IDX images + labels files (MNIST's format), plain or gzip. The first byte holds options (bit 0:
// gzip-compress both files before reading, so the decompressing path sees the same structures;
// bit 1: keep the images' (rows, cols) shape); the rest is split in two files, its first two bytes
// giving the images file's length.
#include <zlib.h>

#include <vector>

#include "fuzz_util.hpp"
#include "nnlab/data/readers.hpp"

namespace {
std::string gzip(std::string_view raw) {
  std::vector<uint8_t> out(compressBound(raw.size()) + 32);
  z_stream z{};
  deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // 15 + 16: a gzip wrapper
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  const size_t n = out.size() - z.avail_out;
  deflateEnd(&z);
  return std::string(reinterpret_cast<const char*>(out.data()), n);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view images, labels;
  nnlab::fuzz::split(data + 1, size - 1, images, labels);
  const bool compress = data[0] & 1;
  std::string a(images), b(labels);
  if (compress) a = gzip(a), b = gzip(b);
  const std::string ip = nnlab::fuzz::write_scratch("images", reinterpret_cast<const uint8_t*>(a.data()), a.size());
  const std::string lp = nnlab::fuzz::write_scratch("labels", reinterpret_cast<const uint8_t*>(b.data()), b.size());
  nnlab::fuzz::expect_refusal_or_success([&] {
    nnlab::Preprocess p;
    p.flatten = !(data[0] & 2);
    nnlab::read_idx(ip, lp, p);
  });
  return 0;
}
