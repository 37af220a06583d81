// One window of the full-screen client: a room, a private conversation, or the status window.
// Holds its scrollback, the scroll position, unread counts and, for rooms, the nick list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "text_layout.hpp"
#include "udpchat/protocol.hpp"

namespace udpchat::tui {

enum class WindowKind { Status, Room, Private };

// How much a window's unseen lines matter, in increasing order: joins and parts, messages,
// messages that name the person (and private messages to them).
enum class Activity { None, Events, Messages, Highlight };

struct NickEntry {
  std::string nick;
  protocol::PresenceState state = protocol::PresenceState::Active;
  std::uint32_t rttMs = 0;  // the server's measurement; 0 unknown
  bool isOperator = false;
};

// Lines kept per window; older ones are dropped.
inline constexpr std::size_t kScrollbackLines = 5000;

class Window {
 public:
  Window(WindowKind kind, std::string name, std::size_t maxLines = kScrollbackLines);

  WindowKind kind() const { return kind_; }
  // Canonical room name, the other person's nick, or "status".
  const std::string& name() const { return name_; }
  void rename(std::string name) { name_ = std::move(name); }
  const std::string& topic() const { return topic_; }
  void setTopic(std::string topic) { topic_ = std::move(topic); }

  // Appends a line. `seen`: the window is on screen, so the line is not unread. `id`: the
  // message id, for a later deletion; 0 none.
  void add(StyledLine line, Activity level, bool seen, protocol::MessageId id = 0,
           protocol::ClientId pending = 0);
  // A message we sent, shown while unconfirmed (`pending` is its client id): its echo takes
  // the line's place, so it stays where it was typed. False if no such line is kept.
  bool settle(protocol::ClientId pending, StyledLine line, protocol::MessageId id);
  // Ends the unconfirmed state of that line with a note after its body ("not sent: ...").
  bool markFailed(protocol::ClientId pending, Span note);
  // Replaces the body of the line showing message `id`; false if it is no longer kept.
  bool replaceBody(protocol::MessageId id, std::vector<Span> body);
  void clearLines();
  std::size_t lineCount() const { return lines_.size(); }
  const StyledLine& line(std::size_t i) const { return lines_[i].line; }  // 0 oldest

  int unread() const { return unread_; }
  Activity activity() const { return activity_; }
  void markRead();

  // Scrolling, in rows of a pane `width` columns wide. The position is kept as a line and a
  // row within it, counted from the newest line, so new lines and resizes do not move what is
  // on screen while the person reads back.
  void scrollUp(int rows, int width, int pageRows);
  void scrollDown(int rows, int width);
  void scrollToBottom();
  bool following() const { return bottomLine_ == 0 && bottomSkip_ == 0; }
  // Lines wholly or partly below the view (0 when following), and how many of them arrived
  // since the person scrolled away from the bottom.
  std::size_t linesBelow() const { return following() ? 0 : bottomLine_ + 1; }
  int newBelow() const { return newBelow_; }
  // The rows to draw, oldest first, at most `height` of them, ending at the scroll position.
  std::vector<Row> visibleRows(int width, int height) const;

  // The nick list (rooms).
  const std::vector<NickEntry>& nicks() const { return nicks_; }
  void setNicks(std::vector<NickEntry> nicks);
  void addNick(const std::string& nick);
  bool removeNick(std::string_view nick);
  bool renameNick(std::string_view oldNick, const std::string& newNick);
  NickEntry* findNick(std::string_view nick);

 private:
  struct Kept {
    StyledLine line;
    protocol::MessageId id = 0;
    protocol::ClientId pending = 0;  // unconfirmed message we sent
  };
  const StyledLine& fromNewest(std::size_t i) const { return lines_[lines_.size() - 1 - i].line; }
  void sortNicks();

  WindowKind kind_;
  std::string name_;
  std::string topic_;
  std::size_t maxLines_;
  std::deque<Kept> lines_;
  int unread_ = 0;
  Activity activity_ = Activity::None;
  std::size_t bottomLine_ = 0;  // lines newer than the one at the bottom of the view
  int bottomSkip_ = 0;          // rows of that line hidden below the view
  int newBelow_ = 0;
  std::vector<NickEntry> nicks_;
};

}  // namespace udpchat::tui
