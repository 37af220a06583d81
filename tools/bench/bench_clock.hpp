// The bench's clock: nanoseconds on the steady clock. Latencies are differences of these.
#pragma once

#include <chrono>
#include <cstdint>

namespace udpchat::bench {

using Nanos = std::int64_t;  // nanoseconds

inline constexpr Nanos kNanosPerMilli = 1'000'000;
inline constexpr Nanos kNanosPerSecond = 1'000'000'000;

inline Nanos monoNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline double toMillis(Nanos ns) {
  return static_cast<double>(ns) / 1e6;
}
inline double toSeconds(Nanos ns) {
  return static_cast<double>(ns) / 1e9;
}
inline Nanos fromSeconds(double s) {
  return static_cast<Nanos>(s * 1e9);
}

}  // namespace udpchat::bench
