#include "pacer.hpp"

#include <gtest/gtest.h>

namespace udpchat::bench {
namespace {

TEST(Pacer, NothingIsDueBeforeTheStart) {
  const Pacer p(10, 1'000);
  EXPECT_EQ(p.dueBy(0), 0u);
  EXPECT_EQ(p.dueBy(999), 0u);
}

TEST(Pacer, TheFirstSendIsDueAtTheStart) {
  const Pacer p(10, 1'000);
  EXPECT_EQ(p.dueAt(0), 1'000);
  EXPECT_EQ(p.dueBy(1'000), 1u);
}

TEST(Pacer, TenPerSecondIsOneEveryHundredMilliseconds) {
  const Pacer p(10, 0);
  EXPECT_EQ(p.dueAt(1), 100'000'000);
  EXPECT_EQ(p.dueAt(10), 1'000'000'000);
  EXPECT_EQ(p.dueBy(99'999'999), 1u);
  EXPECT_EQ(p.dueBy(100'000'000), 2u);
  EXPECT_EQ(p.dueBy(1'000'000'000), 11u);  // sends 0..10
}

TEST(Pacer, FractionalPeriodsRoundUpAndNeverDrift) {
  const Pacer p(3, 0);  // 333 333 333.33 ns apart
  EXPECT_EQ(p.dueAt(1), 333'333'334);
  EXPECT_EQ(p.dueAt(2), 666'666'667);
  EXPECT_EQ(p.dueAt(3), 1'000'000'000);
  EXPECT_EQ(p.dueBy(333'333'333), 1u);
  EXPECT_EQ(p.dueBy(333'333'334), 2u);
  // Over an hour the count is exact: 3 per second, plus the one due at the start.
  EXPECT_EQ(p.dueBy(3600 * kNanosPerSecond), 3u * 3600 + 1);
}

TEST(Pacer, DueByAndDueAtAgreeAtEveryBoundary) {
  for (double rate : {0.5, 1.0, 7.0, 65.3, 1000.0, 12345.6}) {
    const Pacer p(rate, 42);
    for (std::uint64_t k = 0; k < 2000; ++k) {
      const Nanos at = p.dueAt(k);
      ASSERT_EQ(p.dueBy(at), k + 1) << "rate " << rate << " k " << k;
      ASSERT_EQ(p.dueBy(at - 1), k) << "rate " << rate << " k " << k;
    }
  }
}

TEST(Pacer, SlowRatesWork) {
  const Pacer p(0.5, 0);  // one every two seconds
  EXPECT_EQ(p.dueBy(1'999'999'999), 1u);
  EXPECT_EQ(p.dueBy(2'000'000'000), 2u);
}

}  // namespace
}  // namespace udpchat::bench
