// Keras CosineDecay, per step, with its optional linear warmup:
//   no warmup_target:  base_lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, D) / D)) + alpha)
//   warmup_target T, warmup_steps W:  step < W: base_lr + (T - base_lr) * step / W
//                                     after:    the cosine above from T, at step min(step, W + D) - W
// decay_steps D = 0 takes the rest of the run after the warmup from bind_run().
#include "common.hpp"

namespace nnlab {

void CosineDecayOptions::validate() const {
  schedules::require(decay_steps >= 0, "cosine", "decay_steps", static_cast<double>(decay_steps),
                     "> 0, or 0 for the rest of the run");
  schedules::require(alpha >= 0 && alpha <= 1, "cosine", "alpha", alpha, "in [0, 1]");
  schedules::require(warmup_steps >= 0, "cosine", "warmup_steps", static_cast<double>(warmup_steps), ">= 0");
  if (warmup_target) {
    schedules::require(std::isfinite(*warmup_target) && *warmup_target >= 0, "cosine", "warmup_target",
                       *warmup_target, "a finite number >= 0");
  }
}

namespace {

class CosineDecay final : public Schedule {
 public:
  explicit CosineDecay(const CosineDecayOptions& o) : o_(o), decay_steps_(o.decay_steps) {}

  float rate(int, int64_t step, float base_lr) const override {
    if (decay_steps_ <= 0) {  // the message only when it fails: rate() runs every step
      throw Error(describe() + ": decay_steps is 0 (the rest of the run) but the run's length is not known; drive "
                               "it with ScheduleCallback or set decay_steps");
    }
    const double d = static_cast<double>(decay_steps_);
    if (!o_.warmup_target) return static_cast<float>(decay(std::min<double>(static_cast<double>(step), d), base_lr));
    const double w = static_cast<double>(o_.warmup_steps);
    const double s = std::min<double>(static_cast<double>(step), d + w);
    if (s < w) return static_cast<float>((*o_.warmup_target - base_lr) * (s / w) + base_lr);
    return static_cast<float>(decay(s - w, *o_.warmup_target));
  }
  bool per_step() const override { return true; }
  std::string describe() const override {
    std::string d = "cosine_decay(decay_steps=" + std::to_string(decay_steps_) + ", alpha=" + schedules::show(o_.alpha);
    if (o_.warmup_target) {
      d += ", warmup_target=" + schedules::show(*o_.warmup_target) + ", warmup_steps=" + std::to_string(o_.warmup_steps);
    }
    return d + ")";
  }
  void bind_run(int epochs, int64_t steps_per_epoch) override {
    if (o_.decay_steps != 0) return;
    decay_steps_ = static_cast<int64_t>(epochs) * steps_per_epoch - (o_.warmup_target ? o_.warmup_steps : 0);
    check(decay_steps_ > 0, "cosine: the run has " + std::to_string(static_cast<int64_t>(epochs) * steps_per_epoch) +
                                " steps, none left to decay over after warmup_steps=" + std::to_string(o_.warmup_steps));
  }

 private:
  // (1 - alpha) * 0.5 * (1 + cos(pi * step / D)) + alpha, times the rate the decay starts from.
  double decay(double step, double from) const {
    const double cosine = 0.5 * (1.0 + std::cos(schedules::kPi * step / static_cast<double>(decay_steps_)));
    return from * ((1.0 - o_.alpha) * cosine + o_.alpha);
  }

  CosineDecayOptions o_;
  int64_t decay_steps_;
};

}  // namespace

std::unique_ptr<Schedule> make_cosine_decay(const CosineDecayOptions& options) {
  options.validate();
  return std::make_unique<CosineDecay>(options);
}

}  // namespace nnlab
