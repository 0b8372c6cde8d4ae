// Random erasing (Zhong, Zheng, Kang, Li and Yang 2017, "Random Erasing Data Augmentation"): with
// probability p, pick an area uniform in `area` (fractions of the image) and an aspect ratio
// (height / width) log-uniform in `aspect` (as torchvision; the paper draws it uniformly), place
// the rectangle uniformly, and set it to `value`. Up to 100 tries to fit it inside the image.
#include <cmath>

#include "common.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

RandomErasing::RandomErasing(double p, std::array<double, 2> a, std::array<double, 2> r, float v)
    : probability(p), area(a), aspect(r), value(v) {
  augment::require(p >= 0 && p <= 1, "erasing_probability", "in [0, 1]", p);
  const std::string areas = augment::show_pair(a[0], a[1]);
  augment::require(a[0] > 0 && a[0] <= a[1] && a[1] <= 1, "erasing_area",
                   "[lo, hi] with 0 < lo <= hi <= 1 (fractions of the image)", areas);
  const std::string aspects = augment::show_pair(r[0], r[1]);
  augment::require(r[0] > 0 && r[0] <= r[1], "erasing_aspect", "[lo, hi] with 0 < lo <= hi (height / width)",
                   aspects);
}

void RandomErasing::apply(ImageView image, Rng& rng) const {
  if (!augment::coin(rng, probability)) return;
  const int64_t H = image.height, W = image.width, C = image.channels;
  const double total = static_cast<double>(H * W);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const double a = augment::uniform(rng, area[0], area[1]) * total;
    const double ratio = std::exp(augment::uniform(rng, std::log(aspect[0]), std::log(aspect[1])));
    const auto h = static_cast<int64_t>(std::lround(std::sqrt(a * ratio)));
    const auto w = static_cast<int64_t>(std::lround(std::sqrt(a / ratio)));
    if (h < 1 || w < 1 || h > H || w > W) continue;
    const auto y0 = static_cast<int64_t>(rng.below(static_cast<uint64_t>(H - h + 1)));
    const auto x0 = static_cast<int64_t>(rng.below(static_cast<uint64_t>(W - w + 1)));
    for (int64_t y = y0; y < y0 + h; ++y)
      for (int64_t x = x0; x < x0 + w; ++x)
        for (int64_t c = 0; c < C; ++c) image.at(y, x, c) = value;
    return;
  }
}

}  // namespace nnlab
