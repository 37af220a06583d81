// What the desktop client's main window shows, without any widget: one conversation per room and
// per private correspondent (plus one for the server), each with its lines, unread count, user
// list and topic; the connection's state for the reconnect bar; and what the compose area turns
// into lines for ClientCore::input().
//
// Events from the chat core go in (handle()); the widgets read the result and redraw on the
// signals. All chat rules stay in ClientCore: the model only decides where lines are shown and
// spells the person's actions as the lines the core already understands ("/join #dev",
// "/msg bob [subject] text"), so typed slash commands and buttons take the same path.
//
// Qt Core only, so the tests run without a display. Thread affinity: the GUI thread.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "udpchat/client_core.hpp"
#include "udpchat/time.hpp"

namespace udpchat::gui {

// What the model reads from the chat core: ClientCore's state queries. Implemented over
// ClientCore by ChatSession, and by a plain struct in tests.
class ChatStatus {
 public:
  virtual ~ChatStatus() = default;
  virtual ConnectionState state() const = 0;
  virtual const std::string& nick() const = 0;
  virtual const std::vector<std::string>& rooms() const = 0;  // canonical names
  virtual const std::string& currentRoom() const = 0;         // where plain lines go
};

enum class ConversationKind { Server, Room, Private };

struct ChatLine {
  enum class Kind { Message, Action, Event, Error };
  Kind kind = Kind::Event;
  Millis ts = 0;  // Unix milliseconds
  QString nick;   // sender (Message, Action)
  QString subject;
  QString text;
  bool self = false;     // sent by us
  bool history = false;  // replayed by the server on join, not live
  bool mention = false;  // names us
  bool pending = false;  // ours, not confirmed by the server yet
  QString failure;       // ours, refused or not confirmed: why (empty: fine)
  bool deleted = false;
  protocol::MessageId id = 0;       // server's id; 0 for events and pending lines
  protocol::ClientId clientId = 0;  // ours: the id the echo will carry
};

struct Member {
  QString nick;
  protocol::PresenceState state = protocol::PresenceState::Active;
  std::uint32_t rttMs = 0;  // 0: not measured
  bool isOperator = false;
  bool typing = false;
};

struct Conversation {
  ConversationKind kind = ConversationKind::Server;
  QString name;   // room (canonical, without '#') or nick; empty for the server
  QString topic;  // rooms
  QString topicSetBy;
  std::vector<ChatLine> lines;
  std::vector<Member> members;  // rooms, sorted by folded nick
  int unread = 0;               // messages since the conversation was last shown
  bool mentioned = false;       // one of them names us, or it is a private message
  bool peerTyping = false;      // private: the other side is typing
};

// The connection as the reconnect bar shows it.
struct ConnectionView {
  bool registered = false;  // chatting; false before the first Welcome and while lost
  bool lost = false;        // lost after having been registered; retrying
  QString reason;           // of the latest loss
  int attempt = 0;
  Millis retryAtMono = 0;  // when the next attempt starts (monotonic ms); 0: now
  bool finished = false;
  QString finishedReason;
};

inline constexpr std::size_t kMaxLinesPerConversation = 2000;

class ChatModel : public QObject {
  Q_OBJECT

 public:
  explicit ChatModel(QObject* parent = nullptr);

  // Feeds one event from the core. `wallNow` and `monoNow` are the frontend's clocks (ms).
  void handle(const ClientEvent& event, const ChatStatus& status, Millis wallNow, Millis monoNow);

  int count() const { return static_cast<int>(conversations_.size()); }
  const Conversation& at(int index) const {
    return conversations_.at(static_cast<std::size_t>(index));
  }
  int find(ConversationKind kind, const QString& name) const;  // -1: none
  int current() const { return current_; }
  void setCurrent(int index);  // shows it: its unread count goes to 0
  // Opens (or shows) the private conversation with `nick` and makes it current.
  int openPrivate(const QString& nick);
  // Clear: empties the lines of conversation `index` (the server keeps its history).
  void clearLines(int index);
  // A private conversation or the server's: removes it. Rooms close by leaving (part).
  void close(int index);

  const ConnectionView& connection() const { return connection_; }
  bool isOperator() const { return isOperator_; }
  bool away() const { return away_; }
  QString serverName() const { return serverName_; }
  // Nicks to complete the compose area's recipient with: every member of every room, and every
  // private correspondent, without ourselves.
  QStringList knownNicks(const ChatStatus& status) const;
  // "bob is typing", "bob and carol are typing", ... for conversation `index`; empty: nobody.
  QString typingText(int index) const;

  // --- What actions send (lines for ClientCore::input, in order) ---------------------------

  // The compose area: `recipient` is "#room", a nick, or empty (the current conversation).
  // A message starting with '/' (not "//") is a command, as in the line client; the subject
  // field does not apply to it. Nothing for an empty message.
  std::vector<std::string> compose(const QString& recipient, const QString& subject,
                                   const QString& message, const ChatStatus& status);
  // Where typing in the compose area is announced: (target, isPrivate); empty target: nowhere.
  std::pair<std::string, bool> typingTarget(const QString& recipient) const;
  // The recipient field's text for conversation `index`: "#room", the nick, or empty.
  QString recipientFor(int index) const;
  // Deleting line `line` of conversation `index` (a room's message with an id).
  std::vector<std::string> deleteLine(int index, int line, const ChatStatus& status) const;
  bool canDelete(int index, int line) const;

 signals:
  void conversationsChanged();   // added, removed, renamed, unread counts
  void linesChanged(int index);  // any change: redraw all of them
  void lineAppended(int index);  // one line added at the end, nothing else changed
  void membersChanged(int index);
  void topicChanged(int index);
  void typingChanged(int index);
  void currentChanged(int index);
  void connectionChanged();

 private:
  int ensure(ConversationKind kind, const QString& name);
  void add(int index, ChatLine line, bool counts);
  void event(int index, const QString& text, Millis ts,
             ChatLine::Kind kind = ChatLine::Kind::Event);
  void eventHere(const QString& text, Millis ts, ChatLine::Kind kind = ChatLine::Kind::Event);
  void removeMember(int index, const QString& nick);
  void addMember(int index, Member member);
  bool settle(int index, protocol::ClientId clientId, const ChatLine& confirmed);
  void markFailed(protocol::ClientId clientId, const QString& why);
  void setTyping(const QString& nick, const QString& target, bool isPrivate, bool active);
  std::vector<std::string> composeLines(const QString& recipient, const QString& subject,
                                        const QString& message, const ChatStatus& status);
  // While not registered the core keeps lines without announcing them (client_event::Sending
  // comes when they leave): show them at once as sending, to be claimed by that event.
  void showQueued(const std::vector<std::string>& lines, const ChatStatus& status);

  std::vector<Conversation> conversations_;  // [0] is the server's
  int current_ = 0;
  ConnectionView connection_;
  bool isOperator_ = false;
  bool away_ = false;
  QString serverName_;
  QString focusOnJoin_;   // a room that becomes current when our join arrives
  int subjectInfos_ = 0;  // "/subject" lines sent by compose(): their confirmations are not shown
};

// A stable colour for a nick, as an HSL hue (0..359): the same nick is the same colour in every
// conversation and every run.
int nickHue(const QString& nick);

}  // namespace udpchat::gui
