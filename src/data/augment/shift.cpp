// Shifts (Keras width_shift_range / height_shift_range): below 1 a fraction of the image's size, 1
// or more a number of pixels; the shift is uniform in [-range, range]. Width moves the content
// horizontally and height vertically (current Keras swaps the two, keras-team/keras#17398).
#include "common.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

static double shift_pixels(double range, int64_t size) {
  return range < 1 ? range * static_cast<double>(size) : range;
}

WidthShift::WidthShift(double r) : range(r) {
  augment::require(range >= 0, "width_shift_range", "0 or more (below 1: a fraction of the width; 1 or more: pixels)",
                   range);
}

void WidthShift::draw(GeometryDraw& g, Rng& rng) const {
  if (range <= 0) return;
  const double px = shift_pixels(range, g.width);
  g.params.tx += augment::uniform(rng, -px, px);
}

HeightShift::HeightShift(double r) : range(r) {
  augment::require(range >= 0, "height_shift_range",
                   "0 or more (below 1: a fraction of the height; 1 or more: pixels)", range);
}

void HeightShift::draw(GeometryDraw& g, Rng& rng) const {
  if (range <= 0) return;
  const double px = shift_pixels(range, g.height);
  g.params.ty += augment::uniform(rng, -px, px);
}

}  // namespace nnlab
