// The ONNX importer's state and steps (onnx_import.cpp reads the chain: tensors, the input, the
// layers one node at a time; onnx_import_patterns.cpp reads the multi-node formulas of activations
// and constant arithmetic; onnx_import_image.cpp the image layers and the layout's Transposes).
// Private to src/io.
#pragma once
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/model.hpp"
#include "onnx_shapes.hpp"

namespace nnlab::onnx_import_detail {

struct Weights {
  std::vector<int64_t> dims;
  std::vector<float> values;
};

struct LayerOut {
  nlohmann::json config;
  std::map<std::string, Weights> params;  // "kernel", "bias", "gamma", ...
  std::string node;                        // the node it came from, for errors
};

std::string dims_str(const std::vector<int64_t>& d);

class Importer {
 public:
  Importer(const onnx::ModelProto& m, std::string source);

  Model run(std::map<std::string, std::string>* metadata);

 private:
  std::string where(const onnx::NodeProto& n) const {
    const std::string name = n.name().empty() ? (n.output_size() ? n.output(0) : std::string("?")) : n.name();
    return source_ + ": node '" + name + "' (" + n.op_type() + ")";
  }

  Shape input_shape() const;

  const onnx::TensorProto& constant(const onnx::NodeProto& n, int input) const;

  static int64_t count(const onnx::TensorProto& t) {
    int64_t c = 1;
    for (int64_t d : t.dims()) {
      if (d < 0 || (d > 0 && c > std::numeric_limits<int64_t>::max() / d))
        throw Error("tensor '" + t.name() + "' has a bad shape");
      c *= d;
    }
    return c;
  }

  Weights floats(const onnx::NodeProto& n, int input) const;

  std::vector<int64_t> ints(const onnx::NodeProto& n, int input) const;
  // `where` names the node that reads t.
  static std::vector<int64_t> ints_of(const onnx::TensorProto& t, const std::string& where);

