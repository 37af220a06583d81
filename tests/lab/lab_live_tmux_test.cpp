// `udpchat-lab live` as a teacher meets it: the real tool inside tmux (keys in with send-keys,
// the screen back with capture-pane), its two links, servers and clients real. And its plain
// output when standard output is a pipe. Every wait is for a condition on the screen or in the
// output, against a deadline.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "integration/subprocess.hpp"
#include "integration/tmux_session.hpp"
#include "netns_test_support.hpp"

namespace udpchat::test {
namespace {

using namespace std::chrono_literals;

constexpr int kWidth = 120;
constexpr int kHeight = 50;
// Connecting four clients and the first messages; generous for sanitizer builds.
constexpr auto kStart = 60s;

const char* const kLabBin = UDPCHAT_LAB_BIN;
const char* const kServerBin = UDPCHAT_SERVER_BIN;
const char* const kTmuxBin = UDPCHAT_TMUX_BIN;

// Through a shell that prints the tool's exit status after it: what a person sees once it ended.
std::string liveCommand(const std::string& args) {
  return std::string("sh -c '") + kLabBin + " live --server " + kServerBin + " " + args +
         "; echo live-exit-status=$?'";
}

// The figures a lane shows on its rows, left lane (TCP) first.
struct LaneFigures {
  unsigned long sent = 0;
  unsigned long arrived = 0;
  unsigned long linkLost = 0;
  unsigned long linkPackets = 0;
  unsigned long segmentSent = 0;  // "at N %: K sent"
  double segmentLoss = -1;
};

std::vector<LaneFigures> figuresOf(const ScreenLines& screen) {
  std::vector<LaneFigures> lanes(2);
  static const std::regex kCounts(R"(sent (\d+)  arrived (\d+))");
  static const std::regex kLink(R"(link lost (\d+) of (\d+))");
  static const std::regex kSegment(R"(at ([0-9.]+) %: (\d+) sent)");
  const auto scan = [&](const std::regex& pattern, auto apply) {
    for (const std::string& row : screen) {
      std::size_t lane = 0;
      for (auto it = std::sregex_iterator(row.begin(), row.end(), pattern);
           it != std::sregex_iterator() && lane < lanes.size(); ++it, ++lane) {
        apply(lanes[lane], *it);
      }
      if (lane > 0) return;
    }
  };
  scan(kCounts, [](LaneFigures& f, const std::smatch& m) {
    f.sent = std::stoul(m[1]);
    f.arrived = std::stoul(m[2]);
  });
  scan(kLink, [](LaneFigures& f, const std::smatch& m) {
    f.linkLost = std::stoul(m[1]);
    f.linkPackets = std::stoul(m[2]);
  });
  scan(kSegment, [](LaneFigures& f, const std::smatch& m) {
    f.segmentLoss = std::stod(m[1]);
    f.segmentSent = std::stoul(m[2]);
  });
  return lanes;
}

// One message row as drawn: its number, and per lane the latency and whether it still waits.
struct MessageRow {
  unsigned long seq = 0;
  std::vector<std::pair<double, bool>> lanes;
};

// The message rows below the divider of the last loss change ("loss N % from here").
std::vector<MessageRow> rowsAfterDivider(const ScreenLines& screen, const std::string& divider) {
  static const std::regex kCell(R"(#(\d+)\s+\S+\s+(\d+) ms((?:…)?))");
  std::vector<MessageRow> rows;
  bool after = false;
  for (const std::string& row : screen) {
    if (row.find(divider) != std::string::npos) {
      after = true;
      rows.clear();
      continue;
    }
    if (!after) continue;
    MessageRow parsed;
    for (auto it = std::sregex_iterator(row.begin(), row.end(), kCell);
         it != std::sregex_iterator(); ++it) {
      parsed.seq = std::stoul((*it)[1]);
      parsed.lanes.emplace_back(std::stod((*it)[2]), (*it)[3].length() > 0);
    }
    if (!parsed.lanes.empty()) rows.push_back(parsed);
  }
  return rows;
}

// The summary's lines: loss, lane, sent, arrived, waiting.
struct SummaryLine {
  double loss = 0;
  std::string lane;
  unsigned long sent = 0;
  unsigned long arrived = 0;
  unsigned long waiting = 0;
};

std::vector<SummaryLine> summaryOf(const ScreenLines& lines) {
  static const std::regex kLine(
      R"(^([0-9.]+) %\s+\d+:\d\d\s+(TCP|ENet reliable)\s+(\d+)\s+(\d+)\s+(\d+)\s)");
  std::vector<SummaryLine> out;
  for (const std::string& line : lines) {
    std::smatch m;
    if (std::regex_search(line, m, kLine)) {
      out.push_back({std::stod(m[1]), m[2], std::stoul(m[3]), std::stoul(m[4]), std::stoul(m[5])});
    }
  }
  return out;
}

bool paneEnded(const ScreenLines& screen) { return anyContains(screen, "live-exit-status="); }

class LabLiveTmuxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv("LANG", "C.UTF-8", 1);
    ::unsetenv("LC_ALL");
    ::unsetenv("TMUX");
  }
  void SetUp() override { UDPCHAT_REQUIRE_NETNS(); }

