// Zoom (Keras zoom_range): zx and zy drawn independently, uniform in [lo, hi]. A factor above 1
// shows more of the image (the content shrinks), below 1 less (it grows), as in Keras.
#include "common.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

Zoom::Zoom(double l, double h) : lo(l), hi(h) {
  const std::string range = augment::show_pair(lo, hi);
  augment::require(lo > 0, "zoom_range",
                   "a range of scales above 0 (zoom_range z means [1-z, 1+z], so z must be below 1)", range);
  augment::require(lo <= hi, "zoom_range", "[lo, hi] with lo <= hi", range);
}

void Zoom::draw(GeometryDraw& g, Rng& rng) const {
  if (lo == 1 && hi == 1) return;
  g.params.zx *= augment::uniform(rng, lo, hi);
  g.params.zy *= augment::uniform(rng, lo, hi);
}

}  // namespace nnlab
