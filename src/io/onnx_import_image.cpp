// The ONNX importer's image layers: the Transposes between nnlab's NHWC and ONNX's NCHW, Conv,
// MaxPool, AveragePool and GlobalAveragePool, as nnlab's exports write them (onnx_export_image.cpp).
// Paddings are read back with the arithmetic the layers build with (layers/window.hpp), so explicit
// pads become "valid" or "same" only where that layer slides exactly the same windows.
#include <string>
#include <vector>

#include "../layers/window.hpp"
#include "onnx_importer.hpp"
#include "onnx_kernel_layout.hpp"

namespace nnlab::onnx_import_detail {

namespace {

const std::vector<int64_t> kToNchw{0, 3, 1, 2}, kToNhwc{0, 2, 3, 1};

// A (height, width) attribute: two whole numbers, each at least 1.
std::vector<int64_t> positive_pair(const std::vector<int64_t>& v, const std::string& what) {
  check(v.size() == 2 && v[0] >= 1 && v[1] >= 1,
        what + " " + dims_str(v) + "; nnlab reads two positive whole numbers (height, width)");
  return v;
}

}  // namespace

Shape Importer::image() const {
  if (nchw_) return {dims_.at(1), dims_.at(2), dims_.at(0)};
  return {dims_.begin(), dims_.end()};
}

void Importer::need_nchw(const onnx::NodeProto& n) {
  if (rank_ == 4 && !nchw_ && layers_.empty() && cur_ == input_name_ && dims_[0] == 1) {
    nchw_ = input_nchw_ = true;  // (N, 1, H, W): the bytes of nnlab's (N, H, W, 1)
    return;
  }
  check(rank_ == 4 && nchw_, where(n) + " reads NCHW images, and the value here is " +
                                 (rank_ == 4 ? std::string("NHWC images") : "of rank " + std::to_string(rank_)) +
                                 "; nnlab's images are NHWC (batch, height, width, channels), so it reads " + n.op_type() +
                                 " only after a Transpose to NCHW (perm [0, 3, 1, 2]), as its exports write one, or on "
                                 "the graph's input of one channel (N, 1, height, width), whose bytes NHWC reads alike");
}

bool Importer::flatten_channels_first(const onnx::NodeProto& n, const std::string& out) {
  const onnx::NodeProto* dense = next_using(0, out);
  if (!dense || (dense->op_type() != "Gemm" && dense->op_type() != "MatMul") || dense->input(0) != out) return false;
  chw_ = dims_;
  nchw_ = false;
  flatten(n, out);
  return true;
}

void Importer::transpose(const onnx::NodeProto& n, const std::string& out) {
  const std::vector<int64_t> perm = attr_ints(n, "perm", {});
  if (rank_ == 4 && !nchw_ && perm == kToNchw) {
    nchw_ = true;
    dims_ = {dims_[2], dims_[0], dims_[1]};
  } else if (rank_ == 4 && nchw_ && perm == kToNhwc) {
    nchw_ = false;
    dims_ = {dims_[1], dims_[2], dims_[0]};
  } else {
    throw Error(where(n) + ": perm " + dims_str(perm) + " of " + (nchw_ ? "NCHW" : "NHWC") + " values of rank " +
                std::to_string(rank_) + "; nnlab reads a Transpose only of images, from NHWC to NCHW (perm [0, 3, 1, 2]) "
                "and back (perm [0, 2, 3, 1])");
  }
  cur_ = out;
}

std::string Importer::padding(const onnx::NodeProto& n, const std::vector<int64_t>& size, const std::vector<int64_t>& strides,
                              const std::vector<int64_t>& dilations) const {
  const auto* a = attr(n, "auto_pad");
  const std::string auto_pad = a && !a->s().empty() ? a->s() : "NOTSET";
  if (auto_pad == "VALID") return "valid";
  if (auto_pad == "SAME_UPPER") return "same";  // TensorFlow's: the odd one at the end
  check(auto_pad == "NOTSET", where(n) + ": auto_pad " + auto_pad +
                                  "; nnlab pads as VALID or SAME_UPPER (TensorFlow's \"same\"), or as explicit pads");
  const std::vector<int64_t> pads = attr_ints(n, "pads", {0, 0, 0, 0});
  check(pads.size() == 4, where(n) + ": pads " + dims_str(pads) + "; an image needs four (top, left, bottom, right)");
  if (pads == std::vector<int64_t>{0, 0, 0, 0}) return "valid";
  const Shape in = image();
  const Axis h = window_axis(in[0], size[0], strides[0], dilations[0], true, where(n), "height");
  const Axis w = window_axis(in[1], size[1], strides[1], dilations[1], true, where(n), "width");
  const std::vector<int64_t> same{h.pad_before, w.pad_before, h.pad_after, w.pad_after};
  check(pads == same, where(n) + ": pads " + dims_str(pads) + "; nnlab pads an image either not at all (\"valid\") or as "
                                 "TensorFlow's \"same\", which here is " + dims_str(same));
  return "same";
}

void Importer::conv(const onnx::NodeProto& n, const std::string& out) {
  need_nchw(n);
  check(attr_i(n, "group", 1) == 1,
        where(n) + ": group " + std::to_string(attr_i(n, "group", 1)) + "; nnlab's conv2d convolves all channels (group 1)");
  const Weights w = floats(n, 1);
  check(w.dims.size() == 4, where(n) + ": the weight '" + n.input(1) + "' has shape " + dims_str(w.dims) +
                                ", not (filters, channels, height, width)");
  const int64_t f = w.dims[0], c = w.dims[1], kh = w.dims[2], kw = w.dims[3];
  check(c == dims_[0], where(n) + ": the weight '" + n.input(1) + "' has shape " + dims_str(w.dims) + " for images of " +
                           std::to_string(dims_[0]) + " channels (the shapes do not chain)");
  const std::vector<int64_t> size = positive_pair({kh, kw}, where(n) + ": a kernel of");
  const std::vector<int64_t> kernel_shape = attr_ints(n, "kernel_shape", size);
  check(kernel_shape == size,
        where(n) + ": kernel_shape " + dims_str(kernel_shape) + " differs from the weight's " + dims_str(size));
  const std::vector<int64_t> strides = positive_pair(attr_ints(n, "strides", {1, 1}), where(n) + ": strides");
  const std::vector<int64_t> dilations = positive_pair(attr_ints(n, "dilations", {1, 1}), where(n) + ": dilations");
  const std::string pad = padding(n, size, strides, dilations);
  Weights hwio{{kh, kw, c, f}, permute_kernel(w.values, kh, kw, c, f, false)};
  LayerOut l{{{"type", "conv2d"},
              {"filters", f},
              {"kernel_size", size},
              {"strides", strides},
              {"padding", pad},
              {"dilation_rate", dilations},
              {"activation", "linear"},
              {"use_bias", false}},
             {{"kernel", std::move(hwio)}},
             where(n)};
  if (n.input_size() >= 3 && !n.input(2).empty()) {
    Weights b = floats(n, 2);
    check(b.values.size() == static_cast<size_t>(f),
          where(n) + ": the bias has shape " + dims_str(b.dims) + ", not (" + std::to_string(f) + ")");
    b.dims = {f};
    l.params["bias"] = std::move(b);
    l.config["use_bias"] = true;
  }
  const Shape in = image();
  const Axis h = window_axis(in[0], kh, strides[0], dilations[0], pad == "same", where(n), "height");
  const Axis wd = window_axis(in[1], kw, strides[1], dilations[1], pad == "same", where(n), "width");
  layers_.push_back(std::move(l));
  set_dims({f, h.out, wd.out});
  cur_ = out;
}

void Importer::pool(const onnx::NodeProto& n, const std::string& out) {
  need_nchw(n);
  const bool max = n.op_type() == "MaxPool";
  check(n.output_size() == 1, where(n) + ": nnlab's max_pool2d has no output of the maxima's indices");
  check(attr_i(n, "ceil_mode", 0) == 0, where(n) + ": ceil_mode 1; nnlab's pooling sizes round down (ceil_mode 0)");
  check(attr_ints(n, "dilations", {1, 1}) == std::vector<int64_t>({1, 1}),
        where(n) + ": dilations " + dims_str(attr_ints(n, "dilations", {1, 1})) + "; nnlab's pooling windows are dense (1, 1)");
  check(attr(n, "kernel_shape") != nullptr, where(n) + " has no kernel_shape");
  const std::vector<int64_t> size = positive_pair(attr_ints(n, "kernel_shape", {}), where(n) + ": kernel_shape");
  const std::vector<int64_t> strides = positive_pair(attr_ints(n, "strides", {1, 1}), where(n) + ": strides");
  const std::string pad = padding(n, size, strides, {1, 1});
  check(max || pad == "valid" || attr_i(n, "count_include_pad", 0) == 0,
        where(n) + ": count_include_pad 1; nnlab's average pooling leaves the padding out of the mean, as Keras's "
                   "(count_include_pad 0)");
  const Shape in = image();
  const Axis h = window_axis(in[0], size[0], strides[0], 1, pad == "same", where(n), "height");
  const Axis w = window_axis(in[1], size[1], strides[1], 1, pad == "same", where(n), "width");
  layers_.push_back({{{"type", max ? "max_pool2d" : "average_pool2d"}, {"pool_size", size}, {"strides", strides},
                      {"padding", pad}},
                     {},
                     where(n)});
  set_dims({dims_[0], h.out, w.out});
  cur_ = out;
}

// GlobalAveragePool gives (N, C, 1, 1); nnlab's global_average_pool2d gives (N, C), as the Flatten
// or Reshape to (batch, C) after it.
void Importer::global_average_pool(const onnx::NodeProto& n, const std::string& out) {
  need_nchw(n);
  const int64_t c = dims_[0];
  const onnx::NodeProto* next = next_using(0, out);
  bool flat = false;
  if (next && next->input(0) == out && next->op_type() == "Flatten") {
    flat = attr_i(*next, "axis", 1) == 1;
  } else if (next && next->input(0) == out && next->op_type() == "Reshape" && next->input_size() >= 2 &&
             consts_.count(next->input(1))) {
    const std::vector<int64_t> v = ints(*next, 1);
    flat = v.size() == 2 && (v[0] == 0 || v[0] == -1) && (v[1] == c || (v[1] == -1 && v[0] == 0));
  }
  check(flat, where(n) + ": nnlab reads GlobalAveragePool followed by a Flatten (axis 1) or a Reshape to (batch, " +
                  std::to_string(c) + "): its global_average_pool2d gives one value per channel");
  layers_.push_back({{{"type", "global_average_pool2d"}}, {}, where(n)});
  nchw_ = false;
  set_dims({c});
  cur_ = next->output(0);
  ++i_;
}

}  // namespace nnlab::onnx_import_detail
