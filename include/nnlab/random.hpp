// Rng: the one source of randomness. A run's seed fixes every draw (initialisation, shuffling,
// dropout, augmentation); the state can be saved and restored for exact resumption.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <random>
#include <string>

namespace nnlab {

// The 64-bit Mersenne Twister: exactly std::mt19937_64's sequence for the same seed, and its state in
// libstdc++'s text form (the 312 words, then the position), so checkpoints written with the standard
// engine resume on this one (tests/test_random.cpp compares the two). Its own because libstdc++ renews
// the state one word at a time, and dropout's masks take about 200,000 draws a step in fashion-cnn:
// here the renewal and fill()'s tempering are loops the compiler turns into vector instructions.
class Mt19937_64 {
 public:
  using result_type = uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  static constexpr int kN = 312;

  explicit Mt19937_64(uint64_t seed = 5489);
  void seed(uint64_t s) { *this = Mt19937_64(s); }
  result_type operator()() {
    if (pos_ >= kN) renew();
    return temper(x_[pos_++]);
  }
  // out[0, n): the next n draws, the same as n calls.
  void fill(uint64_t* out, int64_t n);

  friend std::ostream& operator<<(std::ostream& os, const Mt19937_64& e);
  friend std::istream& operator>>(std::istream& is, Mt19937_64& e);
  bool operator==(const Mt19937_64&) const = default;

 private:
  static constexpr int kM = 156;
  static result_type temper(result_type z) {
    z ^= (z >> 29) & 0x5555555555555555ULL;
    z ^= (z << 17) & 0x71d67fffeda60000ULL;
    z ^= (z << 37) & 0xfff7eee000000000ULL;
    return z ^ (z >> 43);
  }
  void renew();
  result_type x_[kN];
  int pos_ = kN;
};

class Rng {
 public:
  explicit Rng(uint64_t seed = 42) : engine_(seed) {}
  float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(engine_); }
  float normal(float mean, float stddev) { return std::normal_distribution<float>(mean, stddev)(engine_); }
  uint64_t next() { return engine_(); }
  void next(uint64_t* out, int64_t n) { engine_.fill(out, n); }  // n draws of next(), in order
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(engine_); }
  Mt19937_64& engine() { return engine_; }
  std::string state() const;             // text form of the engine state
  void set_state(const std::string& s);  // inverse of state()

 private:
  Mt19937_64 engine_;
};

}  // namespace nnlab
