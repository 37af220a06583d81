#include "tui_client.hpp"

#include <langinfo.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>

#include "client_runner.hpp"
#include "terminal.hpp"
#include "tui_model.hpp"

namespace udpchat::client {
namespace {

// How often the screen is redrawn when nothing happens: the clock, the round-trip time and the
// reconnect countdown in the status bar change on their own.
constexpr Millis kIdleRedrawMs = 1000;

// ncursesw writes wide characters only under a UTF-8 locale. The person's own locale wins when
// it is UTF-8; otherwise C.UTF-8 (built into glibc since 2.35) is used for the character type
// only, so dates and messages keep the person's settings.
void useUtf8Locale() {
  std::setlocale(LC_CTYPE, "");
  const char* codeset = nl_langinfo(CODESET);
  if (codeset != nullptr && std::strcmp(codeset, "UTF-8") == 0) return;
  if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) std::setlocale(LC_CTYPE, "C.utf8");
}

// The core's state as the model reads it.
class RunnerStatus final : public tui::ChatStatus {
 public:
  explicit RunnerStatus(const ClientRunner& runner) : runner_(runner) {}
  ConnectionState state() const override { return runner_.core().state(); }
  const std::string& nick() const override { return runner_.core().nick(); }
  const std::vector<std::string>& rooms() const override { return runner_.core().rooms(); }
  const std::string& currentRoom() const override { return runner_.core().currentRoom(); }
  Millis rttMs() const override { return runner_.core().rttMs(); }
  std::vector<std::string> typingIn(std::string_view target, bool isPrivate) const override {
    return runner_.core().typingIn(target, isPrivate);
  }
  std::string_view transportName() const override { return runner_.transport().name(); }

 private:
  const ClientRunner& runner_;
};

std::unique_ptr<ClientTransport> transportFor(const LineClientOptions& options) {
  auto transport = makeClientTransport(options.transport, options.connectTimeout);
  if (!transport) throw std::runtime_error("unknown transport " + options.transport);
  return transport;
}

class TuiClient {
 public:
  TuiClient(const LineClientOptions& options, tui::Terminal& terminal)
      : options_(options),
        terminal_(terminal),
        runner_(options.host, options.port, options.core, transportFor(options),
                [this](const ClientEvent& e) { onEvent(e); }),
        status_(runner_) {
    const auto [width, height] = terminal_.size();
    model_.resize(width, height);
    model_.setServerAddress(options.host + ":" + std::to_string(options.port));
  }

  // Returns the exit status; `farewell` gets what to print once the terminal is restored.
  int run(const std::atomic<bool>& stop, std::string& farewell) {
    runner_.start();
    draw();
    while (!runner_.finished()) {
      const PollInterest net = runner_.pollInterest();
      pollfd fds[2] = {{net.fd, net.events, 0}, {STDIN_FILENO, POLLIN, 0}};
      const int ready = ::poll(fds, 2, kPollTimeoutMs);
      if (ready < 0 && errno != EINTR) {
        farewell = std::string("poll failed: ") + std::strerror(errno);
        break;
      }
      if (ready > 0 && (fds[1].revents & POLLIN) != 0) readKeys();
      if (ready > 0 && (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0)
        quit();  // terminal gone
      if (terminal_.resizePending()) {
        const auto [width, height] = terminal_.resize();
        model_.resize(width, height);
        dirty_ = true;
      }
      if (stop.load()) quit();
      for (const tui::Action& a : model_.tick(status_, readClocks().wall)) perform(a);
      runner_.pump();
      if (dirty_ || readClocks().wall - lastDraw_ >= kIdleRedrawMs) draw();
    }
    runner_.closeTransport();
    const int status = runner_.finished() ? runner_.exitStatus() : kExitGaveUp;
    if (status != kExitOk && farewell.empty()) {
      if (status == kExitCannotConnect) {
        farewell = "cannot connect to " + options_.host + ":" + std::to_string(options_.port) +
                   ": " +
                   (runner_.lastLossReason().empty() ? finishReason_ : runner_.lastLossReason());
      } else {
        farewell = finishReason_;
      }
    }
    return status;
  }

 private:
  void onEvent(const ClientEvent& event) {
    model_.event(event, status_, readClocks().wall);
    if (const auto* done = std::get_if<client_event::Finished>(&event))
      finishReason_ = done->reason;
    dirty_ = true;
  }

  void readKeys() {
    for (const tui::Key& key : terminal_.readKeys()) {
      for (const tui::Action& a : model_.key(key, status_, readClocks().wall)) perform(a);
      dirty_ = true;
    }
  }

  void perform(const tui::Action& a) {
    std::visit(
        [&](const auto& act) {
          using T = std::decay_t<decltype(act)>;
          if constexpr (std::is_same_v<T, tui::action::Input>) {
            runner_.input(act.line);
          } else if constexpr (std::is_same_v<T, tui::action::Typing>) {
            runner_.typing(act.target, act.isPrivate);
          } else if constexpr (std::is_same_v<T, tui::action::Quit>) {
            quit();
          } else if constexpr (std::is_same_v<T, tui::action::Mouse>) {
            terminal_.setMouse(act.on);
          } else if constexpr (std::is_same_v<T, tui::action::Redraw>) {
            terminal_.forceRepaint();
          }
        },
        a);
  }

  void quit() {
    if (quitRequested_) return;
    quitRequested_ = true;
    runner_.quit("");
  }

  void draw() {
    const Millis now = readClocks().wall;
    model_.render(screen_, status_, now);
    terminal_.draw(screen_);
    lastDraw_ = now;
    dirty_ = false;
  }

  const LineClientOptions& options_;
  tui::Terminal& terminal_;
  tui::TuiModel model_;
  ClientRunner runner_;
  RunnerStatus status_;
  tui::Screen screen_;
  bool dirty_ = true;
  bool quitRequested_ = false;
  Millis lastDraw_ = 0;
  std::string finishReason_;
};

}  // namespace

int runTuiClient(const LineClientOptions& options, const std::atomic<bool>& stop) {
  useUtf8Locale();
  std::string error;
  std::unique_ptr<tui::Terminal> terminal = tui::Terminal::open(error);
  if (!terminal) {
    printError(stderr, false, "terminal", error + "; using line mode");
    return runLineClient(options, STDIN_FILENO, stdout, stderr, stop);
  }
  std::string farewell;
  int status = kExitOk;
  {
    TuiClient client(options, *terminal);
    status = client.run(stop, farewell);
    terminal.reset();  // give the terminal back before saying goodbye on it
  }
  if (!farewell.empty()) printError(stderr, false, "finished", farewell);
  return status;
}

}  // namespace udpchat::client
