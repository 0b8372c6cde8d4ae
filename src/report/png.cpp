// A minimal PNG encoder (grayscale, 8 bits): the chunks of the PNG specification, with zlib's
// compress2 for the image data and crc32 for the chunk checksums.
#include "nnlab/report/png.hpp"

#include <zlib.h>

#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"

namespace nnlab {

namespace {

void put_u32(std::string& out, uint32_t v) {  // big-endian, as PNG wants
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// length, type, data, CRC of type + data.
void put_chunk(std::string& out, const char type[4], const std::string& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put_u32(out, static_cast<uint32_t>(
                   crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

}  // namespace

std::string encode_png_gray(int64_t width, int64_t height, const uint8_t* pixels) {
  check(width >= 1 && height >= 1 && width <= (int64_t{1} << 24) && height <= (int64_t{1} << 24),
        "png: image size " + std::to_string(width) + "x" + std::to_string(height) + " is out of range");
  check(pixels != nullptr, "png: no pixels");
  // Every row starts with its filter type: 0, none.
  std::vector<uint8_t> raw(static_cast<size_t>(height * (width + 1)));
  for (int64_t y = 0; y < height; ++y) {
    uint8_t* row = raw.data() + y * (width + 1);
    row[0] = 0;
    std::copy(pixels + y * width, pixels + (y + 1) * width, row + 1);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, raw.data(),
                           static_cast<uLong>(raw.size()), 9);
  check(rc == Z_OK, "png: zlib compress2 failed with code " + std::to_string(rc));
  packed.resize(packed_size);

  std::string out = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_u32(ihdr, static_cast<uint32_t>(width));
  put_u32(ihdr, static_cast<uint32_t>(height));
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // bit depth 8, grayscale, deflate, filter 0, no interlace
  put_chunk(out, "IHDR", ihdr);
  put_chunk(out, "IDAT", packed);
  put_chunk(out, "IEND", "");
  return out;
}

void write_png_gray(const std::string& path, int64_t width, int64_t height, const uint8_t* pixels) {
  write_file_atomic(path, encode_png_gray(width, height, pixels));
}

}  // namespace nnlab
