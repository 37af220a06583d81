// The live view's model without sockets or a terminal: the running figures of a stream, the
// loss steps, and the board as text (tui::Screen::rowText), with times passed in.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "lab/live_board.hpp"

namespace udpchat::lab {
namespace {

constexpr std::int64_t kMs = 1000;  // microseconds
constexpr std::int64_t kT0 = 1'000'000'000;

// Code points of `needle` in `s` (the bars are multi-byte characters).
std::size_t count(const std::string& s, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

int rowOf(const tui::Screen& screen, const std::string& needle, int from = 0) {
  for (int y = from; y < screen.height(); ++y) {
    if (screen.rowText(y).find(needle) != std::string::npos) return y;
  }
  return -1;
}

TEST(LiveStream, CountsSentArrivedAndWaitingAsOfNow) {
  LiveStream s;
  s.sent(0, kT0);
  s.sent(1, kT0 + 100 * kMs);
  s.sent(2, kT0 + 200 * kMs);
  EXPECT_TRUE(s.arrived(0, kT0, kT0 + 40 * kMs));
  EXPECT_FALSE(s.arrived(0, kT0, kT0 + 90 * kMs)) << "a second copy is not a new arrival";
  EXPECT_TRUE(s.arrived(2, kT0 + 200 * kMs, kT0 + 240 * kMs));

  const LiveFigures f = s.figures(kT0 + 400 * kMs, 90);
  EXPECT_EQ(f.sent, 3u);
  EXPECT_EQ(f.arrived, 2u);
  EXPECT_EQ(f.waiting, 1u);
  EXPECT_DOUBLE_EQ(f.oldestWaitingMs, 300);
  EXPECT_EQ(f.stalled, 1u) << "message 1 has waited 300 ms, past the 90 ms threshold";
  EXPECT_EQ(f.latencyMs.count, 2u);
  EXPECT_DOUBLE_EQ(f.latencyMs.max, 40);

  EXPECT_EQ(s.figures(kT0 + 150 * kMs, 90).stalled, 0u) << "at 150 ms it has waited 50 ms";
}

TEST(LiveStream, AnArrivalBeforeItsSendIsRecordedTakesTheProbesSendTime) {
  LiveStream s;
  EXPECT_TRUE(s.arrived(4, kT0, kT0 + 41 * kMs));
  ASSERT_EQ(s.messages().size(), 5u);
  EXPECT_EQ(s.messages()[4].sentUs, kT0);
  const LiveFigures f = s.figures(kT0 + 41 * kMs, 90);
  EXPECT_EQ(f.sent, 1u) << "messages 0..3 were never recorded as sent";
  EXPECT_DOUBLE_EQ(f.latencyMs.p50, 41);
}

TEST(LiveStream, FiguresOfOneLossSettingCountOnlyWhatWasSentDuringIt) {
  LiveStream s;
  for (std::uint64_t i = 0; i < 10; ++i) {
    const std::int64_t sent = kT0 + static_cast<std::int64_t>(i) * 100 * kMs;
    s.sent(i, sent);
    s.arrived(i, sent, sent + (i < 5 ? 40 : 400) * kMs);
  }
  const std::int64_t change = kT0 + 500 * kMs;
  const LiveFigures before = s.figures(kT0 + 5000 * kMs, 90, kT0 - 1, change);
  const LiveFigures after = s.figures(kT0 + 5000 * kMs, 90, change);
  EXPECT_EQ(before.sent, 5u);
  EXPECT_EQ(after.sent, 5u) << "the message sent at the change's moment belongs to the new one";
  EXPECT_DOUBLE_EQ(before.latencyMs.max, 40);
  EXPECT_DOUBLE_EQ(after.latencyMs.p50, 400);
  EXPECT_EQ(before.stalled, 0u);
  EXPECT_EQ(after.stalled, 5u);
}

TEST(LiveSettings, StallThresholdIsTwiceThePathAndAtLeastFiftyMsAboveIt) {
  EXPECT_DOUBLE_EQ(stallThresholdMs(20), 90);   // path 40: 40 + 50
  EXPECT_DOUBLE_EQ(stallThresholdMs(0), 50);
  EXPECT_DOUBLE_EQ(stallThresholdMs(100), 400);  // path 200: twice it
}

TEST(LiveSettings, LossKeysWalkTheStepsAndStopAtTheEnds) {
  EXPECT_DOUBLE_EQ(nextLossStep(10, true), 15);
  EXPECT_DOUBLE_EQ(nextLossStep(10, false), 5);
  EXPECT_DOUBLE_EQ(nextLossStep(0, false), 0);
  EXPECT_DOUBLE_EQ(nextLossStep(50, true), 50);
  EXPECT_DOUBLE_EQ(nextLossStep(7, true), 10) << "a --loss between steps goes to the next one";
  EXPECT_DOUBLE_EQ(nextLossStep(7, false), 5);
  EXPECT_DOUBLE_EQ(nextLossStep(80, false), 50);
}

TEST(LiveSettings, BarScaleIsTheSmallestRoundFigureThatHoldsTheLongest) {
  EXPECT_DOUBLE_EQ(barScaleMs(0), 250);
  EXPECT_DOUBLE_EQ(barScaleMs(250), 250);
  EXPECT_DOUBLE_EQ(barScaleMs(251), 500);
  EXPECT_DOUBLE_EQ(barScaleMs(4200), 5000);
  EXPECT_DOUBLE_EQ(barScaleMs(1e9), 60000);
}

// Two lanes, 20 messages 100 ms apart; the loss goes from 0 to 20 % before message 10. TCP's
// message 12 is lost and holds 13 and 14 behind it; message 19 is still on its way.
LiveBoard sampleBoard() {
  LiveBoard b;
  b.delayMs = 20;
  b.rate = 10;
  b.startUs = kT0;
  b.nowUs = kT0 + 1950 * kMs;
  b.segments = {{0, kT0}, {20, kT0 + 950 * kMs}};
  b.lanes.resize(2);
  b.lanes[0].title = "TCP";
  b.lanes[1].title = "ENet reliable";
  for (std::uint64_t i = 0; i < 20; ++i) {
    const std::int64_t sent = kT0 + static_cast<std::int64_t>(i) * 100 * kMs;
    for (LiveLane& lane : b.lanes) lane.stream.sent(i, sent);
    if (i == 19) continue;
    const bool tcp_held = i >= 12 && i <= 14;
    const std::int64_t tcpArrival = tcp_held ? kT0 + 1650 * kMs : sent + 41 * kMs;
    b.lanes[0].stream.arrived(i, sent, tcpArrival);
    b.lanes[1].stream.arrived(i, sent, sent + (i == 12 ? 140 : 41) * kMs);
  }
  b.lanes[0].link = {300, 12};
  b.lanes[1].link = {420, 15};
  return b;
}

TEST(LiveBoard, ShowsBothLanesFiguresAndTheCurrentLoss) {
  tui::Screen screen(110, 40);
  drawLiveBoard(sampleBoard(), screen);
  EXPECT_NE(screen.rowText(0).find("loss 20 % each way"), std::string::npos) << screen.text();
  EXPECT_NE(screen.rowText(0).find("delay 20 ms"), std::string::npos);
  EXPECT_NE(screen.rowText(0).find("0:01"), std::string::npos) << "1.95 s elapsed";
  const std::string lanes = screen.rowText(2);
  ASSERT_NE(lanes.find("TCP"), std::string::npos);
  EXPECT_GT(lanes.find("ENet reliable"), lanes.find("TCP")) << "side by side, TCP first";
  const std::string counts = screen.rowText(3);
  EXPECT_EQ(count(counts, "sent 20  arrived 19  waiting 1 (50 ms)"), 2u) << counts;
  EXPECT_NE(screen.rowText(5).find("stalled (> 90 ms) 3  link lost 12 of 300"), std::string::npos)
      << screen.rowText(5);
  EXPECT_NE(screen.rowText(5).find("stalled (> 90 ms) 1  link lost 15 of 420"), std::string::npos)
      << "ENet: only message 12 was slow; 19 has waited 50 ms";
  EXPECT_EQ(count(screen.rowText(6), "at 20 %: 10 sent"), 2u) << screen.rowText(6);
  EXPECT_NE(screen.rowText(39).find("+ more loss"), std::string::npos);
}

TEST(LiveBoard, OneRowPerMessageWithADividerWhereTheLossChanged) {
  tui::Screen screen(110, 40);
  drawLiveBoard(sampleBoard(), screen);
  const int first = rowOf(screen, "#0 ");
  const int divider = rowOf(screen, "loss 20 % from here");
  const int ninth = rowOf(screen, "#9 ");
  const int tenth = rowOf(screen, "#10 ");
  const int last = rowOf(screen, "#19 ");
  ASSERT_GE(first, 0) << screen.text();
  EXPECT_EQ(ninth, first + 9);
  EXPECT_EQ(divider, ninth + 1) << screen.text();
  EXPECT_EQ(tenth, divider + 1);
  EXPECT_EQ(last, tenth + 9) << "newest at the bottom";
  EXPECT_EQ(count(screen.rowText(divider), "loss 20 % from here"), 2u) << "both lanes";

  // The held messages' bars are longer than the quick ones', in proportion; the one still on
  // its way is drawn as a wait, and the waits are marked.
  const std::string quick = screen.rowText(tenth);
  const std::string held = screen.rowText(rowOf(screen, "#12 "));
  EXPECT_NE(held.find("450 ms"), std::string::npos) << held;
  EXPECT_GT(count(held.substr(0, held.find("ms")), "█"), 8 * count(quick.substr(0, 20), "█"))
      << quick << "\n" << held;
  const std::string waiting = screen.rowText(last);
  EXPECT_EQ(count(waiting, "50 ms…"), 2u) << waiting;
  EXPECT_GE(count(waiting, "░"), 2u);
  EXPECT_EQ(count(waiting, "█"), 0u);
}

TEST(LiveBoard, BothLanesShareOneScale) {
  tui::Screen screen(110, 40);
  drawLiveBoard(sampleBoard(), screen);
  // TCP's longest visible is 450 ms, ENet's 140 ms: one 500 ms scale for both.
  EXPECT_EQ(count(screen.rowText(7), "500 ms"), 2u) << screen.rowText(7);
}

TEST(LiveBoard, TheNewestMessagesShowWhenTheyDoNotAllFit) {
  tui::Screen screen(110, 16);
  drawLiveBoard(sampleBoard(), screen);
  EXPECT_EQ(rowOf(screen, "#19 "), 14) << screen.text();
  EXPECT_EQ(rowOf(screen, "#0 "), -1);
  EXPECT_NE(screen.rowText(15).find("q quit"), std::string::npos);
}

TEST(LiveBoard, ATooSmallWindowSaysHowLargeItMustBe) {
  tui::Screen screen(50, 20);
  drawLiveBoard(sampleBoard(), screen);
  EXPECT_NE(screen.text().find("at least 71 columns\nand 14 rows"), std::string::npos)
      << screen.text();
}

TEST(LiveBoard, NoticeAndSendingEndShowOnTop) {
  LiveBoard b = sampleBoard();
  b.notice = "That key does nothing here";
  b.draining = true;
  b.durationS = 60;
  tui::Screen screen(110, 40);
  drawLiveBoard(b, screen);
  EXPECT_NE(screen.rowText(0).find("0:01 of 1:00"), std::string::npos) << screen.rowText(0);
  EXPECT_NE(screen.rowText(0).find("sending ended"), std::string::npos);
  EXPECT_NE(screen.rowText(1).find("That key does nothing here"), std::string::npos)
      << "a notice goes before the explanation of the end";
  b.notice.clear();
  drawLiveBoard(b, screen);
  EXPECT_NE(screen.rowText(1).find("the view ends once the last ones arrived"), std::string::npos)
      << screen.rowText(1);
}

TEST(LiveSummary, OneLinePerLossSettingAndLane) {
  const std::string text = liveSummary(sampleBoard());
  EXPECT_NE(text.find("0 %     0:00   TCP                 10       10        0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("20 %    0:00   TCP                 10        9        1"),
            std::string::npos)
      << "the change came 0.95 s in" << text;
  EXPECT_NE(text.find("20 %    0:00   ENet reliable       10        9        1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("TCP: the link lost 12 of 300 packets"), std::string::npos);
  EXPECT_NE(text.find("took longer than 90 ms"), std::string::npos);
}

TEST(LiveSummary, ArrivalLines) {
  EXPECT_EQ(liveArrivalLine("tcp", 12, 41.25), "tcp #12 41.2 ms");
}

}  // namespace
}  // namespace udpchat::lab
