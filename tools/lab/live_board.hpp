// The live view's model (`udpchat-lab live`, docs/LAB.md "The live view"): what each stream
// sent and received, its running figures, and the board that draws them side by side into a
// tui::Screen. No sockets, no clock: times are passed in, so tests read the board as text.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "lab/sample_stats.hpp"
#include "screen.hpp"

namespace udpchat::lab {

// One chat message of a live stream, numbered from 0 in the order it was sent.
struct LiveMessage {
  std::int64_t sentUs = 0;                 // 0: not recorded as sent (yet)
  std::optional<std::int64_t> arrivedUs;   // its first copy at the receiver
};

// From `fromUs` on (send time), the link lost `lossPct` each way: one per setting of the run.
struct LiveSegment {
  double lossPct = 0;
  std::int64_t fromUs = 0;
};

struct LiveFigures {
  std::uint64_t sent = 0;
  std::uint64_t arrived = 0;
  std::uint64_t waiting = 0;       // sent, not arrived
  std::uint64_t stalled = 0;       // arrived later than the stall threshold, or waiting longer
  double oldestWaitingMs = 0;      // 0 when nothing waits
  Distribution latencyMs;          // of the arrived ones
};

class LiveStream {
 public:
  // Message `seq` left the sender at `atUs`.
  void sent(std::uint64_t seq, std::int64_t atUs);
  // A copy of `seq`, sent at `sentUs` (from the probe), reached the receiver at `atUs`. True for
  // the first copy.
  bool arrived(std::uint64_t seq, std::int64_t sentUs, std::int64_t atUs);

  const std::vector<LiveMessage>& messages() const { return messages_; }

  // The figures of the messages sent in [fromUs, toUs) as of `nowUs`; a message counts as
  // stalled when it took, or has been waiting, longer than `stallMs`.
  LiveFigures figures(std::int64_t nowUs, double stallMs,
                      std::int64_t fromUs = std::numeric_limits<std::int64_t>::min(),
                      std::int64_t toUs = std::numeric_limits<std::int64_t>::max()) const;

 private:
  LiveMessage& slot(std::uint64_t seq);
  std::vector<LiveMessage> messages_;
};

// What the link of one lane did so far (TunLink's counters, both directions together).
struct LiveLinkCounts {
  std::uint64_t packets = 0;  // offered to the link
  std::uint64_t dropped = 0;
};

struct LiveLane {
  std::string transport;  // "tcp", "enet-reliable" (TransportSpec::name)
  std::string title;      // "TCP", "ENet reliable"
  LiveStream stream;
  LiveLinkCounts link;
};

struct LiveBoard {
  std::vector<LiveLane> lanes;
  std::vector<LiveSegment> segments;  // at least one; ascending fromUs
  double delayMs = 0;                 // one way
  double rate = 0;                    // messages a second
  std::int64_t startUs = 0;           // when the first message was due
  std::int64_t nowUs = 0;
  std::optional<double> durationS;    // nullopt: until stopped
  bool draining = false;              // sending ended, waiting for the last messages
  std::string notice;                 // one line for the user (a refused key...), may be empty
};

// Messages made so far: the longest lane's count (lanes number theirs alike).
std::size_t messageCount(const LiveBoard& board);

// A message counts as stalled past this many milliseconds: twice the loss-free path (two link
// crossings, sender -> server -> receiver), and at least 50 ms above it.
double stallThresholdMs(double delayMs);

// The loss steps the + and - keys walk through, percent.
const std::vector<double>& liveLossSteps();
// The next step above (up) or below `current`; `current` itself at either end.
double nextLossStep(double current, bool up);

// Full width of a bar, ms: the smallest of 250, 500, 1000, 2000, 5000, 10000, 30000, 60000 that
// holds `longestMs` (the last when none does).
double barScaleMs(double longestMs);

// Draws the board: a title line, per lane (side by side) its figures, the figures of the
// current loss setting, and one row per message (newest at the bottom, a divider where the
// loss changed), each a bar of its latency, or of its wait so far while it has not arrived;
// the keys on the last row. Lanes share one bar scale.
void drawLiveBoard(const LiveBoard& board, tui::Screen& screen);

// The run's figures per loss setting and lane, as a plain-text table (printed when the view
// ends).
std::string liveSummary(const LiveBoard& board);

// One line per first arrival, for output that is not a terminal: "tcp #12 41.2 ms".
std::string liveArrivalLine(const std::string& lane, std::uint64_t seq, double latencyMs);

}  // namespace udpchat::lab
