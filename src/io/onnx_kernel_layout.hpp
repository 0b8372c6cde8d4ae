// A conv2d kernel between nnlab's layout, Keras's (kh, kw, in, filters), and ONNX's Conv weight
// (filters, in, kh, kw): the exporter writes one, the importer reads the other back. Private to src/io.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace nnlab {

// to_onnx: (kh, kw, c, f) values -> (f, c, kh, kw); else the way back.
inline std::vector<float> permute_kernel(std::span<const float> v, int64_t kh, int64_t kw, int64_t c, int64_t f,
                                         bool to_onnx) {
  std::vector<float> out(v.size());
  for (int64_t y = 0; y < kh; ++y)
    for (int64_t z = 0; z < kw; ++z)
      for (int64_t i = 0; i < c; ++i)
        for (int64_t o = 0; o < f; ++o) {
          const auto nnlab_at = static_cast<size_t>(((y * kw + z) * c + i) * f + o);
          const auto onnx_at = static_cast<size_t>(((o * c + i) * kh + y) * kw + z);
          if (to_onnx) out[onnx_at] = v[nnlab_at];
          else out[nnlab_at] = v[onnx_at];
        }
  return out;
}

}  // namespace nnlab
