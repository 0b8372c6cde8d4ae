// The keep mask of dropout and spatial dropout: count keep decisions drawn in order from the model's
// random stream, each unit kept with probability 1 - rate and then scaled by 1 / (1 - rate), as Keras.
#pragma once
#include <algorithm>
#include <cstdint>

#include "nnlab/random.hpp"

namespace nnlab {

inline void draw_keep_mask(Rng& rng, float rate, float* mask, int64_t count) {
  const float scale = 1.0f / (1.0f - rate);
  // One 64-bit draw gives two keep decisions (32 bits each): cheap and seeded. The draws are taken a
  // block at a time, in the same order, so that the comparisons run as one vector loop over the block.
  const auto threshold = static_cast<uint64_t>(static_cast<double>(rate) * 4294967296.0);
  constexpr int64_t kBlock = 256;  // draws, 2 KiB on the stack
  uint64_t draws[kBlock];
  for (int64_t start = 0; start < count; start += 2 * kBlock) {
    const int64_t pairs = std::min(kBlock, (count - start + 1) / 2);
    rng.next(draws, pairs);
    float* __restrict m = mask + start;
    const int64_t whole = std::min(pairs, (count - start) / 2);  // pairs with both halves inside
#pragma omp simd
    for (int64_t j = 0; j < whole; ++j) {
      m[2 * j] = (draws[j] & 0xffffffffu) >= threshold ? scale : 0.0f;
      m[2 * j + 1] = (draws[j] >> 32) >= threshold ? scale : 0.0f;
    }
    if (whole < pairs) m[2 * whole] = (draws[whole] & 0xffffffffu) >= threshold ? scale : 0.0f;  // an odd count's last
  }
}

}  // namespace nnlab
