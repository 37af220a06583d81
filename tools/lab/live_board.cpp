#include "lab/live_board.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "lab/lab_options.hpp"

namespace udpchat::lab {
namespace {

constexpr int kGap = 3;             // columns between two lanes
constexpr int kFirstMessageRow = 8;
constexpr int kSeqWidth = 7;        // "#12345 "
constexpr int kLabelWidth = 10;     // " 12345 ms…"
constexpr int kMinLaneWidth = 34;

constexpr tui::Attr kPlain{};
constexpr tui::Attr kBold{-1, -1, true};
constexpr tui::Attr kDim{-1, -1, false, true};
constexpr tui::Attr kOnTime{2};                     // green
constexpr tui::Attr kStalled{3, -1, true};          // yellow
constexpr tui::Attr kWaiting{1, -1, true};          // red
constexpr tui::Attr kDivider{6, -1, true};          // cyan
constexpr tui::Attr kTitle{-1, -1, true, false, true};

double ms(std::int64_t us) { return static_cast<double>(us) / 1000.0; }

std::string format(const char* pattern, auto... values) {
  std::array<char, 256> buffer{};
  std::snprintf(buffer.data(), buffer.size(), pattern, values...);
  return buffer.data();
}

std::string clock(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, seconds));
  return format("%lld:%02lld", s / 60, s % 60);
}

std::string msText(double value) { return format("%.0f ms", value); }

const LiveSegment& segmentAt(const std::vector<LiveSegment>& segments, std::int64_t sentUs) {
  auto it = std::upper_bound(segments.begin(), segments.end(), sentUs,
                             [](std::int64_t t, const LiveSegment& s) { return t < s.fromUs; });
  return it == segments.begin() ? segments.front() : *std::prev(it);
}

std::int64_t segmentEnd(const std::vector<LiveSegment>& segments, std::size_t index) {
  return index + 1 < segments.size() ? segments[index + 1].fromUs
                                     : std::numeric_limits<std::int64_t>::max();
}

// How long a message took, or has been waiting; nullopt when it was not sent.
struct Age {
  double ms = 0;
  bool waiting = false;
};
std::optional<Age> ageOf(const LiveMessage& m, std::int64_t nowUs) {
  if (m.sentUs == 0) return std::nullopt;
  if (m.arrivedUs) return Age{ms(*m.arrivedUs - m.sentUs), false};
  return Age{ms(std::max<std::int64_t>(0, nowUs - m.sentUs)), true};
}

// One row of the message area: a message (by seq) or the divider before a loss change.
struct Row {
  bool divider = false;
  double lossPct = 0;
  std::uint64_t seq = 0;
};

// The rows that fit, newest last. Lanes send the same numbers at the same moments; the first
// lane that has a message decides on which side of a loss change it falls.
std::vector<Row> visibleRows(const LiveBoard& board, std::size_t space) {
  const std::size_t count = messageCount(board);
  const auto sentAt = [&](std::uint64_t seq) -> std::int64_t {
    for (const LiveLane& lane : board.lanes) {
      const auto& m = lane.stream.messages();
      if (seq < m.size() && m[seq].sentUs != 0) return m[seq].sentUs;
    }
    return 0;
  };
  std::vector<Row> rows;
  for (std::uint64_t seq = count; seq-- > 0 && rows.size() < space;) {
    const std::int64_t at = sentAt(seq);
    rows.push_back({false, 0, seq});
    if (at == 0 || seq == 0 || rows.size() >= space) continue;
    const LiveSegment& here = segmentAt(board.segments, at);
    const std::int64_t before = sentAt(seq - 1);
    if (before != 0 && before < here.fromUs) rows.push_back({true, here.lossPct, 0});
  }
  std::reverse(rows.begin(), rows.end());
  return rows;
}

void drawBar(tui::Screen& screen, int x, int y, int width, double value, double scale,
             bool waiting, tui::Attr attr) {
  static constexpr std::array<const char*, 8> kEighths = {"",  "▏", "▎", "▍",
                                                          "▌", "▋", "▊", "▉"};
  const double fraction = std::clamp(value / scale, 0.0, 1.0);
  const auto eighths = static_cast<int>(std::lround(fraction * width * 8));
  std::string bar;
  for (int i = 0; i < eighths / 8; ++i) bar += waiting ? "░" : "█";
  if (!waiting && eighths % 8 != 0) bar += kEighths[static_cast<std::size_t>(eighths % 8)];
  if (bar.empty()) bar = waiting ? "░" : "▏";  // something, however quick
  screen.print(x, y, bar, attr, x + width);
}

