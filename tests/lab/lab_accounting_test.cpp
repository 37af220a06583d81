// The lab's message accounting: the text each message carries, and what the receiver makes of
// the arrivals (delivered, in order, duplicates, losses, latency).
#include <gtest/gtest.h>

#include "lab/delivery_tracker.hpp"
#include "lab/probe_text.hpp"

namespace udpchat::lab {
namespace {

TEST(ProbeText, RoundTripsAndPadsToTheSize) {
  const Probe probe{ProbeKind::kChat, 17, 5'123'456'789};
  const std::string text = formatProbe(probe, 100);
  EXPECT_EQ(text.size(), 100u);
  EXPECT_TRUE(text.starts_with("lab chat 17 5123456789 ."));
  EXPECT_EQ(parseProbe(text), probe);
  for (ProbeKind kind : {ProbeKind::kWarmup, ProbeKind::kBulk}) {
    const Probe other{kind, 0, 1};
    EXPECT_EQ(parseProbe(formatProbe(other, 4000)), other);
    EXPECT_EQ(formatProbe(other, 4000).size(), 4000u);
  }
}

TEST(ProbeText, ShortSizeKeepsTheWholeHeader) {
  const Probe probe{ProbeKind::kBulk, 123456, 98'765'432'109};
  const std::string text = formatProbe(probe, 10);
  EXPECT_EQ(text, "lab bulk 123456 98765432109");
  EXPECT_EQ(parseProbe(text), probe);
}

TEST(ProbeText, RefusesWhatTheLabDidNotWrite) {
  for (const char* text :
       {"", "hello", "lab", "lab chat", "lab chat 1", "lab chat 1 ", "lab chat x 2",
        "lab chat 1 2x", "lab talk 1 2", "lab chat -1 2", "lab chat 1 -2", "lab chat 1 2 ..x",
        "lab chat 1 2.", "lab  chat 1 2", "lab chat 1  2", "lab chat 99999999999999999999 1"}) {
    EXPECT_FALSE(parseProbe(text).has_value()) << text;
  }
  EXPECT_TRUE(parseProbe("lab chat 1 2").has_value());
  EXPECT_TRUE(parseProbe("lab chat 1 2 ").has_value());  // padding may be empty
}

TEST(DeliveryTracker, EverythingOnceInOrder) {
  DeliveryTracker t(5);
  for (std::uint64_t seq = 0; seq < 5; ++seq) {
    EXPECT_TRUE(t.arrived(seq, 1000 * static_cast<std::int64_t>(seq), 1000 * seq + 40'500));
  }
  EXPECT_EQ(t.delivered(), 5u);
  EXPECT_EQ(t.lost(), 0u);
  EXPECT_EQ(t.duplicates(), 0u);
  EXPECT_EQ(t.late(), 0u);
  EXPECT_TRUE(t.inOrder());
  EXPECT_TRUE(t.complete());
  EXPECT_EQ(t.latenciesMs(), std::vector<double>(5, 40.5));
  EXPECT_TRUE(t.missing().empty());
}

TEST(DeliveryTracker, GapsAreLossesNotDisorder) {
  // What ENet's sequenced unreliable channel produces: some lost, none late.
  DeliveryTracker t(6);
  for (std::uint64_t seq : {0, 2, 3, 5}) t.arrived(seq, 0, 1000);
  EXPECT_EQ(t.delivered(), 4u);
  EXPECT_EQ(t.lost(), 2u);
  EXPECT_TRUE(t.inOrder());
  EXPECT_FALSE(t.complete());
  EXPECT_EQ(t.missing(), (std::vector<std::uint64_t>{1, 4}));
}

TEST(DeliveryTracker, LateArrivalsBreakTheOrder) {
  // What the unsequenced channel may produce: 1 arrives after 2, and 0 after both.
  DeliveryTracker t(4);
  for (std::uint64_t seq : {2, 1, 3, 0}) t.arrived(seq, 0, 1000);
  EXPECT_EQ(t.delivered(), 4u);
  EXPECT_EQ(t.late(), 2u);
  EXPECT_FALSE(t.inOrder());
  EXPECT_TRUE(t.complete());
  std::vector<std::uint64_t> order;
  for (const Arrival& a : t.firsts()) order.push_back(a.seq);
  EXPECT_EQ(order, (std::vector<std::uint64_t>{2, 1, 3, 0}));
}

TEST(DeliveryTracker, DuplicatesCountOnceAndKeepTheFirstLatency) {
  DeliveryTracker t(3);
  EXPECT_TRUE(t.arrived(0, 0, 40'000));
  EXPECT_FALSE(t.arrived(0, 0, 90'000));
  EXPECT_TRUE(t.arrived(1, 0, 41'000));
  EXPECT_FALSE(t.arrived(1, 0, 42'000));
  EXPECT_EQ(t.delivered(), 2u);
  EXPECT_EQ(t.duplicates(), 2u);
  EXPECT_TRUE(t.inOrder());  // a copy of an old message is a duplicate, not a late one
  EXPECT_EQ(t.latenciesMs(), (std::vector<double>{40, 41}));
}

TEST(DeliveryTracker, StraysAreNeitherDeliveredNorLate) {
  DeliveryTracker t(2);
  EXPECT_FALSE(t.arrived(7, 0, 1));
  EXPECT_TRUE(t.arrived(1, 0, 1));
  EXPECT_TRUE(t.arrived(0, 0, 1));
  EXPECT_EQ(t.strays(), 1u);
  EXPECT_EQ(t.delivered(), 2u);
  EXPECT_EQ(t.late(), 1u);
}

TEST(DeliveryTracker, ExpectedCanGrow) {
  DeliveryTracker t;
  EXPECT_FALSE(t.arrived(0, 0, 1));
  t.setExpected(3);
  EXPECT_TRUE(t.arrived(0, 0, 1));
  EXPECT_EQ(t.lost(), 2u);
}

}  // namespace
}  // namespace udpchat::lab
