// Gaussian noise (as Keras's GaussianNoise layer, stddev): adds N(0, stddev^2) to every value.
// Normals by the Box-Muller transform, a pair from each 64-bit draw (two 24-bit uniforms; the
// tails reach 5.7 standard deviations), which is several times faster than std::normal_distribution.
#include <cmath>
#include <numbers>

#include "common.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

GaussianNoise::GaussianNoise(double s) : stddev(s) {
  augment::require(stddev >= 0, "gaussian_noise", "0 or more (the noise's standard deviation)", stddev);
}

void GaussianNoise::apply(ImageView image, Rng& rng) const {
  if (stddev <= 0) return;
  const float sd = static_cast<float>(stddev), two_pi = 2 * std::numbers::pi_v<float>;
  const int64_t n = image.size();
  for (int64_t i = 0; i < n; i += 2) {
    const uint64_t bits = rng.next();
    const float u1 = (static_cast<float>(bits >> 40) + 1.0f) * 0x1p-24f;        // (0, 1]
    const float u2 = static_cast<float>((bits >> 16) & 0xffffff) * 0x1p-24f;   // [0, 1)
    const float r = sd * std::sqrt(-2.0f * std::log(u1)), t = two_pi * u2;
    image.data[i] += r * std::cos(t);
    if (i + 1 < n) image.data[i + 1] += r * std::sin(t);
  }
}

}  // namespace nnlab