void drawLane(const LiveBoard& board, const LiveLane& lane, int x, int width,
              const std::vector<Row>& rows, double scale, tui::Screen& screen) {
  const int end = x + width;
  const double stall = stallThresholdMs(board.delayMs);
  const LiveFigures all = lane.stream.figures(board.nowUs, stall);
  screen.fill(2, kTitle, x, end);
  screen.print(x + 1, 2, lane.title, kTitle, end);

  std::string counts = format("sent %llu  arrived %llu  waiting %llu",
                              static_cast<unsigned long long>(all.sent),
                              static_cast<unsigned long long>(all.arrived),
                              static_cast<unsigned long long>(all.waiting));
  if (all.waiting > 0) {
    counts += all.oldestWaitingMs < 1000 ? format(" (%.0f ms)", all.oldestWaitingMs)
                                         : format(" (%.1f s)", all.oldestWaitingMs / 1000.0);
  }
  screen.print(x, 3, counts, all.waiting > 0 ? kWaiting : kPlain, end);

  const auto latencyLine = [](const LiveFigures& f) {
    if (f.latencyMs.count == 0) return std::string("p50 -  p99 -  max -");
    return format("p50 %.0f ms  p99 %.0f ms  max %.0f ms", f.latencyMs.p50, f.latencyMs.p99,
                  f.latencyMs.max);
  };
  screen.print(x, 4, latencyLine(all), kBold, end);
  screen.print(x, 5,
               format("stalled (> %.0f ms) %llu  link lost %llu of %llu", stall,
                      static_cast<unsigned long long>(all.stalled),
                      static_cast<unsigned long long>(lane.link.dropped),
                      static_cast<unsigned long long>(lane.link.packets)),
               all.stalled > 0 ? kStalled : kPlain, end);

  const std::size_t current = board.segments.size() - 1;
  const LiveFigures now = lane.stream.figures(board.nowUs, stall, board.segments[current].fromUs,
                                              segmentEnd(board.segments, current));
  screen.print(x, 6,
               format("at %s %%: %llu sent  ", formatPercent(board.segments[current].lossPct).c_str(),
                      static_cast<unsigned long long>(now.sent)) +
                   latencyLine(now),
               kDivider, end);

  const int barX = x + kSeqWidth;
  const int barWidth = std::max(4, width - kSeqWidth - kLabelWidth);
  screen.print(x, 7, "scale", kDim, end);
  screen.print(barX, 7, "0", kDim, end);
  const std::string top = msText(scale);
  screen.print(barX + barWidth - static_cast<int>(top.size()), 7, top, kDim, end);

  const auto& messages = lane.stream.messages();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const int y = kFirstMessageRow + static_cast<int>(i);
    const Row& row = rows[i];
    if (row.divider) {
      std::string rule;
      for (int c = 0; c < width; ++c) rule += "─";
      screen.print(x, y, rule, kDivider, end);
      screen.print(x + 2, y, " loss " + formatPercent(row.lossPct) + " % from here ", kDivider,
                   end);
      continue;
    }
    if (row.seq >= messages.size()) continue;
    const auto age = ageOf(messages[row.seq], board.nowUs);
    if (!age) continue;
    screen.print(x, y, format("#%-5llu", static_cast<unsigned long long>(row.seq)), kDim, end);
    const tui::Attr tone = age->waiting ? kWaiting : age->ms > stall ? kStalled : kOnTime;
    drawBar(screen, barX, y, barWidth, age->ms, scale, age->waiting, tone);
    std::string label = msText(age->ms) + (age->waiting ? "…" : "");
    const int labelX = barX + barWidth + 1;
    screen.print(labelX, y, label, age->waiting ? kWaiting : kPlain, end);
  }
}

}  // namespace

LiveMessage& LiveStream::slot(std::uint64_t seq) {
  if (seq >= messages_.size()) messages_.resize(seq + 1);
  return messages_[seq];
}

void LiveStream::sent(std::uint64_t seq, std::int64_t atUs) { slot(seq).sentUs = atUs; }

bool LiveStream::arrived(std::uint64_t seq, std::int64_t sentUs, std::int64_t atUs) {
  LiveMessage& m = slot(seq);
  if (m.arrivedUs) return false;
  if (m.sentUs == 0) m.sentUs = sentUs;  // the sender has not recorded it yet
  m.arrivedUs = atUs;
  return true;
}

LiveFigures LiveStream::figures(std::int64_t nowUs, double stallMs, std::int64_t fromUs,
                                std::int64_t toUs) const {
  LiveFigures f;
  std::vector<double> latencies;
  for (const LiveMessage& m : messages_) {
    if (m.sentUs == 0 || m.sentUs < fromUs || m.sentUs >= toUs) continue;
    ++f.sent;
    const Age age = *ageOf(m, nowUs);
    if (age.waiting) {
      ++f.waiting;
      f.oldestWaitingMs = std::max(f.oldestWaitingMs, age.ms);
    } else {
      ++f.arrived;
      latencies.push_back(age.ms);
    }
    if (age.ms > stallMs) ++f.stalled;
  }
  f.latencyMs = summarize(std::move(latencies));
  return f;
}

std::size_t messageCount(const LiveBoard& board) {
  std::size_t n = 0;
  for (const LiveLane& lane : board.lanes) n = std::max(n, lane.stream.messages().size());
  return n;
}

double stallThresholdMs(double delayMs) {
  const double path = 2 * delayMs;
  return std::max(2 * path, path + 50);
}

const std::vector<double>& liveLossSteps() {
  static const std::vector<double> steps = {0, 1, 2, 5, 10, 15, 20, 30, 50};
  return steps;
}

