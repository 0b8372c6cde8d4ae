#include "nnlab/training/learning_rate.hpp"

#include <cmath>

#include "nnlab/error.hpp"
#include "nnlab/text.hpp"

namespace nnlab {

double LearningRate::unscaled(int epoch, int64_t step, int64_t epoch_step) const {
  if (schedule == nullptr) return base_;
  return schedule->rate(epoch, schedule->per_step() ? step : epoch_step, base_);
}

float LearningRate::peek(int epoch, int64_t step, int64_t epoch_step) const {
  return static_cast<float>(unscaled(epoch, step, epoch_step) * factor_);
}

float LearningRate::next(int epoch, int64_t step, int64_t epoch_step) {
  unscaled_ = unscaled(epoch, step, epoch_step);
  const float rate = current();
  check_rate(rate, [this] { return schedule ? schedule->describe() : std::string("the learning rate"); }, epoch, step);
  return rate;
}

void LearningRate::cut_to(float rate) {
  // rate / unscaled_ rather than factor_ * (rate / current()): the product then gives back `rate`
  // to the last bit, as Keras's plateau sets its rate outright.
  if (unscaled_ > 0) factor_ = static_cast<double>(rate) / unscaled_;
}

void LearningRate::set_base(float rate) {
  base_ = rate;
  factor_ = 1.0;
  unscaled_ = rate;
}

void LearningRate::restore(float base, double factor) {
  check(std::isfinite(base) && base >= 0 && std::isfinite(factor) && factor > 0,
        "learning rate: base " + number_str(base) + " and factor " + number_str(factor) +
            " must be finite, with base >= 0 and factor > 0");
  base_ = base;
  factor_ = factor;
  unscaled_ = base;
}

}  // namespace nnlab
