// Shear (Keras shear_range): the shear angle is uniform in [-range, range] degrees, applied with
// Keras's matrix (in_x = x - sin(s) y, in_y = cos(s) y) about the centre.
#include "common.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

Shear::Shear(double range_degrees) : range(range_degrees) {
  augment::require(range >= 0 && range < 90, "shear_range", "in [0, 90) (degrees)", range);
}

void Shear::draw(GeometryDraw& g, Rng& rng) const {
  if (range > 0) g.params.shear += augment::uniform(rng, -range, range);
}

}  // namespace nnlab
