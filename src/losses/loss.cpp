// The parts of Loss shared by every loss.
#include "nnlab/losses/loss.hpp"

#include "nnlab/error.hpp"

namespace nnlab {

double Loss::compute_fused(const Tensor& /*logits*/, const Tensor& /*target*/, Tensor* /*grad*/) const {
  throw Error("loss " + name() + " cannot fuse with an output activation");
}

}  // namespace nnlab
