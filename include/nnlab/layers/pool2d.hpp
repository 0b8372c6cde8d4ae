// Pooling over images NHWC (batch, height, width, channels), as Keras's MaxPooling2D ("max_pool2d")
// and AveragePooling2D ("average_pool2d"): pool_size (default 2), strides (default pool_size),
// padding "valid" or "same" (TensorFlow's arithmetic; "same" windows ignore the padding: a max over
// the real values, an average over the real values only). On oneDNN's pooling primitives, made once
// per batch size and reused. No parameters.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "nnlab/layers/layer.hpp"

namespace nnlab {

struct Pool2DOptions {
  bool max = true;                          // false: average
  std::array<int64_t, 2> pool_size{2, 2};   // (height, width)
  std::array<int64_t, 2> strides{0, 0};     // 0: pool_size
  std::string padding = "valid";
};

class Pool2D : public Layer {
 public:
  explicit Pool2D(Pool2DOptions options);
  ~Pool2D() override;
  static std::unique_ptr<Pool2D> max_from_config(ConfigReader& c);
  static std::unique_ptr<Pool2D> average_from_config(ConfigReader& c);
  std::string type() const override { return opt_.max ? "max_pool2d" : "average_pool2d"; }
  Shape build(const Shape& input) override;  // (h, w, c) -> (out_h, out_w, c)
  void forward(const Tensor& x, Tensor& y, Mode mode, Rng& rng) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                bool dy_is_preactivation) override;
  nlohmann::json config() const override;

  const Pool2DOptions& options() const { return opt_; }

  struct Plan;  // oneDNN primitives and memories for one batch size (pool2d.cpp)

 private:
  static std::unique_ptr<Pool2D> from_config(ConfigReader& c, bool max);
  Plan& plan(int64_t batch);
  std::string where() const { return type() + " '" + name + "'"; }
  Pool2DOptions opt_;
  Shape in_, out_;                 // (h, w, c) and (out_h, out_w, c)
  std::array<int64_t, 4> pads_{};  // top, bottom, left, right
  std::vector<std::unique_ptr<Plan>> plans_;  // the last few batch sizes, most recent first
};

}  // namespace nnlab
