// Which broadcast messages every member of their room has received, and how long that took.
//
// A message is begun (given a sequence number) just before its sender hands it to the transport,
// and is complete when each of the `members` recipients it was begun with has reported it once.
// Its latency is the time from begin() to the delivery that completed it: send to last
// delivery. A second report of the same message by the same recipient is a duplicate and counts
// for nothing; so is a report of a message that is already complete.
//
// Thread safety: begin() and deliver() may be called from any number of threads at once (the
// bench's workers). The statistics are exact once no thread calls either any more.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "bench_clock.hpp"

namespace udpchat::bench {

class CompletionTracker {
 public:
  // No limit on messages in flight (the rate workload).
  static constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

  // `capacity`: messages that can be tracked at once (rounded up to a power of two, at least 2).
  // `maxMembers`: the largest number of recipients a message can have; member numbers passed to
  // deliver() are below it.
  CompletionTracker(std::size_t capacity, std::size_t maxMembers);
  ~CompletionTracker();
  CompletionTracker(const CompletionTracker&) = delete;
  CompletionTracker& operator=(const CompletionTracker&) = delete;

  // Reserves the next sequence number for a message to `members` recipients (1..maxMembers),
  // sent at `now`. nullopt when `window` messages are already in flight, or when the slot the
  // number needs still holds an older incomplete message (counted in slotStalls()).
  std::optional<std::uint64_t> begin(std::size_t window, std::uint32_t members, Nanos now);

  enum class Kind {
    Counted,    // a new delivery; the message still misses somebody
    Completed,  // a new delivery, and the last one the message needed
    Duplicate,  // this member had it already, or the message was complete
    Unknown,    // no such message was begun, or the member number is out of range
  };
  struct Outcome {
    Kind kind = Kind::Unknown;
    Nanos sentAt = 0;           // Counted, Completed: when the message was begun
    Nanos latency = 0;          // Completed: now - sentAt
    std::uint32_t members = 0;  // Counted, Completed: the audience the message was begun with
  };
  // Member `member` of the message's audience received message `seq` at `now`.
  Outcome deliver(std::uint64_t seq, std::uint32_t member, Nanos now);

  std::uint64_t begun() const { return next_.load(std::memory_order_acquire); }
  std::uint64_t completed() const { return completed_.load(std::memory_order_acquire); }
  std::uint64_t inFlight() const { return begun() - completed(); }
  std::uint64_t duplicates() const { return duplicates_.load(std::memory_order_relaxed); }
  std::uint64_t unknown() const { return unknown_.load(std::memory_order_relaxed); }
  std::uint64_t slotStalls() const { return slotStalls_.load(std::memory_order_relaxed); }
  // Deliveries received so far by messages that are not complete. Exact only when quiet.
  std::uint64_t partialDeliveries() const;
  // Recipients the incomplete messages still wait for. Exact only when quiet.
  std::uint64_t missingDeliveries() const;

 private:
  static constexpr std::uint64_t kFree = std::numeric_limits<std::uint64_t>::max();
  struct Slot {
    std::atomic<std::uint64_t> seq{kFree};  // the message held, kFree when none
    std::atomic<std::uint32_t> received{0};
    // Atomic only so that a late duplicate racing a reuse of the slot reads a value, not a race.
    std::atomic<std::uint32_t> members{0};
    std::atomic<Nanos> sentAt{0};
  };

  std::size_t mask_;
  std::size_t words_;  // 64-bit words of member bits per slot
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bits_;  // words_ per slot
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> duplicates_{0};
  std::atomic<std::uint64_t> unknown_{0};
  std::atomic<std::uint64_t> slotStalls_{0};
  std::size_t maxMembers_;
};

}  // namespace udpchat::bench
