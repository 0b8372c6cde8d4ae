// Keras ExponentialDecay and InverseTimeDecay, per step, from p = step / decay_steps (floored with
// staircase): base_lr * decay_rate^p, and base_lr / (1 + decay_rate * p).
#include "common.hpp"

namespace nnlab {
namespace {

enum class Decay { Exponential, InverseTime };

class TimeDecay final : public Schedule {
 public:
  TimeDecay(Decay kind, const TimeDecayOptions& o) : kind_(kind), o_(o) {}
  float rate(int, int64_t step, float base_lr) const override {
    double p = static_cast<double>(step) / static_cast<double>(o_.decay_steps);
    if (o_.staircase) p = std::floor(p);
    return static_cast<float>(kind_ == Decay::Exponential ? base_lr * std::pow(o_.decay_rate, p)
                                                          : base_lr / (1.0 + o_.decay_rate * p));
  }
  bool per_step() const override { return true; }
  std::string describe() const override {
    return std::string(kind_ == Decay::Exponential ? "exponential_decay" : "inverse_time_decay") +
           "(decay_steps=" + std::to_string(o_.decay_steps) + ", decay_rate=" + schedules::show(o_.decay_rate) +
           (o_.staircase ? ", staircase" : "") + ")";
  }

 private:
  Decay kind_;
  TimeDecayOptions o_;
};

// decay_rate must be > 0 for the exponential (0 would drop the rate to 0 at once), >= 0 otherwise.
std::unique_ptr<Schedule> make_time_decay(Decay kind, const TimeDecayOptions& o) {
  const bool exponential = kind == Decay::Exponential;
  const char* name = exponential ? "exponential" : "inverse_time";
  schedules::require(o.decay_steps > 0, name, "decay_steps", static_cast<double>(o.decay_steps), "> 0");
  schedules::require(std::isfinite(o.decay_rate) && (exponential ? o.decay_rate > 0 : o.decay_rate >= 0), name,
                     "decay_rate", o.decay_rate, exponential ? "a finite number > 0" : "a finite number >= 0");
  return std::make_unique<TimeDecay>(kind, o);
}

}  // namespace

std::unique_ptr<Schedule> make_exponential_decay(const TimeDecayOptions& options) {
  return make_time_decay(Decay::Exponential, options);
}

std::unique_ptr<Schedule> make_inverse_time_decay(const TimeDecayOptions& options) {
  return make_time_decay(Decay::InverseTime, options);
}

}  // namespace nnlab
