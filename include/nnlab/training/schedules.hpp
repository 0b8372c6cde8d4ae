// Learning-rate schedules: a small policy, separate from the optimizer, that says which rate to use
// for a given epoch and optimizer step. A schedule scales a base rate:
//   - ScheduleCallback (callbacks.hpp) drives it every step with base_lr = the optimizer's rate when
//     training began (Keras's LearningRateSchedule objects, which are per step);
//   - LearningRateScheduler drives it once per epoch with base_lr = the current rate (Keras's
//     LearningRateScheduler(schedule(epoch, lr)) callback).
// Epochs and steps are counted from 0; step is the global optimizer step (TrainState::iteration), so
// resuming a run continues the schedule where it stopped.
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace nnlab {

class Schedule {
 public:
  virtual ~Schedule() = default;
  // The rate for optimizer step `step`, taken in epoch `epoch`.
  virtual float rate(int epoch, int64_t step, float base_lr) const = 0;
  // true: the rate may change at every step; false: only when the epoch changes (step is ignored).
  virtual bool per_step() const = 0;
  // For messages: "step_decay(drop=0.5, every=10)", "formula '0.001 * 0.95^epoch'".
  virtual std::string describe() const = 0;
  // Tells a schedule the length of the run (ScheduleCallback calls it at train begin). Schedules
  // whose length defaults to the whole run use it: one_cycle without total_steps, cosine with
  // decay_steps 0. Others ignore it.
  virtual void bind_run(int /*epochs*/, int64_t /*steps_per_epoch*/) {}
  // Evaluates the rate over epochs [0, epochs), at every step of them for per-step schedules (at
  // most about 2^20 evaluations: each epoch's first and last step plus an even sample beyond that),
  // and throws nnlab::Error naming the schedule, the epoch, the step and the value when one is
  // negative or not finite. Call it before training starts.
  void validate(int epochs, int64_t steps_per_epoch, float base_lr = 0.001f) const;
};

// Throws nnlab::Error "<who()> gives <value> at epoch E (step S); a learning rate must be finite and
// >= 0" unless value is finite and >= 0. who is called only then (the callbacks check every step).
// Shared by Schedule::validate and the scheduling callbacks.
[[noreturn]] void throw_bad_rate(double value, const std::string& who, int epoch, int64_t step);
template <class Who>
void check_rate(double value, const Who& who, int epoch, int64_t step) {
  if (!(std::isfinite(value) && value >= 0)) throw_bad_rate(value, who(), epoch, step);
}

// ---- The schedules. Each options struct checks itself once (validate() is called by its make_*)
// and names the bad value in the error. ----

// base_lr, always. Per epoch.
std::unique_ptr<Schedule> make_constant_schedule();

// Step decay, per epoch: base_lr * drop^floor(epoch / every).  drop 0.5, every 10: the rate halves at
// epochs 10, 20, ...
struct StepDecayOptions {
  double drop = 0.5;  // in (0, 1]
  int every = 10;     // epochs, >= 1
  void validate() const;
};
std::unique_ptr<Schedule> make_step_decay(const StepDecayOptions& options);

// Keras ExponentialDecay and InverseTimeDecay, per step, from p = step / decay_steps (floored with
// staircase): base_lr * decay_rate^p, and base_lr / (1 + decay_rate * p).
struct TimeDecayOptions {
  int64_t decay_steps = 0;  // > 0 (required)
  double decay_rate = 0;    // required: > 0 for the exponential, >= 0 for inverse time
  bool staircase = false;
};
std::unique_ptr<Schedule> make_exponential_decay(const TimeDecayOptions& options);
std::unique_ptr<Schedule> make_inverse_time_decay(const TimeDecayOptions& options);

// Keras CosineDecay, per step. Without warmup_target: base_lr * ((1 - alpha) * 0.5 * (1 + cos(pi *
// min(step, decay_steps) / decay_steps)) + alpha). With warmup_target: a linear rise from base_lr to
// warmup_target over warmup_steps, then the cosine from warmup_target over decay_steps (Keras's
// initial_learning_rate is base_lr here).
struct CosineDecayOptions {
  int64_t decay_steps = 0;  // > 0, or 0: the rest of the run after the warmup (from bind_run)
  double alpha = 0;         // the final rate as a fraction of the starting one, in [0, 1]
  std::optional<double> warmup_target{};  // none: no warmup
  int64_t warmup_steps = 0;  // >= 0, used only with warmup_target
  void validate() const;
};
std::unique_ptr<Schedule> make_cosine_decay(const CosineDecayOptions& options);

// Keras CosineDecayRestarts (SGDR), per step: period i lasts first_decay_steps * t_mul^i steps and
// starts at m_mul^i; within a period at fraction f the rate is
// base_lr * ((1 - alpha) * m_mul^i * 0.5 * (1 + cos(pi * f)) + alpha).
struct CosineDecayRestartsOptions {
  int64_t first_decay_steps = 0;  // > 0 (required)
  double t_mul = 2.0;             // > 0
  double m_mul = 1.0;             // >= 0
  double alpha = 0.0;             // in [0, 1]
  void validate() const;
};
std::unique_ptr<Schedule> make_cosine_decay_restarts(const CosineDecayRestartsOptions& options);

// Linear warmup in front of any schedule, per step: for step < warmup_steps the rate rises linearly
// from start_factor * target to target, where target = then->rate(epoch, 0, base_lr); from then on the
// wrapped schedule runs with its step shifted by warmup_steps (so it starts fresh, as Keras's
// CosineDecay does after its warmup). The epoch is passed through unchanged.
struct LinearWarmupOptions {
  int64_t warmup_steps = 0;  // >= 1 (required)
  double start_factor = 0;   // in [0, 1]: the first step's rate as a fraction of the target
  void validate() const;
};
std::unique_ptr<Schedule> make_linear_warmup(const LinearWarmupOptions& options, std::unique_ptr<Schedule> then);

// One-cycle (Smith), as PyTorch's OneCycleLR with its defaults, per step: from max_lr / div_factor up
// to max_lr over the first pct_start of total_steps, then down to max_lr / div_factor /
// final_div_factor at the last step; cosine (or linear) annealing. three_phase: up, back down to
// the start over an equal span, then to the minimum. Steps past total_steps keep the final rate.
struct OneCycleOptions {
  double max_lr = 0;        // > 0, or 0: base_lr
  int64_t total_steps = 0;  // > 0, or 0: the whole run (from bind_run)
  double pct_start = 0.3;   // in (0, 1)
  double div_factor = 25;
  double final_div_factor = 1e4;
  std::string anneal_strategy = "cos";  // "cos" or "linear"
  bool three_phase = false;
  void validate() const;
};
std::unique_ptr<Schedule> make_one_cycle(const OneCycleOptions& options);

// A C++ callable: rate = fn(epoch, step, lr) with lr = base_lr. per_step false: called with the step
// of the epoch's first batch, once per epoch.
using ScheduleFn = std::function<float(int epoch, int64_t step, float lr)>;
std::unique_ptr<Schedule> make_callable_schedule(ScheduleFn fn, bool per_step = true,
                                                 std::string name = "user schedule");

// A formula of `epoch`, `step` and `lr` (= base_lr), evaluated with muParser: numbers, + - * / ^,
// comparisons, `cond ? a : b`, the constants _pi and _e, and the functions exp, ln (natural), log
// (also natural), log10, log2, sqrt, abs, sign, rint, floor, ceil, min, max, sin, cos, tan, tanh, ...
// Examples: "0.001 * 0.95^epoch", "lr * 0.5^floor(epoch / 10)", "epoch < 10 ? lr : lr * exp(-0.1)".
// Per step when it uses `step`, else per epoch. A formula that does not parse, uses an unknown name
// or gives more than one value raises nnlab::Error naming the formula and the problem here; one
// that gives a negative or non-finite rate is caught by validate().
std::unique_ptr<Schedule> make_formula_schedule(const std::string& formula);

// From a config: a JSON string is a formula; an object has "type" and that schedule's options by
// the names above:
//   {"type": "constant"}
//   {"type": "step", "drop": 0.5, "every": 10}
//   {"type": "exponential", "decay_steps": 1000, "decay_rate": 0.96, "staircase": false}
//   {"type": "inverse_time", "decay_steps": 1000, "decay_rate": 0.5, "staircase": false}
//   {"type": "cosine", "decay_steps": 0, "alpha": 0.0, "warmup_target": 0.01, "warmup_steps": 100}
//   {"type": "cosine_restarts", "first_decay_steps": 1000, "t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0}
//   {"type": "one_cycle", "max_lr": 0.01, "total_steps": 0, "pct_start": 0.3, "div_factor": 25,
//    "final_div_factor": 10000, "anneal_strategy": "cos", "three_phase": false}
//   {"type": "formula", "formula": "0.001 * 0.95^epoch"}
//   {"type": "linear_warmup", "warmup_steps": 100, "start_factor": 0.0, "then": {...}}
// where: how to name the config in messages, e.g. "experiment 'mnist': schedule". Unknown types
// and keys, and bad values, raise nnlab::Error.
std::unique_ptr<Schedule> make_schedule(const nlohmann::json& config, const std::string& where);
std::vector<std::string> schedule_types();

}  // namespace nnlab
