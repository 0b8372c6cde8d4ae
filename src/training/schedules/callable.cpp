// A user's C++ callable as a schedule: rate = fn(epoch, step, base_lr).
#include "common.hpp"

namespace nnlab {
namespace {

class Callable final : public Schedule {
 public:
  Callable(ScheduleFn fn, bool per_step, std::string name) : fn_(std::move(fn)), per_step_(per_step), name_(std::move(name)) {}
  float rate(int epoch, int64_t step, float base_lr) const override { return fn_(epoch, step, base_lr); }
  bool per_step() const override { return per_step_; }
  std::string describe() const override { return name_; }

 private:
  ScheduleFn fn_;
  bool per_step_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Schedule> make_callable_schedule(ScheduleFn fn, bool per_step, std::string name) {
  check(static_cast<bool>(fn), "make_callable_schedule: the function is empty");
  return std::make_unique<Callable>(std::move(fn), per_step, std::move(name));
}

}  // namespace nnlab
