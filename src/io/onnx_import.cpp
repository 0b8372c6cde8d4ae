// ONNX ModelProto -> nnlab Model. The graph must be one chain from its input to its output; the
// nodes are read in order, a few operators at a time where one nnlab layer is several ONNX nodes
// (MatMul + Add, Gemm + Reshape + ReduceMax, Sigmoid + Mul, gelu's Erf and Erfc formulas,
// hard_sigmoid as relu6(x + 3) / 6). Around the chain,
// what exporters add is read too: Cast to float32 and Identity (nothing), Identity of an
// initializer (the same weights under another name), the shape arithmetic before a Reshape
// (onnx_shapes.hpp), and constant Add / Sub / Mul / Div (a per-feature affine map, or per channel of
// images: folded into the dense or conv2d layer before it, else a batch_norm in inference form, as
// Keras's batch normalisation exports). Images: the Transposes between NHWC and NCHW, Conv and
// pooling (onnx_import_image.cpp). The layers' configs
// and weights are gathered first, then Model::from_config builds the model and every weight is
// checked against the shape its layer expects, so a graph whose shapes do not chain is refused
// naming the node.
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nnlab/io/files.hpp"
#include "nnlab/io/onnx.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/layers/layer.hpp"
#include "nnlab/text.hpp"
#include "onnx_importer.hpp"

