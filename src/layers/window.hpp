// TensorFlow's arithmetic of a window sliding along one spatial axis, without oneDNN: the image
// layers build with it (spatial.hpp), and the ONNX exporter and importer write and read the same
// explicit paddings with it. Private to src/ (defined in spatial.cpp).
#pragma once
#include <cstdint>
#include <string>

namespace nnlab {

// One spatial axis of a window sliding over an input: TensorFlow's sizes, so outputs match Keras.
//   valid: out = floor((in - span) / stride) + 1, no padding (span = dilation * (size - 1) + 1)
//   same:  out = ceil(in / stride), total padding max((out - 1) * stride + span - in, 0), of which
//          the smaller half (total / 2) goes before and the rest after, as TensorFlow pads.
struct Axis {
  int64_t out = 0, pad_before = 0, pad_after = 0;
};
// Throws, naming the layer and the sizes, when a valid window is larger than the input.
Axis window_axis(int64_t in, int64_t size, int64_t stride, int64_t dilation, bool same, const std::string& layer,
                 const char* axis_name);

}  // namespace nnlab
