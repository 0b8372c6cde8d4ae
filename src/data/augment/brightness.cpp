// Brightness (Keras brightness_range [lo, hi]): every value of the image is multiplied by one
// factor uniform in [lo, hi]. (Keras goes through PIL, which also rounds to 8 bits and clips to
// 0-255; nnlab keeps the floats as they are.)
#include "common.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

Brightness::Brightness(double l, double h) : lo(l), hi(h) {
  const std::string range = augment::show_pair(lo, hi);
  augment::require(lo >= 0, "brightness_range", "[lo, hi] with 0 <= lo", range);
  augment::require(lo <= hi, "brightness_range", "[lo, hi] with lo <= hi", range);
}

void Brightness::apply(ImageView image, Rng& rng) const {
  if (lo == 1 && hi == 1) return;
  const float factor = static_cast<float>(augment::uniform(rng, lo, hi));
  for (int64_t i = 0; i < image.size(); ++i) image.data[i] *= factor;
}

}  // namespace nnlab
