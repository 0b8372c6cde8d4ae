#include "onnx_shapes.hpp"

#include <algorithm>

#include "nnlab/error.hpp"

namespace nnlab::onnx_import_detail {

namespace {

int64_t attr_i(const onnx::NodeProto& n, const std::string& name, int64_t def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return def;
}

std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return {};
}

// An index into a list of `size`, negative ones counting from the end.
size_t index_in(int64_t i, size_t size, const std::string& where) {
  const auto n = static_cast<int64_t>(size);
  check(i >= -n && i < n, where + ": index " + std::to_string(i) + " is outside a shape of " + std::to_string(n) + " values");
  return static_cast<size_t>(i < 0 ? i + n : i);
}

}  // namespace

std::string shape_value_str(const ShapeValue& v) {
  std::string s = v.scalar ? "" : "[";
  for (size_t i = 0; i < v.values.size(); ++i)
    s += (i ? ", " : "") + (v.values[i] == ShapeArithmetic::kBatch ? std::string("batch") : std::to_string(v.values[i]));
  return s + (v.scalar ? "" : "]");
}

void ShapeArithmetic::shape_of(const onnx::NodeProto& n, const std::vector<int64_t>& sample, const std::string& where) {
  std::vector<int64_t> all{kBatch};
  all.insert(all.end(), sample.begin(), sample.end());
  const auto rank = static_cast<int64_t>(all.size());
  auto clamp = [&](int64_t i) { return std::max<int64_t>(0, std::min(rank, i < 0 ? i + rank : i)); };
  const int64_t start = clamp(attr_i(n, "start", 0)), end = clamp(attr_i(n, "end", rank));
  check(start < end, where + ": start and end select no dimension");
  values_[n.output(0)] = {{all.begin() + start, all.begin() + end}, false};
}

const ShapeValue* ShapeArithmetic::find(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

bool ShapeArithmetic::evaluate(const onnx::NodeProto& n, const Constants& constants, const std::string& where) {
  const std::string& op = n.op_type();
  if (op != "Gather" && op != "Unsqueeze" && op != "Squeeze" && op != "Concat" && op != "Cast") return false;
  std::vector<ShapeValue> in;
  bool computed = false;  // at least one input is a shape value (not only constants)
  for (const auto& name : n.input()) {
    if (const ShapeValue* v = find(name)) {
      in.push_back(*v);
      computed = true;
    } else if (auto c = constants(name)) {
      in.push_back(std::move(*c));
    } else {
      return false;
    }
  }
  if (!computed || in.empty() || n.output_size() != 1) return false;
  ShapeValue out;
  if (op == "Cast") {
    check(attr_i(n, "to", 0) == onnx::TensorProto::INT64, where + ": a shape computation cast to another type than int64");
    out = in[0];
  } else if (op == "Gather") {
    check(attr_i(n, "axis", 0) == 0 && !in[0].scalar && in.size() == 2, where + ": nnlab reads Gather on a shape along axis 0");
    out.scalar = in[1].scalar;
    for (int64_t i : in[1].values) out.values.push_back(in[0].values[index_in(i, in[0].values.size(), where)]);
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    // The axes: an input since opset 13, an attribute before.
    const std::vector<int64_t> axes = in.size() >= 2 ? in[1].values : attr_ints(n, "axes");
    const bool unsqueeze = op == "Unsqueeze";
    check(axes == std::vector<int64_t>{0} && (unsqueeze ? in[0].scalar : !in[0].scalar && in[0].values.size() == 1),
          where + ": nnlab reads " + op + " on a shape only between one value and a list of one, at axis 0");
    out = {in[0].values, !unsqueeze};
  } else {  // Concat
    check(attr_i(n, "axis", 0) == 0, where + ": nnlab reads Concat of shapes along axis 0");
    for (const ShapeValue& v : in) {
      check(!v.scalar, where + ": Concat of a single value (not a list)");
      out.values.insert(out.values.end(), v.values.begin(), v.values.end());
    }
  }
  values_[n.output(0)] = std::move(out);
  return true;
}

}  // namespace nnlab::onnx_import_detail