  // Waits until both lanes satisfy `ready`; the last screen.
  ScreenLines waitForLanes(Tmux& tmux, const std::function<bool(const LaneFigures&)>& ready,
                           const char* what, std::chrono::milliseconds timeout = kStart) {
    return tmux.waitFor(
        [&](const ScreenLines& s) {
          const auto lanes = figuresOf(s);
          return ready(lanes[0]) && ready(lanes[1]);
        },
        what, timeout);
  }
};

TEST_F(LabLiveTmuxTest, KeysChangeTheLossAndTheNextMessagesShowIt) {
  Tmux tmux(kTmuxBin, liveCommand("--loss 0 --delay 10 --rate 20"), kWidth, kHeight);
  ASSERT_TRUE(tmux.ok());
  ScreenLines screen = waitForLanes(
      tmux, [](const LaneFigures& f) { return f.arrived >= 20; }, "20 messages on both lanes");
  ASSERT_TRUE(anyContains(screen, "loss 0 % each way")) << joined(screen);
  ASSERT_TRUE(anyContains(screen, "TCP")) << joined(screen);
  ASSERT_TRUE(anyContains(screen, "ENet reliable")) << joined(screen);
  for (const LaneFigures& f : figuresOf(screen)) {
    EXPECT_EQ(f.linkLost, 0u) << "no loss asked for yet\n" << joined(screen);
    EXPECT_GT(f.linkPackets, 0u);
  }

  // Six steps up: 1, 2, 5, 10, 15, 20 % (liveLossSteps).
  tmux.keys({"+", "+", "+", "+", "+", "+"});
  tmux.waitForText("loss 20 % each way");
  screen = waitForLanes(
      tmux, [](const LaneFigures& f) { return f.segmentLoss == 20 && f.segmentSent >= 30; },
      "30 messages sent at 20 %");
  for (const LaneFigures& f : figuresOf(screen)) {
    EXPECT_GT(f.linkLost, 0u) << "the links lose packets from the change on\n" << joined(screen);
  }
  // The messages after the divider were sent at 20 %: over 30 messages and both directions,
  // some on each lane took longer than the loss-free path (a retransmission) or still wait.
  const auto rows = rowsAfterDivider(screen, "loss 20 % from here");
  ASSERT_GE(rows.size(), 20u) << joined(screen);
  const double stallMs = 70;  // stallThresholdMs(10): the board's own "stalled" line says it
  ASSERT_TRUE(anyContains(screen, "stalled (> 70 ms)")) << joined(screen);
  for (std::size_t lane = 0; lane < 2; ++lane) {
    bool slowed = false;
    for (const MessageRow& row : rows) {
      if (row.lanes.size() != 2) continue;
      const auto [ms, waiting] = row.lanes[lane];
      slowed |= waiting || ms > stallMs;
    }
    EXPECT_TRUE(slowed) << "lane " << lane << " shows no message slowed by the loss\n"
                        << joined(screen);
  }

  tmux.keys({"0"});
  screen = tmux.waitForText("loss 0 % each way");
  EXPECT_TRUE(anyContains(screen, "Loss 0 % each way from message #")) << joined(screen);

  tmux.keys({"q"});
  screen = tmux.waitFor(paneEnded, "the view to end");
  EXPECT_TRUE(anyContains(screen, "live-exit-status=0")) << joined(screen);
  const auto summary = summaryOf(tmux.captureWithHistory());
  ASSERT_EQ(summary.size(), 6u) << "0 %, 20 %, 0 % for both lanes (keys pressed in a row make "
                                   "one change)\n"
                                << joined(tmux.captureWithHistory());
  EXPECT_EQ(summary[0].loss, 0);
  EXPECT_EQ(summary[2].loss, 20);
  EXPECT_EQ(summary[4].loss, 0);
  EXPECT_EQ(summary[2].lane, "TCP");
  EXPECT_EQ(summary[3].lane, "ENet reliable");
  EXPECT_GE(summary[2].sent, 30u);
}

