#include "completion_tracker.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace udpchat::bench {
namespace {

using Kind = CompletionTracker::Kind;

TEST(CompletionTracker, AMessageCompletesOnlyWhenEveryMemberHasIt) {
  CompletionTracker t(8, 3);
  const auto seq = t.begin(CompletionTracker::kUnlimited, 3, 1000);
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 0u);
  EXPECT_EQ(t.deliver(*seq, 0, 1100).kind, Kind::Counted);
  EXPECT_EQ(t.deliver(*seq, 2, 1200).kind, Kind::Counted);
  EXPECT_EQ(t.completed(), 0u);
  EXPECT_EQ(t.inFlight(), 1u);
  const auto last = t.deliver(*seq, 1, 1500);
  EXPECT_EQ(last.kind, Kind::Completed);
  EXPECT_EQ(t.completed(), 1u);
  EXPECT_EQ(t.inFlight(), 0u);
}

TEST(CompletionTracker, LatencyRunsFromSendToTheLastDelivery) {
  CompletionTracker t(8, 2);
  const auto seq = t.begin(CompletionTracker::kUnlimited, 2, 10'000);
  const auto first = t.deliver(*seq, 1, 10'400);
  EXPECT_EQ(first.sentAt, 10'000);
  EXPECT_EQ(first.latency, 0);  // not complete: no latency yet
  const auto last = t.deliver(*seq, 0, 12'500);
  EXPECT_EQ(last.kind, Kind::Completed);
  EXPECT_EQ(last.sentAt, 10'000);
  EXPECT_EQ(last.latency, 2'500);
  EXPECT_EQ(last.members, 2u);
}

TEST(CompletionTracker, DuplicatesAreNotCounted) {
  CompletionTracker t(8, 3);
  const auto seq = t.begin(CompletionTracker::kUnlimited, 3, 0);
  EXPECT_EQ(t.deliver(*seq, 0, 1).kind, Kind::Counted);
  EXPECT_EQ(t.deliver(*seq, 0, 2).kind, Kind::Duplicate);
  EXPECT_EQ(t.deliver(*seq, 0, 3).kind, Kind::Duplicate);
  EXPECT_EQ(t.deliver(*seq, 1, 4).kind, Kind::Counted);
  // Three receipts by member 0 do not make up for member 2.
  EXPECT_EQ(t.completed(), 0u);
  EXPECT_EQ(t.partialDeliveries(), 2u);
  EXPECT_EQ(t.missingDeliveries(), 1u);
  EXPECT_EQ(t.deliver(*seq, 2, 5).kind, Kind::Completed);
  EXPECT_EQ(t.duplicates(), 2u);
}

TEST(CompletionTracker, ADeliveryAfterCompletionIsADuplicate) {
  CompletionTracker t(8, 1);
  const auto seq = t.begin(CompletionTracker::kUnlimited, 1, 0);
  EXPECT_EQ(t.deliver(*seq, 0, 1).kind, Kind::Completed);
  EXPECT_EQ(t.deliver(*seq, 0, 2).kind, Kind::Duplicate);
  EXPECT_EQ(t.completed(), 1u);
  EXPECT_EQ(t.duplicates(), 1u);
}

TEST(CompletionTracker, UnknownMessagesAndMembersCountForNothing) {
  CompletionTracker t(8, 2);
  EXPECT_EQ(t.deliver(0, 0, 1).kind, Kind::Unknown);  // nothing begun yet
  const auto seq = t.begin(CompletionTracker::kUnlimited, 2, 0);
  EXPECT_EQ(t.deliver(*seq + 1, 0, 1).kind, Kind::Unknown);
  EXPECT_EQ(t.deliver(*seq, 2, 1).kind, Kind::Unknown);  // beyond maxMembers
  EXPECT_EQ(t.unknown(), 3u);
  EXPECT_EQ(t.partialDeliveries(), 0u);
}

TEST(CompletionTracker, AMemberOutsideTheMessagesAudienceIsUnknown) {
  CompletionTracker t(8, 4);
  const auto seq = t.begin(CompletionTracker::kUnlimited, 2, 0);  // a room of two
  EXPECT_EQ(t.deliver(*seq, 3, 1).kind, Kind::Unknown);
  EXPECT_EQ(t.deliver(*seq, 0, 1).kind, Kind::Counted);
  EXPECT_EQ(t.deliver(*seq, 1, 1).kind, Kind::Completed);
}

TEST(CompletionTracker, TheWindowBoundsMessagesInFlight) {
  CompletionTracker t(16, 1);
  EXPECT_TRUE(t.begin(2, 1, 0));
  EXPECT_TRUE(t.begin(2, 1, 0));
  EXPECT_FALSE(t.begin(2, 1, 0));                       // two in flight
  EXPECT_EQ(t.deliver(1, 0, 5).kind, Kind::Completed);  // out of order is fine
  const auto next = t.begin(2, 1, 0);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 2u);
  EXPECT_FALSE(t.begin(2, 1, 0));
  EXPECT_EQ(t.begun(), 3u);
}

TEST(CompletionTracker, AStuckMessageHoldsItsSlotInsteadOfBeingOverwritten) {
  CompletionTracker t(2, 1);                                        // two slots
  const auto stuck = t.begin(CompletionTracker::kUnlimited, 1, 0);  // seq 0, never delivered
  const auto one = t.begin(CompletionTracker::kUnlimited, 1, 0);    // seq 1
  EXPECT_EQ(t.deliver(*one, 0, 1).kind, Kind::Completed);
  // Seq 2 would need slot 0, which seq 0 still holds.
  EXPECT_FALSE(t.begin(CompletionTracker::kUnlimited, 1, 0));
  EXPECT_EQ(t.slotStalls(), 1u);
  EXPECT_EQ(t.deliver(*stuck, 0, 2).kind, Kind::Completed);
  EXPECT_TRUE(t.begin(CompletionTracker::kUnlimited, 1, 0));
}

TEST(CompletionTracker, RefusesAnAudienceItCannotTrack) {
  CompletionTracker t(8, 3);
  EXPECT_FALSE(t.begin(CompletionTracker::kUnlimited, 0, 0));
  EXPECT_FALSE(t.begin(CompletionTracker::kUnlimited, 4, 0));
  EXPECT_EQ(t.begun(), 0u);
}

TEST(CompletionTracker, LargeAudiencesUseEveryBit) {
  constexpr std::uint32_t kMembers = 200;  // four 64-bit words
  CompletionTracker t(4, kMembers);
  const auto seq = t.begin(CompletionTracker::kUnlimited, kMembers, 0);
  for (std::uint32_t m = 0; m + 1 < kMembers; ++m) {
    ASSERT_EQ(t.deliver(*seq, m, 1).kind, Kind::Counted) << m;
  }
  EXPECT_EQ(t.deliver(*seq, 63, 1).kind, Kind::Duplicate);
  EXPECT_EQ(t.deliver(*seq, 64, 1).kind, Kind::Duplicate);
  EXPECT_EQ(t.deliver(*seq, kMembers - 1, 1).kind, Kind::Completed);
}

TEST(CompletionTracker, ASlotReusedAfterCompletionStartsClean) {
  CompletionTracker t(2, 2);
  for (int round = 0; round < 5; ++round) {
    const auto seq = t.begin(1, 2, round);
    ASSERT_TRUE(seq);
    EXPECT_EQ(t.deliver(*seq, 0, round).kind, Kind::Counted);
    EXPECT_EQ(t.deliver(*seq, 1, round).kind, Kind::Completed);
  }
  EXPECT_EQ(t.completed(), 5u);
  EXPECT_EQ(t.duplicates(), 0u);
}

TEST(CompletionTracker, ConcurrentDeliveriesCompleteEachMessageExactlyOnce) {
  constexpr std::uint32_t kMembers = 8;
  constexpr int kMessages = 2000;
  CompletionTracker t(4096, kMembers);
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < kMessages; ++i)
    seqs.push_back(*t.begin(CompletionTracker::kUnlimited, kMembers, 0));
  // Two threads deliver every message to every member, each also repeating half of the other's
  // deliveries: every message must complete once and every repeat be a duplicate.
  std::atomic<int> completions{0};
  auto work = [&](std::uint32_t firstMember) {
    for (auto seq : seqs) {
      for (std::uint32_t m = firstMember; m < firstMember + kMembers / 2; ++m) {
        if (t.deliver(seq, m, 1).kind == Kind::Completed) ++completions;
      }
      const std::uint32_t other = (firstMember + kMembers / 2) % kMembers;
      if (t.deliver(seq, other, 1).kind == Kind::Completed) ++completions;
    }
  };
  std::thread a(work, 0), b(work, kMembers / 2);
  a.join();
  b.join();
  EXPECT_EQ(completions.load(), kMessages);
  EXPECT_EQ(t.completed(), static_cast<std::uint64_t>(kMessages));
  EXPECT_EQ(t.duplicates(), static_cast<std::uint64_t>(2 * kMessages));
}

}  // namespace
}  // namespace udpchat::bench