  static const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  float attr_f(const onnx::NodeProto& n, const std::string& name, float def) const {
    const auto* a = attr(n, name);
    check(!a || std::isfinite(a->f()), where(n) + ": attribute " + name + " is not a finite number");
    return a ? a->f() : def;
  }
  static int64_t attr_i(const onnx::NodeProto& n, const std::string& name, int64_t def) {
    const auto* a = attr(n, name);
    return a ? a->i() : def;
  }
  static std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name, std::vector<int64_t> def) {
    const auto* a = attr(n, name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : def;
  }

  // The next node (after k more) when it exists, has an output and takes `value` as one of its inputs.
  const onnx::NodeProto* next_using(size_t k, const std::string& value) const;
  // Whether input `input` of n is a constant scalar (one value) close to v.
  bool scalar_is(const onnx::NodeProto& n, int input, float v) const;
  // Whether n takes `value` and, as its other input, a constant scalar close to v.
  bool operand_is(const onnx::NodeProto& n, const std::string& value, float v) const;

  // gelu as torch.onnx.export writes it: x * (1 / sqrt 2) (or x / sqrt 2) -> Erf -> + 1 -> * x -> * 0.5.
  // n (the first Mul or Div) is consumed; the rest follow it.
  bool gelu_erf(const onnx::NodeProto& n, const std::string& out);
  // gelu as tf2onnx writes it, 0.5 x erfc(-x / sqrt 2): Mul(x, 0.5), Neg(x), Mul by 1 / sqrt 2, Erfc,
  // and the product. n (the first Mul) is consumed; the rest follow it.
  bool gelu_erfc(const onnx::NodeProto& n, const std::string& out);

  // hard_sigmoid as Keras 3 writes it on tensorflow, relu6(x + 3) / 6: Add 3, Clip(0, 6), then Mul by
  // 1/6 or Div by 6 (nnlab's clip(x / 6 + 0.5, 0, 1)).
  bool hard_sigmoid_relu6(const onnx::NodeProto& n);
  // The last node of that pattern when `add` (of `value`) starts it and the Clip is `at` nodes after
  // i_; else null.
  const onnx::NodeProto* relu6_sixth(const onnx::NodeProto& add, const std::string& value, size_t at) const;

  // The other input of a two-input node, given one.
  static std::string other(const onnx::NodeProto& n, const std::string& one) {
    if (n.input_size() != 2) return "";
    return n.input(0) == one ? n.input(1) : (n.input(1) == one ? n.input(0) : "");
  }

  void add_activation(const std::string& spec, const std::string& node);

  // Consumes nodes_[i_] (and the nodes that belong with it), appending a layer or nothing.
  void step();
  // The rest of step() (onnx_import_patterns.cpp): n, already consumed, is an activation or arithmetic.
  void activation(const onnx::NodeProto& n, const std::string& out);

  void flatten(const onnx::NodeProto& n, const std::string& out);
  // A Reshape to (batch, target...) with target of two or more dimensions: nnlab's reshape layer.
  void reshape(const onnx::NodeProto& n, const std::string& out, const std::vector<int64_t>& shape);

  // The image layers (onnx_import_image.cpp). nnlab's images are NHWC; ONNX's Conv, pooling and
  // BatchNormalization read NCHW, so nnlab's exports Transpose to NCHW before them and back after
  // (nchw_ says which the value at cur_ is): Transpose switches nchw_; Conv, MaxPool, AveragePool and
  // GlobalAveragePool (with the Flatten after it) need NCHW and become conv2d, max_pool2d,
  // average_pool2d and global_average_pool2d.
  void transpose(const onnx::NodeProto& n, const std::string& out);
  void conv(const onnx::NodeProto& n, const std::string& out);
  void pool(const onnx::NodeProto& n, const std::string& out);
  void global_average_pool(const onnx::NodeProto& n, const std::string& out);
  // Refuses n unless the value is NCHW images; the graph's own input of one channel counts as NCHW
  // (as PyTorch's CNNs take images: (N, 1, H, W) holds the bytes of nnlab's (N, H, W, 1)).
  void need_nchw(const onnx::NodeProto& n);
  // A flatten of NCHW images (PyTorch's) right before a Gemm or MatMul: the flatten keeps nnlab's
  // NHWC order and the dense layer's kernel rows are reordered from (c, h, w) to (h, w, c) to match.
  // False (nothing consumed) when no dense layer follows.
  bool flatten_channels_first(const onnx::NodeProto& n, const std::string& out);
  // nnlab's padding, "valid" or "same", for n's auto_pad or pads on the image at cur_; an error when
  // the pads are neither none nor TensorFlow's "same" (the odd one at the end).
  std::string padding(const onnx::NodeProto& n, const std::vector<int64_t>& size, const std::vector<int64_t>& strides,
                      const std::vector<int64_t>& dilations) const;
  // The image at cur_ as nnlab's (height, width, channels).
  Shape image() const;
  // dims_ := d, with rank_ and features_ (-1: too many to count).
  void set_dims(std::vector<int64_t> d);

  // The int64 constants that node n's shape arithmetic reads.
  ShapeArithmetic::Constants int_constant(const onnx::NodeProto& n) const;

  // Add, Sub, Mul and Div of the chain's value and a constant (one value, or one per feature), and
  // those right after it: y = x * scale + shift per feature. Folded into the dense layer before it
  // while that has no activation yet (a bias, Keras's batch normalisation after a dense layer); else
  // a batch_norm layer in inference form (mean 0, variance 1 - epsilon, gamma scale, beta shift).
  void affine(const onnx::NodeProto& first);

  // Gemm, or MatMul with an optional Add: a dense layer, or with Reshape + ReduceMax after it a maxout.
  void dense(const onnx::NodeProto& n, std::string out);

  const onnx::ModelProto& m_;
  const onnx::GraphProto& g_;
  std::string source_;
  int64_t opset_ = 0;
  std::map<std::string, const onnx::TensorProto*> consts_;
  std::set<const onnx::NodeProto*> aside_;  // Constant nodes and Identity nodes of initializers: not in the chain
  ShapeArithmetic shapes_;
  std::vector<int64_t> dims_;  // the shape of one sample at cur_, as the graph has it (NCHW's when nchw_)
  bool nchw_ = false;          // cur_ is images transposed to (batch, channels, height, width)
  std::string input_name_;
  bool input_nchw_ = false;           // the graph's input is (N, 1, H, W): nnlab's input is (H, W, 1)
  std::vector<int64_t> chw_;          // (channels, height, width) of a flatten the next dense layer reorders
  std::vector<const onnx::NodeProto*> nodes_;
  size_t i_ = 0;
  size_t rank_ = 2;
  int64_t features_ = 0;  // the values of one sample at cur_ (-1: too many to count)
  std::string cur_;
  std::vector<LayerOut> layers_;
};

}  // namespace nnlab::onnx_import_detail
