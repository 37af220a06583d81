#include "latency_stats.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace udpchat::bench {
namespace {

TEST(PercentileNearestRank, EmptyIsZero) {
  EXPECT_EQ(percentileNearestRank({}, 50), 0);
}

TEST(PercentileNearestRank, OneSampleIsEveryPercentile) {
  const std::vector<Nanos> one{7};
  EXPECT_EQ(percentileNearestRank(one, 0), 7);
  EXPECT_EQ(percentileNearestRank(one, 50), 7);
  EXPECT_EQ(percentileNearestRank(one, 100), 7);
}

TEST(PercentileNearestRank, HundredSamplesGiveTheirRank) {
  std::vector<Nanos> v;
  for (Nanos i = 1; i <= 100; ++i) v.push_back(i * 10);
  EXPECT_EQ(percentileNearestRank(v, 50), 500);  // rank 50
  EXPECT_EQ(percentileNearestRank(v, 99), 990);  // rank 99
  EXPECT_EQ(percentileNearestRank(v, 100), 1000);
  EXPECT_EQ(percentileNearestRank(v, 0), 10);     // rank 1
  EXPECT_EQ(percentileNearestRank(v, 0.5), 10);   // ceil(0.5) = rank 1
  EXPECT_EQ(percentileNearestRank(v, 1.01), 20);  // ceil(1.01) = rank 2
}

TEST(PercentileNearestRank, IsAlwaysAMeasuredValueNeverAnInterpolation) {
  const std::vector<Nanos> v{10, 20, 30, 40};
  // Interpolation would give 25 for the median; nearest rank takes rank ceil(2) = 2.
  EXPECT_EQ(percentileNearestRank(v, 50), 20);
  // p99 of four samples is the largest: rank ceil(3.96) = 4.
  EXPECT_EQ(percentileNearestRank(v, 99), 40);
  EXPECT_EQ(percentileNearestRank(v, 75), 30);
  EXPECT_EQ(percentileNearestRank(v, 75.1), 40);
}

TEST(PercentileNearestRank, ExactBoundariesDoNotRoundUp) {
  // 0.1 * 10 is not exactly 1 in binary floating point; the rank must still be 1, not 2.
  std::vector<Nanos> v;
  for (Nanos i = 1; i <= 10; ++i) v.push_back(i);
  EXPECT_EQ(percentileNearestRank(v, 10), 1);
  EXPECT_EQ(percentileNearestRank(v, 30), 3);
  EXPECT_EQ(percentileNearestRank(v, 70), 7);
}

TEST(PercentileNearestRank, OutOfRangePercentsAreClamped) {
  const std::vector<Nanos> v{1, 2, 3};
  EXPECT_EQ(percentileNearestRank(v, -5), 1);
  EXPECT_EQ(percentileNearestRank(v, 500), 3);
}

TEST(Summarize, SortsAndReportsCountPercentilesMaxAndMean) {
  std::vector<Nanos> v{5, 1, 4, 2, 3};
  const LatencySummary s = summarize(v);
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.p50, 3);  // rank ceil(2.5) = 3
  EXPECT_EQ(s.p99, 5);
  EXPECT_EQ(s.max, 5);
  EXPECT_EQ(s.mean, 3);
  EXPECT_EQ(v, (std::vector<Nanos>{1, 2, 3, 4, 5}));
}

TEST(Summarize, EmptyIsAllZero) {
  std::vector<Nanos> v;
  const LatencySummary s = summarize(v);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p50, 0);
  EXPECT_EQ(s.p99, 0);
  EXPECT_EQ(s.max, 0);
  EXPECT_EQ(s.mean, 0);
}

TEST(Summarize, OneSlowOutlierInAHundredShowsInMaxNotInP99) {
  std::vector<Nanos> v(99, 1'000'000);  // 1 ms
  v.push_back(50'000'000);              // one 50 ms straggler
  const LatencySummary s = summarize(v);
  EXPECT_EQ(s.p99, 1'000'000);
  EXPECT_EQ(s.max, 50'000'000);
}

}  // namespace
}  // namespace udpchat::bench
