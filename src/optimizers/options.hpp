// Private to src/optimizers: the error messages that repeat the bad value (options are read by
// Keras's key names through ConfigReader), the shared pieces of the update loops, and one factory
// per optimizer (each defined in its own file, listed once in registry.cpp).
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/optimizers/optimizer.hpp"

namespace nnlab::optimizers {

// use_ema, ema_momentum and ema_overwrite_frequency (Keras's names and defaults), checked.
EmaOptions read_ema(ConfigReader& options, const std::string& optimizer);

// Above this many parameters an update loop is split across threads; below it, one thread's
// vector loop is faster than waking the others.
inline constexpr int64_t kParallelMin = int64_t{1} << 16;

// The received value as the user wrote it: 0.001, -1.
inline std::string show(double value) { return nlohmann::json(value).dump(); }

// Throws "optimizer 'adam': beta_1 must be in [0, 1); received beta_1=1.5".
inline void require(bool ok, const std::string& optimizer, const std::string& key, double value,
                    const std::string& rule) {
  if (!ok) {
    throw Error("optimizer '" + optimizer + "': " + key + " must be " + rule + "; received " + key + "=" +
                show(value));
  }
}

// Checks shared by every step: matching lengths, a usable learning rate.
inline void check_step(const std::string& optimizer, size_t params, size_t grads, float lr) {
  if (params != grads) {
    throw Error("optimizer '" + optimizer + "': " + std::to_string(params) + " parameters but " +
                std::to_string(grads) + " gradients");
  }
  // Built only on failure: a step allocates nothing.
  if (!(std::isfinite(lr) && lr >= 0.0f)) {
    require(false, optimizer, "learning rate passed to step", lr, "finite and >= 0");
  }
}

// Lazily sizes a state buffer to n values of `init` on the first step. A buffer that already holds
// n values (restored from a checkpoint) is kept; any other size is an error.
inline void ensure_state(const std::string& optimizer, const char* name, std::vector<float>& buf, size_t n,
                         float init = 0.0f) {
  if (buf.empty() && n > 0) buf.assign(n, init);
  if (buf.size() != n) {
    throw Error("optimizer '" + optimizer + "': state '" + name + "' holds " + std::to_string(buf.size()) +
                " values but the step has " + std::to_string(n) + " parameters");
  }
}

std::unique_ptr<Optimizer> make_sgd(const nlohmann::json& options);
std::unique_ptr<Optimizer> make_adam(const nlohmann::json& options);
std::unique_ptr<Optimizer> make_adamw(const nlohmann::json& options);
// Adam with decoupled weight decay; "adam" and "adamw" differ only in name and default decay.
std::unique_ptr<Optimizer> make_adam_family(const std::string& name, double default_weight_decay,
                                            const nlohmann::json& options);
std::unique_ptr<Optimizer> make_rmsprop(const nlohmann::json& options);
std::unique_ptr<Optimizer> make_adagrad(const nlohmann::json& options);

}  // namespace nnlab::optimizers
