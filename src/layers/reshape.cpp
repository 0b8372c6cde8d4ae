#include "nnlab/layers/reshape.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

Reshape::Reshape(Shape target_shape) : target_(std::move(target_shape)) {
  const std::string where = "reshape: target_shape " + shape_str(target_);
  check(!target_.empty(), "reshape: target_shape must list at least one dimension");
  int unknown = 0;
  for (int64_t d : target_) {
    check(d >= 1 || d == -1, where + " has a dimension " + std::to_string(d) + "; use positive sizes and at most one -1");
    unknown += d == -1;
  }
  check(unknown <= 1, where + " has more than one -1");
}

Shape Reshape::build(const Shape& input) {
  const int64_t total = shape_size(input);
  int64_t known = 1;
  for (int64_t d : target_)
    if (d != -1) known = checked_mul(known, d, "reshape '" + name + "': target_shape " + shape_str(target_));
  out_ = target_;
  for (int64_t& d : out_)
    if (d == -1) d = known > 0 && total % known == 0 ? total / known : -1;
  check(std::all_of(out_.begin(), out_.end(), [](int64_t d) { return d >= 1; }) && shape_size(out_) == total,
        "reshape '" + name + "': cannot see the input " + shape_str(input) + " (" + std::to_string(total) +
            " values) as " + shape_str(target_));
  return out_;
}

void Reshape::forward(const Tensor& x, Tensor& y, Mode, Rng&) {
  y.resize_rows(x.rows(), out_);
  std::memcpy(y.data(), x.data(), sizeof(float) * static_cast<size_t>(x.size()));
}

void Reshape::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, bool) {
  if (!dx) return;
  dx->resize(x.shape());
  std::memcpy(dx->data(), dy.data(), sizeof(float) * static_cast<size_t>(dy.size()));
}

std::unique_ptr<Reshape> Reshape::from_config(ConfigReader& c) {
  const nlohmann::json& t = c.raw("target_shape");
  check(t.is_array() && std::all_of(t.begin(), t.end(), [](const auto& d) { return d.is_number_integer(); }),
        c.where() + ": target_shape must be a list of whole numbers, got " + t.dump());
  return std::make_unique<Reshape>(t.get<Shape>());
}

nlohmann::json Reshape::config() const { return {{"type", "reshape"}, {"target_shape", target_}}; }

}  // namespace nnlab
