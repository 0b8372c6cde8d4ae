// Stochastic weight averaging: a running mean of the weights at epoch ends, the model at train end.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "monitor.hpp"
#include "nnlab/model.hpp"
#include "nnlab/training/callbacks.hpp"

namespace nnlab {

void SwaOptions::validate() const {
  callbacks::require(start_epoch >= -1, "StochasticWeightAveraging", "start_epoch", start_epoch,
                     ">= 0 (an epoch counted from 0), or -1 for three quarters of the epochs");
}

StochasticWeightAveraging::StochasticWeightAveraging(const SwaOptions& options) : o_(options) { o_.validate(); }

void StochasticWeightAveraging::on_train_begin(TrainState& s) {
  check(s.model != nullptr, "StochasticWeightAveraging needs the model");
  count_ = 0;
  mean_params_.clear();
  mean_state_.clear();
}

namespace {
// mean += (x - mean) / n, the running mean after its n-th value.
void add_to_mean(std::vector<float>& mean, std::span<const float> x, int n) {
  if (n == 1) {
    mean.assign(x.begin(), x.end());
    return;
  }
  const float w = 1.0f / static_cast<float>(n);
  for (size_t i = 0; i < mean.size(); ++i) mean[i] += (x[i] - mean[i]) * w;
}
}  // namespace

void StochasticWeightAveraging::on_epoch_end(int epoch, Logs&, TrainState& s) {
  if (epoch < first_epoch(s.epochs)) return;
  ++count_;
  add_to_mean(mean_params_, s.model->params(), count_);
  add_to_mean(mean_state_, s.model->state(), count_);
}

void StochasticWeightAveraging::on_train_end(TrainState& s) {
  if (count_ == 0) return;  // training ended before start_epoch
  callbacks::put_weights(*s.model, mean_params_, mean_state_,
                         "StochasticWeightAveraging: the averaged weights do not fit the model");
  if (o_.verbose > 0) std::printf("StochasticWeightAveraging: the model is the mean of the last %d epochs' weights\n", count_);
}

std::string StochasticWeightAveraging::state() const { return nlohmann::json{{"count", count_}}.dump(); }

void StochasticWeightAveraging::restore(const std::string& state) {
  if (!state.empty()) count_ = nlohmann::json::parse(state).at("count").get<int>();  // the means come back through buffers()
}

std::vector<std::pair<std::string, std::vector<float>*>> StochasticWeightAveraging::buffers() {
  return {{"mean_params", &mean_params_}, {"mean_state", &mean_state_}};
}

}  // namespace nnlab
