#include "nnlab/layers/maxout.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/layers/dense.hpp"

namespace nnlab {

Maxout::Maxout(int64_t units, int64_t pieces, std::string kernel_initializer)
    : units_(units), pieces_(pieces), init_(std::move(kernel_initializer)) {
  check(units >= 1, "maxout: units must be at least 1, got " + std::to_string(units));
  check(pieces >= 2, "maxout: pieces must be at least 2, got " + std::to_string(pieces));
  checked_mul(units, pieces, "maxout: units x pieces");
}

Shape Maxout::build(const Shape& input) {
  check(input.size() == 1, "maxout '" + name + "' expects flat input, got " + shape_str(input));
  in_ = input[0];
  return {units_};
}

std::vector<ParamSpec> Maxout::param_specs() const {
  return {{"kernel", {in_, units_ * pieces_}, true}, {"bias", {units_ * pieces_}, true}};
}

void Maxout::bind(std::vector<ParamView> views) {
  w_ = views.at(0);
  b_ = views.at(1);
}

void Maxout::init_params(Rng& rng) {
  initialize_kernel(init_, w_.value, in_, units_, rng);
  for (float& v : b_.value) v = 0;
}

void Maxout::forward(const Tensor& x, Tensor& y, Mode, Rng&) {
  const int64_t n = x.rows(), m = units_ * pieces_;
  if (x.cols() != in_) {  // the message only when it fails: this runs every batch
    throw Error("maxout '" + name + "': input has " + std::to_string(x.cols()) + " features, expected " +
                std::to_string(in_));
  }
  z_.resize(n, m);
  for (int64_t r = 0; r < n; ++r) std::memcpy(z_.data() + r * m, b_.value.data(), sizeof(float) * m);
  kernels::gemm(false, false, n, m, in_, 1.0f, x.data(), w_.value.data(), 1.0f, z_.data());
  y.resize(n, units_);
  arg_.resize(static_cast<size_t>(n * units_));
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t u = 0; u < units_; ++u) {
      const float* zp = z_.data() + r * m + u * pieces_;
      int32_t best = 0;
      for (int32_t k = 1; k < pieces_; ++k)
        if (zp[k] > zp[best]) best = k;
      arg_[static_cast<size_t>(r * units_ + u)] = best;
      y.data()[r * units_ + u] = zp[best];
    }
  }
}

void Maxout::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, bool) {
  const int64_t n = x.rows(), m = units_ * pieces_;
  dz_.resize(n, m);
  dz_.fill(0.0f);
  for (int64_t i = 0; i < n * units_; ++i) dz_.data()[i * pieces_ + arg_[static_cast<size_t>(i)]] = dy.data()[i];
  kernels::gemm(true, false, in_, m, n, 1.0f, x.data(), dz_.data(), 0.0f, w_.grad.data());
  std::fill(b_.grad.begin(), b_.grad.end(), 0.0f);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) b_.grad[static_cast<size_t>(c)] += dz_.data()[r * m + c];
  if (dx) {
    dx->resize(x.shape());
    kernels::gemm(false, true, n, in_, m, 1.0f, dz_.data(), w_.value.data(), 0.0f, dx->data());
  }
}

std::unique_ptr<Maxout> Maxout::from_config(ConfigReader& c) {
  return std::make_unique<Maxout>(c.require<int64_t>("units"), c.get("pieces", kDefaultPieces),
                                  c.get<std::string>("kernel_initializer", kDefaultKernelInitializer));
}

nlohmann::json Maxout::config() const {
  return {{"type", "maxout"}, {"units", units_}, {"pieces", pieces_}, {"kernel_initializer", init_}};
}

}  // namespace nnlab
