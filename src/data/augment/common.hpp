// Private to src/data/augment: random draws in double precision and the messages that repeat a
// bad value.
#pragma once
#include <random>
#include <string>

#include "nnlab/data/augment.hpp"
#include "nnlab/error.hpp"
#include "nnlab/random.hpp"

namespace nnlab::augment {

// Uniform in [lo, hi]; lo when the range is empty.
inline double uniform(Rng& rng, double lo, double hi) {
  if (!(hi > lo)) return lo;
  return std::uniform_real_distribution<double>(lo, hi)(rng.engine());
}
inline bool coin(Rng& rng, double p) { return p > 0 && uniform(rng, 0.0, 1.0) < p; }

// "17.5", "0.1", "-3": the shortest text that reads back as the same double.
std::string show(double v);
// "[0.9, 1.1]"
std::string show_pair(double lo, double hi);

// Throws "augment: rotation_range must be 0 or more (degrees); received rotation_range=-5".
inline void require(bool ok, const std::string& key, const std::string& rule, const std::string& received) {
  if (!ok) throw Error("augment: " + key + " must be " + rule + "; received " + key + "=" + received);
}
inline void require(bool ok, const std::string& key, const std::string& rule, double received) {
  require(ok, key, rule, show(received));
}

// One image's geometric augmentations: draw_all(g) draws each one's transform into g, then the image
// is resampled once. scratch holds the buffers (kept per thread, so nothing is allocated per image).
template <class DrawAll>
void draw_and_resample(ImageView image, const Fill& fill, AugmentScratch& scratch, Rng& rng, DrawAll draw_all) {
  GeometryDraw g;
  g.height = image.height;
  g.width = image.width;
  g.scratch = &scratch;
  draw_all(g, rng);
  apply_geometry(image, g.params, fill, g.has_field ? scratch.field.data() : nullptr, scratch.source);
}

}  // namespace nnlab::augment
