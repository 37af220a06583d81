// The lab's statistics: nearest-rank percentiles of a run, median and spread of a cell.
#include <gtest/gtest.h>

#include <vector>

#include "lab/sample_stats.hpp"

namespace udpchat::lab {
namespace {

TEST(LabStats, PercentileIsTheNearestRank) {
  const std::vector<double> sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(percentile(sorted, 0), 1);
  EXPECT_EQ(percentile(sorted, 10), 1);
  EXPECT_EQ(percentile(sorted, 11), 2);
  EXPECT_EQ(percentile(sorted, 50), 5);  // rank ceil(5.0) = 5, not 5.5
  EXPECT_EQ(percentile(sorted, 95), 10);
  EXPECT_EQ(percentile(sorted, 100), 10);
  EXPECT_EQ(percentile(std::vector<double>{}, 50), 0);
}

TEST(LabStats, P99OfAHundredSamplesIsTheSecondLargest) {
  std::vector<double> sorted;
  for (int i = 1; i <= 100; ++i) sorted.push_back(i);
  EXPECT_EQ(percentile(sorted, 99), 99);
  EXPECT_EQ(percentile(sorted, 95), 95);
  sorted.push_back(1000);  // with 101 samples p99 is rank ceil(99.99) = 100
  EXPECT_EQ(percentile(sorted, 99), 100);
}

TEST(LabStats, SummarizeSortsAndOrdersThePercentiles) {
  const Distribution d = summarize({40, 300, 41, 42, 40.5, 90});
  EXPECT_EQ(d.count, 6u);
  EXPECT_EQ(d.min, 40);
  EXPECT_EQ(d.p50, 41);
  EXPECT_EQ(d.p95, 300);
  EXPECT_EQ(d.max, 300);
  EXPECT_LE(d.p50, d.p95);
  EXPECT_LE(d.p95, d.p99);
  EXPECT_LE(d.p99, d.max);
  EXPECT_DOUBLE_EQ(d.mean, (40 + 300 + 41 + 42 + 40.5 + 90) / 6.0);
  const Distribution empty = summarize({});
  EXPECT_EQ(empty.count, 0u);
  EXPECT_EQ(empty.max, 0);
}

TEST(LabStats, MedianOfAnOddCountIsTheMiddleValue) {
  const Spread s = spreadOf({90, 10, 50});
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.median, 50);
  EXPECT_EQ(s.min, 10);
  EXPECT_EQ(s.max, 90);
  EXPECT_EQ(s.q1, 30);  // type 7: position 0.5 between 10 and 50
  EXPECT_EQ(s.q3, 70);
}

TEST(LabStats, MedianOfAnEvenCountIsTheMeanOfTheMiddleTwo) {
  const Spread s = spreadOf({4, 1, 3, 2});
  EXPECT_EQ(s.median, 2.5);
  EXPECT_EQ(s.q1, 1.75);
  EXPECT_EQ(s.q3, 3.25);
  const Spread two = spreadOf({7, 3});
  EXPECT_EQ(two.median, 5);
  EXPECT_EQ(two.q1, 4);
  EXPECT_EQ(two.q3, 6);
}

TEST(LabStats, SpreadOfOneValueOrNone) {
  const Spread one = spreadOf({42});
  EXPECT_EQ(one.median, 42);
  EXPECT_EQ(one.min, 42);
  EXPECT_EQ(one.max, 42);
  EXPECT_EQ(one.q1, 42);
  const Spread none = spreadOf({});
  EXPECT_EQ(none.count, 0u);
  EXPECT_EQ(none.median, 0);
}

}  // namespace
}  // namespace udpchat::lab
