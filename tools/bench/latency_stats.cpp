#include "latency_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace udpchat::bench {

Nanos percentileNearestRank(std::span<const Nanos> sorted, double percent) {
  if (sorted.empty()) return 0;
  const double clamped = std::clamp(percent, 0.0, 100.0);
  const auto n = static_cast<double>(sorted.size());
  // ceil(p/100 * n), computed so that p = 50, n = 10 gives exactly rank 5 despite rounding.
  auto rank = static_cast<std::size_t>(std::ceil(clamped * n / 100.0 - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
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
