#include "udpchat/client_core.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <unordered_set>
#include <utility>

#include "udpchat/command_parser.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/rate_limiter.hpp"
#include "udpchat/text.hpp"

namespace udpchat {

using protocol::ErrorCode;

namespace {

constexpr std::string_view kDefaultRoom = "lobby";
// Messages remembered by (sender, client id) to drop a second delivery of a resend.
constexpr std::size_t kSeenMessages = 4096;
// A nick still held after a reconnect is asked for again this often, for this long: longer
// than a cluster takes to free the nicks of a server that died (4 s).
constexpr Millis kHelloRetryMs = 1000;
constexpr Millis kHelloRetryWindowMs = 15000;
constexpr std::string_view kRoomRule =
    "room names are 1 to 32 letters, digits, '_' or '-', optionally after '#'";

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// What waits in the send queue: a command typed by the person (evaluated when it leaves the
// queue, so "the current room" means the room current at that moment), a request the core
// built itself, or the quit that ends the queue.
struct QuitMarker {
  std::string reason;
};
using Queued = std::variant<command::Command, protocol::Message, QuitMarker>;

// Someone else typing somewhere. `target` is the TypingEvent's: a room, or for a private
// notice the recipient's nick (ours).
struct TypingEntry {
  std::string nick;
  std::string target;
  bool isPrivate = false;
  Millis expires = 0;  // mono
};

bool sameName(std::string_view a, std::string_view b) {
  return text::equalFolded(a, b);
}

// (sender, client id) as one 64-bit key: FNV-1a over the case-folded nick, mixed with the id by
// an odd multiplier (a bijection, so one sender's ids never collide with each other). Checked
// for every chat event received, so it builds no string.
std::uint64_t sightingKey(std::string_view from, protocol::ClientId id) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : from) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h ^ (id * 0x9E3779B97F4A7C15ull);
}

}  // namespace

std::string_view toString(ConnectionState state) {
  switch (state) {
    case ConnectionState::Idle:
      return "idle";
    case ConnectionState::Connecting:
      return "connecting";
    case ConnectionState::Registering:
      return "registering";
    case ConnectionState::Registered:
      return "registered";
    case ConnectionState::WaitingRetry:
      return "waiting_retry";
    case ConnectionState::Closing:
      return "closing";
    case ConnectionState::Finished:
      return "finished";
  }
  return "unknown";
}

struct ClientCore::State {
  State(ClientConfig c, ClientHost& h)
      : config(std::move(c)), host(h), lastClientId(config.clientIdSeed) {}

  ClientConfig config;
  ClientHost& host;
  ConnectionState state = ConnectionState::Idle;
  int exitStatus = 0;

  // Identity and rooms.
  std::string nick;               // registered nick; before that, the one we ask for
  std::uint64_t resumeToken = 0;  // from the latest Welcome; 0 before the first
  bool everRegistered = false;
  std::vector<std::string> firstRooms;  // canonical rooms for the first Hello
  std::vector<std::string> helloRooms;  // rooms asked for in the latest Hello
  bool helloRejected = false;           // the latest Hello got NickInUse/NickInvalid/NickRegistered
  // Back after a lost connection and the nick still held (the old session has not timed out,
  // or the server it was on is gone and the cluster has not freed it yet): the same Hello is
  // sent again every kHelloRetryMs until helloRetryUntil (mono; 0: not retrying).
  Millis helloRetryAt = 0;
  Millis helloRetryUntil = 0;
  // A registered nick to prove after each Welcome, and its password (from --password or
  // /identify); the Hello then asks for a name the server picks.
  std::string identifyNick;
  std::string identifyPassword;
  bool identifying = false;  // the IdentifyRequest of this connection is not answered yet
  std::vector<std::string> rooms;       // canonical, oldest join first; a re-join moves to end
  std::string currentRoom;
  std::vector<std::string> pendingJoins;  // JoinRoom sent, our JoinEvent not yet seen
  std::map<std::string, protocol::TopicEvent> topics;
  std::map<std::string, std::vector<protocol::WhoEntry>> whoPages;
  std::string pendingSubject;
  bool away = false;
  std::string awayMessage;

  // The server's limits, from Welcome.
  std::size_t maxMessageBytes = kMaxTextBytes;
  std::size_t nickMin = 1;
  std::size_t nickMax = kMaxNickBytes;
  Millis pingInterval = 0;

  // Pacing: a copy of the server's token bucket for our session. The server charges every
  // channel-0 request but Hello and QuitRequest from a bucket that is full when the connection
  // opens, so the copy starts full at the moment we connected.
  bool paced = false;
  RateLimiter bucket;
  Millis connectedAt = 0;
  std::deque<Queued> queue;
  bool quitQueued = false;
  Millis holdUntil = 0;  // mono; the server said rate_limited: send nothing before this

  // Delivery. Every chat and private message gets a client id; it stays in `unconfirmed` until
  // the server's echo or an error names it. `seen` holds (folded sender, client id) of messages
  // shown, so a resend that reaches us twice (the server restarted between the first delivery
  // and its echo) is shown once.
  protocol::ClientId lastClientId = 0;
  std::deque<OutgoingMessage> unconfirmed;  // oldest first
  std::unordered_set<std::uint64_t> seen;  // sightingKey()s
  std::deque<std::uint64_t> seenOrder;

  // Presence.
  std::uint32_t pingSeq = 0;  // one counter for the client's lifetime, across reconnects
  Millis nextPingAt = 0;
  bool havePong = false;  // on this connection
  std::uint64_t pongServerTime = 0;
  Millis pongArrivedAt = 0;
  bool rttMeasured = false;
  double srtt = 0;

  // Typing.
  std::map<std::pair<std::string, bool>, Millis> typingSent;  // (folded target, private) -> mono
  std::vector<TypingEntry> typing;

  // Reconnect and the end.
  int attempt = 0;  // reconnect attempts since the last Welcome
  Millis retryAt = 0;
  bool kicked = false;
  std::string kickReason;
  bool refused = false;
  std::string refusedReason;
  Millis quitDeadline = 0;

  // ---- small helpers ---------------------------------------------------------------------

