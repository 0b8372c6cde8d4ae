// Keras's LearningRateScheduler: lr = schedule(epoch, lr) at the start of every epoch.
#include <cstdio>

#include "monitor.hpp"
#include "nnlab/training/learning_rate.hpp"
#include "nnlab/training/callbacks.hpp"

namespace nnlab {

LearningRateScheduler::LearningRateScheduler(EpochScheduleFn schedule, int verbose)
    : fn_(std::move(schedule)), verbose_(verbose) {
  check(static_cast<bool>(fn_), "LearningRateScheduler: the schedule function is empty");
}

LearningRateScheduler::LearningRateScheduler(std::shared_ptr<Schedule> schedule, int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {
  check(schedule_ != nullptr, "LearningRateScheduler: the schedule is null");
}

void LearningRateScheduler::on_train_begin(TrainState& s) {
  check(s.rate != nullptr, "LearningRateScheduler: the training state has no learning-rate policy");
  if (!schedule_) return;
  // Walk the run's chain lr -> rate(epoch, step, lr) once, so a bad rate stops training before it starts.
  schedule_->bind_run(s.epochs, s.steps_per_epoch);
  const auto who = [this] { return "LearningRateScheduler(" + schedule_->describe() + ")"; };
  float lr = s.rate->scaled_base();
  for (int e = s.initial_epoch; e < s.epochs; ++e) {
    const int64_t step = s.iteration + (e - s.initial_epoch) * s.steps_per_epoch;
    lr = schedule_->rate(e, step, lr);
    check_rate(lr, who, e, step);
  }
}

void LearningRateScheduler::on_epoch_begin(int epoch, TrainState& s) {
  const float lr = s.rate->scaled_base();
  const float next = fn_ ? fn_(epoch, lr) : schedule_->rate(epoch, s.iteration, lr);
  check_rate(
      next,
      [this] {
        return fn_ ? std::string("LearningRateScheduler's schedule")
                   : "LearningRateScheduler(" + schedule_->describe() + ")";
      },
      epoch, s.iteration);
  s.rate->set_base(next);
  if (verbose_ > 0) std::printf("Epoch %d: LearningRateScheduler setting learning rate to %g.\n", epoch + 1, next);
}

}  // namespace nnlab
