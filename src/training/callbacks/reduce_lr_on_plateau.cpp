// Keras 3's ReduceLROnPlateau, step for step (keras/src/callbacks/reduce_lr_on_plateau.py).
#include <algorithm>
#include <cstdio>

#include "monitor.hpp"
#include "nnlab/training/callbacks.hpp"
#include "nnlab/training/learning_rate.hpp"

#include <nlohmann/json.hpp>

namespace nnlab {

void ReduceLROnPlateauOptions::validate() const {
  const std::string who = "ReduceLROnPlateau";
  callbacks::require(factor < 1.0, who, "factor", factor, "< 1 (new_lr = lr * factor)");
  callbacks::require(factor >= 0.0, who, "factor", factor, ">= 0 (new_lr = lr * factor)");
  callbacks::require(patience >= 0, who, "patience", patience, ">= 0 (epochs)");
  callbacks::require(std::isfinite(min_delta) && min_delta >= 0, who, "min_delta", min_delta,
                     "a finite number >= 0 (an absolute change in the direction of improvement)");
  callbacks::require(cooldown >= 0, who, "cooldown", cooldown, ">= 0 (epochs)");
  callbacks::require(std::isfinite(min_lr) && min_lr >= 0, who, "min_lr", min_lr, "a finite number >= 0");
  callbacks::maximizes(who, monitor, mode);
}

ReduceLROnPlateau::ReduceLROnPlateau(const ReduceLROnPlateauOptions& options) : o_(options) {
  o_.validate();
  maximize_ = callbacks::maximizes("ReduceLROnPlateau", o_.monitor, o_.mode);
}

void ReduceLROnPlateau::on_train_begin(TrainState& s) {
  check(s.rate != nullptr, "ReduceLROnPlateau: the training state has no learning-rate policy");
  best_.reset();
  cooldown_counter_ = 0;
  wait_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(int epoch, Logs& logs, TrainState& s) {
  const auto current = callbacks::monitored(
      logs, o_.monitor, &warned_, "Learning rate reduction is conditioned on metric `" + o_.monitor + "` which is not available");
  if (!current) return;
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  if (callbacks::improves(*current, best_, maximize_, o_.min_delta)) {
    best_ = *current;
    wait_ = 0;
  } else if (cooldown_counter_ == 0) {
    ++wait_;
    if (wait_ >= o_.patience) {
      const float old_lr = s.rate->current();
      if (old_lr > static_cast<float>(o_.min_lr)) {
        const float new_lr = static_cast<float>(std::max(static_cast<double>(old_lr) * o_.factor, o_.min_lr));
        s.rate->cut_to(new_lr);
        if (o_.verbose > 0) std::printf("Epoch %d: ReduceLROnPlateau reducing learning rate to %g.\n", epoch + 1, new_lr);
        cooldown_counter_ = o_.cooldown;
        wait_ = 0;
      }
    }
  }
}

std::string ReduceLROnPlateau::state() const {
  nlohmann::json j{{"wait", wait_}, {"cooldown_counter", cooldown_counter_}};
  if (best_) j["best"] = *best_;
  return j.dump();
}

void ReduceLROnPlateau::restore(const std::string& state) {
  if (state.empty()) return;
  const auto j = nlohmann::json::parse(state);
  wait_ = j.at("wait").get<int>();
  cooldown_counter_ = j.at("cooldown_counter").get<int>();
  if (j.contains("best")) best_ = j["best"].get<double>();
  else best_.reset();
}

}  // namespace nnlab
