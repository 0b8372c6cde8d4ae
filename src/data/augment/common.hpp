// Private to src/data/augment: random draws in double precision and the messages that repeat a
// bad value.
#pragma once
#include <random>
#include <string>

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

}  // namespace nnlab::augment
