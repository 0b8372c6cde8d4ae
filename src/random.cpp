#include "nnlab/random.hpp"

#include <algorithm>
#include <istream>
#include <ostream>
#include <sstream>

#include "nnlab/error.hpp"

namespace nnlab {

Mt19937_64::Mt19937_64(uint64_t seed) {
  x_[0] = seed;
  for (int i = 1; i < kN; ++i) x_[i] = 6364136223846793005ULL * (x_[i - 1] ^ (x_[i - 1] >> 62)) + static_cast<uint64_t>(i);
  pos_ = kN;
}

// Word k becomes x[k + M] ^ twist(upper bit of x[k], lower 31 bits of x[k + 1]), in order: the first
// N - M words read only words not yet renewed (k + 1 and k + M beyond k), the next ones x[k + M - N],
// renewed by the first loop, and the last one x[0] and x[M - 1]. So each loop's words are independent
// of one another and can go several at a time.
void Mt19937_64::renew() {
  constexpr uint64_t upper = ~uint64_t{0} << 31, lower = ~upper, a = 0xb5026f5aa96619e9ULL;
  auto twist = [](uint64_t hi, uint64_t lo) {
    const uint64_t y = (hi & upper) | (lo & lower);
    return (y >> 1) ^ ((0 - (y & 1)) & a);
  };
  uint64_t* x = x_;
#pragma omp simd
  for (int k = 0; k < kN - kM; ++k) x[k] = x[k + kM] ^ twist(x[k], x[k + 1]);
#pragma omp simd
  for (int k = kN - kM; k < kN - 1; ++k) x[k] = x[k + kM - kN] ^ twist(x[k], x[k + 1]);
  x[kN - 1] = x[kM - 1] ^ twist(x[kN - 1], x[0]);
  pos_ = 0;
}

void Mt19937_64::fill(uint64_t* out, int64_t n) {
  while (n > 0) {
    if (pos_ >= kN) renew();
    const int take = static_cast<int>(std::min<int64_t>(n, kN - pos_));
    const uint64_t* x = x_ + pos_;
#pragma omp simd
    for (int i = 0; i < take; ++i) out[i] = temper(x[i]);
    pos_ += take;
    out += take;
    n -= take;
  }
}

std::ostream& operator<<(std::ostream& os, const Mt19937_64& e) {
  for (int i = 0; i < Mt19937_64::kN; ++i) os << e.x_[i] << ' ';
  return os << e.pos_;
}

std::istream& operator>>(std::istream& is, Mt19937_64& e) {
  Mt19937_64 r;
  for (int i = 0; i < Mt19937_64::kN; ++i) is >> r.x_[i];
  is >> r.pos_;
  if (is && (r.pos_ < 0 || r.pos_ > Mt19937_64::kN)) is.setstate(std::ios::failbit);
  if (is) e = r;
  return is;
}

std::string Rng::state() const {
  std::ostringstream os;
  os << engine_;
  return os.str();
}

void Rng::set_state(const std::string& s) {
  std::istringstream is(s);
  is >> engine_;
  check(!is.fail(), "rng: corrupt random state");
}

}  // namespace nnlab
