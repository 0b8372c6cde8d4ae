// The learning rate has one owner, the trainer, and one policy. The rate of optimizer step `step`,
// taken in `epoch`:
//   rate = schedule(epoch, step, base) * factor      (base * factor without a schedule)
// - base: the optimizer's initial_learning_rate(), or what LearningRateScheduler set this epoch;
// - schedule: the Schedule a ScheduleCallback installs for one fit (warm-up is one: linear_warmup);
//   a per-epoch schedule is asked with the epoch's first step;
// - factor: ReduceLROnPlateau's cuts, 1 until one happens.
// The trainer asks next() before every step, passes the rate to Optimizer::step, logs it as "lr" and
// saves base and factor in checkpoints; callbacks change the policy, never a rate stored elsewhere.
#pragma once
#include <cstdint>
#include <string>

#include "nnlab/training/schedules.hpp"

namespace nnlab {

class LearningRate {
 public:
  explicit LearningRate(float base = 0.001f) : base_(base), unscaled_(base) {}

  // The rate of `step` (in `epoch`, whose first step is `epoch_step`); the trainer calls it once per
  // step and it becomes current(). Throws nnlab::Error naming the schedule when the rate is not
  // finite or negative.
  float next(int epoch, int64_t step, int64_t epoch_step);
  // The same rate without making it current (for messages).
  float peek(int epoch, int64_t step, int64_t epoch_step) const;
  // The rate of the last step (before the first one: base * factor).
  float current() const { return static_cast<float>(unscaled_ * factor_); }

  // ReduceLROnPlateau: from now on every rate is scaled so that the last step's rate would have been
  // `rate` (exactly `rate` when nothing else changes it).
  void cut_to(float rate);
  // LearningRateScheduler: the base becomes `rate` and earlier cuts are folded into it (Keras's
  // callback sets the optimizer's rate outright).
  void set_base(float rate);

  float base() const { return base_; }
  double factor() const { return factor_; }
  // The rate without a schedule: what a fit with no ScheduleCallback would use next.
  float scaled_base() const { return static_cast<float>(base_ * factor_); }
  // From a checkpoint (base and factor as saved).
  void restore(float base, double factor);

  // Installed by ScheduleCallback for one fit; the trainer clears it when fit ends.
  const Schedule* schedule = nullptr;

 private:
  double unscaled(int epoch, int64_t step, int64_t epoch_step) const;
  float base_;
  double factor_ = 1.0;
  double unscaled_;  // the last step's rate before the factor
};

}  // namespace nnlab
