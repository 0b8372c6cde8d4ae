// Keras 3's EarlyStopping, step for step (keras/src/callbacks/early_stopping.py).
#include <cstdio>

#include "monitor.hpp"
#include "nnlab/model.hpp"
#include "nnlab/training/callbacks.hpp"

#include <nlohmann/json.hpp>

namespace nnlab {

void EarlyStoppingOptions::validate() const {
  const std::string who = "EarlyStopping";
  callbacks::require(std::isfinite(min_delta) && min_delta >= 0, who, "min_delta", min_delta,
                     "a finite number >= 0 (an absolute change in the direction of improvement)");
  callbacks::require(patience >= 0, who, "patience", patience, ">= 0 (epochs)");
  callbacks::require(start_from_epoch >= 0, who, "start_from_epoch", start_from_epoch, ">= 0");
  if (baseline) callbacks::require(std::isfinite(*baseline), who, "baseline", *baseline, "finite");
  callbacks::maximizes(who, monitor, mode);
}

EarlyStopping::EarlyStopping(const EarlyStoppingOptions& options) : o_(options) {
  o_.validate();
  maximize_ = callbacks::maximizes("EarlyStopping", o_.monitor, o_.mode);
}

void EarlyStopping::on_train_begin(TrainState& s) {
  check(!o_.restore_best_weights || s.model != nullptr, "EarlyStopping: restore_best_weights needs the model");
  wait_ = 0;
  stopped_epoch_ = 0;
  best_.reset();
  have_best_weights_ = false;
  best_epoch_ = 0;
}

void EarlyStopping::on_epoch_end(int epoch, Logs& logs, TrainState& s) {
  const auto current = callbacks::monitored(
      logs, o_.monitor, &warned_, "Early stopping conditioned on metric `" + o_.monitor + "` which is not available");
  if (!current || epoch < o_.start_from_epoch) return;
  auto keep_weights = [&] {
    const auto p = s.model->params();
    const auto st = s.model->state();
    best_params_.assign(p.begin(), p.end());
    best_state_.assign(st.begin(), st.end());
    have_best_weights_ = true;
  };
  if (o_.restore_best_weights && !have_best_weights_) {
    keep_weights();  // the first monitored epoch's weights are the best so far
    best_epoch_ = epoch;
  }
  ++wait_;
  if (callbacks::improves(*current, best_, maximize_, o_.min_delta)) {
    best_ = *current;
    best_epoch_ = epoch;
    if (o_.restore_best_weights) keep_weights();
    // Only restart the wait when the value beats both the baseline and the previous best.
    if (!o_.baseline || callbacks::improves(*current, o_.baseline, maximize_, o_.min_delta)) wait_ = 0;
    return;
  }
  if (wait_ >= o_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    s.stop_training = true;
  }
}

void EarlyStopping::on_train_end(TrainState& s) {
  if (stopped_epoch_ > 0 && o_.verbose > 0) std::printf("Epoch %d: early stopping\n", stopped_epoch_ + 1);
  if (o_.restore_best_weights && have_best_weights_) {
    if (o_.verbose > 0) std::printf("Restoring model weights from the end of the best epoch: %d.\n", best_epoch_ + 1);
    callbacks::put_weights(*s.model, best_params_, best_state_,
                           "EarlyStopping: the model's parameter count changed during training; cannot restore the best weights");
  }
}

std::string EarlyStopping::state() const {
  nlohmann::json j{{"wait", wait_}, {"stopped_epoch", stopped_epoch_}, {"best_epoch", best_epoch_},
                   {"have_best_weights", have_best_weights_}};
  if (best_) j["best"] = *best_;
  return j.dump();
}

void EarlyStopping::restore(const std::string& state) {
  if (state.empty()) return;
  const auto j = nlohmann::json::parse(state);
  wait_ = j.at("wait").get<int>();
  stopped_epoch_ = j.at("stopped_epoch").get<int>();
  best_epoch_ = j.at("best_epoch").get<int>();
  if (j.contains("best")) best_ = j["best"].get<double>();
  else best_.reset();
  have_best_weights_ = j.value("have_best_weights", false);  // the weights come back through buffers()
}

std::vector<std::pair<std::string, std::vector<float>*>> EarlyStopping::buffers() {
  return {{"best_params", &best_params_}, {"best_state", &best_state_}};
}

}  // namespace nnlab
