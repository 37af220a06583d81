#include "lab/live_view.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <clocale>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "lab/lab_client.hpp"
#include "lab/lab_options.hpp"
#include "terminal.hpp"

namespace udpchat::lab {
namespace {

constexpr int kFrameMs = 100;                // one board a tenth of a second
constexpr std::int64_t kDrainUs = 15'000'000;  // after --duration, the longest wait for the rest

// What a key asks for.
enum class Action { kNone, kQuit, kLossUp, kLossDown, kNoLoss, kUnknown };

Action actionOf(const tui::Key& key) {
  using Code = tui::Key::Code;
  if (key.code == Code::Escape) return Action::kQuit;
  if (key.code == Code::Ctrl && (key.ch == 'c' || key.ch == 'd')) return Action::kQuit;
  if (key.code == Code::Up) return Action::kLossUp;
  if (key.code == Code::Down) return Action::kLossDown;
  if (key.code != Code::Char) return Action::kUnknown;
  switch (key.ch) {
    case 'q':
    case 'Q':
      return Action::kQuit;
    case '+':
    case '=':
      return Action::kLossUp;
    case '-':
    case '_':
      return Action::kLossDown;
    case '0':
      return Action::kNoLoss;
    default:
      return Action::kUnknown;
  }
}

// Arrivals not printed yet, in the order they arrived, as plain lines.
class ArrivalPrinter {
 public:
  void print(const LiveBoard& board) {
    printed_.resize(board.lanes.size());
    struct Line {
      std::int64_t atUs;
      std::string text;
    };
    std::vector<Line> lines;
    for (std::size_t l = 0; l < board.lanes.size(); ++l) {
      const auto& messages = board.lanes[l].stream.messages();
      auto& done = printed_[l];
      done.resize(messages.size(), false);
      for (std::size_t seq = 0; seq < messages.size(); ++seq) {
        const LiveMessage& m = messages[seq];
        if (done[seq] || !m.arrivedUs) continue;
        done[seq] = true;
        lines.push_back({*m.arrivedUs,
                         liveArrivalLine(board.lanes[l].transport, seq,
                                         static_cast<double>(*m.arrivedUs - m.sentUs) / 1000.0)});
      }
    }
    std::stable_sort(lines.begin(), lines.end(),
                     [](const Line& a, const Line& b) { return a.atUs < b.atUs; });
    for (const Line& line : lines) std::cout << line.text << '\n';
    std::cout.flush();
  }

 private:
  std::vector<std::vector<bool>> printed_;
};

bool waitForInput(int timeoutMs) {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  return ::poll(&p, 1, timeoutMs) > 0;
}

}  // namespace

int runLiveView(const LiveOptions& options, const std::atomic<bool>& stopRequested) {
  if (auto problem = validate(options)) {
    std::cerr << "udpchat-lab live: " << *problem << "\n";
    return 1;
  }
  const bool interactive = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
  std::cerr << "udpchat-lab live: two links (" << formatPercent(options.lossPct)
            << " % loss and " << options.delayMs
            << " ms each way), two servers, four clients: connecting...\n";
  std::unique_ptr<LiveLab> lab;
  try {
    lab = std::make_unique<LiveLab>(options);
  } catch (const std::exception& e) {
    std::cerr << "udpchat-lab live: " << e.what() << "\n";
    return 1;
  }
  if (auto problem = lab->start(stopRequested)) {
    std::cerr << "udpchat-lab live: " << *problem << "\n";
    return 1;
  }

  std::unique_ptr<tui::Terminal> terminal;
  if (interactive) {
    std::setlocale(LC_CTYPE, "");
    std::string error;
    terminal = tui::Terminal::open(error);
    if (!terminal) std::cerr << "udpchat-lab live: " << error << "; printing lines instead\n";
  }
  tui::Screen screen;
  if (terminal) {
    const auto [w, h] = terminal->size();
    screen.resize(w, h);
  }
  ArrivalPrinter printer;
  std::string notice;
  std::int64_t drainUntil = 0;
  bool quit = false;
  std::string failure;
  LiveBoard board = lab->board();
  while (!quit && !stopRequested.load()) {
    if (terminal) {
      if (waitForInput(kFrameMs)) {
        for (const tui::Key& key : terminal->readKeys()) {
          const Action action = actionOf(key);
          if (action == Action::kQuit) quit = true;
          if (action == Action::kUnknown) {
            notice = "That key does nothing here: + more loss, - less loss, 0 no loss, q quit.";
          }
          if (action == Action::kLossUp || action == Action::kLossDown ||
              action == Action::kNoLoss) {
            const double before = lab->lossPct();
            const double after = action == Action::kNoLoss
                                     ? 0
                                     : nextLossStep(before, action == Action::kLossUp);
            if (after == before) {
              notice = "The loss stays at " + formatPercent(before) + " %: that is the last step.";
            } else {
              lab->setLossPct(after);
              notice = "Loss " + formatPercent(after) + " % each way from message #" +
                       std::to_string(messageCount(lab->board())) + " on.";
            }
          }
        }
      }
      if (terminal->resizePending()) {
        const auto [w, h] = terminal->resize();
        screen.resize(w, h);
        terminal->forceRepaint();
      }
    } else {
      // Only the clock to wait for: the frame's pace, on a descriptor that never becomes ready.
      ::poll(nullptr, 0, kFrameMs);
    }
    board = lab->board();
    board.notice = notice;
    if (!lab->failure().empty()) {
      failure = lab->failure();
      break;
    }
    if (options.durationS && drainUntil == 0 &&
        static_cast<double>(board.nowUs - board.startUs) / 1e6 >= *options.durationS) {
      lab->stopSending();
      drainUntil = board.nowUs + kDrainUs;
    }
    if (drainUntil != 0 && (lab->settled() || board.nowUs >= drainUntil)) quit = true;
    if (terminal) {
      drawLiveBoard(board, screen);
      terminal->draw(screen);
    } else {
      printer.print(board);
    }
  }
  board = lab->board();
  lab->stop();
  if (terminal) {
    terminal.reset();  // the summary goes to the ordinary screen, where it stays
  } else {
    printer.print(board);
  }
  std::cout << liveSummary(board);
  std::cout.flush();
  if (!failure.empty()) {
    std::cerr << "udpchat-lab live: " << failure << "\n";
    return 1;
  }
  return 0;
}

}  // namespace udpchat::lab
