#include "latency_stats.hpp"

#include <algorithm>
#include <numeric>

#include "udpchat/percentile.hpp"

namespace udpchat::bench {

Nanos percentileNearestRank(std::span<const Nanos> sorted, double percent) {
  return nearestRankPercentile(sorted, percent);
}

LatencySummary summarize(std::vector<Nanos>& samples) {
  LatencySummary out;
  if (samples.empty()) return out;
  std::sort(samples.begin(), samples.end());
  out.count = samples.size();
  out.p50 = percentileNearestRank(samples, 50);
  out.p99 = percentileNearestRank(samples, 99);
  out.max = samples.back();
  // Sum in long double: a million samples of a few milliseconds overflows nothing, but the mean
  // should not lose the sub-microsecond part either.
  const long double sum = std::accumulate(samples.begin(), samples.end(), 0.0L);
  out.mean = static_cast<Nanos>(sum / static_cast<long double>(samples.size()));
  return out;
}

}  // namespace udpchat::bench
