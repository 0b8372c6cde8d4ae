// The integer arithmetic exporters write to compute a Reshape's target shape from the shape of the
// value it reshapes: Keras's exporter (through torch.onnx.export) flattens with
// Shape -> Gather(0) -> Unsqueeze -> Concat([batch], [-1]) -> Reshape. The importer evaluates these
// nodes here, with the batch size as a symbol, and reads the Reshape that uses the result.
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nnlab::onnx_import_detail {

struct ShapeValue {
  std::vector<int64_t> values;  // kBatch stands for the batch size
  bool scalar = false;          // a rank-0 tensor (one value) rather than a list
};

class ShapeArithmetic {
 public:
  static constexpr int64_t kBatch = std::numeric_limits<int64_t>::min();
  // An int64 constant (initializer or Constant) by name, or nothing when the name is none.
  using Constants = std::function<std::optional<ShapeValue>(const std::string&)>;

  // Shape(x) of a value whose sample has shape `sample` (its batch dimension first), with Shape's
  // start and end attributes (opset 15).
  void shape_of(const onnx::NodeProto& n, const std::vector<int64_t>& sample, const std::string& where);
  // Evaluates n when it computes on shape values and int64 constants: Gather (axis 0), Unsqueeze
  // and Squeeze (axis 0), Concat (axis 0), Cast (to int64). False when one of its inputs is
  // neither; an operator or attribute outside these is an nnlab::Error naming `where`.
  bool evaluate(const onnx::NodeProto& n, const Constants& constants, const std::string& where);
  // The value `name` when this computed it.
  const ShapeValue* find(const std::string& name) const;

 private:
  std::map<std::string, ShapeValue> values_;
};

// The text of a shape value for messages: "[batch, -1]".
std::string shape_value_str(const ShapeValue& v);

}  // namespace nnlab::onnx_import_detail
