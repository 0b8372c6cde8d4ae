// Linear warmup in front of any schedule, per step. With W = warmup_steps and
// target = then.rate(epoch, 0, base_lr):
//   step < W:  target * (start_factor + (1 - start_factor) * step / W)
//   after:     then.rate(epoch, step - W, base_lr)
#include "common.hpp"

namespace nnlab {

void LinearWarmupOptions::validate() const {
  schedules::require(warmup_steps >= 1, "linear_warmup", "warmup_steps", static_cast<double>(warmup_steps), ">= 1");
  schedules::require(start_factor >= 0 && start_factor <= 1, "linear_warmup", "start_factor", start_factor,
                     "in [0, 1]");
}

namespace {

class LinearWarmup final : public Schedule {
 public:
  LinearWarmup(const LinearWarmupOptions& o, std::unique_ptr<Schedule> then) : o_(o), then_(std::move(then)) {}

  float rate(int epoch, int64_t step, float base_lr) const override {
    if (step >= o_.warmup_steps) return then_->rate(epoch, step - o_.warmup_steps, base_lr);
    const double target = then_->rate(epoch, 0, base_lr);
    const double frac = static_cast<double>(step) / static_cast<double>(o_.warmup_steps);
    return static_cast<float>(target * (o_.start_factor + (1.0 - o_.start_factor) * frac));
  }
  bool per_step() const override { return true; }
  std::string describe() const override {
    return "linear_warmup(warmup_steps=" + std::to_string(o_.warmup_steps) +
           ", start_factor=" + schedules::show(o_.start_factor) + ", then " + then_->describe() + ")";
  }
  // The wrapped schedule sees the run less the warmup, as its steps are shifted by it.
  void bind_run(int epochs, int64_t steps_per_epoch) override {
    const int64_t total = static_cast<int64_t>(epochs) * steps_per_epoch - o_.warmup_steps;
    // Passed as one "epoch" of the remaining steps so that whole-run lengths come out exact.
    if (total > 0) then_->bind_run(1, total);
  }

 private:
  LinearWarmupOptions o_;
  std::unique_ptr<Schedule> then_;
};

}  // namespace

std::unique_ptr<Schedule> make_linear_warmup(const LinearWarmupOptions& options, std::unique_ptr<Schedule> then) {
  options.validate();
  check(then != nullptr, "schedule 'linear_warmup': the schedule to warm up into is missing");
  return std::make_unique<LinearWarmup>(options, std::move(then));
}

}  // namespace nnlab
