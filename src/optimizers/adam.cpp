// Adam, exactly as Keras 3 (epsilon outside the square root, bias correction folded into the rate):
//   t = iterations + 1
//   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
//   m += (g - m) * (1 - beta_1)
//   v += (g^2 - v) * (1 - beta_2)
//   p -= alpha * m / (sqrt(v) + epsilon)
// weight_decay (decoupled, Keras's AdamW; off for plain Adam) first shrinks p by p * weight_decay * lr.
#include "options.hpp"

namespace nnlab::optimizers {
namespace {

struct AdamOptions {
  double learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  double weight_decay = 0.0;

  static AdamOptions from_json(const std::string& name, double default_weight_decay,
                               const nlohmann::json& options) {
    ConfigReader r(options, "optimizer '" + name + "'",
                   {"learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"});
    AdamOptions o;
    o.learning_rate = r.get_float32("learning_rate", o.learning_rate);
    o.beta_1 = r.get_float32("beta_1", o.beta_1);
    o.beta_2 = r.get_float32("beta_2", o.beta_2);
    o.epsilon = r.get_float32("epsilon", o.epsilon);
    o.weight_decay = r.get_float32("weight_decay", default_weight_decay);
    o.validate(name);
    return o;
  }

  void validate(const std::string& name) const {
    require(std::isfinite(learning_rate) && learning_rate >= 0, name, "learning_rate", learning_rate,
            "a finite number >= 0");
    require(beta_1 >= 0 && beta_1 < 1, name, "beta_1", beta_1, "in [0, 1)");
    require(beta_2 >= 0 && beta_2 < 1, name, "beta_2", beta_2, "in [0, 1)");
    require(std::isfinite(epsilon) && epsilon > 0, name, "epsilon", epsilon, "a finite number > 0");
    require(std::isfinite(weight_decay) && weight_decay >= 0, name, "weight_decay", weight_decay,
            "a finite number >= 0");
  }
};

class Adam final : public Optimizer {
 public:
  Adam(std::string name, const AdamOptions& options) : name_(std::move(name)), opt_(options) {}

  std::string name() const override { return name_; }
  double initial_learning_rate() const override { return opt_.learning_rate; }

  void step(std::span<float> params, std::span<const float> grads, float lr) override {
    check_step(name_, params.size(), grads.size(), lr);
    ensure_state(name_, "m", m_, params.size());
    ensure_state(name_, "v", v_, params.size());
    const int64_t n = static_cast<int64_t>(params.size());
    float* p = params.data();       // (n)
    const float* g = grads.data();  // (n)
    float* m = m_.data();           // (n)
    float* v = v_.data();           // (n)
    const double t = static_cast<double>(iterations + 1);
    const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(opt_.beta_2, t)) /
                                           (1.0 - std::pow(opt_.beta_1, t)));
    const float c1 = static_cast<float>(1.0 - opt_.beta_1);
    const float c2 = static_cast<float>(1.0 - opt_.beta_2);
    const float eps = static_cast<float>(opt_.epsilon);
    const float keep = 1.0f - lr * static_cast<float>(opt_.weight_decay);
#pragma omp parallel for simd if (parallel : n > kParallelMin) schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      m[i] += (g[i] - m[i]) * c1;
      v[i] += (g[i] * g[i] - v[i]) * c2;
      p[i] = p[i] * keep - alpha * m[i] / (std::sqrt(v[i]) + eps);
    }
    ++iterations;
  }

  std::vector<std::pair<std::string, std::vector<float>*>> state() override { return {{"m", &m_}, {"v", &v_}}; }

  nlohmann::json config() const override {
    return {{"name", name_},
            {"learning_rate", opt_.learning_rate},
            {"beta_1", opt_.beta_1},
            {"beta_2", opt_.beta_2},
            {"epsilon", opt_.epsilon},
            {"weight_decay", opt_.weight_decay}};
  }

 private:
  std::string name_;
  AdamOptions opt_;
  std::vector<float> m_, v_;  // (n) each once stepped: first and second moments
};

}  // namespace

std::unique_ptr<Optimizer> make_adam_family(const std::string& name, double default_weight_decay,
                                            const nlohmann::json& options) {
  return std::make_unique<Adam>(name, AdamOptions::from_json(name, default_weight_decay, options));
}

std::unique_ptr<Optimizer> make_adam(const nlohmann::json& options) { return make_adam_family("adam", 0.0, options); }

}  // namespace nnlab::optimizers
