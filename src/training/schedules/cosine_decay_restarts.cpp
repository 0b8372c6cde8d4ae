// Keras CosineDecayRestarts (SGDR, Loshchilov & Hutter), per step. With c = step / first_decay_steps,
// period i (from 0) covers c in [S_i, S_i + t_mul^i) where S_i = (1 - t_mul^i) / (1 - t_mul) (= i when
// t_mul = 1); inside it f = (c - S_i) / t_mul^i and
//   rate = base_lr * ((1 - alpha) * m_mul^i * 0.5 * (1 + cos(pi * f)) + alpha).
// Keras finds i from a logarithm in float32, which can land one period off exactly at a restart;
// here i is corrected against S_i so every restart step starts its period at full height.
#include "common.hpp"

namespace nnlab {

void CosineDecayRestartsOptions::validate() const {
  schedules::require(first_decay_steps > 0, "cosine_restarts", "first_decay_steps",
                     static_cast<double>(first_decay_steps), "> 0");
  schedules::require(std::isfinite(t_mul) && t_mul >= 1, "cosine_restarts", "t_mul", t_mul,
                     ">= 1 (with t_mul < 1 the periods shrink and sum to a finite length, after which the "
                     "schedule has no value)");
  schedules::require(std::isfinite(m_mul) && m_mul >= 0, "cosine_restarts", "m_mul", m_mul, "a finite number >= 0");
  schedules::require(alpha >= 0 && alpha <= 1, "cosine_restarts", "alpha", alpha, "in [0, 1]");
}

namespace {

class CosineDecayRestarts final : public Schedule {
 public:
  explicit CosineDecayRestarts(const CosineDecayRestartsOptions& o) : o_(o) {}

  float rate(int, int64_t step, float base_lr) const override {
    const double c = static_cast<double>(step) / static_cast<double>(o_.first_decay_steps);
    double i, f;
    if (o_.t_mul == 1.0) {
      i = std::floor(c);
      f = c - i;
    } else {
      const double t = o_.t_mul;
      auto start = [t](double k) { return (1.0 - std::pow(t, k)) / (1.0 - t); };  // S_k
      i = std::floor(std::log(1.0 - c * (1.0 - t)) / std::log(t));
      while (start(i + 1) <= c) i += 1;
      while (i > 0 && start(i) > c) i -= 1;
      f = (c - start(i)) / std::pow(t, i);
    }
    const double cosine = 0.5 * std::pow(o_.m_mul, i) * (1.0 + std::cos(schedules::kPi * f));
    return static_cast<float>(base_lr * ((1.0 - o_.alpha) * cosine + o_.alpha));
  }
  bool per_step() const override { return true; }
  std::string describe() const override {
    return "cosine_decay_restarts(first_decay_steps=" + std::to_string(o_.first_decay_steps) +
           ", t_mul=" + schedules::show(o_.t_mul) + ", m_mul=" + schedules::show(o_.m_mul) +
           ", alpha=" + schedules::show(o_.alpha) + ")";
  }

 private:
  CosineDecayRestartsOptions o_;
};

}  // namespace

std::unique_ptr<Schedule> make_cosine_decay_restarts(const CosineDecayRestartsOptions& options) {
  options.validate();
  return std::make_unique<CosineDecayRestarts>(options);
}

}  // namespace nnlab
