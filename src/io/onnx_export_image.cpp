// The image layers in ONNX: conv2d -> Conv (+ its activation), max_pool2d / average_pool2d ->
// MaxPool / AveragePool, global_average_pool2d -> GlobalAveragePool + Flatten, in NCHW between the
// Transposes that the chain writes where the layout changes (onnx_exporter.hpp). "same" padding is
// written as the explicit pads nnlab's layers use (TensorFlow's: the odd one at the end), so ONNX
// Runtime and nnlab slide the same windows; average pooling leaves the padding out of its counts
// (count_include_pad 0), as Keras and nnlab do.
#include <string>
#include <vector>

#include "../layers/window.hpp"
#include "nnlab/error.hpp"
#include "onnx_kernel_layout.hpp"
#include "onnx_exporter.hpp"

namespace nnlab::onnx_export_detail {

namespace {

// A (height, width) setting as config() writes it: one number for both, or a list of two.
std::vector<int64_t> pair(const nlohmann::json& c, const char* key) {
  const nlohmann::json& v = c.at(key);
  if (v.is_array()) return {v.at(0).get<int64_t>(), v.at(1).get<int64_t>()};
  return {v.get<int64_t>(), v.get<int64_t>()};
}

// ONNX's pads (top, left, bottom, right) of a window over an image `in` (height, width, channels),
// from nnlab's own arithmetic (window.hpp).
std::vector<int64_t> pads(const nlohmann::json& c, const std::vector<int64_t>& size, const std::vector<int64_t>& strides,
                          const std::vector<int64_t>& dilations, const Shape& in, const std::string& scope) {
  const bool same = c.at("padding").get<std::string>() == "same";
  const Axis h = window_axis(in.at(0), size[0], strides[0], dilations[0], same, scope, "height");
  const Axis w = window_axis(in.at(1), size[1], strides[1], dilations[1], same, scope, "width");
  return {h.pad_before, w.pad_before, h.pad_after, w.pad_after};
}

}  // namespace

void to_nchw(Graph& g, const std::string& scope, Value& x) {
  check(x.rank == 4, "ONNX export: '" + scope + "' needs images (batch, height, width, channels), got rank " +
                         std::to_string(x.rank));
  if (x.nchw) return;
  onnx::NodeProto* n = nullptr;
  x.name = g.node(scope, "Transpose", {x.name}, &n);
  set_ints(n, "perm", {0, 3, 1, 2});
  x.nchw = true;
}

void to_nhwc(Graph& g, const std::string& scope, Value& x) {
  if (!x.nchw) return;
  onnx::NodeProto* n = nullptr;
  x.name = g.node(scope, "Transpose", {x.name}, &n);
  set_ints(n, "perm", {0, 2, 3, 1});
  x.nchw = false;
}

std::string conv2d(Graph& g, const std::string& scope, const nlohmann::json& config, const Shape& in,
                   const std::string& kernel_name, const NamedTensor& kernel, const std::string& bias, const std::string& x) {
  // nnlab's kernel (kh, kw, c, f) -> ONNX's (f, c, kh, kw).
  const int64_t kh = kernel.shape.at(0), kw = kernel.shape.at(1), c = kernel.shape.at(2), f = kernel.shape.at(3);
  const std::vector<float> oihw = permute_kernel(kernel.value, kh, kw, c, f, true);
  std::vector<std::string> inputs{x, g.float_initializer(kernel_name, {f, c, kh, kw}, oihw.data())};
  if (!bias.empty()) inputs.push_back(bias);
  onnx::NodeProto* n = nullptr;
  const std::string y = g.node(scope, "Conv", inputs, &n);
  const std::vector<int64_t> strides = pair(config, "strides"), dilations = pair(config, "dilation_rate");
  set_ints(n, "kernel_shape", {kh, kw});
  set_ints(n, "strides", strides);
  set_ints(n, "dilations", dilations);
  set_ints(n, "pads", pads(config, {kh, kw}, strides, dilations, in, scope));
  set_int(n, "group", 1);
  // The activation runs per pixel over the filters (conv2d.cpp): softmax over NCHW's axis 1; the
  // element-wise ones are the same in any layout.
  const std::string act = config.at("activation").get<std::string>();
  if (act == "softmax") {
    const std::string s = g.node(scope, "Softmax", {y}, &n);
    set_int(n, "axis", 1);
    return s;
  }
  return activation(g, scope, act, y, 4);
}

std::string pool2d(Graph& g, const std::string& scope, const nlohmann::json& config, bool max, const Shape& in,
                   const std::string& x) {
  onnx::NodeProto* n = nullptr;
  const std::string y = g.node(scope, max ? "MaxPool" : "AveragePool", {x}, &n);
  const std::vector<int64_t> size = pair(config, "pool_size"), strides = pair(config, "strides");
  set_ints(n, "kernel_shape", size);
  set_ints(n, "strides", strides);
  set_ints(n, "pads", pads(config, size, strides, {1, 1}, in, scope));
  if (!max) set_int(n, "count_include_pad", 0);  // "same": the mean of the image's values alone
  return y;
}

std::string global_average_pool2d(Graph& g, const std::string& scope, const std::string& x) {
  onnx::NodeProto* n = nullptr;
  const std::string y = g.node(scope, "Flatten", {g.node(scope, "GlobalAveragePool", {x})}, &n);  // (N, C, 1, 1) -> (N, C)
  set_int(n, "axis", 1);
  return y;
}

}  // namespace nnlab::onnx_export_detail
