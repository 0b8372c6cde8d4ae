// Drives a Schedule at every step: the rate for step k is schedule(epoch, k, base).
#include <cstdio>

#include "monitor.hpp"
#include "nnlab/optimizers/optimizer.hpp"
#include "nnlab/training/callbacks.hpp"

#include <nlohmann/json.hpp>

namespace nnlab {

ScheduleCallback::ScheduleCallback(std::shared_ptr<Schedule> schedule, int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {
  check(schedule_ != nullptr, "ScheduleCallback: the schedule is null");
}

void ScheduleCallback::on_train_begin(TrainState& s) {
  check(s.optimizer != nullptr, "ScheduleCallback: the training state has no optimizer");
  base_ = s.optimizer->learning_rate;
  schedule_->bind_run(s.epochs, s.steps_per_epoch);
  epochs_ = s.epochs;
  steps_per_epoch_ = s.steps_per_epoch;
  epoch_ = s.initial_epoch;
  last_set_.reset();
  if (s.resuming) {
    // The optimizer holds the rate of the checkpoint's last step, not the base: restore() brings back
    // the base and the last rate set, and the rates are checked from that base. Touching the rate
    // here would read as another callback's change at the next step and scale the base by it.
    last_set_ = s.optimizer->learning_rate;
    unchecked_ = true;
    return;
  }
  schedule_->validate(s.epochs, s.steps_per_epoch, base_);
  apply(s);
}

void ScheduleCallback::on_epoch_begin(int epoch, TrainState& s) {
  if (unchecked_) {  // resumed from a checkpoint that kept no state for this callback
    schedule_->validate(epochs_, steps_per_epoch_, base_);
    unchecked_ = false;
  }
  epoch_ = epoch;
  apply(s);
  if (verbose_ > 0) {
    std::printf("Epoch %d: ScheduleCallback %s learning rate %g.\n", epoch + 1,
                schedule_->per_step() ? "starting the epoch at" : "setting", s.optimizer->learning_rate);
  }
}

void ScheduleCallback::on_batch_end(int64_t batch, const Logs&, TrainState& s) {
  // After the epoch's last batch the next step belongs to the next epoch, whose on_epoch_begin sets
  // it; until then the optimizer keeps the rate the epoch ended with (what on_epoch_end callbacks see).
  if (schedule_->per_step() && batch + 1 < s.steps_per_epoch) apply(s);
}

void ScheduleCallback::on_train_end(TrainState& s) {
  if (last_set_ && s.optimizer->learning_rate != *last_set_ && *last_set_ > 0) {
    base_ *= s.optimizer->learning_rate / *last_set_;
  }
  s.optimizer->learning_rate = base_;
  last_set_.reset();
}

void ScheduleCallback::apply(TrainState& s) {
  float& lr = s.optimizer->learning_rate;
  // Another callback changed the rate since we set it: scale the base by the same factor.
  if (last_set_ && lr != *last_set_ && *last_set_ > 0) base_ *= lr / *last_set_;
  const float next = schedule_->rate(epoch_, s.iteration, base_);
  check_rate(next, [this] { return schedule_->describe(); }, epoch_, s.iteration);
  lr = next;
  last_set_ = next;
}

std::string ScheduleCallback::state() const {
  nlohmann::json j{{"base", base_}, {"epoch", epoch_}};
  if (last_set_) j["last_set"] = *last_set_;
  return j.dump();
}

void ScheduleCallback::restore(const std::string& state) {
  if (state.empty()) return;
  const auto j = nlohmann::json::parse(state);
  base_ = j.at("base").get<float>();
  epoch_ = j.at("epoch").get<int>();
  if (j.contains("last_set")) last_set_ = j["last_set"].get<float>();
  else last_set_.reset();
  if (epochs_ > 0) {
    schedule_->validate(epochs_, steps_per_epoch_, base_);
    unchecked_ = false;
  }
}

}  // namespace nnlab
