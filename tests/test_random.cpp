// nnlab's Mersenne Twister (random.hpp) against std::mt19937_64: the same draws for the same seed,
// one at a time or in blocks across the state's renewals, the same results through the standard
// distributions and std::shuffle, and the same text for its state, so a checkpoint written with either
// engine resumes on the other.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <sstream>
#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/random.hpp"

using namespace nnlab;

namespace {
const uint64_t kSeeds[] = {0, 1, 42, 5489, 0xffffffffffffffffULL, 0x8000000000000000ULL};
}

TEST(Mt19937_64, DrawsAreTheStandardEnginesForEverySeed) {
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE(seed);
    Mt19937_64 mine(seed);
    std::mt19937_64 std_engine(seed);
    for (int i = 0; i < 3 * Mt19937_64::kN + 5; ++i) ASSERT_EQ(mine(), std_engine()) << "draw " << i;
  }
  // The standard fixes the 10,000th draw of the default seed.
  Mt19937_64 fresh;
  for (int i = 1; i < 10000; ++i) fresh();
  EXPECT_EQ(fresh(), 9981545732273789042ULL);
}

TEST(Mt19937_64, BlocksOfDrawsAreTheSameAsOneAtATime) {
  Mt19937_64 mine(7);
  std::mt19937_64 std_engine(7);
  std::vector<uint64_t> block(1000);
  // Sizes that end inside, at and across the 312-word renewals, with single draws between.
  for (int64_t n : {1, 5, 311, 312, 313, 0, 624, 999, 2, 1000}) {
    SCOPED_TRACE(n);
    mine.fill(block.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(block[static_cast<size_t>(i)], std_engine()) << i;
    ASSERT_EQ(mine(), std_engine());
  }
}

TEST(Mt19937_64, TheStandardDistributionsAndShuffleGiveTheSameResults) {
  Rng rng(3);
  std::mt19937_64 e(3);
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(rng.uniform(-1.0f, 2.0f), std::uniform_real_distribution<float>(-1.0f, 2.0f)(e));
    ASSERT_EQ(rng.normal(0.5f, 2.0f), std::normal_distribution<float>(0.5f, 2.0f)(e));
    ASSERT_EQ(rng.below(1000), std::uniform_int_distribution<uint64_t>(0, 999)(e));
  }
  std::vector<int> a(1000), b(1000);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 0);
  std::shuffle(a.begin(), a.end(), rng.engine());
  std::shuffle(b.begin(), b.end(), e);
  EXPECT_EQ(a, b);
}

TEST(Mt19937_64, StateTextRoundTripsAndIsTheStandardEnginesText) {
  Rng rng(11);
  for (int i = 0; i < 500; ++i) rng.next();
  const std::string text = rng.state();
  Rng back(0);
  back.set_state(text);
  for (int i = 0; i < 700; ++i) ASSERT_EQ(back.next(), rng.next()) << i;
#ifdef __GLIBCXX__
  // libstdc++ writes the same words and position, so a checkpoint from the standard engine resumes.
  std::mt19937_64 e(11);
  e.discard(500);
  std::ostringstream os;
  os << e;
  EXPECT_EQ(os.str(), text);
  Rng from_std(0);
  from_std.set_state(os.str());
  for (int i = 0; i < 700; ++i) ASSERT_EQ(from_std.next(), e()) << i;
#endif
}

TEST(Mt19937_64, CorruptStateIsRefused) {
  Rng rng(1);
  EXPECT_THROW(rng.set_state("1 2 3"), Error);
  std::string text = rng.state();
  text = text.substr(0, text.rfind(' ')) + " 999";  // a position past the 312 words
  EXPECT_THROW(rng.set_state(text), Error);
  const uint64_t want = Rng(1).next();
  EXPECT_EQ(rng.next(), want) << "a refused state leaves the engine as it was";
}
