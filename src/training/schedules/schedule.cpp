// What every schedule shares: the up-front check that its rates are usable.
#include <algorithm>
#include <cmath>

#include "common.hpp"

namespace nnlab {

void throw_bad_rate(double value, const std::string& who, int epoch, int64_t step) {
  std::string shown = std::isnan(value) ? "nan" : std::isinf(value) ? (value > 0 ? "inf" : "-inf") : schedules::show(value);
  throw Error(who + " gives " + shown + " at epoch " + std::to_string(epoch) + " (step " + std::to_string(step) +
              "); a learning rate must be finite and >= 0");
}

void Schedule::validate(int epochs, int64_t steps_per_epoch, float base_lr) const {
  check(epochs >= 1, describe() + ": validate needs epochs >= 1, got " + std::to_string(epochs));
  check(steps_per_epoch >= 1, describe() + ": validate needs steps_per_epoch >= 1, got " + std::to_string(steps_per_epoch));
  const std::string name = describe();
  const auto who = [&] { return name; };
  if (!per_step()) {
    for (int e = 0; e < epochs; ++e) check_rate(rate(e, e * steps_per_epoch, base_lr), who, e, e * steps_per_epoch);
    return;
  }
  // Every step when there are few enough; otherwise each epoch's first and last step plus an even
  // sample in between.
  constexpr int64_t kMaxEvaluations = int64_t{1} << 20;
  const int64_t total = static_cast<int64_t>(epochs) * steps_per_epoch;
  const int64_t stride = std::max<int64_t>(1, total / kMaxEvaluations);
  for (int e = 0; e < epochs; ++e) {
    const int64_t first = e * steps_per_epoch, last = first + steps_per_epoch - 1;
    check_rate(rate(e, first, base_lr), who, e, first);
    for (int64_t s = first + stride; s < last; s += stride) check_rate(rate(e, s, base_lr), who, e, s);
    if (last > first) check_rate(rate(e, last, base_lr), who, e, last);
  }
}

}  // namespace nnlab