  void emit(const ClientEvent& event) { host.event(event); }
  void localError(std::string code, std::string message) {
    emit(client_event::LocalError{std::move(code), std::move(message)});
  }
  void info(std::string text) { emit(client_event::Info{std::move(text)}); }

  template <class T>
  void send(const T& message) {
    host.send(protocol::channelOf(T::kType), protocol::encode(message));
  }
  void send(const protocol::Message& message) {
    host.send(protocol::channelOf(protocol::typeOf(message)), protocol::encode(message));
  }

  void finish(int status, std::string reason) {
    if (state == ConnectionState::Finished) return;
    state = ConnectionState::Finished;
    exitStatus = status;
    std::vector<OutgoingMessage> open = unconfirmedNow();
    unconfirmed.clear();
    queue.clear();
    if (!open.empty()) emit(client_event::Unconfirmed{std::move(open), false});
    emit(client_event::Finished{status, std::move(reason)});
  }

  bool isSelf(std::string_view other) const { return !nick.empty() && sameName(other, nick); }

  // Checks a string the person typed before it goes on the wire, with the server's error
  // names, so an over-long or unprintable line is refused here instead of cut or bounced.
  bool checkField(std::string_view value, std::size_t maxBytes, bool allowNewlineTab,
                  std::string_view what) {
    switch (text::checkText(value, allowNewlineTab)) {
      case text::TextProblem::InvalidUtf8:
        localError("invalid_utf8", "the " + std::string(what) + " is not valid UTF-8");
        return false;
      case text::TextProblem::ControlCharacter:
        localError("control_character",
                   "the " + std::string(what) +
                       " holds a control character or a bidirectional override" +
                       (allowNewlineTab ? " (only newline and tab are allowed)" : ""));
        return false;
      case text::TextProblem::None:
        break;
    }
    if (value.size() > maxBytes) {
      localError("text_too_long",
                 "the " + std::string(what) + " is " + std::to_string(value.size()) +
                     " bytes; the server accepts at most " + std::to_string(maxBytes));
      return false;
    }
    return true;
  }

  // A nick named in a command (/msg, /whois, /kick): sent only if the server could decode it;
  // whether it names anyone is the server's to say.
  bool checkNickArgument(std::string_view value) {
    if (value.empty() || value.size() > kMaxNickBytes) {
      localError("nick_invalid", "a nick is 1 to " + std::to_string(kMaxNickBytes) + " bytes");
      return false;
    }
    if (text::checkText(value, false) != text::TextProblem::None) {
      localError("nick_invalid", "a nick is printable UTF-8 text; no such nick can exist");
      return false;
    }
    return true;
  }

  std::optional<std::string> room(std::string_view typed) {
    auto canonical = text::normalizeRoom(typed);
    if (!canonical) localError("room_invalid", std::string(kRoomRule) + ": " + std::string(typed));
    return canonical;
  }

  bool needCurrentRoom() {
    if (!currentRoom.empty()) return true;
    localError("not_in_room", "you are in no room; /join #room first");
    return false;
  }

  // The room a command names, or the current one when it names none (after the error if
  // neither will do).
  std::optional<std::string> roomOrCurrent(std::string_view typed) {
    if (!typed.empty()) return room(typed);
    if (!needCurrentRoom()) return std::nullopt;
    return currentRoom;
  }

  // ---- rooms -----------------------------------------------------------------------------

  void removeRoom(const std::string& name) {
    std::erase(rooms, name);
    std::erase(pendingJoins, name);
    topics.erase(name);
    whoPages.erase(name);
    if (currentRoom == name) currentRoom = rooms.empty() ? std::string() : rooms.back();
  }

  // ---- typing ----------------------------------------------------------------------------

  template <class Pred>
  void stopTyping(Pred pred) {
    std::vector<TypingEntry> stopped;
    std::erase_if(typing, [&](const TypingEntry& t) {
      if (!pred(t)) return false;
      stopped.push_back(t);
      return true;
    });
    for (const TypingEntry& t : stopped) {
      emit(client_event::Typing{t.nick, t.target, t.isPrivate, false});
    }
  }

  void stopTypingOf(std::string_view who, std::string_view target, bool isPrivate) {
    stopTyping([&](const TypingEntry& t) {
      return t.isPrivate == isPrivate && sameName(t.nick, who) &&
             (isPrivate || sameName(t.target, target));
    });
  }

  // ---- connection ------------------------------------------------------------------------

  void sendHello() {
    helloRooms = everRegistered ? rooms : firstRooms;
    // An empty list would mean "lobby" to the server anyway; saying so keeps our idea of
    // where we are the same as the server's.
    if (helloRooms.empty()) helloRooms.emplace_back(kDefaultRoom);
    if (helloRooms.size() > kMaxRoomsPerUser) helloRooms.resize(kMaxRoomsPerUser);
    helloRejected = false;
    helloRetryAt = 0;
    const bool proving = !identifyPassword.empty() && !identifyNick.empty();
    send(protocol::Hello{proving ? std::string() : nick, resumeToken, helloRooms,
                         config.clientName});
  }

  void scheduleRetry(Now now) {
    ++attempt;
    if (config.maxReconnects >= 0 && attempt > config.maxReconnects) {
      finish(kExitGaveUp,
             "gave up after " + std::to_string(config.maxReconnects) + " reconnect attempts");
      return;
    }
    Millis delay = std::max<Millis>(config.reconnectInitial, 1);
    for (int i = 1; i < attempt && delay < config.reconnectMax; ++i) delay *= 2;
    delay = std::min(delay, std::max(config.reconnectMax, config.reconnectInitial));
    state = ConnectionState::WaitingRetry;
    retryAt = now.mono + delay;
    emit(client_event::Reconnecting{delay, attempt});
  }

