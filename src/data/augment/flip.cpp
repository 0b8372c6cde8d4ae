// Flips (Keras horizontal_flip / vertical_flip): mirror the image with probability p (0.5 in
// Keras), after the affine transform, within the same resampling.
#include "common.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

HorizontalFlip::HorizontalFlip(double p) : probability(p) {
  augment::require(p >= 0 && p <= 1, "horizontal_flip probability", "in [0, 1]", p);
}

void HorizontalFlip::draw(GeometryDraw& g, Rng& rng) const {
  if (augment::coin(rng, probability)) g.params.flip_horizontal = !g.params.flip_horizontal;
}

VerticalFlip::VerticalFlip(double p) : probability(p) {
  augment::require(p >= 0 && p <= 1, "vertical_flip probability", "in [0, 1]", p);
}

void VerticalFlip::draw(GeometryDraw& g, Rng& rng) const {
  if (augment::coin(rng, probability)) g.params.flip_vertical = !g.params.flip_vertical;
}

}  // namespace nnlab