TEST_F(LabLiveTmuxTest, DurationEndsItOnceTheLastMessagesArrived) {
  Tmux tmux(kTmuxBin, liveCommand("--loss 5 --delay 10 --rate 10 --duration 3"), kWidth,
            kHeight);
  ASSERT_TRUE(tmux.ok());
  ScreenLines screen = tmux.waitFor(paneEnded, "the view to end after 3 s", kStart + 20s);
  EXPECT_TRUE(anyContains(screen, "live-exit-status=0")) << joined(screen);
  const auto summary = summaryOf(tmux.captureWithHistory());
  ASSERT_EQ(summary.size(), 2u) << joined(tmux.captureWithHistory());
  for (const SummaryLine& line : summary) {
    EXPECT_GT(line.sent, 0u);
    EXPECT_EQ(line.arrived, line.sent) << line.lane << ": reliable, and it waited for the last";
    EXPECT_EQ(line.waiting, 0u);
  }
  // Both lanes stop sending at the same moment; each sender notices within a message.
  EXPECT_LE(std::max(summary[0].sent, summary[1].sent) - std::min(summary[0].sent, summary[1].sent),
            1u);
}

TEST_F(LabLiveTmuxTest, CtrlCEndsItWithTheSummary) {
  Tmux tmux(kTmuxBin, liveCommand("--loss 10 --delay 20"), kWidth, kHeight);
  ASSERT_TRUE(tmux.ok());
  waitForLanes(tmux, [](const LaneFigures& f) { return f.arrived >= 5; }, "5 messages");
  tmux.keys({"C-c"});
  const ScreenLines screen = tmux.waitFor(paneEnded, "the view to end");
  EXPECT_TRUE(anyContains(screen, "live-exit-status=0")) << joined(screen);
  const auto summary = summaryOf(tmux.captureWithHistory());
  ASSERT_EQ(summary.size(), 2u) << joined(tmux.captureWithHistory());
  EXPECT_EQ(summary[0].loss, 10);
  EXPECT_GE(summary[0].sent, 5u);
}

TEST_F(LabLiveTmuxTest, AnUnknownKeySaysWhichKeysWork) {
  Tmux tmux(kTmuxBin, liveCommand("--loss 0 --delay 5"), kWidth, kHeight);
  ASSERT_TRUE(tmux.ok());
  waitForLanes(tmux, [](const LaneFigures& f) { return f.sent >= 1; }, "the first message");
  tmux.keys({"x"});
  const ScreenLines screen = tmux.waitForText("That key does nothing here");
  EXPECT_TRUE(anyContains(screen, "+ more loss, - less loss, 0 no loss, q quit")) << joined(screen);
  tmux.keys({"-"});
  tmux.waitForText("The loss stays at 0 %");
  tmux.keys({"q"});
  tmux.waitFor(paneEnded, "the view to end");
}

TEST(LabLivePlain, WithoutATerminalItPrintsOneLinePerArrival) {
  UDPCHAT_REQUIRE_NETNS();
  Subprocess live(kLabBin, {"live", "--server", kServerBin, "--loss", "0", "--delay", "5",
                            "--rate", "10", "--duration", "1"});
  live.closeStdin();
  live.drain(after(kStart));
  ASSERT_EQ(live.wait(after(10s)), 0) << joined(live.seen(Subprocess::Stream::Stderr));
  const ScreenLines out = live.seen(Subprocess::Stream::Stdout);
  EXPECT_TRUE(anyContains(out, "tcp #0 ")) << joined(out);
  EXPECT_TRUE(anyContains(out, "enet-reliable #0 ")) << joined(out);
  const auto summary = summaryOf(out);
  ASSERT_EQ(summary.size(), 2u) << joined(out);
  std::size_t arrivals = 0;
  for (const std::string& line : out) arrivals += line.find(" ms") != std::string::npos &&
                                                  line.find('#') != std::string::npos;
  EXPECT_EQ(arrivals, summary[0].arrived + summary[1].arrived) << joined(out);
}

TEST(LabLivePlain, BadOptionsAreRefusedWithTheReason) {
  Subprocess live(kLabBin, {"live", "--server", kServerBin, "--loss", "120"});
  live.closeStdin();
  live.drain(after(10s));
  EXPECT_EQ(live.wait(after(10s)), 64);
  EXPECT_TRUE(anyContains(live.seen(Subprocess::Stream::Stderr), "--loss"))
      << joined(live.seen(Subprocess::Stream::Stderr));
}

}  // namespace
}  // namespace udpchat::test