  void lost(std::string reason, Now now) {
    const ConnectionState was = state;
    whoPages.clear();
    pendingJoins.clear();
    paced = false;
    havePong = false;
    if (kicked) {
      finish(kExitKicked, kickReason);
    } else if (refused) {
      finish(kExitRefused, refusedReason);
    } else if (was == ConnectionState::Closing) {
      finish(kExitOk, "");
    } else {
      emit(client_event::ConnectionLost{reason});
      if (!everRegistered) {
        finish(kExitCannotConnect, "could not connect: " + reason);
      } else {
        requeueUnconfirmed();
        scheduleRetry(now);
        if (state == ConnectionState::WaitingRetry) {
          std::vector<OutgoingMessage> open = unconfirmedNow();
          if (!open.empty()) emit(client_event::Unconfirmed{std::move(open), true});
        }
      }
    }
  }

  // After a QuitRequest the server closes the connection itself, once everything it queued for
  // us (the echo of our last lines included) is delivered; we close only if it does not within
  // quitTimeout. Without a QuitRequest to wait on, we close at once.
  void beginClosing(Now now, bool serverWillClose) {
    if (!serverWillClose) host.disconnect();
    state = ConnectionState::Closing;
    quitDeadline = now.mono + config.quitTimeout;
    queue.clear();
  }

  // ---- delivery --------------------------------------------------------------------------

  static OutgoingMessage outgoing(const protocol::Message& m) {
    if (const auto* chat = std::get_if<protocol::SendChat>(&m)) {
      return {chat->clientId, chat->room, false, chat->subject, chat->text,
              (chat->flags & protocol::kFlagAction) != 0};
    }
    const auto& priv = std::get<protocol::SendPrivate>(m);
    return {priv.clientId, priv.to, true, priv.subject, priv.text,
            (priv.flags & protocol::kFlagAction) != 0};
  }

  static protocol::Message request(const OutgoingMessage& o) {
    const std::uint8_t flags = o.action ? protocol::kFlagAction : 0;
    if (o.isPrivate) return protocol::SendPrivate{o.target, o.subject, o.text, flags, o.clientId};
    return protocol::SendChat{o.target, o.subject, o.text, flags, o.clientId};
  }

  // The client id of a queued resend (a chat or private message that already has one), or 0.
  static protocol::ClientId resendId(const Queued& q) {
    const auto* m = std::get_if<protocol::Message>(&q);
    const protocol::ClientId* id = m != nullptr ? protocol::clientIdOf(*m) : nullptr;
    return id != nullptr ? *id : 0;
  }

  // Everything not confirmed, oldest first: what is in flight, then resends still queued.
  std::vector<OutgoingMessage> unconfirmedNow() const {
    std::vector<OutgoingMessage> out(unconfirmed.begin(), unconfirmed.end());
    for (const Queued& q : queue) {
      if (resendId(q) != 0) out.push_back(outgoing(std::get<protocol::Message>(q)));
    }
    return out;
  }

  // A connection ended: what it left unconfirmed goes first once the next one is registered.
  void requeueUnconfirmed() {
    if (unconfirmed.empty()) return;
    for (auto it = unconfirmed.rbegin(); it != unconfirmed.rend(); ++it) {
      queue.emplace_front(protocol::Message{request(*it)});
    }
    unconfirmed.clear();
  }

  std::optional<OutgoingMessage> takeFromUnconfirmed(protocol::ClientId id) {
    auto it = std::find_if(unconfirmed.begin(), unconfirmed.end(),
                           [&](const OutgoingMessage& o) { return o.clientId == id; });
    if (it == unconfirmed.end()) return std::nullopt;
    OutgoingMessage o = std::move(*it);
    unconfirmed.erase(it);
    return o;
  }

  // Puts a refused-for-now message back among the resends at the front of the queue, in the
  // order the messages were first sent (client ids grow with it).
  void requeueInOrder(OutgoingMessage o) {
    auto pos = queue.begin();
    while (pos != queue.end() && resendId(*pos) != 0 && resendId(*pos) < o.clientId) ++pos;
    queue.insert(pos, protocol::Message{request(o)});
  }

  // False when this message was shown already: a second delivery of a resend.
  bool firstSighting(std::string_view from, protocol::ClientId id) {
    if (id == 0) return true;
    const std::uint64_t key = sightingKey(from, id);
    if (!seen.insert(key).second) return false;
    seenOrder.push_back(key);
    if (seenOrder.size() > kSeenMessages) {
      seen.erase(seenOrder.front());
      seenOrder.pop_front();
    }
    return true;
  }

  // A chat or private event arrived; false when it is a duplicate to drop.
  bool delivered(std::string_view from, protocol::ClientId id) {
    if (id != 0 && isSelf(from)) takeFromUnconfirmed(id);
    return firstSighting(from, id);
  }

  // ---- the send queue --------------------------------------------------------------------

  bool takeToken(Now now) { return !paced || bucket.tryTake(now.mono); }

  // Sends what the queue holds, in order, as far as the server's rate limit allows; tick()
  // sends the rest as tokens come back.
  void drain(Now now) {
    if (now.mono < holdUntil) return;
    while (state == ConnectionState::Registered && !kicked && !queue.empty()) {
      Queued& front = queue.front();
      if (auto* q = std::get_if<QuitMarker>(&front)) {
        send(protocol::QuitRequest{q->reason});
        beginClosing(now, true);
        return;
      }
      if (auto* ready = std::get_if<protocol::Message>(&front)) {
        if (!takeToken(now)) return;
        send(*ready);
        // A resend: unconfirmed again, under the id it had.
        if (resendId(front) != 0) unconfirmed.push_back(outgoing(*ready));
        queue.pop_front();
        continue;
      }
      const command::Command& cmd = std::get<command::Command>(front);
      std::optional<protocol::Message> prepared = prepare(cmd);
      if (prepared) {
        if (!takeToken(now)) return;
        if (protocol::ClientId* id = protocol::clientIdOf(*prepared)) {
          if (++lastClientId == 0) ++lastClientId;  // 0 means "no id"
          *id = lastClientId;
          unconfirmed.push_back(outgoing(*prepared));
          emit(client_event::Sending{unconfirmed.back()});
        }
        send(*prepared);
        committed(*prepared);
      }
      queue.pop_front();
    }
  }

