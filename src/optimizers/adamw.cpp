// AdamW: Keras 3's AdamW is Adam with decoupled weight decay on by default (0.004), applied before
// the Adam update: p -= p * weight_decay * lr. The update itself lives in adam.cpp.
#include "options.hpp"

namespace nnlab::optimizers {

std::unique_ptr<Optimizer> make_adamw(const nlohmann::json& options) {
  return make_adam_family("adamw", 0.004, options);
}

}  // namespace nnlab::optimizers
