// The link model without sockets: every parameter's effect, at its configured rate, and the
// seeding that makes a run reproducible. Times are microseconds on a hand-set clock.
#include "lab/link_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <sstream>
#include <vector>

namespace udpchat::lab {
namespace {

constexpr Direction kC2s = Direction::kClientToServer;
constexpr Direction kS2c = Direction::kServerToClient;

// Offers `count` packets of `size` bytes in one direction, one every `gapUs` microseconds.
std::vector<Decision> offerEvenly(const DirectionConfig& config, std::uint64_t seed, int count,
                                  Micros gapUs = 1000, std::uint32_t size = 100) {
  DirectionModel model(kC2s, config, seed);
  std::vector<Decision> out;
  for (int i = 0; i < count; ++i) out.push_back(model.offer(size, i * gapUs));
  return out;
}

long countFate(const std::vector<Decision>& log, Fate fate) {
  return std::count_if(log.begin(), log.end(), [&](const Decision& d) { return d.fate == fate; });
}

// |observed - n p| within `sigmas` standard deviations of the binomial distribution.
void expectBinomial(long observed, int n, double p, double sigmas = 4.5) {
  const double mean = n * p;
  const double sd = std::sqrt(n * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(observed), mean, sigmas * sd)
      << "n " << n << ", p " << p << ": expected " << mean << " +- " << sigmas * sd;
}

// Lengths of the runs of consecutive dropped packets.
std::vector<int> lossBursts(const std::vector<Decision>& log) {
  std::vector<int> bursts;
  int run = 0;
  for (const Decision& d : log) {
    if (!d.delivered()) {
      ++run;
    } else if (run > 0) {
      bursts.push_back(run);
      run = 0;
    }
  }
  if (run > 0) bursts.push_back(run);
  return bursts;
}

double mean(const std::vector<int>& values) {
  double sum = 0;
  for (int v : values) sum += v;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

TEST(LinkModel, ZeroLossDeliversEverythingAtOnce) {
  const auto log = offerEvenly(DirectionConfig{}, 1, 10'000);
  for (const Decision& d : log) {
    ASSERT_TRUE(d.delivered());
    EXPECT_EQ(d.departure, d.arrival);
    EXPECT_FALSE(d.duplicate);
    EXPECT_FALSE(d.reordered);
  }
}

TEST(LinkModel, FullLossDeliversNothing) {
  DirectionConfig config;
  config.lossPct = 100;
  const auto log = offerEvenly(config, 1, 10'000);
  EXPECT_EQ(countFate(log, Fate::kLost), 10'000);
  for (const Decision& d : log) EXPECT_FALSE(d.departure);
}

TEST(LinkModel, HalfLossLandsWithinBinomialBound) {
  DirectionConfig config;
  config.lossPct = 50;
  for (std::uint64_t seed : {1, 2, 3, 42, 1234567}) {
    expectBinomial(countFate(offerEvenly(config, seed, 10'000), Fate::kLost), 10'000, 0.5);
  }
  config.lossPct = 5;
  expectBinomial(countFate(offerEvenly(config, 9, 10'000), Fate::kLost), 10'000, 0.05);
}

TEST(LinkModel, GilbertElliottMatchesStationaryLossAndBurstLength) {
  // Simple Gilbert: lose everything while bad. p = 1 %, r = 25 %: loss p / (p + r) = 1/26,
  // bursts of mean length 1 / r = 4.
  DirectionConfig config;
  config.gilbert = GilbertElliott{1, 25, 0, 100};
  const int n = 200'000;
  const auto log = offerEvenly(config, 5, n);
  const double loss = static_cast<double>(countFate(log, Fate::kBurstLost)) / n;
  EXPECT_NEAR(loss, 1.0 / 26.0, 0.005);
  EXPECT_NEAR(mean(lossBursts(log)), 4.0, 0.4);

  // The same average loss without memory comes in bursts of about 1 / (1 - loss) packets.
  DirectionConfig independent;
  independent.lossPct = 100.0 / 26.0;
  const auto flat = offerEvenly(independent, 5, n);
  EXPECT_NEAR(static_cast<double>(countFate(flat, Fate::kLost)) / n, 1.0 / 26.0, 0.005);
  EXPECT_LT(mean(lossBursts(flat)), 1.1);
}

TEST(LinkModel, GilbertElliottWithLossInBothStates) {
  // pi_bad = p / (p + r) = 0.2; loss = 0.8 * 1 % + 0.2 * 50 % = 10.8 %.
  DirectionConfig config;
  config.gilbert = GilbertElliott{5, 20, 1, 50};
  const int n = 200'000;
  const auto log = offerEvenly(config, 11, n);
  EXPECT_NEAR(static_cast<double>(countFate(log, Fate::kBurstLost)) / n, 0.108, 0.006);
}

TEST(LinkModel, DelayShowsUpExactly) {
  DirectionConfig config;
  config.delayMs = 20;
  for (const Decision& d : offerEvenly(config, 1, 1000)) {
    ASSERT_TRUE(d.departure);
    EXPECT_EQ(*d.departure - d.arrival, 20'000);
  }
  config.delayMs = 0.25;  // fractions of a millisecond are kept to the microsecond
  for (const Decision& d : offerEvenly(config, 1, 10)) EXPECT_EQ(*d.departure - d.arrival, 250);
}

TEST(LinkModel, JitterStaysWithinBoundsWithoutReordering) {
  DirectionConfig config;
  config.delayMs = 20;
  config.jitterMs = 5;
  const auto log = offerEvenly(config, 3, 10'000, 1000);
  Micros previous = 0;
  Micros lowest = 1'000'000;
  Micros highest = 0;
  for (const Decision& d : log) {
    const Micros delay = *d.departure - d.arrival;
    EXPECT_GE(delay, 15'000);
    EXPECT_LE(delay, 25'000);
    EXPECT_GE(*d.departure, previous) << "packet " << d.index << " left before its predecessor";
    previous = *d.departure;
    lowest = std::min(lowest, delay);
    highest = std::max(highest, delay);
  }
  EXPECT_LT(lowest, 15'500);  // the whole range is used
  EXPECT_GT(highest, 24'500);
}

TEST(LinkModel, JitterReordersOnlyWhenAsked) {
  DirectionConfig config;
  config.delayMs = 20;
  config.jitterMs = 5;
  config.jitterReorders = true;
  const auto log = offerEvenly(config, 3, 10'000, 1000);
  int inversions = 0;
  for (std::size_t i = 1; i < log.size(); ++i) {
    inversions += *log[i].departure < *log[i - 1].departure;
    const Micros delay = *log[i].departure - log[i].arrival;
    EXPECT_GE(delay, 15'000);
    EXPECT_LE(delay, 25'000);
  }
  EXPECT_GT(inversions, 1000);
}

TEST(LinkModel, ReorderingHoldsBackTheConfiguredShare) {
  DirectionConfig config;
  config.delayMs = 1;
  config.reorderPct = 10;
  config.reorderDelayMs = 5;
  const int n = 10'000;
  const auto log = offerEvenly(config, 4, n, 500);
  long reordered = 0;
  Micros lastInOrder = 0;
  for (int i = 0; i < n; ++i) {
    const Decision& d = log[static_cast<std::size_t>(i)];
    if (d.reordered) {
      ++reordered;
      EXPECT_EQ(*d.departure - d.arrival, 6'000);
      // Overtaken by the next packet that was not held back.
      for (int j = i + 1; j < n; ++j) {
        if (!log[static_cast<std::size_t>(j)].reordered) {
          EXPECT_LT(*log[static_cast<std::size_t>(j)].departure, *d.departure);
          break;
        }
      }
    } else {
      EXPECT_EQ(*d.departure - d.arrival, 1'000);
      EXPECT_GE(*d.departure, lastInOrder);
      lastInOrder = *d.departure;
    }
  }
  expectBinomial(reordered, n, 0.10);
}

TEST(LinkModel, DuplicationAtTheConfiguredRate) {
  DirectionConfig config;
  config.duplicatePct = 10;
  config.delayMs = 2;
  const int n = 10'000;
  const auto log = offerEvenly(config, 6, n);
  long duplicated = 0;
  for (const Decision& d : log) {
    if (!d.duplicate) continue;
    ++duplicated;
    EXPECT_EQ(*d.duplicate, *d.departure);  // without jitter the copy leaves with the original
  }
  expectBinomial(duplicated, n, 0.10);

  config.lossPct = 100;  // a lost packet is never duplicated
  for (const Decision& d : offerEvenly(config, 6, 1000)) EXPECT_FALSE(d.duplicate);
}

TEST(LinkModel, DuplicateWithJitterNeverLeavesBeforeItsOriginal) {
  DirectionConfig config;
  config.duplicatePct = 50;
  config.delayMs = 10;
  config.jitterMs = 3;
  Micros previous = 0;
  for (const Decision& d : offerEvenly(config, 8, 5000, 200)) {
    EXPECT_GE(*d.departure, previous);
    previous = *d.departure;
    if (d.duplicate) {
      EXPECT_GE(*d.duplicate, *d.departure);
      EXPECT_LE(*d.duplicate - d.arrival, 13'000);
      previous = *d.duplicate;  // nothing later leaves before the copy either
    }
  }
}

TEST(LinkModel, RateLimitSpacesDepartures) {
  // 125 bytes = 1000 bits; at 1000 kbit/s each takes exactly 1 ms.
  DirectionConfig config;
  config.rateKbit = 1000;
  config.delayMs = 5;
  DirectionModel model(kC2s, config, 1);
  for (int i = 0; i < 100; ++i) {
    const Decision d = model.offer(125, 0);
    ASSERT_TRUE(d.delivered());
    EXPECT_EQ(*d.departure, (i + 1) * 1000 + 5000);
  }
  // A packet after the burst has drained goes straight through.
  const Decision later = model.offer(125, 200'000);
  EXPECT_EQ(*later.departure, 201'000 + 5000);
  // 1500 bytes at 12000 kbit/s: 1 ms.
  config.rateKbit = 12'000;
  DirectionModel fast(kC2s, config, 1);
  EXPECT_EQ(*fast.offer(1500, 0).departure, 6000);
}

TEST(LinkModel, RateLimitDropsAtThePacketBound) {
  DirectionConfig config;
  config.rateKbit = 1000;
  config.queuePackets = 10;  // the packet being sent counts
  DirectionModel model(kC2s, config, 1);
  for (int i = 0; i < 30; ++i) {
    const Decision d = model.offer(125, 0);
    if (i < 10) {
      ASSERT_TRUE(d.delivered()) << i;
      EXPECT_EQ(*d.departure, (i + 1) * 1000);
    } else {
      EXPECT_EQ(d.fate, Fate::kQueueFull) << i;
    }
  }
  // At 5.5 ms five packets have left, five are queued: room for one more, after the tenth.
  EXPECT_EQ(*model.offer(125, 5'500).departure, 11'000);
  // At 10 ms (the tenth's departure) the queue holds only the eleventh.
  EXPECT_EQ(*model.offer(125, 10'000).departure, 12'000);
}

TEST(LinkModel, RateLimitDropsAtTheByteBound) {
  DirectionConfig config;
  config.rateKbit = 1000;
  config.queueBytes = 500;
  DirectionModel model(kC2s, config, 1);
  int delivered = 0;
  for (int i = 0; i < 10; ++i) delivered += model.offer(125, 0).delivered();
  EXPECT_EQ(delivered, 4);
  EXPECT_EQ(model.offer(501, 100'000).fate, Fate::kQueueFull);  // larger than the whole queue
}

TEST(LinkModel, RateLimitCapsThroughputUnderOverload) {
  // Twice the link rate for one second into a 20-packet queue: about the link rate gets out.
  DirectionConfig config;
  config.rateKbit = 1000;
  config.queuePackets = 20;
  const auto log = offerEvenly(config, 1, 2000, 500, 125);
  const long delivered = countFate(log, Fate::kDelivered);
  EXPECT_GE(delivered, 1000);
  EXPECT_LE(delivered, 1021);
  EXPECT_EQ(delivered + countFate(log, Fate::kQueueFull), 2000);
}

LinkConfig everything(std::uint64_t seed) {
  DirectionConfig c;
  c.lossPct = 3;
  c.gilbert = GilbertElliott{2, 30, 0, 80};
  c.delayMs = 10;
  c.jitterMs = 4;
  c.reorderPct = 5;
  c.reorderDelayMs = 7;
  c.duplicatePct = 4;
  c.rateKbit = 2000;
  c.queuePackets = 30;
  return LinkConfig::symmetric(c, seed);
}

std::vector<Decision> runBothWays(const LinkConfig& config, int count) {
  LinkModel model(config);
  std::mt19937 traffic(99);  // the packet sequence, fixed apart from the link's seed
  Micros now = 0;
  for (int i = 0; i < count; ++i) {
    now += static_cast<Micros>(traffic() % 800);
    const Direction d = traffic() % 3 == 0 ? kS2c : kC2s;
    model.offer(d, 40 + traffic() % 1400, now);
  }
  return model.log();
}

TEST(LinkModel, SameSeedGivesIdenticalLog) {
  const auto first = runBothWays(everything(17), 20'000);
  const auto second = runBothWays(everything(17), 20'000);
  EXPECT_EQ(first, second);
  std::ostringstream a;
  std::ostringstream b;
  writeLog(a, first);
  writeLog(b, second);
  EXPECT_EQ(a.str(), b.str());
  // Every kind of decision was exercised.
  for (Fate fate : {Fate::kDelivered, Fate::kLost, Fate::kBurstLost, Fate::kQueueFull}) {
    EXPECT_GT(countFate(first, fate), 0) << to_string(fate);
  }
}

TEST(LinkModel, DifferentSeedGivesDifferentLog) {
  EXPECT_NE(runBothWays(everything(17), 5000), runBothWays(everything(18), 5000));
  EXPECT_NE(directionSeed(17, kC2s), directionSeed(17, kS2c));
}

TEST(LinkModel, DirectionsDrawIndependently) {
  // The client-to-server decisions do not change when server-to-client traffic is added.
  LinkConfig config = everything(5);
  LinkModel alone(config);
  LinkModel mixed(config);
  for (int i = 0; i < 3000; ++i) {
    alone.offer(kC2s, 200, i * 300);
    mixed.offer(kS2c, 300, i * 300);
    mixed.offer(kC2s, 200, i * 300);
  }
  std::vector<Decision> mixedC2s;
  for (const Decision& d : mixed.log()) {
    if (d.direction == kC2s) mixedC2s.push_back(d);
  }
  EXPECT_EQ(alone.log(), mixedC2s);
}

TEST(LinkModel, DrawsAreFixedPerPacketSoLossSetsNest) {
  // With one seed, the packets lost at 5 % are among those lost at 10 %, and adding jitter or
  // duplication does not change which packets are lost.
  DirectionConfig low;
  low.lossPct = 5;
  DirectionConfig high = low;
  high.lossPct = 10;
  high.jitterMs = 3;
  high.delayMs = 5;
  high.duplicatePct = 20;
  const auto lowLog = offerEvenly(low, 21, 10'000);
  const auto highLog = offerEvenly(high, 21, 10'000);
  long lostLow = 0;
  for (std::size_t i = 0; i < lowLog.size(); ++i) {
    if (lowLog[i].fate == Fate::kLost) {
      ++lostLow;
      EXPECT_EQ(highLog[i].fate, Fate::kLost) << i;
    }
  }
  EXPECT_GT(countFate(highLog, Fate::kLost), lostLow);
}

TEST(LinkModel, ChangingTheLossMidwayDecidesAsIfItHadBeenSoFromTheStart) {
  // 3000 packets at 0 %, then 3000 at 100 %, then 3000 at 10 %: each stretch decides exactly as
  // a link that had its rate from the start decides the same packets.
  LinkConfig config;
  config.seed = 33;
  config.clientToServer.delayMs = 5;
  config.serverToClient.delayMs = 5;
  LinkModel changed(config);
  std::vector<Decision> log;
  const auto offer = [&](LinkModel& m, int i) { return m.offer(kC2s, 100, i * 1000); };
  for (int i = 0; i < 9000; ++i) {
    if (i == 3000) {
      ASSERT_TRUE(changed.setLossPct(100));
    }
    if (i == 6000) {
      ASSERT_TRUE(changed.setLossPct(10));
    }
    log.push_back(offer(changed, i));
  }
  EXPECT_EQ(changed.config().clientToServer.lossPct, 10);
  EXPECT_EQ(changed.config().serverToClient.lossPct, 10);
  LinkConfig tenPercent = config;
  tenPercent.clientToServer.lossPct = 10;
  LinkModel reference(tenPercent);
  long lostLate = 0;
  for (int i = 0; i < 9000; ++i) {
    const Decision fresh = offer(reference, i);
    if (i < 3000) {
      EXPECT_EQ(log[i].fate, Fate::kDelivered) << i;
    } else if (i < 6000) {
      EXPECT_EQ(log[i].fate, Fate::kLost) << i;
    } else {
      EXPECT_EQ(log[i].fate, fresh.fate) << i;
      lostLate += log[i].fate == Fate::kLost;
    }
  }
  EXPECT_GT(lostLate, 200);
  EXPECT_LT(lostLate, 400);
  EXPECT_FALSE(changed.setLossPct(-1));
  EXPECT_FALSE(changed.setLossPct(101));
  EXPECT_FALSE(changed.setLossPct(std::nan("")));
  EXPECT_EQ(changed.config().clientToServer.lossPct, 10);
}

TEST(LinkModel, LogLineFormat) {
  Decision d;
  d.index = 17;
  d.size = 84;
  d.arrival = 1204;
  d.departure = 21204;
  EXPECT_EQ(formatDecision(d), "17 c2s 84 1204 delivered 21204 - -");
  d.duplicate = 21300;
  d.reordered = true;
  d.direction = kS2c;
  EXPECT_EQ(formatDecision(d), "17 s2c 84 1204 delivered 21204 21300 reordered");
  Decision lost;
  lost.fate = Fate::kBurstLost;
  EXPECT_EQ(formatDecision(lost), "0 c2s 0 0 dropped:burst - - -");
  std::ostringstream out;
  writeLog(out, std::vector<Decision>{lost});
  EXPECT_EQ(out.str(),
            "# index direction bytes arrival_us fate departure_us duplicate_us reordered\n"
            "0 c2s 0 0 dropped:burst - - -\n");
}

TEST(LinkModel, LinkModelIndexesEachDirectionFromZero) {
  LinkModel model(LinkConfig{});
  EXPECT_EQ(model.offer(kC2s, 10, 0).index, 0u);
  EXPECT_EQ(model.offer(kS2c, 10, 0).index, 0u);
  EXPECT_EQ(model.offer(kC2s, 10, 0).index, 1u);
  EXPECT_EQ(model.log().size(), 3u);
}

}  // namespace
}  // namespace udpchat::lab