double nextLossStep(double current, bool up) {
  const auto& steps = liveLossSteps();
  if (up) {
    for (double s : steps) {
      if (s > current) return s;
    }
    return current;
  }
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    if (*it < current) return *it;
  }
  return current;
}

double barScaleMs(double longestMs) {
  static constexpr std::array<double, 8> kScales = {250,  500,   1000,  2000,
                                                    5000, 10000, 30000, 60000};
  for (double s : kScales) {
    if (longestMs <= s) return s;
  }
  return kScales.back();
}

void drawLiveBoard(const LiveBoard& board, tui::Screen& screen) {
  screen.clear();
  screen.hideCursor();
  const int width = screen.width();
  const int height = screen.height();
  if (board.lanes.empty() || board.segments.empty() || height < 1) return;
  const double loss = board.segments.back().lossPct;
  const double elapsed = ms(board.nowUs - board.startUs) / 1000.0;
  std::string title = "udpchat-lab live   loss " + formatPercent(loss) + " % each way   " +
                      format("delay %g ms   %g msg/s   ", board.delayMs, board.rate) +
                      clock(elapsed);
  if (board.durationS) title += " of " + clock(*board.durationS);
  if (board.draining) title += "   sending ended";
  screen.print(0, 0, title, kBold);
  if (!board.notice.empty()) {
    screen.print(0, 1, board.notice, kStalled);
  } else if (board.draining) {
    screen.print(0, 1, "No more messages are sent; the view ends once the last ones arrived.",
                 kStalled);
  }

  const int lanes = static_cast<int>(board.lanes.size());
  const int laneWidth = (width - kGap * (lanes - 1)) / lanes;
  if (laneWidth < kMinLaneWidth || height < kFirstMessageRow + 2) {
    const int y = std::min(2, height - 1);
    screen.print(0, y, "The window is too small.", kWaiting);
    screen.print(0, y + 1,
                 format("Make it at least %d columns", kMinLaneWidth * lanes + kGap * (lanes - 1)),
                 kWaiting);
    screen.print(0, y + 2, format("and %d rows.", kFirstMessageRow + 6), kWaiting);
    return;
  }
  const auto space = static_cast<std::size_t>(height - 1 - kFirstMessageRow);
  const std::vector<Row> rows = visibleRows(board, space);
  double longest = 0;
  for (const LiveLane& lane : board.lanes) {
    const auto& m = lane.stream.messages();
    for (const Row& row : rows) {
      if (row.divider || row.seq >= m.size()) continue;
      if (const auto age = ageOf(m[row.seq], board.nowUs)) longest = std::max(longest, age->ms);
    }
  }
  const double scale = barScaleMs(longest);
  for (int i = 0; i < lanes; ++i) {
    drawLane(board, board.lanes[static_cast<std::size_t>(i)], i * (laneWidth + kGap), laneWidth,
             rows, scale, screen);
  }
  screen.print(0, height - 1,
               "keys: + more loss   - less loss   0 no loss   q quit (Ctrl-C too)      "
               "█ arrived   ░ still on its way",
               kDim);
}

std::string liveSummary(const LiveBoard& board) {
  const double stall = stallThresholdMs(board.delayMs);
  std::string out = format("%-7s %-6s %-14s %7s %8s %8s %8s %8s %8s %8s\n", "loss", "from",
                           "transport", "sent", "arrived", "waiting", "p50 ms", "p99 ms",
                           "max ms", "stalled");
  for (std::size_t s = 0; s < board.segments.size(); ++s) {
    const LiveSegment& segment = board.segments[s];
    for (const LiveLane& lane : board.lanes) {
      const LiveFigures f =
          lane.stream.figures(board.nowUs, stall, segment.fromUs, segmentEnd(board.segments, s));
      out += format("%-7s %-6s %-14s %7llu %8llu %8llu %8.1f %8.1f %8.1f %8llu\n",
                    (formatPercent(segment.lossPct) + " %").c_str(),
                    clock(ms(std::max(segment.fromUs, board.startUs) - board.startUs) / 1000.0)
                        .c_str(),
                    lane.title.c_str(), static_cast<unsigned long long>(f.sent),
                    static_cast<unsigned long long>(f.arrived),
                    static_cast<unsigned long long>(f.waiting), f.latencyMs.p50, f.latencyMs.p99,
                    f.latencyMs.max, static_cast<unsigned long long>(f.stalled));
    }
  }
  out += format(
      "stalled: took longer than %.0f ms (the loss-free path is %g ms: two crossings of %g ms)\n",
      stall, 2 * board.delayMs, board.delayMs);
  for (const LiveLane& lane : board.lanes) {
    out += format("%s: the link lost %llu of %llu packets\n", lane.title.c_str(),
                  static_cast<unsigned long long>(lane.link.dropped),
                  static_cast<unsigned long long>(lane.link.packets));
  }
  return out;
}

std::string liveArrivalLine(const std::string& lane, std::uint64_t seq, double latencyMs) {
  return format("%s #%llu %.1f ms", lane.c_str(), static_cast<unsigned long long>(seq),
                latencyMs);
}

}  // namespace udpchat::lab
