// Keras ExponentialDecay, per step: base_lr * decay_rate^(step / decay_steps), the exponent floored
// with staircase.
#include "common.hpp"

namespace nnlab {

void ExponentialDecayOptions::validate() const {
  schedules::require(decay_steps > 0, "exponential", "decay_steps", static_cast<double>(decay_steps), "> 0");
  schedules::require(std::isfinite(decay_rate) && decay_rate > 0, "exponential", "decay_rate", decay_rate,
                     "a finite number > 0");
}

namespace {

class ExponentialDecay final : public Schedule {
 public:
  explicit ExponentialDecay(const ExponentialDecayOptions& o) : o_(o) {}
  float rate(int, int64_t step, float base_lr) const override {
    double p = static_cast<double>(step) / static_cast<double>(o_.decay_steps);
    if (o_.staircase) p = std::floor(p);
    return static_cast<float>(base_lr * std::pow(o_.decay_rate, p));
  }
  bool per_step() const override { return true; }
  std::string describe() const override {
    return "exponential_decay(decay_steps=" + std::to_string(o_.decay_steps) +
           ", decay_rate=" + schedules::show(o_.decay_rate) + (o_.staircase ? ", staircase" : "") + ")";
  }

 private:
  ExponentialDecayOptions o_;
};

}  // namespace

std::unique_ptr<Schedule> make_exponential_decay(const ExponentialDecayOptions& options) {
  options.validate();
  return std::make_unique<ExponentialDecay>(options);
}

}  // namespace nnlab
