// Step decay, per epoch: base_lr * drop^floor(epoch / every).
#include "common.hpp"

namespace nnlab {

void StepDecayOptions::validate() const {
  schedules::require(std::isfinite(drop) && drop > 0 && drop <= 1, "step", "drop", drop, "in (0, 1]");
  schedules::require(every >= 1, "step", "every", every, ">= 1 (epochs)");
}

namespace {

class StepDecay final : public Schedule {
 public:
  explicit StepDecay(const StepDecayOptions& o) : o_(o) {}
  float rate(int epoch, int64_t, float base_lr) const override {
    const int drops = epoch / o_.every;  // epochs are >= 0, so this is the floor
    return static_cast<float>(base_lr * std::pow(o_.drop, drops));
  }
  bool per_step() const override { return false; }
  std::string describe() const override {
    return "step_decay(drop=" + schedules::show(o_.drop) + ", every=" + std::to_string(o_.every) + ")";
  }

 private:
  StepDecayOptions o_;
};

}  // namespace

std::unique_ptr<Schedule> make_step_decay(const StepDecayOptions& options) {
  options.validate();
  return std::make_unique<StepDecay>(options);
}

}  // namespace nnlab
