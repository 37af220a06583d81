// Accounting for one numbered stream of messages as its receiver sees it: which arrived, how
// often, in what order, and how long each took. No sockets, no clock: arrivals are fed in.
//
// Definitions (docs/LAB.md, "What the figures mean"):
//  - delivered: distinct sequence numbers in [0, expected) that arrived at least once;
//  - duplicate: a further copy of a sequence number that had already arrived;
//  - late (out of order): a first copy arriving after a higher sequence number did; a stream
//    with gaps but no late message is still in order (ENet's sequenced mode drops a message
//    rather than deliver it late);
//  - stray: a sequence number outside [0, expected);
//  - latency: arrival time minus send time of the first copy, in milliseconds.
#pragma once

#include <cstdint>
#include <vector>

namespace udpchat::lab {

struct Arrival {
  std::uint64_t seq = 0;
  std::int64_t sentUs = 0;  // microseconds, the shared clock
  double latencyMs = 0;
};

class DeliveryTracker {
 public:
  explicit DeliveryTracker(std::uint64_t expected = 0);

  // Messages 0..expected-1 were sent. May grow while arrivals come in.
  void setExpected(std::uint64_t expected);

  // One copy of `seq`, sent at `sentUs` and received at `arrivedUs`. Returns true for the first
  // copy of a sequence number within range.
  bool arrived(std::uint64_t seq, std::int64_t sentUs, std::int64_t arrivedUs);

  std::uint64_t expected() const { return expected_; }
  std::uint64_t delivered() const { return firsts_.size(); }
  std::uint64_t lost() const { return expected_ - delivered(); }
  std::uint64_t duplicates() const { return duplicates_; }
  std::uint64_t late() const { return late_; }
  std::uint64_t strays() const { return strays_; }
  bool inOrder() const { return late_ == 0; }
  bool complete() const { return delivered() == expected_; }

  // First copies, in arrival order.
  const std::vector<Arrival>& firsts() const { return firsts_; }
  std::vector<double> latenciesMs() const;
  // Sequence numbers in [0, expected) that never arrived, ascending.
  std::vector<std::uint64_t> missing() const;

 private:
  std::uint64_t expected_ = 0;
  std::vector<bool> seen_;
  std::vector<Arrival> firsts_;
  std::uint64_t duplicates_ = 0;
  std::uint64_t late_ = 0;
  std::uint64_t strays_ = 0;
  bool any_ = false;
  std::uint64_t highest_ = 0;
};

}  // namespace udpchat::lab
