// Private to src/optimizers: reading an optimizer's JSON options by Keras's key names, the error
// messages that repeat the bad value, the shared pieces of the update loops, and one factory per
// optimizer (each defined in its own file, listed once in registry.cpp).
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/optimizers/optimizer.hpp"

namespace nnlab::optimizers {

// Above this many parameters an update loop is split across threads; below it, one thread's
// vector loop is faster than waking the others.
inline constexpr int64_t kParallelMin = int64_t{1} << 16;

// The received value as the user wrote it: 0.001, -1, "abc", true.
inline std::string show(const nlohmann::json& value) { return value.dump(); }
inline std::string show(double value) { return nlohmann::json(value).dump(); }

// Throws "optimizer 'adam': beta_1 must be in [0, 1); received beta_1=1.5".
inline void require(bool ok, const std::string& optimizer, const std::string& key, double value,
                    const std::string& rule) {
  if (!ok) {
    throw Error("optimizer '" + optimizer + "': " + key + " must be " + rule + "; received " + key + "=" +
                show(value));
  }
}

// Reads the keys of one optimizer's options object; any other key is an error that lists the
// valid ones. A null options value means "all defaults".
class OptionReader {
 public:
  OptionReader(std::string optimizer, const nlohmann::json& options, std::vector<std::string> keys)
      : optimizer_(std::move(optimizer)), options_(options) {
    if (options_.is_null()) return;
    if (!options_.is_object()) {
      throw Error("optimizer '" + optimizer_ + "': options must be a JSON object; received " + show(options_));
    }
    for (const auto& [key, value] : options_.items()) {
      bool known = false;
      for (const auto& k : keys) known = known || k == key;
      if (!known) {
        std::string valid;
        for (const auto& k : keys) valid += (valid.empty() ? "" : ", ") + k;
        throw Error("optimizer '" + optimizer_ + "': unknown option '" + key + "' (received " + key + "=" +
                    show(value) + "); valid options: " + valid);
      }
    }
  }

  double number(const std::string& key, double fallback) const {
    if (!options_.is_object() || !options_.contains(key)) return fallback;
    const auto& v = options_.at(key);
    if (!v.is_number()) {
      throw Error("optimizer '" + optimizer_ + "': " + key + " must be a number; received " + key + "=" + show(v));
    }
    // The updates run in float32: a setting beyond float's range would become infinity there.
    if (!(std::fabs(v.get<double>()) <= 3.4e38)) {
      throw Error("optimizer '" + optimizer_ + "': " + key +
                  " must be a finite number of magnitude at most 3.4e38 (updates run in float32); received " + key +
                  "=" + show(v));
    }
    return v.get<double>();
  }

  bool boolean(const std::string& key, bool fallback) const {
    if (!options_.is_object() || !options_.contains(key)) return fallback;
    const auto& v = options_.at(key);
    if (!v.is_boolean()) {
      throw Error("optimizer '" + optimizer_ + "': " + key + " must be true or false; received " + key + "=" +
                  show(v));
    }
    return v.get<bool>();
  }

 private:
  std::string optimizer_;
  const nlohmann::json& options_;
};

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
