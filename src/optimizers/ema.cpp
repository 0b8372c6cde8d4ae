// The moving average of the weights that every optimizer offers (Keras's use_ema): updated after each
// step, written into the weights when fit ends or every ema_overwrite_frequency steps.
#include <algorithm>

#include "options.hpp"

namespace nnlab {

void Optimizer::update_average(std::span<float> params) {
  if (!ema_.use_ema) return;
  const int64_t n = static_cast<int64_t>(params.size());
  if (average_.size() != params.size() || iterations <= 1) {  // the first step (step() counted it)
    average_.assign(params.begin(), params.end());
  } else {
    const float m = static_cast<float>(ema_.ema_momentum), k = 1.0f - m;
    float* a = average_.data();
    const float* p = params.data();
#pragma omp parallel for simd if (parallel : n > optimizers::kParallelMin) schedule(static)
    for (int64_t i = 0; i < n; ++i) a[i] = m * a[i] + k * p[i];
  }
  if (ema_.ema_overwrite_frequency > 0 && iterations % ema_.ema_overwrite_frequency == 0)
    std::copy(average_.begin(), average_.end(), params.begin());
}

void Optimizer::finalize_average(std::span<float> params) const {
  if (ema_.use_ema && average_.size() == params.size()) std::copy(average_.begin(), average_.end(), params.begin());
}

bool Optimizer::swap_average(std::span<float> params) {
  if (!ema_.use_ema || average_.size() != params.size()) return false;
  std::swap_ranges(average_.begin(), average_.end(), params.begin());
  return true;
}

std::vector<std::pair<std::string, std::vector<float>*>> Optimizer::checkpoint_state() {
  auto out = state();
  if (ema_.use_ema) out.emplace_back("ema", &average_);
  return out;
}

namespace optimizers {

EmaOptions read_ema(ConfigReader& r, const std::string& optimizer) {
  EmaOptions o;
  o.use_ema = r.get<bool>("use_ema", o.use_ema);
  o.ema_momentum = r.get<double>("ema_momentum", o.ema_momentum);
  require(o.ema_momentum >= 0 && o.ema_momentum <= 1, optimizer, "ema_momentum", o.ema_momentum, "in [0, 1]");
  if (r.has("ema_overwrite_frequency") && !r.raw("ema_overwrite_frequency").is_null())  // Keras's None: never
    o.ema_overwrite_frequency = r.get<int64_t>("ema_overwrite_frequency", 0);
  require(o.ema_overwrite_frequency >= 0, optimizer, "ema_overwrite_frequency",
          static_cast<double>(o.ema_overwrite_frequency), "a whole number >= 0 (0 or null: never)");
  return o;
}

}  // namespace optimizers
}  // namespace nnlab
