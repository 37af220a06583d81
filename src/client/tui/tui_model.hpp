// The full-screen client without a terminal: windows, scrollback, the input line, the status
// and title bars, the nick list. Events from the chat core go in, key presses go in and come
// out as actions for the core, and render() draws everything into a Screen.
//
// All chat logic stays in ClientCore: the model only decides where lines are shown and turns
// keys into the lines the core already understands ("/join #dev", "/msg bob hi").
// Thread affinity: one thread. No clock: the wall time is passed in.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "key.hpp"
#include "line_editor.hpp"
#include "screen.hpp"
#include "udpchat/client_core.hpp"
#include "udpchat/time.hpp"
#include "window.hpp"

namespace udpchat::tui {

// What the model reads from the chat core when it handles something or draws: ClientCore's
// state queries and the transport's name. Implemented over ClientRunner by the terminal
// frontend, and by a plain struct in tests.
class ChatStatus {
 public:
  virtual ~ChatStatus() = default;
  virtual ConnectionState state() const = 0;
  virtual const std::string& nick() const = 0;
  virtual const std::vector<std::string>& rooms() const = 0;  // canonical names
  virtual const std::string& currentRoom() const = 0;         // where the core sends plain lines
  virtual Millis rttMs() const = 0;                           // 0 until measured
  virtual std::vector<std::string> typingIn(std::string_view target, bool isPrivate) const = 0;
  virtual std::string_view transportName() const = 0;
};

// What a key press asks of the frontend.
namespace action {
struct Input {  // pass to ClientRunner::input
  std::string line;
};
struct Typing {  // pass to ClientRunner::typing
  std::string target;
  bool isPrivate = false;
};
struct Quit {
  std::string reason;
};
struct Mouse {  // report the mouse wheel (on) or leave the mouse to the terminal (off)
  bool on = true;
};
struct Redraw {};  // Ctrl-L: repaint the whole terminal
}  // namespace action
using Action =
    std::variant<action::Input, action::Typing, action::Quit, action::Mouse, action::Redraw>;

// Where things are on a screen of a given size.
struct Layout {
  int width = 0;
  int height = 0;
  bool tooSmall = false;  // below kMinWidth x kMinHeight only a notice is drawn
  int titleY = 0;
  int paneY = 1;
  int paneHeight = 0;
  int paneWidth = 0;
  bool nickList = false;
  int listX = 0;  // first column of the nick list; the separator is the column before
  int listWidth = 0;
  int statusY = 0;
  int inputY = 0;
};

inline constexpr int kMinWidth = 20;
inline constexpr int kMinHeight = 5;
inline constexpr int kNickListMinWidth = 60;  // narrower screens drop the nick list
inline constexpr int kWheelRows = 3;
inline constexpr Millis kWhoRefreshMs = 30000;

// Converts a wall time (Unix ms) to the "HH:MM" shown before lines.
using ClockText = std::function<std::string(Millis)>;
std::string localClockText(Millis unixMs);

class TuiModel {
 public:
  explicit TuiModel(ClockText clock = localClockText, int width = 80, int height = 24);

  // "host:port", for the status window's title.
  void setServerAddress(std::string address) { serverAddress_ = std::move(address); }
  void resize(int width, int height);
  int width() const { return width_; }
  int height() const { return height_; }
  Layout layout() const;

  void event(const ClientEvent& event, const ChatStatus& status, Millis wallNow);
  std::vector<Action> key(const Key& key, const ChatStatus& status, Millis wallNow);
  // Call every loop turn. Every kWhoRefreshMs it asks the server for the nick list of the room
  // on screen, so the nick list's round-trip times stay current (the answer is not printed).
  std::vector<Action> tick(const ChatStatus& status, Millis wallNow);
  void render(Screen& screen, const ChatStatus& status, Millis wallNow) const;

  // For tests and the frontend.
  std::size_t windowCount() const { return windows_.size(); }
  const Window& window(std::size_t i) const { return *windows_[i]; }
  std::size_t activeWindow() const { return active_; }
  const LineEditor& editor() const { return editor_; }
  bool mouseEnabled() const { return mouse_; }

 private:
  struct LineBuilder;

  Window& active() { return *windows_[active_]; }
  const Window& active() const { return *windows_[active_]; }
  Window& status() { return *windows_[0]; }
  Window* find(WindowKind kind, std::string_view name);
  Window& ensure(WindowKind kind, const std::string& name);
  std::size_t indexOf(const Window& w) const;
  void activate(std::size_t index);
  void removeWindow(std::size_t index);
  void add(Window& w, StyledLine line, Activity level, protocol::MessageId id = 0,
           protocol::ClientId pending = 0);
  // A line in the status window and, when another window is on screen, there too.
  void addGlobal(StyledLine line, Activity level);

  std::vector<Action> submit(const ChatStatus& status, Millis wallNow);
  bool localCommand(std::string_view line, const ChatStatus& status, Millis wallNow,
                    std::vector<Action>& actions);
  void showHelp(std::string_view topic, Millis wallNow);
  std::vector<std::string> completions(std::string_view word, bool atLineStart,
                                       const ChatStatus& status) const;
  void typingAction(const ChatStatus& status, std::vector<Action>& actions) const;

  void renderTitle(Screen& screen, const Layout& l) const;
  void renderPane(Screen& screen, const Layout& l) const;
  void renderNickList(Screen& screen, const Layout& l, const ChatStatus& status) const;
  void renderStatus(Screen& screen, const Layout& l, const ChatStatus& status,
                    Millis wallNow) const;
  void renderInput(Screen& screen, const Layout& l) const;
  std::string typingText(const ChatStatus& status) const;

  ClockText clock_;
  int width_;
  int height_;
  std::vector<std::unique_ptr<Window>> windows_;  // [0] is the status window
  std::size_t active_ = 0;
  LineEditor editor_;
  bool mouse_ = true;

  std::string serverAddress_;
  std::string serverName_;
  std::string focusOnJoin_;  // a room whose window takes focus when our join arrives
  std::map<std::string, int> whoRequested_;  // room -> /who answers to show
  bool away_ = false;
  bool isOperator_ = false;
  std::string lossReason_;  // of the latest connection loss, for the status bar
  int retryAttempt_ = 0;
  Millis retryAt_ = 0;  // wall time of the next reconnect attempt
  Millis lastWhoRefresh_ = 0;
};

}  // namespace udpchat::tui
