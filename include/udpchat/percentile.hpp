// The nearest-rank percentile, used by udpchat-bench and udpchat-lab so that both report the
// same kind of figure: the p-th percentile of n sorted samples is the sample at 1-based rank
// ceil(p / 100 * n) (rank 1 for p = 0). It is always one of the measured values, never an
// interpolation between two.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

namespace udpchat {

// `sorted` ascending; `percent` clamped to [0, 100]. T{} for no samples.
template <class T>
T nearestRankPercentile(std::span<const T> sorted, double percent) {
  if (sorted.empty()) return T{};
  const double clamped = std::clamp(percent, 0.0, 100.0);
  const auto n = static_cast<double>(sorted.size());
  // ceil(p/100 * n), computed so that p = 50, n = 10 gives exactly rank 5 despite rounding.
  auto rank = static_cast<std::size_t>(std::ceil(clamped * n / 100.0 - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

}  // namespace udpchat
