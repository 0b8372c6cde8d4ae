// Optimizers: a small update policy that owns its state (one flat buffer per moment, the same length
// as the parameters). An optimizer keeps no learning rate: the trainer computes each step's rate
// (training/learning_rate.hpp) and passes it to step(). Defaults are Keras's.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace nnlab {

// Keras's exponential moving average of the weights, an option of every optimizer: after each step
// average = m * average + (1 - m) * weights (m = 0 on the first step, so it starts at the weights).
// At the end of fit the model's weights become the average (Keras's finalize_variable_values), so the
// evaluation and the saved model use it; every ema_overwrite_frequency steps (0: never) the weights
// are overwritten with it during training too.
struct EmaOptions {
  bool use_ema = false;
  double ema_momentum = 0.99;
  int64_t ema_overwrite_frequency = 0;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  // One update of all trainable parameters: params (n), grads (n).
  virtual void step(std::span<float> params, std::span<const float> grads, float lr) = 0;
  // Named state buffers (for checkpoints): e.g. {"m", &m_}, {"v", &v_}. Empty until the first step.
  virtual std::vector<std::pair<std::string, std::vector<float>*>> state() { return {}; }
  // Keras's get_config(): the options it was made with.
  virtual nlohmann::json config() const = 0;
  // The learning_rate option it was made with (Keras's default when none was given), where a
  // trainer's rate starts; step() never reads it.
  virtual double initial_learning_rate() const = 0;

  int64_t iterations = 0;  // steps taken so far

  // The moving average of the weights (EmaOptions); the trainer calls update_average after each
  // step() and finalize_average when fit ends. Both do nothing unless use_ema.
  void set_ema(const EmaOptions& ema) { ema_ = ema; }
  const EmaOptions& ema() const { return ema_; }
  void update_average(std::span<float> params);
  void finalize_average(std::span<float> params) const;
  // Exchanges the weights and their average in place (Keras's SwapEMAWeights); false, and nothing
  // done, before the first step or without use_ema. Twice in a row is no change.
  bool swap_average(std::span<float> params);
  // state() and, with use_ema, the average ("ema"): what a checkpoint saves and restores.
  std::vector<std::pair<std::string, std::vector<float>*>> checkpoint_state();

 private:
  EmaOptions ema_;
  std::vector<float> average_;  // (n) once stepped, only with use_ema
};

// name: "sgd", "adam", "adamw", "rmsprop", "adagrad". options: a JSON object of the optimizer's
// settings by Keras's names (learning_rate, momentum, nesterov, beta_1, beta_2, epsilon, rho,
// weight_decay, initial_accumulator_value), and for every one use_ema, ema_momentum and
// ema_overwrite_frequency (EmaOptions). Unknown keys and bad values raise nnlab::Error.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const nlohmann::json& options);
std::vector<std::string> optimizer_names();

}  // namespace nnlab
