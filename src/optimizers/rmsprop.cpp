// RMSprop, exactly as Keras 3 (epsilon inside the square root, plain momentum):
//   v = rho * v + (1 - rho) * g^2
//   centered:  a = rho * a + (1 - rho) * g;  denom = v - a^2 + epsilon   (else denom = v + epsilon)
//   step = lr * g / sqrt(denom)
//   momentum 0: p -= step;  otherwise buf = momentum * buf + step;  p -= buf
// weight_decay (Keras's decoupled decay, off by default) first shrinks p by p * weight_decay * lr.
#include "options.hpp"

namespace nnlab::optimizers {
namespace {

struct RmspropOptions {
  double learning_rate = 0.001;
  double rho = 0.9;
  double momentum = 0.0;
  double epsilon = 1e-7;
  bool centered = false;
  double weight_decay = 0.0;

  static RmspropOptions from_json(const nlohmann::json& options) {
    ConfigReader r(options, "optimizer 'rmsprop'",
                   {"learning_rate", "rho", "momentum", "epsilon", "centered", "weight_decay"});
    RmspropOptions o;
    o.learning_rate = r.get_float32("learning_rate", o.learning_rate);
    o.rho = r.get_float32("rho", o.rho);
    o.momentum = r.get_float32("momentum", o.momentum);
    o.epsilon = r.get_float32("epsilon", o.epsilon);
    o.centered = r.get<bool>("centered", o.centered);
    o.weight_decay = r.get_float32("weight_decay", o.weight_decay);
    o.validate();
    return o;
  }

  void validate() const {
    require(std::isfinite(learning_rate) && learning_rate >= 0, "rmsprop", "learning_rate", learning_rate,
            "a finite number >= 0");
    require(rho >= 0 && rho < 1, "rmsprop", "rho", rho, "in [0, 1)");
    require(momentum >= 0 && momentum <= 1, "rmsprop", "momentum", momentum, "in [0, 1]");
    require(std::isfinite(epsilon) && epsilon > 0, "rmsprop", "epsilon", epsilon, "a finite number > 0");
    require(std::isfinite(weight_decay) && weight_decay >= 0, "rmsprop", "weight_decay", weight_decay,
            "a finite number >= 0");
  }
};

struct RmspropCoefficients {
  float lr, rho, one_minus_rho, momentum, eps, keep;
};

// One flat pass; the two switches are compile-time so each variant is its own vector loop.
// a and buf may be null when their variant is off.
template <bool kCentered, bool kMomentum>
void rmsprop_update(int64_t n, float* p, const float* g, float* v, float* a, float* buf,
                    const RmspropCoefficients& c) {
  const float lr = c.lr, rho = c.rho, one_minus_rho = c.one_minus_rho, mu = c.momentum, eps = c.eps,
              keep = c.keep;
#pragma omp parallel for simd if (parallel : n > kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    v[i] = rho * v[i] + one_minus_rho * (g[i] * g[i]);
    float denom = v[i] + eps;
    if constexpr (kCentered) {
      a[i] = rho * a[i] + one_minus_rho * g[i];
      denom = v[i] - a[i] * a[i] + eps;
    }
    const float increment = lr * g[i] / std::sqrt(denom);
    if constexpr (kMomentum) {
      buf[i] = mu * buf[i] + increment;
      p[i] = p[i] * keep - buf[i];
    } else {
      p[i] = p[i] * keep - increment;
    }
  }
}

class Rmsprop final : public Optimizer {
 public:
  explicit Rmsprop(const RmspropOptions& options) : opt_(options) {}

  std::string name() const override { return "rmsprop"; }
  double initial_learning_rate() const override { return opt_.learning_rate; }

  void step(std::span<float> params, std::span<const float> grads, float lr) override {
    check_step(name(), params.size(), grads.size(), lr);
    const size_t n = params.size();
    ensure_state(name(), "velocity", velocity_, n);
    if (opt_.momentum > 0) ensure_state(name(), "momentum", momentum_, n);
    if (opt_.centered) ensure_state(name(), "average_gradient", average_, n);
    const RmspropCoefficients c{lr,
                                static_cast<float>(opt_.rho),
                                static_cast<float>(1.0 - opt_.rho),
                                static_cast<float>(opt_.momentum),
                                static_cast<float>(opt_.epsilon),
                                1.0f - lr * static_cast<float>(opt_.weight_decay)};
    const auto count = static_cast<int64_t>(n);
    float* p = params.data();
    const float* g = grads.data();
    float* v = velocity_.data();
    float* a = average_.data();
    float* buf = momentum_.data();
    if (opt_.centered) {
      if (opt_.momentum > 0) rmsprop_update<true, true>(count, p, g, v, a, buf, c);
      else rmsprop_update<true, false>(count, p, g, v, a, buf, c);
    } else {
      if (opt_.momentum > 0) rmsprop_update<false, true>(count, p, g, v, a, buf, c);
      else rmsprop_update<false, false>(count, p, g, v, a, buf, c);
    }
    ++iterations;
  }

  std::vector<std::pair<std::string, std::vector<float>*>> state() override {
    std::vector<std::pair<std::string, std::vector<float>*>> out{{"velocity", &velocity_}};
    if (opt_.momentum > 0) out.emplace_back("momentum", &momentum_);
    if (opt_.centered) out.emplace_back("average_gradient", &average_);
    return out;
  }

  nlohmann::json config() const override {
    return {{"name", name()},
            {"learning_rate", opt_.learning_rate},
            {"rho", opt_.rho},
            {"momentum", opt_.momentum},
            {"epsilon", opt_.epsilon},
            {"centered", opt_.centered},
            {"weight_decay", opt_.weight_decay}};
  }

 private:
  RmspropOptions opt_;
  std::vector<float> velocity_;  // (n) once stepped: moving average of g^2
  std::vector<float> momentum_;  // (n) once stepped, only with momentum > 0
  std::vector<float> average_;   // (n) once stepped, only when centered: moving average of g
};

}  // namespace

std::unique_ptr<Optimizer> make_rmsprop(const nlohmann::json& options) {
  return std::make_unique<Rmsprop>(RmspropOptions::from_json(options));
}

}  // namespace nnlab::optimizers
