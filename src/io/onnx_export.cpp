// nnlab Model -> ONNX ModelProto (opset 17). One chain of nodes from "input" to "output"; each layer
// appends its nodes through Graph (onnx_exporter.hpp), which names values "<layer>/<op>" and keeps
// the initializers; the image layers' nodes are in onnx_export_image.cpp.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nnlab/activations/activation.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/io/onnx.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/config_reader.hpp"
#include "nnlab/text.hpp"
#include "onnx_exporter.hpp"

#ifndef NNLAB_VERSION_STRING
#define NNLAB_VERSION_STRING "unknown"
#endif

namespace nnlab {

namespace onnx_export_detail {

std::string activation(Graph& g, const std::string& scope, const std::string& spec, const std::string& x, size_t rank) {
  const std::string canonical = make_activation(spec)->name();
  const size_t open = canonical.find('(');
  const std::string kind = canonical.substr(0, open);
  const float param = open == std::string::npos ? 0.0f : std::stof(canonical.substr(open + 1));
  onnx::NodeProto* n = nullptr;
  if (kind == "linear") return x;
  if (kind == "relu") return g.node(scope, "Relu", {x});
  if (kind == "sigmoid") return g.node(scope, "Sigmoid", {x});
  if (kind == "tanh") return g.node(scope, "Tanh", {x});
  if (kind == "softplus") return g.node(scope, "Softplus", {x});
  if (kind == "softsign") return g.node(scope, "Softsign", {x});
  if (kind == "leaky_relu") {
    const std::string y = g.node(scope, "LeakyRelu", {x}, &n);
    set_float(n, "alpha", param);
    return y;
  }
  if (kind == "elu") {
    const std::string y = g.node(scope, "Elu", {x}, &n);
    set_float(n, "alpha", param);
    return y;
  }
  if (kind == "selu") {  // src/activations/selu.cpp's constants
    const std::string y = g.node(scope, "Selu", {x}, &n);
    set_float(n, "alpha", 1.67326324235437728481f);
    set_float(n, "gamma", 1.05070098735548049342f);
    return y;
  }
  if (kind == "hard_sigmoid") {  // clip(x / 6 + 0.5, 0, 1)
    const std::string y = g.node(scope, "HardSigmoid", {x}, &n);
    set_float(n, "alpha", 1.0f / 6.0f);
    set_float(n, "beta", 0.5f);
    return y;
  }
  if (kind == "swish") return g.node(scope, "Mul", {x, g.node(scope, "Sigmoid", {x})});
  if (kind == "gelu") {  // 0.5 x (1 + erf(x / sqrt(2))): opset 17 has no Gelu
    const std::string e = g.node(scope, "Erf", {g.node(scope, "Mul", {x, g.scalar(scope + "/inv_sqrt2", 0.70710678118654752440f)})});
    const std::string one_plus = g.node(scope, "Add", {e, g.scalar(scope + "/one", 1.0f)});
    return g.node(scope, "Mul", {g.node(scope, "Mul", {x, one_plus}), g.scalar(scope + "/half", 0.5f)});
  }
  if (kind == "softmax") {  // over all of a sample's values, as nnlab's rows
    if (rank == 2) {
      const std::string y = g.node(scope, "Softmax", {x}, &n);
      set_int(n, "axis", 1);
      return y;
    }
    const std::string flat = g.node(scope, "Flatten", {x}, &n);
    set_int(n, "axis", 1);
    const std::string s = g.node(scope, "Softmax", {flat}, &n);
    set_int(n, "axis", 1);
    const std::string shape = g.node(scope, "Shape", {x});
    return g.node(scope, "Reshape", {s, shape});
  }
  throw Error("ONNX export: activation '" + canonical + "' has no ONNX form");
}

}  // namespace onnx_export_detail

namespace {

using namespace onnx_export_detail;

// Appends the model's layers to g, reading x; returns the last value's name. Values and
// initializers are named after the layers, with `prefix` in front (an ensemble's members').
std::string append_model(Graph& g, Model& model, std::string x, const std::string& prefix) {
  check(model.built(), "ONNX export: the model is not built");
  std::map<std::string, NamedTensor> tensors;
  for (NamedTensor& t : model.named_tensors()) tensors.emplace(t.name, t);
  auto weights = [&](const Layer& layer, const std::string& what) -> const NamedTensor& {
    auto it = tensors.find(layer.name + "." + what);
    check(it != tensors.end(), "ONNX export: layer '" + layer.name + "' has no tensor '" + what + "'");
    return it->second;
  };
  auto initializer = [&](const NamedTensor& t) {
    return g.float_initializer(prefix + t.name, std::vector<int64_t>(t.shape.begin(), t.shape.end()), t.value.data());
  };
  Value v{x, model.input_shape().size() + 1, false};
  for (size_t i = 0; i < model.num_layers(); ++i) {
    const Layer& layer = model.layer(i);
    const nlohmann::json c = layer.config();
    const std::string type = layer.type();
    const std::string scope = prefix + layer.name;
    const Shape& in = i == 0 ? model.input_shape() : model.layer_output_shape(i - 1);
    onnx::NodeProto* n = nullptr;
    if (type == "dense") {
      std::vector<std::string> inputs{v.name, initializer(weights(layer, "kernel"))};
      if (c.value("use_bias", true)) inputs.push_back(initializer(weights(layer, "bias")));
      v.name = activation(g, scope, c.at("activation").get<std::string>(), g.node(scope, "Gemm", inputs), 2);
    } else if (type == "maxout") {
      // z (N, units * pieces) with unit u's pieces at u * pieces ... (src/layers/maxout.cpp)
      const int64_t units = c.at("units").get<int64_t>(), pieces = c.at("pieces").get<int64_t>();
      const std::string z =
          g.node(scope, "Gemm", {v.name, initializer(weights(layer, "kernel")), initializer(weights(layer, "bias"))});
      const std::string r = g.node(scope, "Reshape", {z, g.int64_initializer(scope + "/shape", {0, units, pieces})});
      v.name = g.node(scope, "ReduceMax", {r}, &n);
      set_ints(n, "axes", {2});
      set_int(n, "keepdims", 0);
    } else if (type == "batch_norm") {
      // ONNX's BatchNormalization normalises axis 1: the features, or NCHW's channels.
      if (v.rank == 4) to_nchw(g, scope, v);
      v.name = g.node(scope, "BatchNormalization",
                      {v.name, initializer(weights(layer, "gamma")), initializer(weights(layer, "beta")),
                       initializer(weights(layer, "moving_mean")), initializer(weights(layer, "moving_variance"))},
                      &n);
      set_float(n, "epsilon", c.at("epsilon").get<float>());
      set_float(n, "momentum", c.at("momentum").get<float>());  // ONNX's and nnlab's running averages alike
    } else if (type == "conv2d") {
      to_nchw(g, scope, v);
      const std::string bias = c.value("use_bias", true) ? initializer(weights(layer, "bias")) : "";
      const NamedTensor& kernel = weights(layer, "kernel");
      v.name = conv2d(g, scope, c, in, prefix + kernel.name, kernel, bias, v.name);
    } else if (type == "max_pool2d" || type == "average_pool2d") {
      to_nchw(g, scope, v);
      v.name = pool2d(g, scope, c, type == "max_pool2d", in, v.name);
    } else if (type == "global_average_pool2d") {
      to_nchw(g, scope, v);
      v = {global_average_pool2d(g, scope, v.name), 2, false};
    } else if (type == "flatten") {
      to_nhwc(g, scope, v);  // nnlab flattens NHWC images: their order, not NCHW's
      v.name = g.node(scope, "Flatten", {v.name}, &n);
      set_int(n, "axis", 1);
      v.rank = 2;
    } else if (type == "reshape") {
      to_nhwc(g, scope, v);
      std::vector<int64_t> shape{0};  // 0: the batch dimension as it is; -1 as in the layer
      for (int64_t d : c.at("target_shape").get<std::vector<int64_t>>()) shape.push_back(d);
      v = {g.node(scope, "Reshape", {v.name, g.int64_initializer(scope + "/shape", shape)}), shape.size(), false};
    } else if (type == "dropout" || type == "spatial_dropout2d") {
      continue;  // the identity at inference
    } else if (type == "activation") {
      // Element-wise, or softmax over all of a sample's values: the same in either layout.
      v.name = activation(g, scope, c.at("activation").get<std::string>(), v.name, v.rank);
    } else {
      throw Error("ONNX export: layer '" + layer.name + "' of type '" + type + "' has no ONNX form");
    }
  }
  to_nhwc(g, prefix + "output", v);  // nnlab's outputs are NHWC images too
  return v.name;
}

// A ModelProto with nnlab's header and metadata and an empty graph.
onnx::ModelProto new_model(const std::map<std::string, std::string>& metadata) {
  onnx::ModelProto m;
  m.set_ir_version(8);  // ONNX 1.12 with opset 17
  m.set_producer_name("nnlab");
  m.set_producer_version(NNLAB_VERSION_STRING);
  m.set_model_version(1);
  onnx::OperatorSetIdProto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  auto add_meta = [&m](const std::string& key, const std::string& value) {
    onnx::StringStringEntryProto* e = m.add_metadata_props();
    e->set_key(key);
    e->set_value(value);
  };
  add_meta("nnlab.version", NNLAB_VERSION_STRING);
  for (const auto& [key, value] : metadata)
    if (key != "nnlab.version") add_meta(key, value);
  m.mutable_graph()->set_name("nnlab");
  return m;
}

void value_info(onnx::ValueInfoProto* v, const std::string& name, const Shape& shape,
                int32_t type = onnx::TensorProto::FLOAT) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  auto* s = tt->mutable_shape();
  s->add_dim()->set_dim_param("N");
  for (int64_t d : shape) s->add_dim()->set_dim_value(d);
}

// Renames value x to `name` with an Identity (x may be the graph's input itself).
void rename(onnx::GraphProto& gp, const std::string& x, const std::string& name) {
  onnx::NodeProto* out = gp.add_node();
  out->set_name(name);
  out->set_op_type("Identity");
  out->add_input(x);
  out->add_output(name);
}

std::string serialize(const onnx::ModelProto& m) {
  std::string bytes;
  check(m.SerializeToString(&bytes), "ONNX export: the model could not be serialized (over 2 GiB?)");
  return bytes;
}

}  // namespace

