#include "udpchat/rate_limiter.hpp"

#include <algorithm>

namespace udpchat {

namespace {
constexpr std::int64_t kToken = 1000;
}

RateLimiter::RateLimiter(std::uint32_t burst, std::uint32_t perSecond, Millis now)
    : capacity_(std::int64_t{burst} * kToken),
      level_(capacity_),
      perSecond_(std::max<std::int64_t>(perSecond, 1)),
      last_(now) {}

void RateLimiter::refill(Millis now) {
  if (now > last_) {
    // perSecond tokens per 1000 ms is perSecond thousandths per millisecond.
    level_ = std::min(capacity_, level_ + (now - last_) * perSecond_);
    last_ = now;
  }
}

bool RateLimiter::tryTake(Millis now) {
  refill(now);
  if (level_ < kToken) return false;
  level_ -= kToken;
  return true;
}

Millis RateLimiter::retryAfter(Millis now) {
  refill(now);
  if (level_ >= kToken) return 0;
  return (kToken - level_ + perSecond_ - 1) / perSecond_;
}

void RateLimiter::reconfigure(std::uint32_t burst, std::uint32_t perSecond, Millis now) {
  refill(now);
  capacity_ = std::int64_t{burst} * kToken;
  perSecond_ = std::max<std::int64_t>(perSecond, 1);
  level_ = std::min(level_, capacity_);
}

}  // namespace udpchat
