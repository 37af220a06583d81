#include "lab/sample_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "udpchat/percentile.hpp"

namespace udpchat::lab {
namespace {

// The type-7 quantile of `sorted`: position (n - 1) * q, interpolated.
double interpolated(std::span<const double> sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

}  // namespace

double percentile(std::span<const double> sorted, double percent) {
  return nearestRankPercentile(sorted, percent);
}

Distribution summarize(std::vector<double> samples) {
  Distribution out;
  if (samples.empty()) return out;
  std::sort(samples.begin(), samples.end());
  out.count = samples.size();
  out.min = samples.front();
  out.p50 = percentile(samples, 50);
  out.p95 = percentile(samples, 95);
  out.p99 = percentile(samples, 99);
  out.max = samples.back();
  out.mean =
      std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  return out;
}

Spread spreadOf(std::vector<double> values) {
  Spread out;
  if (values.empty()) return out;
  std::sort(values.begin(), values.end());
  out.count = values.size();
  out.min = values.front();
  out.max = values.back();
  out.median = interpolated(values, 0.5);
  out.q1 = interpolated(values, 0.25);
  out.q3 = interpolated(values, 0.75);
  return out;
}

}  // namespace udpchat::lab