std::string onnx_export(Model& model, const std::map<std::string, std::string>& metadata) {
  check(model.built(), "ONNX export: the model is not built");
  onnx::ModelProto m = new_model(metadata);
  onnx::GraphProto& gp = *m.mutable_graph();
  Graph g(gp);
  rename(gp, append_model(g, model, "input", ""), "output");
  value_info(gp.add_input(), "input", model.input_shape());
  value_info(gp.add_output(), "output", model.output_shape());
  return serialize(m);
}

std::string onnx_export_ensemble(const std::vector<Model*>& members, const std::string& combination, Model* combiner,
                                 const std::map<std::string, std::string>& metadata) {
  check(!members.empty(), "ONNX export: the ensemble has no members");
  for (Model* mm : members) check(mm && mm->built(), "ONNX export: an ensemble member is not built");
  const Shape in = members[0]->input_shape(), out = members[0]->output_shape();
  check(out.size() == 1, "ONNX export: the members' outputs must be flat (classes)");
  const int64_t cols = out[0];
  for (size_t k = 1; k < members.size(); ++k)
    check(members[k]->input_shape() == in && members[k]->output_shape() == out,
          "ONNX export: ensemble member " + std::to_string(k + 1) + " has shapes " + shape_str(members[k]->input_shape()) +
              " -> " + shape_str(members[k]->output_shape()) + ", member 1 " + shape_str(in) + " -> " + shape_str(out));
  std::map<std::string, std::string> meta = metadata;
  meta["nnlab.combination"] = combination;
  onnx::ModelProto m = new_model(meta);
  onnx::GraphProto& gp = *m.mutable_graph();
  Graph g(gp);
  std::vector<std::string> outs;
  for (size_t k = 0; k < members.size(); ++k)
    outs.push_back(append_model(g, *members[k], "input", "member" + std::to_string(k + 1) + "/"));
  onnx::NodeProto* n = nullptr;
  const auto k_members = static_cast<float>(members.size());
  std::string result, score;  // the combined outputs, and what the class is the argmax of
  Shape result_shape = out;
  if (combination == "average") {
    result = outs.size() == 1 ? outs[0] : g.node("ensemble", "Sum", outs);
    result = g.node("ensemble", "Div", {result, g.scalar("ensemble/members", k_members)});
    score = result;
  } else if (combination == "stacking") {
    check(combiner != nullptr && combiner->built(), "ONNX export: stacking needs the ensemble's combiner");
    check(shape_size(combiner->input_shape()) == cols * static_cast<int64_t>(members.size()),
          "ONNX export: the combiner takes " + std::to_string(shape_size(combiner->input_shape())) + " inputs, the members give " +
              std::to_string(cols * static_cast<int64_t>(members.size())));
    std::string f = outs[0];
    if (outs.size() > 1) {
      f = g.node("ensemble", "Concat", outs, &n);  // member 1's outputs first (stack_features)
      set_int(n, "axis", 1);
    }
    result = append_model(g, *combiner, f, "combiner/");
    result_shape = combiner->output_shape();
    score = result;
  } else if (combination == "vote") {
    // Each member votes for its argmax (the first of equal maxima); one sigmoid output p stands for
    // (1 - p, p). The class: most votes, ties broken by the summed probability, then the lower
    // index: argmax of votes * (K + 1) + summed probability (which is under K + 1).
    std::string votes, mass;
    const std::string depth = g.int64_initializer("ensemble/classes", {cols == 1 ? 2 : cols});
    const std::string onoff = g.float_initializer("ensemble/off_on", {2}, std::vector<float>{0.0f, 1.0f}.data());
    const std::string one = cols == 1 ? g.scalar("ensemble/one", 1.0f) : "";
    for (size_t k = 0; k < outs.size(); ++k) {
      std::string p = outs[k];
      if (cols == 1) {
        p = g.node("ensemble", "Concat", {g.node("ensemble", "Sub", {one, p}), p}, &n);
        set_int(n, "axis", 1);
      }
      const std::string idx = g.node("ensemble", "ArgMax", {p}, &n);  // (N, 1)
      set_int(n, "axis", 1);
      set_int(n, "keepdims", 0);
      const std::string hot = g.node("ensemble", "OneHot", {idx, depth, onoff}, &n);  // (N, classes)
      set_int(n, "axis", -1);
      votes = votes.empty() ? hot : g.node("ensemble", "Add", {votes, hot});
      mass = mass.empty() ? p : g.node("ensemble", "Add", {mass, p});
    }
    score = g.node("ensemble", "Add", {g.node("ensemble", "Mul", {votes, g.scalar("ensemble/k_plus_1", k_members + 1.0f)}), mass});
    result = g.node("ensemble", "Div", {votes, g.scalar("ensemble/members", k_members)});  // vote shares
    if (cols == 1) {  // the share of class 1
      result = g.node("ensemble", "Slice", {result, g.int64_initializer("ensemble/start", {1}),
                                            g.int64_initializer("ensemble/end", {2}), g.int64_initializer("ensemble/axis", {1})});
    }
  } else {
    throw Error("ONNX export: combination '" + combination + "' is not vote, average or stacking");
  }
  rename(gp, result, "output");
  // "class": the combined decision, as nnlab's EnsemblePrediction::classes.
  std::string cls;
  if (combination != "vote" && result_shape.size() == 1 && result_shape[0] == 1) {
    cls = g.node("ensemble", "Cast", {g.node("ensemble", "Greater", {score, g.scalar("ensemble/half", 0.5f)})}, &n);
    set_int(n, "to", onnx::TensorProto::INT64);
    cls = g.node("ensemble", "Squeeze", {cls, g.int64_initializer("ensemble/squeeze", {1})});
  } else {
    cls = g.node("ensemble", "ArgMax", {score}, &n);
    set_int(n, "axis", 1);
    set_int(n, "keepdims", 0);
  }
  rename(gp, cls, "class");
  value_info(gp.add_input(), "input", in);
  value_info(gp.add_output(), "output", result_shape);
  value_info(gp.add_output(), "class", {}, onnx::TensorProto::INT64);
  return serialize(m);
}

