// A program inside tmux, for tests that look at a terminal as a person does: keys go in with
// `tmux send-keys`, the screen comes back with `tmux capture-pane -p`. Each wait polls the
// screen against a deadline. Used by the full-screen client's and the lab's live view's tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "subprocess.hpp"

namespace udpchat::test {

using ScreenLines = std::vector<std::string>;

// The longest one tmux command or one wait may take.
inline constexpr std::chrono::milliseconds kTmuxStep{10'000};
// Between two looks at the screen. Only pacing: every wait is for a condition on the screen.
inline constexpr std::chrono::milliseconds kPollInterval{20};

inline bool contains(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

inline bool anyContains(const ScreenLines& lines, std::string_view needle) {
  for (const auto& l : lines) {
    if (contains(l, needle)) return true;
  }
  return false;
}

inline std::string joined(const ScreenLines& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// One tmux server on a private socket, holding one session of a fixed size. Killed with the
// object, so a failing test leaves nothing running.
class Tmux {
 public:
  Tmux(std::string tmuxBin, const std::string& command, int width, int height)
      : tmuxBin_(std::move(tmuxBin)),
        socket_("udpchat-tui-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++)) {
    ok_ = run({"-f", "/dev/null", "new-session", "-d", "-s", "tui", "-x", std::to_string(width),
               "-y", std::to_string(height), command, ";", "set-option", "-t", "tui",
               "remain-on-exit", "on"})
              .has_value();
    if (ok_) {
      const auto path = run({"display-message", "-p", "-t", "tui", "#{socket_path}"});
      if (path && !path->empty()) socketPath_ = path->front();
    }
  }
  // tmux leaves its socket file behind when the server is killed.
  ~Tmux() {
    run({"kill-server"});
    if (!socketPath_.empty()) ::unlink(socketPath_.c_str());
  }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  bool ok() const { return ok_; }

  std::optional<ScreenLines> run(std::vector<std::string> args) {
    args.insert(args.begin(), {"-L", socket_});
    Subprocess p(tmuxBin_, std::move(args));
    p.closeStdin();
    p.drain(after(kTmuxStep));
    const auto status = p.wait(after(kTmuxStep));
    if (status != 0) {
      ADD_FAILURE() << "tmux failed (" << status.value_or(-1)
                    << "): " << joined(p.seen(Subprocess::Stream::Stderr));
      return std::nullopt;
    }
    return p.seen(Subprocess::Stream::Stdout);
  }

  void text(const std::string& literal) { run({"send-keys", "-t", "tui", "-l", literal}); }
  void keys(std::vector<std::string> names) {
    names.insert(names.begin(), {"send-keys", "-t", "tui"});
    run(std::move(names));
  }
  void resize(int width, int height) {
    run({"resize-window", "-t", "tui", "-x", std::to_string(width), "-y", std::to_string(height)});
  }
  ScreenLines capture() { return run({"capture-pane", "-p", "-t", "tui"}).value_or(ScreenLines{}); }
  // The screen and the lines scrolled off it above.
  ScreenLines captureWithHistory() {
    return run({"capture-pane", "-p", "-S", "-", "-t", "tui"}).value_or(ScreenLines{});
  }
  std::pair<int, int> cursor() {
    const auto out = run({"display-message", "-p", "-t", "tui", "#{cursor_x} #{cursor_y}"});
    int x = -1, y = -1;
    if (out && !out->empty()) std::sscanf(out->front().c_str(), "%d %d", &x, &y);
    return {x, y};
  }

  // Looks at the screen until `ready` holds or the deadline passes; the last screen either way.
  ScreenLines waitFor(const std::function<bool(const ScreenLines&)>& ready, const char* what,
                      std::chrono::milliseconds timeout = kTmuxStep) {
    const Deadline deadline = after(timeout);
    ScreenLines screen = capture();
    while (!ready(screen)) {
      if (Clock::now() >= deadline) {
        ADD_FAILURE() << "timed out waiting for " << what << "; the screen:\n" << joined(screen);
        break;
      }
      std::this_thread::sleep_for(kPollInterval);
      screen = capture();
    }
    return screen;
  }
  ScreenLines waitForText(std::string_view needle) {
    return waitFor([&](const ScreenLines& s) { return anyContains(s, needle); },
                   std::string(needle).c_str());
  }

 private:
  static inline std::atomic<int> counter_{0};
  std::string tmuxBin_;
  std::string socket_;
  std::string socketPath_;
  bool ok_ = false;
};

}  // namespace udpchat::test
