// SGD, with optional (Nesterov) momentum, exactly as Keras 3:
//   momentum 0:  p -= lr * g
//   otherwise:   velocity = momentum * velocity - lr * g
//                p += velocity                           (nesterov: p += momentum * velocity - lr * g)
// weight_decay (Keras's decoupled decay, off by default) first shrinks p by p * weight_decay * lr.
#include "options.hpp"

namespace nnlab::optimizers {
namespace {

struct SgdOptions {
  double learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;

  static SgdOptions from_json(const nlohmann::json& options) {
    ConfigReader r(options, "optimizer 'sgd'", {"learning_rate", "momentum", "nesterov", "weight_decay"});
    SgdOptions o;
    o.learning_rate = r.get_float32("learning_rate", o.learning_rate);
    o.momentum = r.get_float32("momentum", o.momentum);
    o.nesterov = r.get<bool>("nesterov", o.nesterov);
    o.weight_decay = r.get_float32("weight_decay", o.weight_decay);
    o.validate();
    return o;
  }

  void validate() const {
    require(std::isfinite(learning_rate) && learning_rate >= 0, "sgd", "learning_rate", learning_rate,
            "a finite number >= 0");
    require(momentum >= 0 && momentum <= 1, "sgd", "momentum", momentum, "in [0, 1]");
    require(std::isfinite(weight_decay) && weight_decay >= 0, "sgd", "weight_decay", weight_decay,
            "a finite number >= 0");
  }
};

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const SgdOptions& options) : opt_(options) {}

  std::string name() const override { return "sgd"; }
  double initial_learning_rate() const override { return opt_.learning_rate; }

  void step(std::span<float> params, std::span<const float> grads, float lr) override {
    check_step(name(), params.size(), grads.size(), lr);
    const int64_t n = static_cast<int64_t>(params.size());
    float* p = params.data();        // (n)
    const float* g = grads.data();   // (n)
    const float keep = 1.0f - lr * static_cast<float>(opt_.weight_decay);
    if (opt_.momentum == 0) {
#pragma omp parallel for simd if (parallel : n > kParallelMin) schedule(static)
      for (int64_t i = 0; i < n; ++i) p[i] = p[i] * keep - lr * g[i];
    } else {
      ensure_state(name(), "momentum", velocity_, params.size());
      float* v = velocity_.data();  // (n)
      const float mu = static_cast<float>(opt_.momentum);
      if (opt_.nesterov) {
#pragma omp parallel for simd if (parallel : n > kParallelMin) schedule(static)
        for (int64_t i = 0; i < n; ++i) {
          v[i] = mu * v[i] - lr * g[i];
          p[i] = p[i] * keep + (mu * v[i] - lr * g[i]);
        }
      } else {
#pragma omp parallel for simd if (parallel : n > kParallelMin) schedule(static)
        for (int64_t i = 0; i < n; ++i) {
          v[i] = mu * v[i] - lr * g[i];
          p[i] = p[i] * keep + v[i];
        }
      }
    }
    ++iterations;
  }

  std::vector<std::pair<std::string, std::vector<float>*>> state() override {
    if (opt_.momentum == 0) return {};
    return {{"momentum", &velocity_}};
  }

  nlohmann::json config() const override {
    return {{"name", name()},
            {"learning_rate", opt_.learning_rate},
            {"momentum", opt_.momentum},
            {"nesterov", opt_.nesterov},
            {"weight_decay", opt_.weight_decay}};
  }

 private:
  SgdOptions opt_;
  std::vector<float> velocity_;  // (n) once stepped, only with momentum
};

}  // namespace

std::unique_ptr<Optimizer> make_sgd(const nlohmann::json& options) {
  return std::make_unique<Sgd>(SgdOptions::from_json(options));
}

}  // namespace nnlab::optimizers
