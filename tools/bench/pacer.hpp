// Fixed-rate pacing for one sender: send number k (counting from 0) is due at
// start + ceil(k * 1e9 / rate) nanoseconds. A sender that fell behind sends what is due at once,
// so the long-run rate is exact whatever the loop's wake-up granularity.
#pragma once

#include <cstdint>

#include "bench_clock.hpp"

namespace udpchat::bench {

class Pacer {
 public:
  // `perSecond` > 0: messages per second. `start`: when send 0 is due.
  Pacer(double perSecond, Nanos start);

  // When send number `k` is due.
  Nanos dueAt(std::uint64_t k) const;
  // How many sends are due by `now` in total (0 before start): the number of k with
  // dueAt(k) <= now.
  std::uint64_t dueBy(Nanos now) const;

  double perSecond() const { return perSecond_; }
  Nanos start() const { return start_; }

 private:
  double perSecond_;
  double periodNs_;
  Nanos start_;
};

}  // namespace udpchat::bench
