// One-cycle (Smith & Topin 2017) as PyTorch's OneCycleLR, per step. With initial = max_lr / div_factor
// and minimum = initial / final_div_factor, the phases end at these steps:
//   two phases:   pct_start * total - 1 (initial -> max_lr), total - 1 (max_lr -> minimum)
//   three_phase:  pct_start * total - 1 (initial -> max_lr), 2 * pct_start * total - 2 (-> initial),
//                 total - 1 (-> minimum)
// Inside a phase from a to b at fraction p: cos: b + (a - b) / 2 * (1 + cos(pi * p)); linear: a + (b - a) * p.
// Steps past the end keep the final rate (PyTorch raises there).
#include <array>

#include "common.hpp"

namespace nnlab {

void OneCycleOptions::validate() const {
  schedules::require(std::isfinite(max_lr) && max_lr >= 0, "one_cycle", "max_lr", max_lr,
                     "a finite number > 0, or 0 for the optimizer's rate");
  schedules::require(total_steps >= 0, "one_cycle", "total_steps", static_cast<double>(total_steps),
                     "> 0, or 0 for the whole run");
  schedules::require(pct_start > 0 && pct_start < 1, "one_cycle", "pct_start", pct_start, "in (0, 1)");
  schedules::require(std::isfinite(div_factor) && div_factor > 0, "one_cycle", "div_factor", div_factor,
                     "a finite number > 0");
  schedules::require(std::isfinite(final_div_factor) && final_div_factor > 0, "one_cycle", "final_div_factor",
                     final_div_factor, "a finite number > 0");
  check(anneal_strategy == "cos" || anneal_strategy == "linear",
        "schedule 'one_cycle': anneal_strategy must be \"cos\" or \"linear\"; received anneal_strategy=\"" +
            anneal_strategy + "\"");
}

namespace {

class OneCycle final : public Schedule {
 public:
  explicit OneCycle(const OneCycleOptions& o) : o_(o), total_(o.total_steps) {}

  float rate(int, int64_t step, float base_lr) const override {
    if (total_ <= 0) {  // the message only when it fails: rate() runs every step
      throw Error(describe() + ": total_steps is 0 (the whole run) but the run's length is not known; drive it "
                               "with ScheduleCallback or set total_steps");
    }
    const double max_lr = o_.max_lr > 0 ? o_.max_lr : static_cast<double>(base_lr);
    const double initial = max_lr / o_.div_factor, minimum = initial / o_.final_div_factor;
    const double total = static_cast<double>(total_), up_end = o_.pct_start * total - 1.0;
    struct Phase {
      double end_step, from, to;
    };
    const std::array<Phase, 3> phases =
        o_.three_phase ? std::array<Phase, 3>{{{up_end, initial, max_lr},
                                               {2.0 * o_.pct_start * total - 2.0, max_lr, initial},
                                               {total - 1.0, initial, minimum}}}
                       : std::array<Phase, 3>{{{up_end, initial, max_lr}, {total - 1.0, max_lr, minimum}}};
    const size_t count = o_.three_phase ? 3 : 2;
    const double s = static_cast<double>(std::min(step, total_ - 1));
    double start_step = 0;
    for (size_t i = 0; i < count; ++i) {
      const Phase& ph = phases[i];
      if (s <= ph.end_step || i + 1 == count) {
        const double span = ph.end_step - start_step;
        const double p = span > 0 ? (s - start_step) / span : 0.0;  // a phase of no length: its start
        return static_cast<float>(anneal(ph.from, ph.to, p));
      }
      start_step = ph.end_step;
    }
    return static_cast<float>(minimum);  // not reached
  }
  bool per_step() const override { return true; }
  std::string describe() const override {
    return "one_cycle(max_lr=" + (o_.max_lr > 0 ? schedules::show(o_.max_lr) : std::string("base rate")) +
           ", total_steps=" + std::to_string(total_) + ", pct_start=" + schedules::show(o_.pct_start) +
           ", div_factor=" + schedules::show(o_.div_factor) + ", final_div_factor=" +
           schedules::show(o_.final_div_factor) + ", " + o_.anneal_strategy + (o_.three_phase ? ", three_phase" : "") +
           ")";
  }
  void bind_run(int epochs, int64_t steps_per_epoch) override {
    if (o_.total_steps == 0) total_ = static_cast<int64_t>(epochs) * steps_per_epoch;
  }

 private:
  double anneal(double from, double to, double p) const {
    if (o_.anneal_strategy == "linear") return from + (to - from) * p;
    return to + (from - to) / 2.0 * (std::cos(schedules::kPi * p) + 1.0);
  }

  OneCycleOptions o_;
  int64_t total_;
};

}  // namespace

std::unique_ptr<Schedule> make_one_cycle(const OneCycleOptions& options) {
  options.validate();
  return std::make_unique<OneCycle>(options);
}

}  // namespace nnlab