  std::optional<protocol::Message> roomMessage(const std::string& text, std::uint8_t flags) {
    if (!needCurrentRoom()) return std::nullopt;
    if (!checkField(text, maxMessageBytes, true, "message")) return std::nullopt;
    if (!checkField(pendingSubject, kMaxSubjectBytes, false, "subject")) return std::nullopt;
    return protocol::SendChat{currentRoom, pendingSubject, text, flags};
  }

  // Turns a command into the request it sends, or handles it here and returns nullopt. Has no
  // side effect when it returns a request: the request may have to wait for a token, and the
  // command is then prepared again.
  std::optional<protocol::Message> prepare(const command::Command& cmd) {
    using R = std::optional<protocol::Message>;
    return std::visit(
        Overloaded{
            [&](const command::Say& c) -> R { return roomMessage(c.text, 0); },
            [&](const command::Me& c) -> R { return roomMessage(c.text, protocol::kFlagAction); },
            [&](const command::Msg& c) -> R {
              const std::string& subject = c.subject.empty() ? pendingSubject : c.subject;
              if (!checkNickArgument(c.nick) ||
                  !checkField(c.text, maxMessageBytes, true, "message") ||
                  !checkField(subject, kMaxSubjectBytes, false, "subject")) {
                return std::nullopt;
              }
              return protocol::SendPrivate{c.nick, subject, c.text, 0};
            },
            [&](const command::Subject& c) -> R {
              if (!checkField(c.text, kMaxSubjectBytes, false, "subject")) return std::nullopt;
              pendingSubject = c.text;
              info(c.text.empty() ? std::string("subject cleared")
                                  : "subject of your next message: " + c.text);
              return std::nullopt;
            },
            [&](const command::Join& c) -> R {
              auto name = room(c.room);
              if (!name) return std::nullopt;
              return protocol::JoinRoom{*name};
            },
            [&](const command::Part& c) -> R {
              const std::optional<std::string> name = roomOrCurrent(c.room);
              if (!name || !checkField(c.reason, kMaxReasonBytes, false, "reason")) {
                return std::nullopt;
              }
              return protocol::PartRoom{*name, c.reason};
            },
            [&](const command::Topic& c) -> R {
              if (!needCurrentRoom()) return std::nullopt;
              if (c.text.empty()) {
                showTopic();
                return std::nullopt;
              }
              if (!checkField(c.text, kMaxTopicBytes, false, "topic")) return std::nullopt;
              return protocol::SetTopic{currentRoom, c.text};
            },
            [&](const command::Nick& c) -> R {
              if (auto problem = text::nickProblem(c.nick, nickMin, nickMax)) {
                localError("nick_invalid", *problem);
                return std::nullopt;
              }
              return protocol::ChangeNick{c.nick};
            },
            [&](const command::Who& c) -> R {
              const std::optional<std::string> name = roomOrCurrent(c.room);
              if (!name) return std::nullopt;
              return protocol::WhoRequest{*name};
            },
            [&](const command::Whois& c) -> R {
              if (!checkNickArgument(c.nick)) return std::nullopt;
              return protocol::WhoisRequest{c.nick};
            },
            [&](const command::Away& c) -> R {
              if (!checkField(c.message, kMaxAwayBytes, false, "away message")) {
                return std::nullopt;
              }
              return protocol::SetAway{true, c.message};
            },
            [&](const command::Back&) -> R {
              return protocol::SetAway{false, ""};
            },
            [&](const command::Delete& c) -> R {
              if (!needCurrentRoom()) return std::nullopt;
              return protocol::DeleteMessage{currentRoom, c.id};
            },
            [&](const command::History& c) -> R {
              const std::optional<std::string> name = roomOrCurrent(c.room);
              if (!name) return std::nullopt;
              return protocol::HistoryRequest{*name, c.beforeId, c.count};
            },
            [&](const command::Search& c) -> R {
              if (!needCurrentRoom() ||
                  !checkField(c.words, kMaxSearchBytes, false, "search text")) {
                return std::nullopt;
              }
              return protocol::SearchRequest{currentRoom, c.words};
            },
            [&](const command::Oper& c) -> R {
              if (!checkField(c.password, kMaxPasswordBytes, false, "password")) {
                return std::nullopt;
              }
              return protocol::OperRequest{c.password};
            },
            [&](const command::Kick& c) -> R {
              if (!checkNickArgument(c.nick) ||
                  !checkField(c.reason, kMaxReasonBytes, false, "reason")) {
                return std::nullopt;
              }
              return protocol::KickRequest{c.nick, c.reason};
            },
            [&](const command::Register& c) -> R {
              if (!checkField(c.password, kMaxPasswordBytes, false, "password")) return std::nullopt;
              return protocol::RegisterRequest{c.password};
            },
            [&](const command::Identify& c) -> R {
              const std::string target = c.nick.empty() ? nick : c.nick;
              if (!checkNickArgument(target) ||
                  !checkField(c.password, kMaxPasswordBytes, false, "password")) {
                return std::nullopt;
              }
              // Proven, it is proven again after a reconnect.
              identifyNick = target;
              identifyPassword = c.password;
              identifying = true;
              return protocol::IdentifyRequest{target, c.password};
            },
            [&](const command::Unregister& c) -> R {
              if (!checkField(c.password, kMaxPasswordBytes, false, "password")) return std::nullopt;
              identifyNick.clear();
              identifyPassword.clear();
              return protocol::UnregisterRequest{c.password};
            },
            [&](const command::Passwd& c) -> R {
              if (!checkField(c.oldPassword, kMaxPasswordBytes, false, "password") ||
                  !checkField(c.newPassword, kMaxPasswordBytes, false, "password")) {
                return std::nullopt;
              }
              if (!identifyPassword.empty()) identifyPassword = c.newPassword;
              return protocol::PasswordChange{c.oldPassword, c.newPassword};
            },
            [&](const command::Ban& c) -> R {
              if (!checkField(c.target, kMaxNameBytes, false, "ban target") ||
                  !checkField(c.reason, kMaxReasonBytes, false, "reason")) {
                return std::nullopt;
              }
              return protocol::BanRequest{c.target, c.reason};
            },
            [&](const command::Unban& c) -> R {
              if (!checkField(c.target, kMaxNameBytes, false, "ban target")) return std::nullopt;
              return protocol::UnbanRequest{c.target};
            },
            [&](const command::Bans& c) -> R {
              if (!checkField(c.prefix, kMaxNameBytes, false, "prefix")) return std::nullopt;
              return protocol::BansRequest{c.prefix};
            },
            // input() handles these two at once; they never enter the queue.
            [&](const command::Quit&) -> R { return std::nullopt; },
            [&](const command::Help&) -> R { return std::nullopt; },
        },
        cmd);
  }

