// Rotation (Keras rotation_range): theta uniform in [-range, range] degrees about the centre.
#include "common.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

Rotation::Rotation(double range_degrees) : range(range_degrees) {
  augment::require(range >= 0 && range <= 360, "rotation_range", "in [0, 360] (degrees)", range);
}

void Rotation::draw(GeometryDraw& g, Rng& rng) const {
  if (range > 0) g.params.theta += augment::uniform(rng, -range, range);
}

}  // namespace nnlab
