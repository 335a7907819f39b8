#include <gtest/gtest.h>

#include <cmath>

#include "nnspice/common/rng.hpp"

using namespace nnspice;

TEST(Rng, SameSeedSameDraws) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const double x = a.normal();
    EXPECT_EQ(x, b.normal());
    (void)c;
  }
  EXPECT_NE(Rng(42).normal(), Rng(43).normal());
}

TEST(Rng, FixedSequenceAcrossPlatforms) {
  // mt19937_64's 10000th output is fixed by the C++ standard; our transforms are fixed code.
  Rng r(5489);
  std::uint64_t x = 0;
  for (int i = 0; i < 10000; ++i) x = r.next_u64();
  EXPECT_EQ(x, 9981545732273789042ULL);
}

TEST(Rng, NormalMomentsWithinStatisticalBand) {
  const int n = 200000;
  Rng r(7);
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    s += x;
    s2 += x * x;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  EXPECT_LT(std::abs(mean), 5.0 / std::sqrt(n));            // 5 sigma of the sample mean
  EXPECT_LT(std::abs(var - 1.0), 5.0 * std::sqrt(2.0 / n));  // 5 sigma of the sample variance
}

TEST(Rng, StreamsAreIndependentOfEachOther) {
  EXPECT_EQ(Rng::stream(1, "soma").next_u64(), Rng::stream(1, "soma").next_u64());
  EXPECT_NE(Rng::stream(1, "soma").next_u64(), Rng::stream(1, "mirror").next_u64());
  Rng r(3);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.below(7), 7u);
}
