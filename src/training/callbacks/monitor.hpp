// Private to src/training/callbacks: what Keras's MonitorCallback shares between ReduceLROnPlateau,
// EarlyStopping and ModelCheckpoint: which way a quantity improves, the improvement test, reading
// the quantity from the logs with a one-time warning, and the options checks.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/model.hpp"
#include "nnlab/training/callback.hpp"

namespace nnlab::callbacks {

inline std::string show(double value) { return nlohmann::json(value).dump(); }

// Throws "ReduceLROnPlateau: factor must be < 1; received factor=1.5".
inline void require(bool ok, const std::string& who, const std::string& key, double value, const std::string& rule) {
  if (!ok) throw Error(who + ": " + key + " must be " + rule + "; received " + key + "=" + show(value));
}

// Writes kept weights back into the model: its trainable parameters and non-trainable state, as
// EarlyStopping keeps its best and StochasticWeightAveraging its mean. `problem` is the error when
// the model's sizes no longer match them.
inline void put_weights(Model& model, const std::vector<float>& params, const std::vector<float>& state,
                        const std::string& problem) {
  auto p = model.params();
  auto st = model.state();
  check(p.size() == params.size() && st.size() == state.size(), problem);
  std::copy(params.begin(), params.end(), p.begin());
  std::copy(state.begin(), state.end(), st.begin());
}

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// true when `monitor` should rise. mode "min"/"max" decide; "auto" goes by the name (without "val_").
inline bool maximizes(const std::string& who, const std::string& monitor, const std::string& mode) {
  check(mode == "auto" || mode == "min" || mode == "max",
        who + ": mode must be \"auto\", \"min\" or \"max\"; received mode=\"" + mode + "\"");
  check(!monitor.empty(), who + ": monitor must name a log entry such as \"val_loss\"");
  if (mode != "auto") return mode == "max";
  const std::string name = monitor.rfind("val_", 0) == 0 ? monitor.substr(4) : monitor;
  for (const char* low : {"loss", "error", "mse", "mae", "mape", "msle", "crossentropy"}) {
    if (ends_with(name, low)) return false;
  }
  if (name == "lr" || name == "learning_rate") return false;
  for (const char* high : {"acc", "auc", "precision", "recall", "f1"}) {
    if (name.find(high) != std::string::npos) return true;
  }
  throw Error(who + ": cannot tell whether '" + monitor +
              "' should be minimised or maximised; set mode to \"min\" or \"max\"");
}

// Keras's _is_improvement: current beats reference by more than min_delta in the direction of
// improvement; any value beats no reference.
inline bool improves(double current, std::optional<double> reference, bool maximize, double min_delta) {
  if (!reference) return true;
  return maximize ? current - min_delta > *reference : current + min_delta < *reference;
}

// logs[key], or nothing after warning once (per *warned flag) on stderr: "<message>. Available
// metrics are: loss,accuracy,lr."
inline std::optional<double> monitored(const Logs& logs, const std::string& key, bool* warned,
                                       const std::string& message) {
  auto it = logs.find(key);
  if (it != logs.end()) return it->second;
  if (!*warned) {
    std::string keys;
    for (const auto& [k, _] : logs) keys += (keys.empty() ? "" : ",") + k;
    std::fprintf(stderr, "warning: %s. Available metrics are: %s.\n", message.c_str(), keys.c_str());
    *warned = true;
  }
  return std::nullopt;
}

}  // namespace nnlab::callbacks