  // The local side of a command whose request has just been sent.
  void committed(const protocol::Message& request) {
    if (auto* chat = std::get_if<protocol::SendChat>(&request)) {
      pendingSubject.clear();
      // Receivers drop our indicator when the message arrives; forgetting when we last told
      // them lets the next keystroke announce typing again at once.
      typingSent.erase({text::foldCase(chat->room), false});
    } else if (auto* priv = std::get_if<protocol::SendPrivate>(&request)) {
      pendingSubject.clear();
      typingSent.erase({text::foldCase(priv->to), true});
    } else if (auto* join = std::get_if<protocol::JoinRoom>(&request)) {
      if (std::find(rooms.begin(), rooms.end(), join->room) != rooms.end()) {
        // Already in it: the server sends no JoinEvent, so switch now.
        std::erase(rooms, join->room);
        rooms.push_back(join->room);
        currentRoom = join->room;
      } else {
        // The server handles channel-0 requests in order, so whatever follows this JoinRoom is
        // handled after the join: switch now, or "/join #dev" then a line would send the line
        // to the old room. A refused join switches back (onError).
        if (std::find(pendingJoins.begin(), pendingJoins.end(), join->room) == pendingJoins.end()) {
          pendingJoins.push_back(join->room);
        }
        currentRoom = join->room;
      }
    } else if (auto* setAway = std::get_if<protocol::SetAway>(&request)) {
      away = setAway->away;
      awayMessage = setAway->message;
    }
  }

  void showTopic() {
    auto it = topics.find(currentRoom);
    if (it == topics.end() || it->second.topic.empty()) {
      info("#" + currentRoom + " has no topic");
      return;
    }
    std::string line = "topic of #" + currentRoom + ": " + it->second.topic;
    if (!it->second.setBy.empty()) line += " (set by " + it->second.setBy + ")";
    info(std::move(line));
  }

  void help(const std::string& topic) {
    const std::string_view all = command::helpText();
    if (topic.empty()) {
      info(std::string(all));
      return;
    }
    const std::string prefix = "/" + topic;
    std::size_t start = 0;
    while (start < all.size()) {
      std::size_t end = all.find('\n', start);
      if (end == std::string_view::npos) end = all.size();
      const std::string_view line = all.substr(start, end - start);
      if (line.starts_with(prefix) &&
          (line.size() == prefix.size() || line[prefix.size()] == ' ')) {
        info(std::string(line));
        return;
      }
      start = end + 1;
    }
    localError("usage", "no command /" + topic + "; type /help for the list");
  }

  // ---- presence --------------------------------------------------------------------------

  void sendPing(Now now) {
    protocol::PresencePing ping;
    ping.seq = pingSeq++;
    ping.clientTime = static_cast<std::uint64_t>(std::max<Millis>(now.mono, 0));
    ping.state = away ? protocol::PresenceState::Away : protocol::PresenceState::Active;
    if (havePong) {
      ping.echoServerTime = pongServerTime;
      ping.echoHoldMs =
          static_cast<std::uint32_t>(std::clamp<Millis>(now.mono - pongArrivedAt, 0, INT32_MAX));
    }
    send(ping);
    nextPingAt = now.mono + pingInterval;
  }

  // ---- received messages -----------------------------------------------------------------

  void onWelcome(const protocol::Welcome& w, Now now) {
    helloRetryUntil = 0;
    if (state != ConnectionState::Registering) return;
    nick = w.nick;
    resumeToken = w.resumeToken;
    maxMessageBytes = w.maxMessageBytes == 0
                          ? kMaxTextBytes
                          : std::min<std::size_t>(w.maxMessageBytes, kMaxTextBytes);
    nickMin = w.nickMin == 0 ? 1 : w.nickMin;
    nickMax = w.nickMax == 0 ? kMaxNickBytes : std::min<std::size_t>(w.nickMax, kMaxNickBytes);
    pingInterval = w.pingIntervalMs != 0 ? Millis{w.pingIntervalMs} : config.pingInterval;
    pingInterval = std::max<Millis>(pingInterval, 1);
    paced = w.rateBurst != 0 && w.ratePerSecond != 0;
    if (paced) bucket = RateLimiter(w.rateBurst, w.ratePerSecond, connectedAt);
    // The server has put us in every room the Hello named before it answers anything else,
    // so lines queued until now may go to those rooms straight away.
    for (const std::string& name : helloRooms) {
      if (std::find(rooms.begin(), rooms.end(), name) == rooms.end()) rooms.push_back(name);
    }
    if (std::find(rooms.begin(), rooms.end(), currentRoom) == rooms.end()) {
      currentRoom = helloRooms.front();
    }
    const bool reconnected = everRegistered;
    everRegistered = true;
    attempt = 0;
    state = ConnectionState::Registered;
    if (!identifyPassword.empty() && !identifyNick.empty()) {
      identifying = true;
      send(protocol::IdentifyRequest{identifyNick, identifyPassword});
    }
    holdUntil = 0;  // a new session starts with a full bucket
    typingSent.clear();
    emit(client_event::Welcome{w, currentRoom, reconnected});
    // A new session starts active; being away is the person's choice, so it survives.
    if (reconnected && away)
      queue.emplace_front(protocol::Message{protocol::SetAway{true, awayMessage}});
    sendPing(now);
    drain(now);
  }

