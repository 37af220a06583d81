// Statistics for the lab's reports: percentiles of one run's samples, and the median and spread
// of one figure over a cell's repetitions. No sockets, no clock.
//
// Percentiles use the nearest-rank method, the load generator's too (include/udpchat/
// percentile.hpp): the p-th percentile of n sorted samples is the sample at 1-based rank
// ceil(p / 100 * n) (rank 1 for p = 0). It is
// always a measured value, so "p99 = 61 ms" means at least 99 % of the messages took at most
// 61 ms and one of them took exactly that long. With fewer than 100 samples p99 is the maximum.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace udpchat::lab {

// The nearest-rank percentile of `sorted` (ascending); `percent` in [0, 100]. 0 when empty.
double percentile(std::span<const double> sorted, double percent);

// One run's samples (milliseconds, in the lab).
struct Distribution {
  std::size_t count = 0;
  double min = 0;
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double max = 0;
  double mean = 0;
};

// Summarises `samples` (any order). All zero when empty.
Distribution summarize(std::vector<double> samples);

// One figure over a cell's repetitions: the median (the mean of the two middle values when the
// count is even), the extremes, and the quartiles (linear interpolation between order
// statistics, the "type 7" definition of R and NumPy; equal to min and max for two values).
struct Spread {
  std::size_t count = 0;
  double median = 0;
  double min = 0;
  double max = 0;
  double q1 = 0;
  double q3 = 0;
};

// All zero when `values` is empty.
Spread spreadOf(std::vector<double> values);

}  // namespace udpchat::lab
