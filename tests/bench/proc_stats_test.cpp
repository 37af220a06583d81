#include "proc_stats.hpp"

#include <gtest/gtest.h>

namespace udpchat::bench {
namespace {

// A real /proc/<pid>/stat line, with utime 250 and stime 40 ticks.
constexpr std::string_view kStat =
    "4242 (udpchat-server) S 1 4242 4242 0 -1 4194560 1030 0 0 0 250 40 0 0 20 0 1 0 9999 "
    "12345678 1100 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

TEST(ParseProcStat, ReadsUtimeAndStimeInSeconds) {
  const auto cpu = parseProcStat(kStat, 100);
  ASSERT_TRUE(cpu);
  EXPECT_DOUBLE_EQ(cpu->user, 2.5);
  EXPECT_DOUBLE_EQ(cpu->system, 0.4);
  EXPECT_DOUBLE_EQ(cpu->total(), 2.9);
}

TEST(ParseProcStat, ACommandNameWithSpacesAndParenthesesDoesNotShiftFields) {
  const auto cpu =
      parseProcStat("7 (a (b) c) S 1 7 7 0 -1 0 0 0 0 0 300 100 0 0 20 0 1 0 1 1 1", 100);
  ASSERT_TRUE(cpu);
  EXPECT_DOUBLE_EQ(cpu->user, 3.0);
  EXPECT_DOUBLE_EQ(cpu->system, 1.0);
}

TEST(ParseProcStat, RejectsTruncatedLines) {
  EXPECT_FALSE(parseProcStat("7 (x) S 1 7 7 0", 100));
  EXPECT_FALSE(parseProcStat("no parenthesis here", 100));
  EXPECT_FALSE(parseProcStat(kStat, 0));
}

constexpr std::string_view kStatus =
    "Name:\tudpchat-server\n"
    "VmPeak:\t   20480 kB\n"
    "VmHWMish:\t 1 kB\n"
    "VmHWM:\t    5432 kB\n"
    "VmRSS:\t    5000 kB\n"
    "Threads:\t1\n";

TEST(ParseStatusKb, FindsTheNamedFieldOnly) {
  EXPECT_EQ(parseStatusKb(kStatus, "VmHWM"), 5432u);
  EXPECT_EQ(parseStatusKb(kStatus, "VmRSS"), 5000u);
  EXPECT_EQ(parseStatusKb(kStatus, "VmPeak"), 20480u);
}

TEST(ParseStatusKb, MissingOrMalformedFieldsAreNullopt) {
  EXPECT_FALSE(parseStatusKb(kStatus, "VmSwap"));
  EXPECT_FALSE(parseStatusKb(kStatus, "Threads"));  // no kB unit
  EXPECT_FALSE(parseStatusKb("VmHWM:\t   \n", "VmHWM"));
  EXPECT_FALSE(parseStatusKb("", "VmHWM"));
}

TEST(ParseMachineBusySeconds, SumsEverythingButIdleAndIowait) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const auto busy = parseMachineBusySeconds("cpu  100 5 30 9000 70 2 3 10 0 0\ncpu0 1 2 3\n", 100);
  ASSERT_TRUE(busy);
  EXPECT_DOUBLE_EQ(*busy, 1.5);  // 100 + 5 + 30 + 2 + 3 + 10 = 150 ticks
}

TEST(ParseMachineBusySeconds, RejectsOtherLines) {
  EXPECT_FALSE(parseMachineBusySeconds("cpu0 1 2 3 4 5 6 7 8\n", 100));
  EXPECT_FALSE(parseMachineBusySeconds("cpu  1 2 3\n", 100));
}

constexpr std::string_view kUdp =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode ref pointer drops            \n"
    "  120: 0100007F:9375 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        "
    "0 4711 2 0000000000000000 3225\n"
    "  121: 00000000:A1B2 0100007F:9375 01 00000000:00000000 00:00000000 00000000     0        "
    "0 4712 2 0000000000000000 7\n"
    "  122: 00000000:A1B3 0100007F:9375 01 00000000:00000000 00:00000000 00000000     0        "
    "0 9999 2 0000000000000000 1000\n";

TEST(ParseUdpDrops, SumsTheDropsOfTheNamedSocketsOnly) {
  EXPECT_EQ(parseUdpDrops(kUdp, {4711}), 3225u);
  EXPECT_EQ(parseUdpDrops(kUdp, {4711, 4712}), 3232u);
  EXPECT_EQ(parseUdpDrops(kUdp, {1234}), 0u);
  EXPECT_EQ(parseUdpDrops(kUdp, {}), 0u);
  EXPECT_EQ(parseUdpDrops("", {4711}), 0u);
}

}  // namespace
}  // namespace udpchat::bench
