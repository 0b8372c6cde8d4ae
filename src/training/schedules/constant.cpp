// Constant: the base rate at every epoch.
#include "common.hpp"

namespace nnlab {
namespace {

class Constant final : public Schedule {
 public:
  float rate(int, int64_t, float base_lr) const override { return base_lr; }
  bool per_step() const override { return false; }
  std::string describe() const override { return "constant"; }
};

}  // namespace

std::unique_ptr<Schedule> make_constant_schedule() { return std::make_unique<Constant>(); }

}  // namespace nnlab
