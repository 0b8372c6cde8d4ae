// The ONNX exporter's graph builder and the image layers' nodes (onnx_export.cpp writes the chain
// and the element-wise layers; onnx_export_image.cpp the convolution, pooling and layout changes).
// Private to src/io.
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nnlab/model.hpp"

namespace nnlab::onnx_export_detail {

class Graph {
 public:
  explicit Graph(onnx::GraphProto& g) : g_(g) {}

  // A node with one output named "<scope>/<op>[k]"; returns that name.
  std::string node(const std::string& scope, const std::string& op, const std::vector<std::string>& inputs,
                   onnx::NodeProto** made = nullptr) {
    onnx::NodeProto* n = g_.add_node();
    const std::string out = scope + "/" + op + (count_[scope + op]++ ? std::to_string(count_[scope + op]) : "");
    n->set_name(out);
    n->set_op_type(op);
    for (const auto& in : inputs) n->add_input(in);
    n->add_output(out);
    if (made) *made = n;
    return out;
  }

  std::string float_initializer(const std::string& name, const std::vector<int64_t>& dims, const float* data) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    t->set_raw_data(std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(n) * sizeof(float)));
    return name;
  }
  std::string scalar(const std::string& name, float v) { return float_initializer(name, {}, &v); }
  std::string int64_initializer(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
    return name;
  }

 private:
  onnx::GraphProto& g_;
  std::map<std::string, int> count_;
};

inline void set_float(onnx::NodeProto* n, const std::string& name, float v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void set_int(onnx::NodeProto* n, const std::string& name, int64_t v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void set_ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

// The activation `spec` ("relu", "leaky_relu(0.2)", ...) applied to x (rank `rank`), with the
// formulas of src/activations/*.cpp. Returns the output's name (x itself for linear).
std::string activation(Graph& g, const std::string& scope, const std::string& spec, const std::string& x, size_t rank);

// nnlab's images are NHWC (batch, height, width, channels), ONNX's Conv, pooling and
// BatchNormalization read NCHW. The chain's value carries its layout: a Transpose is written only
// where the layout must change (before the first image operator, and back before a flatten, a
// reshape or the graph's output), so a CNN has one each way.
struct Value {
  std::string name;
  size_t rank = 2;    // with the batch dimension
  bool nchw = false;  // rank 4 and transposed to (batch, channels, height, width)
};
void to_nchw(Graph& g, const std::string& scope, Value& x);
void to_nhwc(Graph& g, const std::string& scope, Value& x);

// The image layers on x (NCHW), `in` their input (height, width, channels); each returns its
// output's name. conv2d's kernel is nnlab's (kh, kw, in, filters), written as ONNX's (filters, in,
// kh, kw) under kernel_name; bias: its initializer's name, empty without use_bias.
std::string conv2d(Graph& g, const std::string& scope, const nlohmann::json& config, const Shape& in,
                   const std::string& kernel_name, const NamedTensor& kernel, const std::string& bias, const std::string& x);
std::string pool2d(Graph& g, const std::string& scope, const nlohmann::json& config, bool max, const Shape& in,
                   const std::string& x);
// GlobalAveragePool then Flatten: (N, C, H, W) -> (N, C), as nnlab's global_average_pool2d.
std::string global_average_pool2d(Graph& g, const std::string& scope, const std::string& x);

}  // namespace nnlab::onnx_export_detail
