// Keras InverseTimeDecay, per step: base_lr / (1 + decay_rate * step / decay_steps), the ratio
// floored with staircase.
#include "common.hpp"

namespace nnlab {

void InverseTimeDecayOptions::validate() const {
  schedules::require(decay_steps > 0, "inverse_time", "decay_steps", static_cast<double>(decay_steps), "> 0");
  schedules::require(std::isfinite(decay_rate) && decay_rate >= 0, "inverse_time", "decay_rate", decay_rate,
                     "a finite number >= 0");
}

namespace {

class InverseTimeDecay final : public Schedule {
 public:
  explicit InverseTimeDecay(const InverseTimeDecayOptions& o) : o_(o) {}
  float rate(int, int64_t step, float base_lr) const override {
    double p = static_cast<double>(step) / static_cast<double>(o_.decay_steps);
    if (o_.staircase) p = std::floor(p);
    return static_cast<float>(base_lr / (1.0 + o_.decay_rate * p));
  }
  bool per_step() const override { return true; }
  std::string describe() const override {
    return "inverse_time_decay(decay_steps=" + std::to_string(o_.decay_steps) +
           ", decay_rate=" + schedules::show(o_.decay_rate) + (o_.staircase ? ", staircase" : "") + ")";
  }

 private:
  InverseTimeDecayOptions o_;
};

}  // namespace

std::unique_ptr<Schedule> make_inverse_time_decay(const InverseTimeDecayOptions& options) {
  options.validate();
  return std::make_unique<InverseTimeDecay>(options);
}

}  // namespace nnlab