namespace nnlab {

namespace onnx_import_detail {

std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

Importer::Importer(const onnx::ModelProto& m, std::string source) : m_(m), g_(m.graph()), source_(std::move(source)) {
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

Model Importer::run(std::map<std::string, std::string>* metadata) {
  check(opset_ >= 1, source_ + ": the model imports no version of ONNX's operator set (opset_import)");
  check(g_.output_size() == 1, source_ + ": the graph has " + std::to_string(g_.output_size()) +
                                   " outputs; nnlab reads a model with one");
  Shape input = input_shape();
  set_dims(std::vector<int64_t>(input.begin(), input.end()));
  for (const auto& n : g_.node())
    if (!aside_.count(&n)) nodes_.push_back(&n);
  for (i_ = 0; i_ < nodes_.size();) step();
  check(cur_ == g_.output(0).name(), source_ + ": the chain of nodes ends at '" + cur_ + "', not at the graph's output '" +
                                          g_.output(0).name() + "'");
  check(!nchw_, source_ + ": the graph's output is NCHW images; nnlab's images are NHWC, so it reads a graph that "
                          "Transposes them back (perm [0, 2, 3, 1]) before its output");
  check(!layers_.empty(), source_ + ": the graph has no layer nnlab can represent (only identities)");

  if (input_nchw_) input = {input[1], input[2], input[0]};
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

Shape Importer::input_shape() const {
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
  const_cast<Importer*>(this)->input_name_ = in->name();
  return s;
}

const onnx::TensorProto& Importer::constant(const onnx::NodeProto& n, int input) const {
  check(input < n.input_size() && !n.input(input).empty(),
        where(n) + ": input " + std::to_string(input + 1) + " is missing");
  auto it = consts_.find(n.input(input));
  check(it != consts_.end(), where(n) + ": input '" + n.input(input) +
                                 "' must be an initializer (weights), and the file has none of that name");
  return *it->second;
}

Weights Importer::floats(const onnx::NodeProto& n, int input) const {
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

std::vector<int64_t> Importer::ints(const onnx::NodeProto& n, int input) const { return ints_of(constant(n, input), where(n)); }

// `where` names the node that reads t.
std::vector<int64_t> Importer::ints_of(const onnx::TensorProto& t, const std::string& where) {
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

// Consumes nodes_[i_] (and the nodes that belong with it), appending a layer or nothing.
void Importer::step() {
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
  if (op == "Transpose") return transpose(n, out);
  if (op == "Conv") return conv(n, out);
  if (op == "MaxPool" || op == "AveragePool") return pool(n, out);
  if (op == "GlobalAveragePool") return global_average_pool(n, out);
  const std::string nchw_order = where(n) + " of NCHW images would order the values channel first; nnlab's images are "
                                            "NHWC (channels last), so it reads " + op + " of images only after a Transpose "
                                            "back (perm [0, 2, 3, 1]), as its exports write one, or as a flatten right "
                                            "before a Gemm or MatMul (whose rows it reorders)";
  if (op == "Reshape") {
    // A flatten as PyTorch's torch.export-based exporter writes one, Reshape to (-1 or 0, features),
    // or as Keras's does, to a computed (batch, -1); or nnlab's reshape layer, to (0, target...).
    const ShapeValue* computed = n.input_size() >= 2 ? shapes_.find(n.input(1)) : nullptr;
    const ShapeValue shape = computed ? *computed : ShapeValue{ints(n, 1), false};
    const auto& v = shape.values;
    const bool batch_first = v.size() >= 2 && (v[0] == -1 || v[0] == 0 || v[0] == ShapeArithmetic::kBatch);
    const bool flat = batch_first && v.size() == 2 && (v[1] == features_ || (v[1] == -1 && v[0] != -1));
    if (nchw_) {
      check(flat && flatten_channels_first(n, out), nchw_order);
      return;
    }
    if (flat) return flatten(n, out);
    check(batch_first && v.size() >= 3,
          where(n) + ": shape " + onnx_import_detail::shape_value_str(shape) +
              "; nnlab reads a Reshape as a flatten, to (-1, " + std::to_string(features_) +
              ") or (batch, -1), as its reshape layer, to (0 or batch, target...), or as part of maxout");
    return reshape(n, out, v);
  }
  if (op == "Flatten") {
    check(attr_i(n, "axis", 1) == 1, where(n) + ": axis " + std::to_string(attr_i(n, "axis", 1)) +
                                         "; nnlab's flatten keeps the batch axis alone (axis 1)");
    if (nchw_ && flatten_channels_first(n, out)) return;
    check(!nchw_, nchw_order);
    return flatten(n, out);
  }
  if (op == "BatchNormalization") {
    check(n.output_size() == 1 && attr_i(n, "training_mode", 0) == 0, where(n) + " is in training mode");
    // Axis 1: the features of flat values, the channels of NCHW images (nnlab's batch_norm: the last axis).
    check(rank_ == 2 || (rank_ == 4 && nchw_),
          where(n) + ": nnlab's batch_norm takes flat input (N, features) or images, normalising their channels "
                     "(NCHW here, after a Transpose)");
    LayerOut l{{{"type", "batch_norm"}, {"epsilon", attr_f(n, "epsilon", 1e-5f)}}, {}, where(n)};
    const float momentum = attr_f(n, "momentum", 0.9f);
    if (momentum >= 0.0f && momentum < 1.0f) l.config["momentum"] = momentum;
    const char* names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    for (int k = 0; k < 4; ++k) l.params[names[k]] = floats(n, k + 1);
    layers_.push_back(std::move(l));
    cur_ = out;
    return;
  }
  activation(n, out);
}

void Importer::set_dims(std::vector<int64_t> d) {
  dims_ = std::move(d);
  rank_ = dims_.size() + 1;
  features_ = 1;
  for (int64_t v : dims_)
    if (features_ >= 0) features_ = v != 0 && features_ > std::numeric_limits<int64_t>::max() / v ? -1 : features_ * v;
}

void Importer::flatten(const onnx::NodeProto& n, const std::string& out) {
  layers_.push_back({{{"type", "flatten"}}, {}, where(n)});
  set_dims({features_});
  cur_ = out;
}

void Importer::reshape(const onnx::NodeProto& n, const std::string& out, const std::vector<int64_t>& shape) {
  Shape target;
  for (size_t k = 1; k < shape.size(); ++k) {  // ONNX's 0 copies the input's dimension there
    check(shape[k] != 0 || k - 1 < dims_.size(), where(n) + ": shape " + dims_str(shape) + " copies (0) a dimension " +
                                                     std::to_string(k) + " the input " + dims_str(dims_) + " lacks");
    target.push_back(shape[k] == 0 ? dims_[k - 1] : shape[k]);
  }
  const nlohmann::json config{{"type", "reshape"}, {"target_shape", target}};
  Shape result;
  try {
    result = make_layer(config)->build(Shape(dims_.begin(), dims_.end()));
  } catch (const Error& e) {
    throw Error(where(n) + ": " + e.what());
  }
  // A free batch (-1 first) holds when the target takes every value of a sample.
  check(shape[0] != -1 || shape_size(result) == features_,
        where(n) + ": shape " + dims_str(shape) + " changes the batch size; nnlab's reshape keeps it");
  layers_.push_back({config, {}, where(n)});
  set_dims(std::vector<int64_t>(result.begin(), result.end()));
  cur_ = out;
}

// The int64 constants that node n's shape arithmetic reads.
ShapeArithmetic::Constants Importer::int_constant(const onnx::NodeProto& n) const {
  return [this, &n](const std::string& name) -> std::optional<ShapeValue> {
    auto it = consts_.find(name);
    if (it == consts_.end() || it->second->data_type() != onnx::TensorProto::INT64) return std::nullopt;
    return ShapeValue{ints_of(*it->second, where(n)), it->second->dims_size() == 0};
  };
}

// Gemm, or MatMul with an optional Add: a dense layer, or with Reshape + ReduceMax after it a maxout.
void Importer::dense(const onnx::NodeProto& n, std::string out) {
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
  if (!chw_.empty() && w.dims[0] == features_) {  // rows (c, h, w) -> nnlab's (h, w, c); features_: their product
    const int64_t c = chw_[0], h = chw_[1], wd = chw_[2];
    std::vector<float> rows(w.values.size());
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < wd; ++x)
          std::copy_n(w.values.begin() + ((k * h + y) * wd + x) * units, units, rows.begin() + ((y * wd + x) * c + k) * units);
    w.values = std::move(rows);
  }
  chw_.clear();
  if (b) {
    check(static_cast<int64_t>(b->values.size()) == units || b->values.size() == 1,
          where(n) + ": the bias has shape " + dims_str(b->dims) + ", not (" + std::to_string(units) + ")");
    if (b->values.size() == 1) b->values.assign(static_cast<size_t>(units), b->values[0]);
    b->dims = {units};
    for (float& v : b->values) v *= beta;
  }
  // maxout: Reshape to (N, units, pieces), ReduceMax over the pieces (axis 2), keepdims 0.
  const onnx::NodeProto* reshape = next_using(0, out);
  const onnx::NodeProto* max = reshape ? next_using(1, reshape->output(0)) : nullptr;
  if (reshape && reshape->op_type() == "Reshape" && reshape->input(0) == out && max && max->op_type() == "ReduceMax") {
    const std::vector<int64_t> shape = ints(*reshape, 1);
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
    set_dims({shape[1]});
    i_ += 2;
    return;
  }
  LayerOut l{{{"type", "dense"}, {"units", units}, {"activation", "linear"}, {"use_bias", b.has_value()}},
             {{"kernel", std::move(w)}},
             where(n)};
  if (b) l.params["bias"] = std::move(*b);
  layers_.push_back(std::move(l));
  set_dims({units});
  cur_ = out;
}

}  // namespace onnx_import_detail

using onnx_import_detail::Importer;

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
