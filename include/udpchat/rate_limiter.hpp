// Token bucket: `burst` requests at once, refilled at `perSecond`. Integer arithmetic in
// thousandths of a token, so equal inputs give equal answers on every machine.
#pragma once

#include <cstdint>

#include "udpchat/time.hpp"

namespace udpchat {

class RateLimiter {
 public:
  RateLimiter() = default;
  // Starts full at time `now` (monotonic milliseconds).
  RateLimiter(std::uint32_t burst, std::uint32_t perSecond, Millis now);

  // Takes one token if there is one.
  bool tryTake(Millis now);
  // Milliseconds until tryTake() would succeed; 0 when it would now.
  Millis retryAfter(Millis now);
  // Changes the limits (the client learns them from the server's Welcome), keeping the level.
  void reconfigure(std::uint32_t burst, std::uint32_t perSecond, Millis now);

 private:
  void refill(Millis now);

  std::int64_t capacity_ = 1000;  // thousandths of a token
  std::int64_t level_ = 1000;
  std::int64_t perSecond_ = 1;    // tokens per second == thousandths per millisecond
  Millis last_ = 0;
};

}  // namespace udpchat
