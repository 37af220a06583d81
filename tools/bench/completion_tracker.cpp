#include "completion_tracker.hpp"

#include <algorithm>
#include <bit>

namespace udpchat::bench {

CompletionTracker::CompletionTracker(std::size_t capacity, std::size_t maxMembers)
    : mask_(std::bit_ceil(std::max<std::size_t>(capacity, 2)) - 1),
      words_((std::max<std::size_t>(maxMembers, 1) + 63) / 64),
      slots_(std::make_unique<Slot[]>(mask_ + 1)),
      bits_(std::make_unique<std::atomic<std::uint64_t>[]>((mask_ + 1) * words_)),
      maxMembers_(std::max<std::size_t>(maxMembers, 1)) {}

CompletionTracker::~CompletionTracker() = default;

std::optional<std::uint64_t> CompletionTracker::begin(std::size_t window, std::uint32_t members,
                                                      Nanos now) {
  if (members == 0 || members > maxMembers_) return std::nullopt;
  std::uint64_t seq = next_.load(std::memory_order_acquire);
  for (;;) {
    if (window != kUnlimited && seq - completed_.load(std::memory_order_acquire) >= window) {
      return std::nullopt;
    }
    // Only `seq` itself can take this slot next: numbers are handed out in order, and the
    // previous holder (seq - capacity) frees it only when it completes.
    if (slots_[seq & mask_].seq.load(std::memory_order_acquire) != kFree) {
      slotStalls_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    if (next_.compare_exchange_weak(seq, seq + 1, std::memory_order_acq_rel)) break;
  }
  Slot& slot = slots_[seq & mask_];
  std::atomic<std::uint64_t>* bits = &bits_[(seq & mask_) * words_];
  for (std::size_t w = 0; w < words_; ++w) bits[w].store(0, std::memory_order_relaxed);
  slot.received.store(0, std::memory_order_relaxed);
  slot.members.store(members, std::memory_order_relaxed);
  slot.sentAt.store(now, std::memory_order_relaxed);
  slot.seq.store(seq, std::memory_order_release);  // publishes the fields above
  return seq;
}

CompletionTracker::Outcome CompletionTracker::deliver(std::uint64_t seq, std::uint32_t member,
                                                      Nanos now) {
  Outcome out;
  if (member >= maxMembers_ || seq >= next_.load(std::memory_order_acquire)) {
    unknown_.fetch_add(1, std::memory_order_relaxed);
    return out;
  }
  Slot& slot = slots_[seq & mask_];
  if (slot.seq.load(std::memory_order_acquire) != seq) {
    // Begun earlier and no longer held: it completed, so every member had it already.
    duplicates_.fetch_add(1, std::memory_order_relaxed);
    out.kind = Kind::Duplicate;
    return out;
  }
  const std::uint32_t members = slot.members.load(std::memory_order_relaxed);
  if (member >= members) {
    unknown_.fetch_add(1, std::memory_order_relaxed);
    return out;
  }
  const std::uint64_t bit = std::uint64_t{1} << (member % 64);
  std::atomic<std::uint64_t>& word = bits_[(seq & mask_) * words_ + member / 64];
  if ((word.fetch_or(bit, std::memory_order_acq_rel) & bit) != 0) {
    duplicates_.fetch_add(1, std::memory_order_relaxed);
    out.kind = Kind::Duplicate;
    return out;
  }
  out.sentAt = slot.sentAt.load(std::memory_order_relaxed);
  out.members = members;
  const std::uint32_t received = slot.received.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (received < members) {
    out.kind = Kind::Counted;
    return out;
  }
  out.kind = Kind::Completed;
  out.latency = now - out.sentAt;
  slot.seq.store(kFree, std::memory_order_release);
  completed_.fetch_add(1, std::memory_order_acq_rel);
  return out;
}

std::uint64_t CompletionTracker::partialDeliveries() const {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i <= mask_; ++i) {
    if (slots_[i].seq.load(std::memory_order_acquire) != kFree) {
      sum += slots_[i].received.load(std::memory_order_relaxed);
    }
  }
  return sum;
}

std::uint64_t CompletionTracker::missingDeliveries() const {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i <= mask_; ++i) {
    if (slots_[i].seq.load(std::memory_order_acquire) != kFree) {
      sum += slots_[i].members.load(std::memory_order_relaxed) -
             slots_[i].received.load(std::memory_order_relaxed);
    }
  }
  return sum;
}

}  // namespace udpchat::bench