  void onError(const protocol::ErrorReply& e, Now now) {
    if (e.clientId != 0 && e.code == ErrorCode::RateLimited) {
      if (auto o = takeFromUnconfirmed(e.clientId)) {
        // Not lost: it goes again, in its place, once the server's limit allows.
        holdUntil = std::max(holdUntil, now.mono + std::max<Millis>(e.retryAfterMs, 1));
        requeueInOrder(std::move(*o));
        info("the server is pacing messages; unconfirmed lines go again in " +
             std::to_string(std::max<Millis>(e.retryAfterMs, 1)) + " ms");
        return;
      }
    }
    if (state == ConnectionState::Registering && everRegistered && !quitQueued &&
        (e.code == ErrorCode::NickInUse || e.code == ErrorCode::ClusterUnavailable) &&
        sameName(e.context, nick)) {
      helloRejected = true;
      if (helloRetryUntil == 0) {
        emit(e);  // once: the retries are quiet
        helloRetryUntil = now.mono + kHelloRetryWindowMs;
        info("registering as " + nick + " again after the reconnect was refused; trying "
             "every second for " + std::to_string(kHelloRetryWindowMs / 1000) +
             " s (or choose another nick with /nick)");
      }
      if (now.mono < helloRetryUntil) helloRetryAt = now.mono + kHelloRetryMs;
      return;
    }
    // Any other refusal is final for the message it names: it is not sent again.
    if (e.clientId != 0) takeFromUnconfirmed(e.clientId);
    emit(e);
    if ((e.code == ErrorCode::RoomInvalid || e.code == ErrorCode::TooManyRooms) &&
        std::find(pendingJoins.begin(), pendingJoins.end(), e.context) != pendingJoins.end()) {
      std::erase(pendingJoins, e.context);
      if (currentRoom == e.context) currentRoom = rooms.empty() ? std::string() : rooms.back();
    }
    // A ban refuses at registration only; one met later (a /nick to a banned nick) is not final.
    const bool bannedAtTheDoor =
        e.code == ErrorCode::Banned && state == ConnectionState::Registering;
    if (e.code == ErrorCode::ServerFull || e.code == ErrorCode::UnsupportedVersion ||
        e.code == ErrorCode::TooManyConnections || bannedAtTheDoor) {
      refused = true;
      refusedReason = "refused by the server: " +
                      (e.message.empty() ? std::string(protocol::toString(e.code)) : e.message);
      return;
    }
    if (identifying && sameName(e.context, identifyNick) &&
        (e.code == ErrorCode::AccountUnknown || e.code == ErrorCode::BadPassword ||
         e.code == ErrorCode::RateLimited)) {
      identifying = false;
      const std::string wanted = identifyNick;
      identifyPassword.clear();  // never sent again on its own after a refusal
      if (e.code == ErrorCode::AccountUnknown) {
        // Not registered: the nick is anyone's, so take it as it is.
        identifyNick.clear();
        send(protocol::ChangeNick{wanted});
      }
      return;
    }
    if (state == ConnectionState::Registering &&
        (e.code == ErrorCode::NickInUse || e.code == ErrorCode::NickInvalid ||
         e.code == ErrorCode::NickRegistered)) {
      helloRejected = true;
      if (quitQueued) {
        // The person already asked to leave, so nobody will type "/nick other": the lines
        // waiting for registration cannot be delivered.
        refused = true;
        refusedReason = "could not register: " +
                        (e.message.empty() ? std::string(protocol::toString(e.code)) : e.message);
        beginClosing(now, false);
      }
    }
  }

  void onJoin(const protocol::JoinEvent& j) {
    if (isSelf(j.nick)) {
      // A room we asked for is already current (switched when the JoinRoom left); a later
      // /join may have moved on since, so the confirmation does not switch back.
      std::erase(pendingJoins, j.room);
      if (std::find(rooms.begin(), rooms.end(), j.room) == rooms.end()) rooms.push_back(j.room);
      if (currentRoom.empty()) currentRoom = j.room;
    }
    emit(j);
  }

  void onKick(const protocol::KickEvent& k) {
    if (isSelf(k.nick)) {
      kicked = true;
      kickReason = "kicked by " + k.by + (k.reason.empty() ? "" : ": " + k.reason);
      if (!k.room.empty()) removeRoom(k.room);
    } else {
      stopTypingOf(k.nick, k.room, false);
    }
    emit(k);
  }

  void onWho(const protocol::WhoReply& w) {
    auto& users = whoPages[w.room];
    users.insert(users.end(), w.users.begin(), w.users.end());
    if (w.more) return;
    client_event::WhoList list{w.room, std::move(users)};
    whoPages.erase(w.room);
    emit(list);
  }

  void onPong(const protocol::PresencePong& p, Now now) {
    havePong = true;
    pongServerTime = p.serverTime;
    pongArrivedAt = now.mono;
    const auto sent = static_cast<Millis>(p.echoClientTime);
    if (p.echoClientTime > static_cast<std::uint64_t>(INT64_MAX) || sent > now.mono) return;
    const auto sample = static_cast<double>(now.mono - sent);
    // The same smoothing as TCP's SRTT (RFC 6298): one eighth of each new sample.
    srtt = rttMeasured ? srtt + (sample - srtt) / 8.0 : sample;
    rttMeasured = true;
  }

  void onTyping(const protocol::TypingEvent& t, Now now) {
    if (isSelf(t.from)) return;
    auto it = std::find_if(typing.begin(), typing.end(), [&](const TypingEntry& e) {
      return e.isPrivate == t.isPrivate && sameName(e.nick, t.from) && sameName(e.target, t.target);
    });
    if (!t.active) {
      if (it != typing.end()) {
        TypingEntry e = *it;
        typing.erase(it);
        emit(client_event::Typing{e.nick, e.target, e.isPrivate, false});
      }
      return;
    }
    if (it != typing.end()) {
      it->expires = now.mono + config.typingExpiry;
      return;
    }
    typing.push_back({t.from, t.target, t.isPrivate, now.mono + config.typingExpiry});
    emit(client_event::Typing{t.from, t.target, t.isPrivate, true});
  }

