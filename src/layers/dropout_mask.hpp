// The keep mask of dropout and spatial dropout: count keep decisions drawn in order from the model's
// random stream, each unit kept with probability 1 - rate and then scaled by 1 / (1 - rate), as Keras.
#pragma once
#include <cstdint>

#include "nnlab/random.hpp"

namespace nnlab {

inline void draw_keep_mask(Rng& rng, float rate, float* mask, int64_t count) {
  const float scale = 1.0f / (1.0f - rate);
  // One 64-bit draw gives two keep decisions (32 bits each): cheap and seeded.
  const auto threshold = static_cast<uint64_t>(static_cast<double>(rate) * 4294967296.0);
  for (int64_t i = 0; i < count; i += 2) {
    const uint64_t r = rng.next();
    mask[i] = (r & 0xffffffffu) >= threshold ? scale : 0.0f;
    if (i + 1 < count) mask[i + 1] = (r >> 32) >= threshold ? scale : 0.0f;
  }
}

}  // namespace nnlab
