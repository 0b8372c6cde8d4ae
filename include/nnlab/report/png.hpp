// PNG images with zlib and nothing else: 8-bit grayscale, for previews such as `nnlab augment`'s
// grid of augmented images.
#pragma once
#include <cstdint>
#include <string>

namespace nnlab {

// The bytes of a PNG file: signature, IHDR (width, height, bit depth 8, colour type 0 = grayscale),
// one IDAT (rows with filter byte 0, zlib-compressed), IEND. pixels: (height, width), row-major.
std::string encode_png_gray(int64_t width, int64_t height, const uint8_t* pixels);
// Writes encode_png_gray(...) to path atomically (temporary file, then rename).
void write_png_gray(const std::string& path, int64_t width, int64_t height, const uint8_t* pixels);

}  // namespace nnlab