  void onMessage(protocol::Message& message, Now now) {
    std::visit(
        Overloaded{
            [&](const protocol::Welcome& m) { onWelcome(m, now); },
            [&](const protocol::ErrorReply& m) { onError(m, now); },
            [&](const protocol::ChatEvent& m) {
              // Pages asked for with /history or /search are shown whole, seen before or not.
              const bool asked = (m.flags & protocol::kFlagPage) != 0;
              if (!asked && !delivered(m.from, m.clientId)) return;
              if ((m.flags & protocol::kFlagHistory) == 0) {
                stopTypingOf(m.from, m.room, false);
              }
              emit(m);
            },
            [&](const protocol::PrivateEvent& m) {
              if (!delivered(m.from, m.clientId)) return;
              stopTypingOf(m.from, m.to, true);
              emit(m);
            },
            [&](const protocol::JoinEvent& m) { onJoin(m); },
            [&](const protocol::PartEvent& m) {
              if (isSelf(m.nick)) {
                removeRoom(m.room);
              } else {
                stopTypingOf(m.nick, m.room, false);
              }
              emit(m);
            },
            [&](const protocol::QuitEvent& m) {
              stopTypingOf(m.nick, m.room, false);
              emit(m);
            },
            [&](const protocol::NickEvent& m) {
              if (isSelf(m.oldNick)) {
                nick = m.newNick;
              } else {
                stopTyping([&](const TypingEntry& t) { return sameName(t.nick, m.oldNick); });
              }
              emit(m);
            },
            [&](const protocol::TopicEvent& m) {
              topics[m.room] = m;
              emit(m);
            },
            [&](const protocol::DeletedEvent& m) { emit(m); },
            [&](const protocol::KickEvent& m) { onKick(m); },
            [&](const protocol::WhoReply& m) { onWho(m); },
            [&](const protocol::WhoisReply& m) { emit(m); },
            [&](const protocol::PresenceEvent& m) {
              if (isSelf(m.nick) && m.state != protocol::PresenceState::Lagging) {
                away = m.state == protocol::PresenceState::Away;
                awayMessage = away ? m.awayMessage : std::string();
              }
              emit(m);
            },
            [&](const protocol::AwayReply& m) { emit(m); },
            [&](const protocol::NoticeEvent& m) {
              if (identifying && isSelf(identifyNick)) identifying = false;  // proven
              emit(m);
            },
            [&](const protocol::BanListReply& m) { emit(m); },
            [&](const protocol::HistoryEnd& m) { emit(m); },
            [&](const protocol::PresencePong& m) { onPong(m, now); },
            [&](const protocol::TypingEvent& m) { onTyping(m, now); },
            // Client-to-server types never come from a server; ignore them.
            [&](const auto&) {},
        },
        message);
  }
};

// ---- ClientCore ----------------------------------------------------------------------------

ClientCore::ClientCore(ClientConfig config, ClientHost& host)
    : state_(std::make_unique<State>(std::move(config), host)) {}

ClientCore::~ClientCore() = default;

void ClientCore::start(Now) {
  State& st = *state_;
  if (st.state != ConnectionState::Idle) return;
  st.nick = st.config.nick;
  st.identifyNick = st.config.password.empty() ? std::string() : st.config.nick;
  st.identifyPassword = st.config.password;
  if (st.nick.size() > kMaxNickBytes) {
    st.localError("nick_invalid", "a nick is at most " + std::to_string(kMaxNickBytes) +
                                      " bytes; the server will pick one");
    st.nick.clear();
  }
  st.config.clientName = text::truncateUtf8(st.config.clientName, kMaxNameBytes);
  for (const std::string& typed : st.config.rooms) {
    auto name = st.room(typed);
    if (!name) continue;
    if (std::find(st.firstRooms.begin(), st.firstRooms.end(), *name) != st.firstRooms.end()) {
      continue;
    }
    if (st.firstRooms.size() == kMaxRoomsPerUser) {
      st.localError("too_many_rooms", "at most " + std::to_string(kMaxRoomsPerUser) +
                                          " rooms; not joining #" + *name);
      continue;
    }
    st.firstRooms.push_back(*name);
  }
  if (st.firstRooms.empty()) st.firstRooms.emplace_back(kDefaultRoom);
  st.state = ConnectionState::Connecting;
  st.host.connect();
}

void ClientCore::connected(Now now) {
  State& st = *state_;
  if (st.state != ConnectionState::Connecting) return;
  st.connectedAt = now.mono;
  st.emit(client_event::Connected{});
  if (st.quitQueued && st.queue.size() == 1 && !st.everRegistered) {
    // Asked to leave before ever connecting, with nothing to say: the server is reachable,
    // which is all there was to learn. Registering would only make the room see a join and a
    // quit.
    st.beginClosing(now, false);
    return;
  }
  st.state = ConnectionState::Registering;
  st.helloRetryUntil = 0;
  st.sendHello();
}

void ClientCore::connectFailed(std::string reason, Now now) {
  State& st = *state_;
  if (st.state != ConnectionState::Connecting) return;
  st.lost(std::move(reason), now);
}

void ClientCore::disconnected(std::string reason, Now now) {
  State& st = *state_;
  switch (st.state) {
    case ConnectionState::Connecting:
    case ConnectionState::Registering:
    case ConnectionState::Registered:
    case ConnectionState::Closing:
      st.lost(std::move(reason), now);
      break;
    case ConnectionState::Idle:
    case ConnectionState::WaitingRetry:
    case ConnectionState::Finished:
      break;
  }
}

void ClientCore::received(std::uint8_t, protocol::ByteSpan frame, Now now) {
  State& st = *state_;
  if (st.state == ConnectionState::Finished || st.state == ConnectionState::Idle) return;
  auto decoded = protocol::decode(frame);
  if (!decoded) {
    st.localError("malformed", "undecodable frame from the server: " +
                                   std::string(protocol::toString(decoded.error())));
    return;
  }
  st.onMessage(decoded.value(), now);
}

