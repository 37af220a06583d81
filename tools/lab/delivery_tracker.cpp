#include "lab/delivery_tracker.hpp"

namespace udpchat::lab {

DeliveryTracker::DeliveryTracker(std::uint64_t expected) {
  setExpected(expected);
}

void DeliveryTracker::setExpected(std::uint64_t expected) {
  expected_ = expected;
  if (seen_.size() < expected) seen_.resize(expected, false);
}

bool DeliveryTracker::arrived(std::uint64_t seq, std::int64_t sentUs, std::int64_t arrivedUs) {
  if (seq >= expected_) {
    ++strays_;
    return false;
  }
  if (seen_[seq]) {
    ++duplicates_;
    return false;
  }
  seen_[seq] = true;
  if (any_ && seq < highest_) ++late_;
  if (!any_ || seq > highest_) highest_ = seq;
  any_ = true;
  firsts_.push_back(Arrival{seq, sentUs, static_cast<double>(arrivedUs - sentUs) / 1000.0});
  return true;
}

std::vector<double> DeliveryTracker::latenciesMs() const {
  std::vector<double> out;
  out.reserve(firsts_.size());
  for (const Arrival& a : firsts_) out.push_back(a.latencyMs);
  return out;
}

std::vector<std::uint64_t> DeliveryTracker::missing() const {
  std::vector<std::uint64_t> out;
  for (std::uint64_t seq = 0; seq < expected_; ++seq) {
    if (!seen_[seq]) out.push_back(seq);
  }
  return out;
}

}  // namespace udpchat::lab
