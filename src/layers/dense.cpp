#include "nnlab/layers/dense.hpp"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/kernels/elementwise.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "kernel_options.hpp"

namespace nnlab {

void initialize_kernel(const std::string& init, std::span<float> w, int64_t fan_in, int64_t fan_out, Rng& rng) {
  const double fi = static_cast<double>(fan_in), fo = static_cast<double>(fan_out);
  if (init == "glorot_uniform") {
    const float limit = static_cast<float>(std::sqrt(6.0 / (fi + fo)));
    for (float& v : w) v = rng.uniform(-limit, limit);
  } else if (init == "glorot_normal") {
    const float sd = static_cast<float>(std::sqrt(2.0 / (fi + fo)));
    for (float& v : w) v = rng.normal(0, sd);
  } else if (init == "he_uniform") {
    const float limit = static_cast<float>(std::sqrt(6.0 / fi));
    for (float& v : w) v = rng.uniform(-limit, limit);
  } else if (init == "he_normal") {
    const float sd = static_cast<float>(std::sqrt(2.0 / fi));
    for (float& v : w) v = rng.normal(0, sd);
  } else if (init == "zeros") {
    for (float& v : w) v = 0;
  } else {
    throw Error("unknown kernel_initializer '" + init +
                "' (known: glorot_uniform, glorot_normal, he_uniform, he_normal, zeros)");
  }
}

Dense::Dense(DenseOptions options) : opt_(std::move(options)) {
  check(opt_.units >= 1, "dense: units must be at least 1, got " + std::to_string(opt_.units));
  auto act = make_activation(opt_.activation);
  opt_.activation = act->name();
  if (opt_.activation != "linear") act_ = std::move(act);
  relu_ = opt_.activation == "relu";
  opt_.penalty.validate("dense");
  Rng probe;
  std::vector<float> none;
  initialize_kernel(opt_.kernel_initializer, none, 1, 1, probe);  // validates the name now
}

static DenseOptions units_and_activation(int64_t units, const std::string& activation) {
  DenseOptions o;
  o.units = units;
  o.activation = activation;
  return o;
}

Dense::Dense(int64_t units, const std::string& activation) : Dense(units_and_activation(units, activation)) {}

Shape Dense::build(const Shape& input) {
  check(input.size() == 1, "dense '" + name + "' expects flat input (features), got " + shape_str(input) +
                               "; add a flatten layer first");
  in_ = input[0];
  return {opt_.units};
}

std::vector<ParamSpec> Dense::param_specs() const {
  std::vector<ParamSpec> s{{"kernel", {in_, opt_.units}, true}};
  if (opt_.use_bias) s.push_back({"bias", {opt_.units}, true});
  return s;
}

void Dense::bind(std::vector<ParamView> views) {
  w_ = views.at(0);
  if (opt_.use_bias) b_ = views.at(1);
}

void Dense::init_params(Rng& rng) {
  initialize_kernel(opt_.kernel_initializer, w_.value, in_, opt_.units, rng);
  for (float& v : b_.value) v = 0;
}

void Dense::forward(const Tensor& x, Tensor& y, Mode, Rng&) {
  const int64_t n = x.rows();
  if (x.cols() != in_) {
    throw Error("dense '" + name + "': input has " + std::to_string(x.cols()) + " features, expected " +
                std::to_string(in_));
  }
  const int64_t u = opt_.units;
  const float* b = opt_.use_bias ? b_.value.data() : nullptr;
  // relu and linear: one product straight into y, then bias and relu in one pass over it.
  // Other activations keep the pre-activation z for their backward.
  Tensor& z = act_ && !relu_ ? z_ : y;
  z.resize(n, u);
  kernels::gemm(false, false, n, u, in_, 1.0f, x.data(), w_.value.data(), 0.0f, z.data());
  kernels::bias_activation(z.data(), b, n, u, relu_);
  if (act_ && !relu_) {
    y.resize(n, u);
    act_->forward(z.data(), y.data(), n, u);
  }
}

void Dense::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, bool dy_is_preactivation) {
  const int64_t n = x.rows(), u = opt_.units;
  float* db = opt_.use_bias ? b_.grad.data() : nullptr;
  const Tensor* dz = &dy;
  if (act_ && !dy_is_preactivation) {
    dz_.resize(n, u);
    if (relu_) {
      // dz = dy * (y > 0) and the bias gradient in one pass.
      kernels::relu_backward_bias_grad(dy.data(), y.data(), dz_.data(), db, n, u, true);
      db = nullptr;
    } else {
      act_->backward(z_.data(), y.data(), dy.data(), dz_.data(), n, u);
    }
    dz = &dz_;
  }
  if (db) kernels::column_sums(dz->data(), db, n, u);
  // dW (in, units) = x^T (in, n) * dz (n, units)
  kernels::weight_gradient(n, in_, u, x.data(), dz->data(), w_.grad.data(), xt_);
  if (dx) {
    dx->resize(n, in_);
    // dx (n, in) = dz (n, units) * W^T (units, in)
    kernels::gemm(false, true, n, in_, u, 1.0f, dz->data(), w_.value.data(), 0.0f, dx->data());
  }
}

void Dense::add_penalty_gradient() {
  if (opt_.penalty.penalised()) opt_.penalty.add_gradient(w_.value, w_.grad);
}

std::string Dense::output_activation() const { return act_ ? act_->name() : ""; }

const Tensor* Dense::preactivation(const Tensor&) const { return act_ && !relu_ ? &z_ : nullptr; }

std::unique_ptr<Dense> Dense::from_config(ConfigReader& c) {
  DenseOptions o;
  o.units = c.require<int64_t>("units");
  read_kernel_options(c, o);
  return std::make_unique<Dense>(o);
}

nlohmann::json Dense::config() const {
  nlohmann::json j{{"type", "dense"}, {"units", opt_.units}};
  write_kernel_options(j, opt_);
  return j;
}

}  // namespace nnlab