void ClientCore::input(std::string_view line, Now now) {
  State& st = *state_;
  if (st.state == ConnectionState::Finished) return;
  if (st.state == ConnectionState::Closing || st.quitQueued) {
    st.localError("closing", "leaving; this line was not sent");
    return;
  }
  auto parsed = command::parse(line);
  if (!parsed) {
    if (!parsed.error().message.empty()) st.localError("usage", parsed.error().message);
    return;
  }
  command::Command& cmd = parsed.value();
  if (auto* q = std::get_if<command::Quit>(&cmd)) {
    quit(q->reason, now);
    return;
  }
  // Help depends on nothing, so it answers at once even while connecting.
  if (auto* h = std::get_if<command::Help>(&cmd)) {
    st.help(h->topic);
    return;
  }
  if (auto* id = std::get_if<command::Identify>(&cmd);
      id != nullptr && st.state == ConnectionState::Registering && st.helloRejected) {
    // Checked as the /identify of a registered session is: both are sent once Welcome comes,
    // and a field over its wire limit cannot be encoded at all.
    const std::string target = id->nick.empty() ? st.nick : id->nick;
    if (!st.checkNickArgument(target) ||
        !st.checkField(id->password, kMaxPasswordBytes, false, "password")) {
      return;
    }
    st.identifyNick = target;
    st.identifyPassword = id->password;
    st.sendHello();
    return;
  }
  if (auto* n = std::get_if<command::Nick>(&cmd)) {
    const bool beforeFirstHello = !st.everRegistered && (st.state == ConnectionState::Idle ||
                                                         st.state == ConnectionState::Connecting);
    const bool retryHello = st.state == ConnectionState::Registering && st.helloRejected;
    if (beforeFirstHello || retryHello) {
      if (auto problem = text::nickProblem(n->nick, 1, kMaxNickBytes)) {
        st.localError("nick_invalid", *problem);
        return;
      }
      st.nick = n->nick;
      if (retryHello) {
        st.sendHello();
      } else {
        st.info("will register as " + n->nick);
      }
      return;
    }
  }
  st.queue.emplace_back(std::move(cmd));
  st.drain(now);
}

void ClientCore::typing(std::string_view target, bool isPrivate, Now now) {
  State& st = *state_;
  if (st.state != ConnectionState::Registered || st.kicked) return;
  std::string name;
  if (isPrivate) {
    if (target.empty() || target.size() > kMaxNickBytes) return;
    name = std::string(target);
  } else {
    auto room = text::normalizeRoom(target);
    if (!room) return;
    name = *room;
  }
  const auto key = std::make_pair(text::foldCase(name), isPrivate);
  auto it = st.typingSent.find(key);
  if (it != st.typingSent.end() && now.mono - it->second < st.config.typingRefresh) return;
  st.typingSent[key] = now.mono;
  st.send(protocol::TypingNotice{name, isPrivate, true});
}

void ClientCore::quit(std::string reason, Now now) {
  State& st = *state_;
  if (st.quitQueued) return;
  switch (st.state) {
    case ConnectionState::Finished:
    case ConnectionState::Closing:
      return;
    case ConnectionState::Idle:
      st.finish(kExitOk, "");
      return;
    case ConnectionState::WaitingRetry:
      if (st.queue.empty()) {
        st.finish(kExitOk, "");
        return;
      }
      break;  // lines typed during the outage go out after the reconnect, then the quit
    case ConnectionState::Connecting:
      // Even with nothing queued, wait for the outcome: a server that cannot be reached must
      // still end in kExitCannotConnect (connected() closes at once when nothing is queued).
      break;
    case ConnectionState::Registering:
      if (st.queue.empty()) {
        // The server refuses QuitRequest before registration; closing says the same.
        st.beginClosing(now, false);
        return;
      }
      break;
    case ConnectionState::Registered:
      break;
  }
  // Leaving must always work: a reason the server would refuse is dropped, not the quit.
  if (!st.checkField(reason, kMaxReasonBytes, false, "quit reason")) reason.clear();
  st.quitQueued = true;
  st.queue.emplace_back(QuitMarker{std::move(reason)});
  st.drain(now);
}

void ClientCore::tick(Now now) {
  State& st = *state_;
  st.stopTyping([&](const TypingEntry& t) { return t.expires <= now.mono; });
  switch (st.state) {
    case ConnectionState::WaitingRetry:
      if (now.mono >= st.retryAt) {
        st.state = ConnectionState::Connecting;
        st.host.connect();
      }
      break;
    case ConnectionState::Registering:
      if (st.helloRejected && st.helloRetryAt != 0 && now.mono >= st.helloRetryAt) {
        st.sendHello();
      }
      break;
    case ConnectionState::Closing:
      if (now.mono >= st.quitDeadline) {
        st.host.disconnect();
        if (st.kicked) {
          st.finish(kExitKicked, st.kickReason);
        } else if (st.refused) {
          st.finish(kExitRefused, st.refusedReason);
        } else {
          st.finish(kExitOk, "");
        }
      }
      break;
    case ConnectionState::Registered:
      st.drain(now);
      if (st.state == ConnectionState::Registered && !st.kicked && now.mono >= st.nextPingAt) {
        st.sendPing(now);
      }
      break;
    default:
      break;
  }
}

ConnectionState ClientCore::state() const {
  return state_->state;
}
bool ClientCore::finished() const {
  return state_->state == ConnectionState::Finished;
}
int ClientCore::exitStatus() const {
  return state_->exitStatus;
}
const std::string& ClientCore::nick() const {
  return state_->nick;
}
const std::vector<std::string>& ClientCore::rooms() const {
  return state_->rooms;
}
const std::string& ClientCore::currentRoom() const {
  return state_->currentRoom;
}

std::size_t ClientCore::unconfirmedCount() const {
  const State& st = *state_;
  return st.unconfirmed.size() +
         static_cast<std::size_t>(std::count_if(st.queue.begin(), st.queue.end(),
                                                [](const Queued& q) { return State::resendId(q) != 0; }));
}

Millis ClientCore::rttMs() const {
  return state_->rttMeasured ? static_cast<Millis>(std::llround(state_->srtt)) : 0;
}

std::vector<std::string> ClientCore::typingIn(std::string_view target, bool isPrivate) const {
  std::vector<std::string> out;
  for (const TypingEntry& t : state_->typing) {
    if (t.isPrivate == isPrivate && sameName(t.target, target)) out.push_back(t.nick);
  }
  return out;
}

}  // namespace udpchat
