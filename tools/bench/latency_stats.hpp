// Percentiles of latency samples.
//
// Percentiles use the nearest-rank method (include/udpchat/percentile.hpp, shared with the lab):
// always one of the measured values, so "p99 = 1.8 ms" means at least 99 % of the samples took at
// most 1.8 ms and some sample took exactly that long.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bench_clock.hpp"

namespace udpchat::bench {

// The nearest-rank percentile of `sorted` (ascending). `percent` in [0, 100]; 0 for no samples.
Nanos percentileNearestRank(std::span<const Nanos> sorted, double percent);

struct LatencySummary {
  std::uint64_t count = 0;
  Nanos p50 = 0;  // nanoseconds
  Nanos p99 = 0;
  Nanos max = 0;
  Nanos mean = 0;
};

// Sorts `samples` in place and summarises them.
LatencySummary summarize(std::vector<Nanos>& samples);

}  // namespace udpchat::bench
