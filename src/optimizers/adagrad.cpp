// Adagrad, exactly as Keras 3 (epsilon inside the square root):
//   acc += g^2                        (acc starts at initial_accumulator_value)
//   p -= lr * g / sqrt(acc + epsilon)
// weight_decay (Keras's decoupled decay, off by default) first shrinks p by p * weight_decay * lr.
#include "options.hpp"

namespace nnlab::optimizers {
namespace {

struct AdagradOptions {
  double learning_rate = 0.001;
  double initial_accumulator_value = 0.1;
  double epsilon = 1e-7;
  double weight_decay = 0.0;

  static AdagradOptions from_json(const nlohmann::json& options) {
    ConfigReader r(options, "optimizer 'adagrad'",
                   {"learning_rate", "initial_accumulator_value", "epsilon", "weight_decay"});
    AdagradOptions o;
    o.learning_rate = r.get_float32("learning_rate", o.learning_rate);
    o.initial_accumulator_value = r.get_float32("initial_accumulator_value", o.initial_accumulator_value);
    o.epsilon = r.get_float32("epsilon", o.epsilon);
    o.weight_decay = r.get_float32("weight_decay", o.weight_decay);
    o.validate();
    return o;
  }

  void validate() const {
    require(std::isfinite(learning_rate) && learning_rate >= 0, "adagrad", "learning_rate", learning_rate,
            "a finite number >= 0");
    require(std::isfinite(initial_accumulator_value) && initial_accumulator_value >= 0, "adagrad",
            "initial_accumulator_value", initial_accumulator_value, "a finite number >= 0");
    require(std::isfinite(epsilon) && epsilon > 0, "adagrad", "epsilon", epsilon, "a finite number > 0");
    require(std::isfinite(weight_decay) && weight_decay >= 0, "adagrad", "weight_decay", weight_decay,
            "a finite number >= 0");
  }
};

class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(const AdagradOptions& options) : opt_(options) {}

  std::string name() const override { return "adagrad"; }
  double initial_learning_rate() const override { return opt_.learning_rate; }

  void step(std::span<float> params, std::span<const float> grads, float lr) override {
    check_step(name(), params.size(), grads.size(), lr);
    ensure_state(name(), "accumulator", accumulator_, params.size(),
                 static_cast<float>(opt_.initial_accumulator_value));
    const int64_t n = static_cast<int64_t>(params.size());
    float* p = params.data();         // (n)
    const float* g = grads.data();    // (n)
    float* acc = accumulator_.data();  // (n)
    const float eps = static_cast<float>(opt_.epsilon);
    const float keep = 1.0f - lr * static_cast<float>(opt_.weight_decay);
#pragma omp parallel for simd if (parallel : n > kParallelMin) schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      acc[i] += g[i] * g[i];
      p[i] = p[i] * keep - lr * g[i] / std::sqrt(acc[i] + eps);
    }
    ++iterations;
  }

  std::vector<std::pair<std::string, std::vector<float>*>> state() override {
    return {{"accumulator", &accumulator_}};
  }

  nlohmann::json config() const override {
    return {{"name", name()},
            {"learning_rate", opt_.learning_rate},
            {"initial_accumulator_value", opt_.initial_accumulator_value},
            {"epsilon", opt_.epsilon},
            {"weight_decay", opt_.weight_decay}};
  }

 private:
  AdagradOptions opt_;
  std::vector<float> accumulator_;  // (n) once stepped: running sum of g^2
};

}  // namespace

std::unique_ptr<Optimizer> make_adagrad(const nlohmann::json& options) {
  return std::make_unique<Adagrad>(AdagradOptions::from_json(options));
}

}  // namespace nnlab::optimizers