void save_onnx(Model& model, const std::string& path, const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, onnx_export(model, metadata));
}

void export_onnx_file(const std::string& run_or_model, const std::string& out) {
  namespace fs = std::filesystem;
  const fs::path model_path = model_file(run_or_model);
  std::map<std::string, std::string> meta;
  Model model = load_model(model_path.string(), &meta);
  meta.erase("nnlab.model");  // the architecture is the graph itself
  meta.erase("nnlab.format");
  if (auto it = meta.find("nnlab.experiment"); it != meta.end() && !meta.count("nnlab.experiment_name")) {
    const nlohmann::json e = parse_json(it->second, model_path.string() + ": metadata 'nnlab.experiment'");
    if (e.is_object() && e.contains("name") && e["name"].is_string()) meta["nnlab.experiment_name"] = e["name"].get<std::string>();
  }
  // run.json beside the model (a run folder's) names the run and its classes.
  const fs::path run_json = model_path.parent_path() / "run.json";
  if (std::error_code ec; fs::is_regular_file(run_json, ec)) {
    const nlohmann::json run = parse_json(read_file(run_json.string()), run_json.string());
    if (run.is_object() && run.contains("name") && run["name"].is_string())
      meta["nnlab.experiment_name"] = run["name"].get<std::string>();
  }
  if (const auto names = model_class_names(model_path.string(), meta); !names.empty())
    meta["nnlab.class_names"] = nlohmann::json(names).dump();
  save_onnx(model, out, meta);
}

}  // namespace nnlab
