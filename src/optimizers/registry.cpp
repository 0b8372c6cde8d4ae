// The optimizers by name: one line each.
#include <algorithm>
#include <cctype>

#include "options.hpp"

namespace nnlab {
namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Optimizer> (*make)(const nlohmann::json& options);
};

constexpr Entry kOptimizers[] = {
    {"sgd", optimizers::make_sgd},
    {"adam", optimizers::make_adam},
    {"adamw", optimizers::make_adamw},
    {"rmsprop", optimizers::make_rmsprop},
    {"adagrad", optimizers::make_adagrad},
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const nlohmann::json& options) {
  std::string key = name;  // Keras accepts "Adam" as well as "adam"
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const Entry& e : kOptimizers) {
    if (key != e.name) continue;
    // The moving-average options are every optimizer's (the base class's): read here, the rest by
    // the optimizer itself.
    nlohmann::json own = options, ema = nlohmann::json::object();
    if (own.is_object()) {
      for (const char* k : {"use_ema", "ema_momentum", "ema_overwrite_frequency"}) {
        if (!own.contains(k)) continue;
        ema[k] = own[k];
        own.erase(k);
      }
    }
    ConfigReader reader(ema, "optimizer '" + key + "'");
    const EmaOptions ema_options = optimizers::read_ema(reader, key);
    auto optimizer = e.make(own);
    optimizer->set_ema(ema_options);
    return optimizer;
  }
  std::string known;
  for (const Entry& e : kOptimizers) known += (known.empty() ? "" : ", ") + std::string(e.name);
  throw Error("unknown optimizer '" + name + "'; known optimizers: " + known);
}

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const Entry& e : kOptimizers) names.emplace_back(e.name);
  return names;
}

}  // namespace nnlab
