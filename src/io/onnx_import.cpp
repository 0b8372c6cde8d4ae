// ONNX ModelProto -> nnlab Model. The graph must be one chain from its input to its output; the
// nodes are read in order, a few operators at a time where one nnlab layer is several ONNX nodes
// (MatMul + Add, Gemm + Reshape + ReduceMax, Sigmoid + Mul, gelu's Erf and Erfc formulas,
// hard_sigmoid as relu6(x + 3) / 6). Around the chain,
// what exporters add is read too: Cast to float32 and Identity (nothing), Identity of an
// initializer (the same weights under another name), the shape arithmetic before a Reshape
// (onnx_shapes.hpp), and constant Add / Sub / Mul / Div (a per-feature affine map: folded into the
// dense layer before it, else a batch_norm in inference form, as Keras's batch normalisation exports). The layers' configs
// and weights are gathered first, then Model::from_config builds the model and every weight is
// checked against the shape its layer expects, so a graph whose shapes do not chain is refused
// naming the node.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/io/onnx.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/text.hpp"
#include "onnx_shapes.hpp"

namespace nnlab {

namespace {

using onnx_import_detail::ShapeArithmetic;
using onnx_import_detail::ShapeValue;

struct Weights {
  std::vector<int64_t> dims;
  std::vector<float> values;
};

struct LayerOut {
  nlohmann::json config;
  std::map<std::string, Weights> params;  // "kernel", "bias", "gamma", ...
  std::string node;                        // the node it came from, for errors
};

std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

class Importer {
 public:
  Importer(const onnx::ModelProto& m, std::string source) : m_(m), g_(m.graph()), source_(std::move(source)) {
    for (const auto& op : m.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
    for (const auto& t : g_.initializer()) consts_[t.name()] = &t;
    for (const auto& n : g_.node())
      if (n.op_type() == "Constant") {
        check(n.output_size() == 1 && n.attribute_size() == 1 && n.attribute(0).name() == "value" &&
                  n.attribute(0).has_t(),
              where(n) + ": only a Constant with a tensor 'value' is supported");
        consts_[n.output(0)] = &n.attribute(0).t();
        aside_.insert(&n);
      } else if (n.op_type() == "Identity" && n.input_size() == 1 && n.output_size() == 1 && consts_.count(n.input(0))) {
        consts_[n.output(0)] = consts_.at(n.input(0));  // an initializer shared under another name
        aside_.insert(&n);
      }
  }

  Model run(std::map<std::string, std::string>* metadata) {
    check(opset_ >= 1, source_ + ": the model imports no version of ONNX's operator set (opset_import)");
    check(g_.output_size() == 1, source_ + ": the graph has " + std::to_string(g_.output_size()) +
                                     " outputs; nnlab reads a model with one");
    const Shape input = input_shape();
    dims_.assign(input.begin(), input.end());
    rank_ = input.size() + 1;
    features_ = 1;
    for (int64_t d : input) features_ = features_ > std::numeric_limits<int64_t>::max() / d ? -1 : features_ * d;
    for (const auto& n : g_.node())
      if (!aside_.count(&n)) nodes_.push_back(&n);
    for (i_ = 0; i_ < nodes_.size();) step();
    check(cur_ == g_.output(0).name(), source_ + ": the chain of nodes ends at '" + cur_ + "', not at the graph's output '" +
                                            g_.output(0).name() + "'");
    check(!layers_.empty(), source_ + ": the graph has no layer nnlab can represent (only identities)");

    nlohmann::json config{{"input", input}, {"layers", nlohmann::json::array()}};
    int64_t values = 0;
    for (const LayerOut& l : layers_) {
      config["layers"].push_back(l.config);
      for (const auto& [name, w] : l.params) values += static_cast<int64_t>(w.values.size());
    }
    Model model;
    try {
      model = Model::from_config(config, 42, values);
    } catch (const Error& e) {
      throw Error(source_ + ": the graph's layers do not chain: " + e.what());
    }
    std::map<std::string, NamedTensor> tensors;
    for (NamedTensor& t : model.named_tensors()) tensors.emplace(t.name, t);
    for (size_t k = 0; k < layers_.size(); ++k) {
      const LayerOut& l = layers_[k];
      for (const auto& [name, w] : l.params) {
        auto it = tensors.find(model.layer(k).name + "." + name);
        check(it != tensors.end(), l.node + ": nnlab's layer has no " + name);
        const NamedTensor& t = it->second;
        check(std::vector<int64_t>(t.shape.begin(), t.shape.end()) == w.dims,
              l.node + ": " + name + " has shape " + dims_str(w.dims) + ", but the layer there needs " +
                  dims_str(std::vector<int64_t>(t.shape.begin(), t.shape.end())) + " (the shapes do not chain)");
        std::copy(w.values.begin(), w.values.end(), t.value.begin());
      }
    }
    if (metadata)
      for (const auto& e : m_.metadata_props()) (*metadata)[e.key()] = e.value();
    return model;
  }

 private:
  std::string where(const onnx::NodeProto& n) const {
    const std::string name = n.name().empty() ? (n.output_size() ? n.output(0) : std::string("?")) : n.name();
    return source_ + ": node '" + name + "' (" + n.op_type() + ")";
  }

  Shape input_shape() const {
    const onnx::ValueInfoProto* in = nullptr;
    for (const auto& v : g_.input()) {
      if (consts_.count(v.name())) continue;  // older exporters list initializers as inputs too
      if (in != nullptr)
        throw Error(source_ + ": the graph has more than one input ('" + in->name() + "', '" + v.name() +
                    "'); nnlab reads a model with one");
      in = &v;
    }
    check(in != nullptr, source_ + ": the graph has no input");
    check(in->type().has_tensor_type() && in->type().tensor_type().elem_type() == onnx::TensorProto::FLOAT,
          source_ + ": input '" + in->name() + "' is not a float32 tensor");
    const auto& shape = in->type().tensor_type().shape();
    check(shape.dim_size() >= 2, source_ + ": input '" + in->name() + "' needs a batch dimension and features, has " +
                                     std::to_string(shape.dim_size()) + " dimensions");
    Shape s;
    for (int d = 1; d < shape.dim_size(); ++d) {
      check(shape.dim(d).has_dim_value() && shape.dim(d).dim_value() >= 1,
            source_ + ": input '" + in->name() + "' dimension " + std::to_string(d) +
                " must be a fixed size (only the batch dimension may vary)");
      s.push_back(shape.dim(d).dim_value());
    }
    const_cast<Importer*>(this)->cur_ = in->name();
    return s;
  }

  const onnx::TensorProto& constant(const onnx::NodeProto& n, int input) const {
    check(input < n.input_size() && !n.input(input).empty(),
          where(n) + ": input " + std::to_string(input + 1) + " is missing");
    auto it = consts_.find(n.input(input));
    check(it != consts_.end(), where(n) + ": input '" + n.input(input) +
                                   "' must be an initializer (weights), and the file has none of that name");
    return *it->second;
  }

  static int64_t count(const onnx::TensorProto& t) {
    int64_t c = 1;
    for (int64_t d : t.dims()) {
      if (d < 0 || (d > 0 && c > std::numeric_limits<int64_t>::max() / d))
        throw Error("tensor '" + t.name() + "' has a bad shape");
      c *= d;
    }
    return c;
  }

  Weights floats(const onnx::NodeProto& n, int input) const {
    const onnx::TensorProto& t = constant(n, input);
    const std::string what = where(n) + ": initializer '" + t.name() + "'";
    check(t.data_type() == onnx::TensorProto::FLOAT, what + " is not float32 (data type " + std::to_string(t.data_type()) + ")");
    check(t.data_location() != onnx::TensorProto::EXTERNAL, what + " is stored in an external file, which nnlab does not read");
    Weights w;
    w.dims.assign(t.dims().begin(), t.dims().end());
    int64_t c = 0;
    try {
      c = count(t);
    } catch (const Error& e) {
      throw Error(what + ": " + e.what());
    }
    if (!t.raw_data().empty()) {
      check(static_cast<int64_t>(t.raw_data().size()) / 4 == c && t.raw_data().size() % 4 == 0,
            what + " holds " + std::to_string(t.raw_data().size()) + " bytes, its shape " + dims_str(w.dims) + " needs " +
                std::to_string(c * 4));
      w.values.resize(static_cast<size_t>(c));
      std::memcpy(w.values.data(), t.raw_data().data(), t.raw_data().size());
    } else {
      check(t.float_data_size() == c, what + " holds " + std::to_string(t.float_data_size()) + " values, its shape " +
                                          dims_str(w.dims) + " needs " + std::to_string(c));
      w.values.assign(t.float_data().begin(), t.float_data().end());
    }
    for (float v : w.values) check(std::isfinite(v), what + " holds a value that is not finite");
    return w;
  }

  std::vector<int64_t> ints(const onnx::NodeProto& n, int input) const { return ints_of(constant(n, input), where(n)); }
  // `where` names the node that reads t.
  static std::vector<int64_t> ints_of(const onnx::TensorProto& t, const std::string& where) {
    check(t.data_type() == onnx::TensorProto::INT64, where + ": '" + t.name() + "' is not int64");
    int64_t c = 0;
    try {
      c = count(t);
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
    std::vector<int64_t> v;
    if (!t.raw_data().empty()) {
      check(static_cast<int64_t>(t.raw_data().size()) == c * 8, where + ": '" + t.name() + "' has the wrong size");
      v.resize(static_cast<size_t>(c));
      std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
    } else {
      check(t.int64_data_size() == c, where + ": '" + t.name() + "' has the wrong size");
      v.assign(t.int64_data().begin(), t.int64_data().end());
    }
    return v;
  }

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

  // The next node (after k more) when it exists, has an output and takes `value` as one of its inputs.
  const onnx::NodeProto* next_using(size_t k, const std::string& value) const {
    if (i_ + k >= nodes_.size()) return nullptr;
    const onnx::NodeProto* n = nodes_[i_ + k];
    if (n->output_size() < 1) return nullptr;
    for (const auto& in : n->input())
      if (in == value) return n;
    return nullptr;
  }
  // Whether input `input` of n is a constant scalar (one value) close to v.
  bool scalar_is(const onnx::NodeProto& n, int input, float v) const {
    if (input >= n.input_size() || !consts_.count(n.input(input))) return false;
    const onnx::TensorProto& t = *consts_.at(n.input(input));
    if (t.data_type() != onnx::TensorProto::FLOAT || count(t) != 1) return false;
    const float x = floats(n, input).values[0];
    return std::fabs(x - v) <= 1e-6f * std::fabs(v);
  }
  // Whether n takes `value` and, as its other input, a constant scalar close to v.
  bool operand_is(const onnx::NodeProto& n, const std::string& value, float v) const {
    if (n.input_size() != 2 || (n.input(0) != value && n.input(1) != value)) return false;
    return scalar_is(n, n.input(0) == value ? 1 : 0, v);
  }

  // gelu as tf2onnx writes it, 0.5 x erfc(-x / sqrt 2): Mul(x, 0.5), Neg(x), Mul by 1 / sqrt 2, Erfc,
  // and the product. n (the first Mul) is consumed; the rest follow it.
  bool gelu_erfc(const onnx::NodeProto& n, const std::string& out) {
    if (n.op_type() != "Mul" || !operand_is(n, cur_, 0.5f)) return false;
    const onnx::NodeProto* neg = next_using(0, cur_);
    if (!neg || neg->op_type() != "Neg") return false;
    const onnx::NodeProto* scaled = next_using(1, neg->output(0));
    if (!scaled || scaled->op_type() != "Mul" || !operand_is(*scaled, neg->output(0), 0.70710678f)) return false;
    const onnx::NodeProto* erfc = next_using(2, scaled->output(0));
    if (!erfc || erfc->op_type() != "Erfc") return false;
    const onnx::NodeProto* product = next_using(3, erfc->output(0));
    if (!product || product->op_type() != "Mul" || other(*product, erfc->output(0)) != out) return false;
    i_ += 4;
    add_activation("gelu", where(n));
    cur_ = product->output(0);
    return true;
  }

  // hard_sigmoid as Keras 3 writes it on tensorflow, relu6(x + 3) / 6: Add 3, Clip(0, 6), then Mul by
  // 1/6 or Div by 6 (nnlab's clip(x / 6 + 0.5, 0, 1)).
  bool hard_sigmoid_relu6(const onnx::NodeProto& n, const std::string& out) {
    const onnx::NodeProto* scale = relu6_sixth(n, cur_, 0);
    if (!scale) return false;
    i_ += 2;
    add_activation("hard_sigmoid", where(n));
    cur_ = scale->output(0);
    return true;
  }
  // The last node of that pattern when `add` (of `value`) starts it and the Clip is `at` nodes after
  // i_; else null.
  const onnx::NodeProto* relu6_sixth(const onnx::NodeProto& add, const std::string& value, size_t at) const {
    if (add.op_type() != "Add" || add.output_size() != 1 || !operand_is(add, value, 3.0f)) return nullptr;
    const std::string& out = add.output(0);
    const onnx::NodeProto* clip = next_using(at, out);
    if (!clip || clip->op_type() != "Clip" || clip->input(0) != out) return nullptr;
    const bool bounds = clip->input_size() == 3 ? scalar_is(*clip, 1, 0.0f) && scalar_is(*clip, 2, 6.0f)
                                                : attr_f(*clip, "min", -1.0f) == 0.0f && attr_f(*clip, "max", -1.0f) == 6.0f;
    const onnx::NodeProto* scale = bounds ? next_using(at + 1, clip->output(0)) : nullptr;
    const bool sixth = scale && ((scale->op_type() == "Mul" && operand_is(*scale, clip->output(0), 1.0f / 6.0f)) ||
                                 (scale->op_type() == "Div" && scale->input(0) == clip->output(0) && scalar_is(*scale, 1, 6.0f)));
    return sixth ? scale : nullptr;
  }

  // The other input of a two-input node, given one.
  static std::string other(const onnx::NodeProto& n, const std::string& one) {
    if (n.input_size() != 2) return "";
    return n.input(0) == one ? n.input(1) : (n.input(1) == one ? n.input(0) : "");
  }

  void add_activation(const std::string& spec, const std::string& node) {
    if (!layers_.empty() && layers_.back().config["type"] == "dense" && layers_.back().config["activation"] == "linear") {
      layers_.back().config["activation"] = spec;
      return;
    }
    layers_.push_back({{{"type", "activation"}, {"activation", spec}}, {}, node});
  }

  // Consumes nodes_[i_] (and the nodes that belong with it), appending a layer or nothing.
  void step() {
    const onnx::NodeProto& n = *nodes_[i_];
    const std::string op = n.op_type();
    if (op == "Shape" && n.input_size() == 1 && n.input(0) == cur_ && n.output_size() == 1) {
      shapes_.shape_of(n, dims_, where(n));
      ++i_;
      return;
    }
    if (n.input_size() >= 1 && n.input(0) != cur_ && shapes_.evaluate(n, int_constant(n), where(n))) {
      ++i_;
      return;
    }
    // Arithmetic may take the value second (a constant + x); affine() says which it reads.
    const bool arith = op == "Add" || op == "Sub" || op == "Mul" || op == "Div";
    check(n.input_size() >= 1 && (n.input(0) == cur_ || (arith && n.input_size() == 2 && n.input(1) == cur_)),
          where(n) + " does not take the previous node's output '" + cur_ +
              "' as its data input; nnlab reads a chain of layers");
    check(n.output_size() >= 1, where(n) + " has no output");
    const std::string out = n.output(0);
    ++i_;
    if (op == "Identity" || op == "Dropout" || op == "Cast") {
      check(op != "Dropout" || attr_i(n, "training_mode", 0) == 0, where(n) + " is in training mode");
      check(op != "Cast" || attr_i(n, "to", 0) == onnx::TensorProto::FLOAT,
            where(n) + ": a cast to type " + std::to_string(attr_i(n, "to", 0)) + "; nnlab computes in float32 (type 1)");
      cur_ = out;
      return;
    }
    if (op == "Gemm" || op == "MatMul") return dense(n, out);
    if (op == "Reshape") {
      // A flatten as PyTorch's torch.export-based exporter writes one, Reshape to (-1 or 0, features),
      // or as Keras's does, to a computed (batch, -1).
      const ShapeValue* computed = n.input_size() >= 2 ? shapes_.find(n.input(1)) : nullptr;
      const ShapeValue shape = computed ? *computed : ShapeValue{ints(n, 1), false};
      const auto& v = shape.values;
      const bool batch_first = v.size() == 2 && (v[0] == -1 || v[0] == 0 || v[0] == ShapeArithmetic::kBatch);
      check(batch_first && (v[1] == features_ || (v[1] == -1 && v[0] != -1)),
            where(n) + ": shape " + onnx_import_detail::shape_value_str(shape) +
                "; nnlab reads a Reshape only as a flatten, to (-1, " + std::to_string(features_) +
                ") or (batch, -1), or as part of maxout");
      return flatten(n, out);
    }
    if (op == "Flatten") {
      check(attr_i(n, "axis", 1) == 1, where(n) + ": axis " + std::to_string(attr_i(n, "axis", 1)) +
                                           "; nnlab's flatten keeps the batch axis alone (axis 1)");
      return flatten(n, out);
    }
    if (op == "BatchNormalization") {
      check(n.output_size() == 1 && attr_i(n, "training_mode", 0) == 0, where(n) + " is in training mode");
      check(rank_ == 2, where(n) + ": nnlab's batch_norm takes flat input (N, features)");
      LayerOut l{{{"type", "batch_norm"}, {"epsilon", attr_f(n, "epsilon", 1e-5f)}}, {}, where(n)};
      const float momentum = attr_f(n, "momentum", 0.9f);
      if (momentum >= 0.0f && momentum < 1.0f) l.config["momentum"] = momentum;
      const char* names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
      for (int k = 0; k < 4; ++k) l.params[names[k]] = floats(n, k + 1);
      layers_.push_back(std::move(l));
      cur_ = out;
      return;
    }
    // Element-wise activations.
    std::string spec;
    if (op == "Relu") spec = "relu";
    else if (op == "Gelu") {  // opset 20
      const auto* a = attr(n, "approximate");
      check(!a || a->s() == "none", where(n) + ": approximate='" + (a ? a->s() : std::string()) +
                                        "'; nnlab's gelu is the exact one (erf)");
      spec = "gelu";
    }
    else if (op == "Tanh") spec = "tanh";
    else if (op == "Softplus") spec = "softplus";
    else if (op == "Softsign") spec = "softsign";
    else if (op == "LeakyRelu") {
      const float a = attr_f(n, "alpha", 0.01f);
      check(a >= 0.0f, where(n) + ": alpha " + number_str(a) + " is negative; nnlab's leaky_relu needs alpha >= 0");
      spec = "leaky_relu(" + number_str(a) + ")";
    } else if (op == "Elu") {
      spec = "elu(" + number_str(attr_f(n, "alpha", 1.0f)) + ")";
    } else if (op == "Selu") {
      const float a = attr_f(n, "alpha", 1.67326319217681884765625f), g = attr_f(n, "gamma", 1.05070102214813232421875f);
      check(std::fabs(a - 1.6732632f) < 1e-5f && std::fabs(g - 1.0507010f) < 1e-5f,
            where(n) + ": alpha " + number_str(a) + " and gamma " + number_str(g) +
                " differ from selu's constants (1.6732632, 1.0507010), which nnlab's selu fixes");
      spec = "selu";
    } else if (op == "HardSigmoid") {
      const float a = attr_f(n, "alpha", 0.2f), b = attr_f(n, "beta", 0.5f);
      check(std::fabs(a - 1.0f / 6.0f) < 1e-6f && std::fabs(b - 0.5f) < 1e-6f,
            where(n) + ": alpha " + number_str(a) + ", beta " + number_str(b) +
                "; nnlab's hard_sigmoid is clip(x / 6 + 0.5, 0, 1) (alpha 1/6, beta 0.5)");
      spec = "hard_sigmoid";
    } else if (op == "Softmax") {
      const int64_t axis = attr_i(n, "axis", opset_ >= 13 ? -1 : 1);
      check(rank_ == 2 && (axis == 1 || axis == -1),
            where(n) + ": axis " + std::to_string(axis) + " of a rank-" + std::to_string(rank_) +
                " value; nnlab's softmax runs over each sample's features (N, features)");
      spec = "softmax";
    } else if (op == "Sigmoid") {
      // x * Sigmoid(x) is swish.
      const onnx::NodeProto* mul = next_using(0, out);
      if (mul && mul->op_type() == "Mul" && other(*mul, out) == cur_) {
        ++i_;
        add_activation("swish", where(n));
        cur_ = mul->output(0);
        return;
      }
      spec = "sigmoid";
    } else if (op == "Abs") {
      // softsign as PyTorch writes it: x / (1 + |x|)
      const onnx::NodeProto* add = next_using(0, out);
      const bool add_one = add && add->op_type() == "Add" && add->input_size() == 2 &&
                           scalar_is(*add, add->input(0) == out ? 1 : 0, 1.0f);
      const onnx::NodeProto* div = add_one ? next_using(1, add->output(0)) : nullptr;
      check(div && div->op_type() == "Div" && div->input_size() == 2 && div->input(0) == cur_ &&
                div->input(1) == add->output(0),
            where(n) + ": nnlab reads Abs only as part of softsign (x / (1 + |x|))");
      i_ += 2;
      add_activation("softsign", where(n));
      cur_ = div->output(0);
      return;
    } else if (op == "Mul" || op == "Div") {
      if (gelu_erfc(n, out)) return;
      // gelu: x * (1 / sqrt 2) (or x / sqrt 2) -> Erf -> + 1 -> * x -> * 0.5
      const bool scaled = op == "Mul" ? scalar_is(n, 1, 0.70710678f) : scalar_is(n, 1, 1.41421356f);
      const onnx::NodeProto* erf = next_using(0, out);
      const onnx::NodeProto* add = erf && erf->op_type() == "Erf" ? next_using(1, erf->output(0)) : nullptr;
      const bool add_one = add && add->op_type() == "Add" && add->input_size() == 2 &&
                           scalar_is(*add, add->input(0) == erf->output(0) ? 1 : 0, 1.0f);
      const onnx::NodeProto* m1 = add_one ? next_using(2, add->output(0)) : nullptr;
      const onnx::NodeProto* m2 = m1 && m1->op_type() == "Mul" && other(*m1, add->output(0)) == cur_
                                      ? next_using(3, m1->output(0))
                                      : nullptr;
      const bool half = m2 && m2->op_type() == "Mul" && m2->input_size() == 2 &&
                        scalar_is(*m2, m2->input(0) == m1->output(0) ? 1 : 0, 0.5f);
      if (!(scaled && half)) return affine(n);
      i_ += 4;
      add_activation("gelu", where(n));
      cur_ = m2->output(0);
      return;
    } else if (op == "Add" || op == "Sub") {
      if (hard_sigmoid_relu6(n, out)) return;
      return affine(n);
    } else {
      throw Error(where(n) + " is not an operator nnlab can represent (it reads Gemm, MatMul, Add, Relu, Sigmoid, "
                             "Tanh, LeakyRelu, Elu, Selu, Gelu, Softplus, Softsign, HardSigmoid, Softmax, Flatten, Reshape, "
                             "BatchNormalization, Dropout, Identity, Cast, Add, Sub, Mul and Div by constants, "
                             "a Reshape's shape arithmetic, and the formulas of gelu, swish, softsign and hard_sigmoid)");
    }
    add_activation(spec, where(n));
    cur_ = out;
  }

  void flatten(const onnx::NodeProto& n, const std::string& out) {
    layers_.push_back({{{"type", "flatten"}}, {}, where(n)});
    rank_ = 2;
    dims_ = {features_};
    cur_ = out;
  }

  // The int64 constants that node n's shape arithmetic reads.
  ShapeArithmetic::Constants int_constant(const onnx::NodeProto& n) const {
    return [this, &n](const std::string& name) -> std::optional<ShapeValue> {
      auto it = consts_.find(name);
      if (it == consts_.end() || it->second->data_type() != onnx::TensorProto::INT64) return std::nullopt;
      return ShapeValue{ints_of(*it->second, where(n)), it->second->dims_size() == 0};
    };
  }

  // Add, Sub, Mul and Div of the chain's value and a constant (one value, or one per feature), and
  // those right after it: y = x * scale + shift per feature. Folded into the dense layer before it
  // while that has no activation yet (a bias, Keras's batch normalisation after a dense layer); else
  // a batch_norm layer in inference form (mean 0, variance 1 - epsilon, gamma scale, beta shift).
  void affine(const onnx::NodeProto& first) {
    check(rank_ == 2 && features_ >= 1, where(first) + ": nnlab reads " + first.op_type() +
                                            " by a constant only on flat values (N, features)");
    const auto f = static_cast<size_t>(features_);
    std::vector<double> scale(f, 1.0), shift(f, 0.0);
    --i_;  // first is nodes_[i_] again
    while (i_ < nodes_.size()) {
      const onnx::NodeProto& n = *nodes_[i_];
      const std::string& op = n.op_type();
      const bool arith = op == "Add" || op == "Sub" || op == "Mul" || op == "Div";
      if (!arith || n.input_size() != 2 || n.output_size() != 1 || (n.input(0) != cur_ && n.input(1) != cur_)) break;
      const std::string c = other(n, cur_);
      const bool commutes = op == "Add" || op == "Mul";
      check(!c.empty() && consts_.count(c) && (commutes || n.input(0) == cur_),
            where(n) + ": nnlab reads " + op + " only with a constant " + (commutes ? "" : "after the value ") +
                "(a bias or a per-feature scale), or as part of gelu, swish or softsign");
      const Weights w = floats(n, n.input(0) == cur_ ? 1 : 0);
      const size_t per = w.values.size();
      check((per == 1 || per == f) && (w.dims.empty() || w.dims.back() == static_cast<int64_t>(per)) &&
                w.dims.size() <= 2 && (w.dims.size() < 2 || w.dims[0] == 1),
            where(n) + ": the constant has shape " + dims_str(w.dims) + ", not one value or (" + std::to_string(f) + ")");
      for (size_t j = 0; j < f; ++j) {
        const double v = w.values[per == 1 ? 0 : j];
        check(op != "Div" || v != 0.0, where(n) + ": a division by zero");
        if (op == "Add") shift[j] += v;
        else if (op == "Sub") shift[j] -= v;
        else if (op == "Mul") scale[j] *= v, shift[j] *= v;
        else scale[j] /= v, shift[j] /= v;
      }
      cur_ = n.output(0);
      ++i_;
    }
    auto as_floats = [&](const std::vector<double>& v) {
      return Weights{{features_}, std::vector<float>(v.begin(), v.end())};
    };
    LayerOut* d = layers_.empty() ? nullptr : &layers_.back();
    if (d && d->config["type"] == "dense" && d->config["activation"] == "linear") {
      Weights& k = d->params.at("kernel");  // (inputs, units)
      for (size_t r = 0; r < k.values.size() / f; ++r)
        for (size_t j = 0; j < f; ++j) k.values[r * f + j] = static_cast<float>(k.values[r * f + j] * scale[j]);
      if (auto b = d->params.find("bias"); b != d->params.end())
        for (size_t j = 0; j < f; ++j) shift[j] += b->second.values[j] * scale[j];
      d->params["bias"] = as_floats(shift);
      d->config["use_bias"] = true;
      return;
    }
    constexpr float epsilon = 1e-3f;
    layers_.push_back({{{"type", "batch_norm"}, {"epsilon", epsilon}},
                       {{"gamma", as_floats(scale)}, {"beta", as_floats(shift)},
                        {"moving_mean", Weights{{features_}, std::vector<float>(f, 0.0f)}},
                        {"moving_variance", Weights{{features_}, std::vector<float>(f, 1.0f - epsilon)}}},
                       where(first)});
  }

  // Gemm, or MatMul with an optional Add: a dense layer, or with Reshape + ReduceMax after it a maxout.
  void dense(const onnx::NodeProto& n, std::string out) {
    check(rank_ == 2, where(n) + ": nnlab's dense takes flat input (N, features); add a Flatten before it");
    Weights w = floats(n, 1);
    check(w.dims.size() == 2, where(n) + ": the weight '" + n.input(1) + "' has shape " + dims_str(w.dims) +
                                  ", not (inputs, units)");
    std::optional<Weights> b;
    float alpha = 1.0f, beta = 1.0f;
    if (n.op_type() == "Gemm") {
      check(attr_i(n, "transA", 0) == 0, where(n) + ": transA=1 transposes the batch, which nnlab cannot represent");
      alpha = attr_f(n, "alpha", 1.0f);
      beta = attr_f(n, "beta", 1.0f);
      if (attr_i(n, "transB", 0) != 0) {  // PyTorch's Linear: B is (units, inputs)
        Weights t{{w.dims[1], w.dims[0]}, std::vector<float>(w.values.size())};
        for (int64_t r = 0; r < w.dims[0]; ++r)
          for (int64_t c = 0; c < w.dims[1]; ++c)
            t.values[static_cast<size_t>(c * w.dims[0] + r)] = w.values[static_cast<size_t>(r * w.dims[1] + c)];
        w = std::move(t);
      }
      if (n.input_size() >= 3 && !n.input(2).empty()) b = floats(n, 2);
    } else if (const onnx::NodeProto* add = next_using(0, out);
               add && add->op_type() == "Add" && !relu6_sixth(*add, out, 1)) {  // + 3 of hard_sigmoid: no bias
      const std::string bias = other(*add, out);
      check(!bias.empty() && consts_.count(bias), where(*add) + ": nnlab reads an Add only as a dense layer's bias "
                                                                 "(an initializer added to MatMul's output)");
      b = floats(*add, add->input(0) == out ? 1 : 0);
      out = add->output(0);
      ++i_;
    }
    const int64_t units = w.dims[1];
    for (float& v : w.values) v *= alpha;
    if (b) {
      check(static_cast<int64_t>(b->values.size()) == units || b->values.size() == 1,
            where(n) + ": the bias has shape " + dims_str(b->dims) + ", not (" + std::to_string(units) + ")");
      if (b->values.size() == 1) b->values.assign(static_cast<size_t>(units), b->values[0]);
      b->dims = {units};
      for (float& v : b->values) v *= beta;
    }
    // maxout: Reshape to (N, units, pieces), ReduceMax over the pieces (axis 2), keepdims 0.
    const onnx::NodeProto* reshape = next_using(0, out);
    if (reshape && reshape->op_type() == "Reshape" && reshape->input(0) == out && ints(*reshape, 1).size() == 3) {
      const std::vector<int64_t> shape = ints(*reshape, 1);
      const onnx::NodeProto* max = next_using(1, reshape->output(0));
      check(shape.size() == 3 && (shape[0] == 0 || shape[0] == -1) && shape[1] >= 1 && shape[2] >= 2 &&
                units % shape[1] == 0 && units / shape[1] == shape[2] && max && max->op_type() == "ReduceMax",
            where(*reshape) + ": nnlab reads a Reshape only as part of maxout (Reshape to (N, units, pieces) and "
                              "ReduceMax over the pieces)");
      std::vector<int64_t> axes;
      if (const auto* a = attr(*max, "axes")) axes.assign(a->ints().begin(), a->ints().end());
      else if (max->input_size() >= 2) axes = ints(*max, 1);
      check(axes.size() == 1 && (axes[0] == 2 || axes[0] == -1) && attr_i(*max, "keepdims", 1) == 0,
            where(*max) + ": maxout needs ReduceMax over axis 2 alone with keepdims 0");
      if (!b) b = Weights{{units}, std::vector<float>(static_cast<size_t>(units), 0.0f)};
      layers_.push_back({{{"type", "maxout"}, {"units", shape[1]}, {"pieces", shape[2]}},
                         {{"kernel", std::move(w)}, {"bias", std::move(*b)}},
                         where(n)});
      cur_ = max->output(0);
      features_ = shape[1];
      dims_ = {features_};
      i_ += 2;
      return;
    }
    LayerOut l{{{"type", "dense"}, {"units", units}, {"activation", "linear"}, {"use_bias", b.has_value()}},
               {{"kernel", std::move(w)}},
               where(n)};
    if (b) l.params["bias"] = std::move(*b);
    layers_.push_back(std::move(l));
    features_ = units;
    dims_ = {features_};
    cur_ = out;
  }

  const onnx::ModelProto& m_;
  const onnx::GraphProto& g_;
  std::string source_;
  int64_t opset_ = 0;
  std::map<std::string, const onnx::TensorProto*> consts_;
  std::set<const onnx::NodeProto*> aside_;  // Constant nodes and Identity nodes of initializers: not in the chain
  ShapeArithmetic shapes_;
  std::vector<int64_t> dims_;  // the shape of one sample at cur_
  std::vector<const onnx::NodeProto*> nodes_;
  size_t i_ = 0;
  size_t rank_ = 2;
  int64_t features_ = 0;  // the values of one sample at cur_ (-1: too many to count)
  std::string cur_;
  std::vector<LayerOut> layers_;
};

}  // namespace

Model onnx_import(const std::string& bytes, const std::string& source, std::map<std::string, std::string>* metadata) {
  onnx::ModelProto m;
  check(m.ParseFromString(bytes), source + ": not an ONNX model (its bytes do not parse as an ONNX ModelProto; "
                                           "truncated or another kind of file?)");
  check(m.has_graph(), source + ": the ONNX model has no graph");
  return Importer(m, source).run(metadata);
}

Model load_onnx(const std::string& path, std::map<std::string, std::string>* metadata) {
  return onnx_import(read_file(path), path, metadata);
}

Model import_onnx_file(const std::string& onnx_path, const std::string& out_folder,
                       const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> meta;
  Model model = load_onnx(onnx_path, &meta);
  meta.erase("nnlab.model");  // save_model writes the architecture it has
  meta.erase("nnlab.format");
  for (const auto& [key, value] : extra) meta[key] = value;
  std::error_code ec;
  std::filesystem::create_directories(out_folder, ec);
  check(!ec, out_folder + ": cannot make the folder: " + ec.message());
  save_model(model, (std::filesystem::path(out_folder) / "model.safetensors").string(), meta);
  return model;
}

}  // namespace nnlab
