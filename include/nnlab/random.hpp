// Rng: the one source of randomness. A run's seed fixes every draw (initialisation, shuffling,
// dropout, augmentation); the state can be saved and restored for exact resumption.
#pragma once
#include <cstdint>
#include <random>
#include <string>

namespace nnlab {

class Rng {
 public:
  explicit Rng(uint64_t seed = 42) : engine_(seed) {}
  float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(engine_); }
  float normal(float mean, float stddev) { return std::normal_distribution<float>(mean, stddev)(engine_); }
  uint64_t next() { return engine_(); }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(engine_); }
  std::mt19937_64& engine() { return engine_; }
  std::string state() const;             // text form of the engine state
  void set_state(const std::string& s);  // inverse of state()

 private:
  std::mt19937_64 engine_;
};

}  // namespace nnlab
