// Installs a Schedule in the trainer's rate policy for one fit; the trainer asks it at every step.
#include <cstdio>

#include "nnlab/error.hpp"
#include "nnlab/training/callbacks.hpp"
#include "nnlab/training/learning_rate.hpp"

namespace nnlab {

ScheduleCallback::ScheduleCallback(std::shared_ptr<Schedule> schedule, int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {
  check(schedule_ != nullptr, "ScheduleCallback: the schedule is null");
}

void ScheduleCallback::on_train_begin(TrainState& s) {
  check(s.rate != nullptr, "ScheduleCallback: the training state has no learning-rate policy");
  schedule_->bind_run(s.epochs, s.steps_per_epoch);
  // Resuming, the policy's base is already the checkpoint's.
  schedule_->validate(s.epochs, s.steps_per_epoch, s.rate->base());
  s.rate->schedule = schedule_.get();
}

void ScheduleCallback::on_epoch_begin(int epoch, TrainState& s) {
  if (verbose_ > 0) {
    std::printf("Epoch %d: ScheduleCallback %s learning rate %g.\n", epoch + 1,
                schedule_->per_step() ? "starting the epoch at" : "setting",
                s.rate->peek(epoch, s.iteration, s.iteration));
  }
}

void ScheduleCallback::on_train_end(TrainState& s) { s.rate->schedule = nullptr; }

}  // namespace nnlab
