#include "udpchat/server_core.hpp"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <deque>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "udpchat/overlong_field.hpp"
#include "udpchat/rate_limiter.hpp"
#include "udpchat/secure_random.hpp"
#include "udpchat/text.hpp"

namespace udpchat {

using protocol::ErrorCode;
using protocol::PresenceState;

namespace {

// Rooms keep at least this many recent messages, so /delete works on messages that scrolled out
// of a small replay history.
constexpr std::size_t kMinRecentMessages = 200;
// Presence pings and typing notices: their own bucket, excess dropped without a reply (they
// travel unreliably, so a drop is indistinguishable from loss).
constexpr std::uint32_t kUnreliableBurst = 20;
constexpr std::uint32_t kUnreliablePerSecond = 10;
constexpr Millis kTypingExpiry = 6000;
// How long the resume token of a session that ended stays claimable by a reconnecting client.
constexpr Millis kResumeWindow = 10 * 60 * 1000;
constexpr std::string_view kDefaultRoom = "lobby";
// Chat and private messages remembered per resume token by their client id, so one that is
// resent after a reconnect is confirmed again instead of delivered twice. A client resends only
// what it sent since its connection last carried an echo, which pacing keeps well below this.
constexpr std::size_t kAcceptedPerToken = 64;
// In a cluster, a message's id is its log entry's sequence times this, leaving the ids between
// two entries to messages a server delivered alone while cut off from the others.
constexpr std::uint64_t kClusterIdStep = 1024;
// After a failed commit, chat and private messages are refused at once for this long before
// the store is tried again, so a full disk does not cost every message a failed transaction.
constexpr Millis kStoreRetryMs = 2000;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

bool constantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

// A chat or private message accepted from a client that named it with a client id.
struct Accepted {
  protocol::ClientId clientId = 0;
  protocol::MessageId id = 0;
  std::uint64_t ts = 0;
  std::string target;  // canonical room, or the recipient's nick as delivered
};

using StoredMessage = StoredChat;

// A frame (or a close) the core produced while the turn's writes were not yet committed.
struct HeldOutput {
  std::vector<SessionId> to;
  std::uint8_t channel = 0;
  SharedFrame frame;  // null: close to[0]
  std::size_t item = 0;  // 1-based index of the pending write it confirms; 0: none
};

// A write of this turn that a frame depends on.
struct PendingWrite {
  // A chat or private message is refused when its commit fails; a setting (topic, deletion,
  // ban, account) still holds in memory and its author is told it will not survive a restart.
  enum class Kind { Chat, Private, Setting } kind = Kind::Chat;
  SessionId author = 0;
  std::uint64_t token = 0;
  protocol::ClientId clientId = 0;
  protocol::MessageId id = 0;
  std::string room;  // the room (Chat), or what the setting names

  bool isMessage() const { return kind != Kind::Setting; }
};

struct Room {
  std::string name;
  std::vector<SessionId> members;  // in join order
  std::vector<std::string> remoteMembers;  // users on other servers: folded nicks, join order
  std::string topic;
  std::string topicBy;
  std::uint64_t topicTs = 0;
  std::deque<StoredMessage> recent;
};

std::string ipv4Text(std::uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xFF) + "." +
         std::to_string((address >> 8) & 0xFF) + "." + std::to_string(address & 0xFF);
}

// Dotted-quad IPv4 ("192.0.2.7"), host order; nullopt for anything else.
std::optional<std::uint32_t> parseIpv4(const std::string& s) {
  in_addr address{};
  if (::inet_pton(AF_INET, s.c_str(), &address) != 1) return std::nullopt;
  return ntohl(address.s_addr);
}

// The key a ban is kept under: an address in its canonical dotted form (as ipv4Text writes
// the addresses it is compared with), else the nick folded.
std::string banKeyOf(const std::string& target) {
  if (auto address = parseIpv4(target)) return ipv4Text(*address);
  return text::foldCase(target);
}

// Wrong operator passwords, counted for one address or for everyone.
struct GuessRecord {
  std::uint32_t failures = 0;
  Millis lockedUntil = 0;  // mono
  Millis lastFailure = 0;  // mono

  // Not locked and an hour without a wrong password: the record may be forgotten.
  bool stale(Millis nowMono) const {
    constexpr Millis kForgetAfter = 60 * 60 * 1000;
    return lockedUntil <= nowMono && nowMono - lastFailure > kForgetAfter;
  }
};

struct Session {
  SessionId id = 0;
  std::uint32_t address = 0;  // IPv4, host order; 0: unknown or exempt from the limits
  std::uint32_t peerAddress = 0;  // as reported, loopback too (bans)
  bool registered = false;
  std::string nick;
  std::string folded;
  std::uint64_t token = 0;
  Millis connectedAt = 0;  // mono
  Millis signonWall = 0;
  Millis lastHeard = 0;    // mono, any frame
  Millis lastActive = 0;   // mono, last request on channel 0 (idle time)
  bool away = false;
  bool lagging = false;
  std::string awayMessage;
  bool oper = false;
  std::vector<std::string> rooms;  // canonical names, in join order
  std::string account;  // the folded nick of the account this session proved; empty: none
  bool claiming = false;  // a cluster claim for its nick is on its way
  RateLimiter requests;
  RateLimiter unreliable;
  // Presence statistics, from pings.
  bool pinged = false;
  std::uint32_t firstSeq = 0;
  std::uint32_t highestSeq = 0;
  std::uint64_t pingsCounted = 0;
  bool rttMeasured = false;
  Millis srtt = 0;
  // Rooms this user is typing in, and until when (mono).
  std::vector<std::pair<std::string, Millis>> typing;

  PresenceState state() const {
    if (lagging) return PresenceState::Lagging;
    return away ? PresenceState::Away : PresenceState::Active;
  }
  bool inRoom(std::string_view room) const {
    return std::find(rooms.begin(), rooms.end(), room) != rooms.end();
  }
  std::uint32_t rttForDisplay() const {
    // 0 means "not measured"; a measured sub-millisecond RTT shows as 1.
    return rttMeasured ? static_cast<std::uint32_t>(std::clamp<Millis>(srtt, 1, UINT32_MAX)) : 0;
  }
  bool typingIn(std::string_view room, Millis now) const {
    return std::any_of(typing.begin(), typing.end(),
                       [&](const auto& t) { return t.first == room && t.second > now; });
  }
  void stopTyping(std::string_view room) {
    std::erase_if(typing, [&](const auto& t) { return t.first == room; });
  }
};

}  // namespace

std::optional<std::string> ServerConfig::validate() const {
  // ENet allows 4095 peers per host; transports keep a few spare slots to refuse politely.
  if (maxClients < 1 || maxClients > 4000) return "--max-clients must be between 1 and 4000";
  if (historySize > kMaxHistory) {
    return "--history must be at most " + std::to_string(kMaxHistory);
  }
  if (nickMin < 1 || nickMin > nickMax) return "--nick-min must be between 1 and --nick-max";
  if (nickMax < 8 || nickMax > kMaxNickBytes) {
    return "--nick-max must be between 8 (automatic nicks like user123 must fit) and " +
           std::to_string(kMaxNickBytes);
  }
  if (maxMessageBytes < 1 || maxMessageBytes > kMaxTextBytes) {
    return "--max-message-bytes must be between 1 and " + std::to_string(kMaxTextBytes);
  }
  if (rateBurst < 1 || rateBurst > kMaxRateLimit) {
    return "--rate-burst must be between 1 and " + std::to_string(kMaxRateLimit);
  }
  if (ratePerSecond < 1 || ratePerSecond > kMaxRateLimit) {
    return "--rate must be between 1 and " + std::to_string(kMaxRateLimit) +
           " messages per second";
  }
  if (motd.size() > kMaxMotdBytes) {
    return "--motd must be at most " + std::to_string(kMaxMotdBytes) + " bytes";
  }
  if (text::checkText(motd, true) != text::TextProblem::None) {
    return "--motd must be UTF-8 without control characters";
  }
  if (serverName.empty() || serverName.size() > kMaxNameBytes ||
      text::checkText(serverName, false) != text::TextProblem::None) {
    return "--server-name must be 1 to " + std::to_string(kMaxNameBytes) +
           " bytes of printable UTF-8";
  }
  if (operPassword.size() > kMaxPasswordBytes) {
    return "--oper-password must be at most " + std::to_string(kMaxPasswordBytes) + " bytes";
  }
  if (operLockoutStart < 1 || operLockoutMax < operLockoutStart) {
    return "operator lockout: a start of at least 1 ms and a maximum not below it";
  }
  if (pingInterval < 100 || laggingAfter <= pingInterval || registrationTimeout < 1000) {
    return "presence timing: ping interval >= 100 ms, lagging threshold above it";
  }
  return std::nullopt;
}

struct ServerCore::State {
  ServerConfig config;
  Outbox& outbox;
  std::unordered_map<SessionId, Session> sessions;
  std::unordered_map<std::string, SessionId> byNick;   // folded nick -> session
  std::unordered_map<std::uint64_t, SessionId> byToken;
  // Tokens of sessions that ended recently -> until when (mono) they may be resumed. Only
  // tokens this server issued are ever adopted, so a client cannot pick a guessable one.
  std::unordered_map<std::uint64_t, Millis> departedTokens;
  // Recent messages by resume token, oldest first; kept as long as the token can be resumed.
  std::unordered_map<std::uint64_t, std::deque<Accepted>> acceptedByToken;
  // The client id of the SendChat or SendPrivate being answered (0: none); error() names it.
  protocol::ClientId answering = 0;
  std::map<std::string, Room> rooms;                   // canonical name -> room
  struct AddressUse {
    std::size_t sessions = 0;
    std::size_t unregistered = 0;
  };
  std::unordered_map<std::uint32_t, AddressUse> byAddress;  // known addresses only
  std::unordered_map<std::uint32_t, GuessRecord> operGuesses;  // by address (0: unknown)
  GuessRecord operGuessesGlobal;
  protocol::MessageId nextMessageId = 1;
  std::uint64_t nextAutoNick = 1;
  std::size_t registeredCount = 0;
  ServerStats stats;

  Store* store = nullptr;
  bool loaded = false;  // what the store knew has been read back (first call with a time)
  std::vector<PendingWrite> pending;
  std::vector<HeldOutput> held;
  // Sessions the transport reported gone while frames were held: nothing held goes to them.
  std::vector<SessionId> goneWhileHeld;
  std::size_t currentItem = 0;  // the pending write the frames being sent confirm
  Millis storeDownUntil = 0;    // mono
  Millis lastWall = 0;          // the latest wall time passed in
  // Accounts by folded nick, and wrong passwords per account and per address.
  std::map<std::string, StoredAccount, std::less<>> accounts;
  std::unordered_map<std::string, GuessRecord> proofGuessesByAccount;
  std::unordered_map<std::uint32_t, GuessRecord> proofGuessesByAddress;
  // Bans in force: folded nick, or dotted address -> the ban.
  std::map<std::string, protocol::BanEntry, std::less<>> bans;

  // ---- servers sharing one chat (nullptr bus: this server alone) ----------------------------
  cluster::Bus* bus = nullptr;
  struct RemoteUser {
    cluster::UserRecord record;
    std::uint64_t revision = 0;
  };
  std::unordered_map<std::string, RemoteUser> remoteUsers;  // folded nick -> on another server
  struct Peer {
    std::string name;
    Millis lastHeard = 0;  // mono
  };
  std::unordered_map<cluster::ServerId, Peer> peers;
  // A nick this server asked the directory for, and what to do once it answers.
  struct Claim {
    enum class Kind { Hello, Nick, Reclaim } kind = Kind::Hello;
    SessionId session = 0;
    std::string nick;
    std::vector<std::string> rooms;  // Hello: the rooms to join
    bool resumed = false;
    std::uint64_t resumeToken = 0;
    bool automatic = false;  // an automatic nick: another one is tried when it is taken
    int attempts = 0;
  };
  std::unordered_map<std::uint64_t, Claim> claims;
  // A message on its way through the log, to confirm to its author when it comes back.
  struct Append {
    SessionId session = 0;
    std::uint64_t token = 0;
    protocol::ClientId clientId = 0;
  };
  std::unordered_map<std::uint64_t, Append> appends;
  struct WhoisWait {
    SessionId session = 0;
    std::string nick;
    Millis deadline = 0;  // mono
  };
  std::unordered_map<std::uint64_t, WhoisWait> whoisWaits;
  std::uint64_t nextTag = 1;
  bool linkUp = true;
  Millis nextHeartbeat = 0;      // mono
  std::uint64_t appliedThrough = 0;  // the last log entry the store holds
  std::uint64_t outageBase = 0;      // takeLocalId(): the entry its ids follow
  std::uint64_t outageCount = 0;

  bool clustered() const { return bus != nullptr; }

  State(ServerConfig c, Outbox& o, Store* s, cluster::Bus* b)
      : config(std::move(c)), outbox(o), store(s), bus(b) {
    if (!config.tokenSource) config.tokenSource = secureRandom64;
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  }

  // ---- the store -------------------------------------------------------------------------

  // Picks up where the last run stopped: the id counter, and the resume tokens of people who
  // were here lately with what they sent, so a message resent after a restart is recognised.
  void load(Now now) {
    if (loaded) return;
    loaded = true;
    if (store == nullptr) return;
    nextMessageId = std::max(nextMessageId, store->nextMessageId());
    appliedThrough = store->clusterPosition();
    for (auto& account : store->accounts()) {
      const std::string key = text::foldCase(account.nick);
      accounts[key] = std::move(account);
    }
    for (auto& ban : store->bans()) {
      std::string key = banKeyOf(ban.target);
      bans[std::move(key)] = std::move(ban);
    }
    const Millis since = now.wall - kResumeWindow;
    for (std::uint64_t token : store->tokensSeenSince(since)) {
      departedTokens[token] = now.mono + kResumeWindow;
    }
    for (auto& [token, a] : store->acceptedSince(since)) {
      departedTokens[token] = now.mono + kResumeWindow;
      auto& accepted = acceptedByToken[token];
      accepted.push_back({a.clientId, a.id, a.ts, std::move(a.target)});
      if (accepted.size() > kAcceptedPerToken) accepted.pop_front();
    }
  }

  // True (after telling the author) when the store failed lately and is not tried yet.
  bool storeDown(const Session& s, Millis nowMono) {
    if (store == nullptr || storeDownUntil <= nowMono) return false;
    error(s.id, ErrorCode::StorageUnavailable, "",
          "the server cannot store messages right now, so this one was not sent; try again "
          "later",
          storeDownUntil - nowMono);
    return true;
  }

  // Registers a write the following frames confirm; returns its tag for endWrite().
  void beginWrite(PendingWrite write) {
    pending.push_back(std::move(write));
    currentItem = pending.size();
  }
  void endWrite() { currentItem = 0; }

  bool holding() const { return !pending.empty() || !held.empty(); }

  void commitTurn(Now now) {
    if (store == nullptr || (!store->pending() && !holding())) return;
    const bool ok = store->commit(now.wall);
    std::vector<PendingWrite> writes = std::move(pending);
    std::vector<HeldOutput> outputs = std::move(held);
    std::vector<SessionId> gone = std::move(goneWhileHeld);
    pending.clear();
    held.clear();
    goneWhileHeld.clear();
    std::sort(gone.begin(), gone.end());
    std::vector<bool> lost(writes.size() + 1, false);
    if (ok) {
      ++stats.commits;
    } else {
      ++stats.commitFailures;
      storeDownUntil = now.mono + kStoreRetryMs;
      logLine("cannot store what was accepted (" + store->lastError() + "); " +
              std::to_string(writes.size()) + " changes refused, new messages refused for " +
              std::to_string(kStoreRetryMs / 1000) + " s");
      for (std::size_t i = 0; i < writes.size(); ++i) {
        const PendingWrite& w = writes[i];
        lost[i + 1] = w.isMessage();
        if (!lost[i + 1]) continue;
        forgetAccepted(w.token, w.clientId);
        if (w.kind == PendingWrite::Kind::Chat) {
          if (auto room = rooms.find(w.room); room != rooms.end()) {
            std::erase_if(room->second.recent,
                          [&](const StoredMessage& m) { return m.event.id == w.id; });
          }
        }
      }
    }
    // In the order produced; what confirms a lost message is dropped.
    for (HeldOutput& out : outputs) {
      if (lost[out.item]) continue;
      if (!gone.empty()) {
        std::erase_if(out.to, [&](SessionId id) {
          return std::binary_search(gone.begin(), gone.end(), id);
        });
        if (out.to.empty()) continue;
      }
      if (out.frame) {
        outbox.send(out.to, out.channel, out.frame);
      } else {
        outbox.close(out.to.front());
      }
    }
    if (ok) return;
    for (const PendingWrite& w : writes) {
      if (!sessions.contains(w.author)) continue;
      const bool message = w.isMessage();
      answering = w.clientId;
      error(w.author, ErrorCode::StorageUnavailable, message ? "" : w.room,
            message ? "the server could not store your message, so it was not sent; try again "
                      "in a few seconds"
                    : "the server could not store this change; it holds until the server "
                      "restarts",
            message ? kStoreRetryMs : 0);
      answering = 0;
    }
  }

  void forgetAccepted(std::uint64_t token, protocol::ClientId clientId) {
    if (clientId == 0) return;
    auto it = acceptedByToken.find(token);
    if (it == acceptedByToken.end()) return;
    std::erase_if(it->second, [&](const Accepted& a) { return a.clientId == clientId; });
  }

  // ---- sending ---------------------------------------------------------------------------

  template <class T>
  void sendTo(std::span<const SessionId> to, const T& message,
              std::uint8_t channel = protocol::channelOf(T::kType)) {
    if (to.empty()) return;
    if (holding()) {
      held.push_back({std::vector<SessionId>(to.begin(), to.end()), channel,
                      share(protocol::encode(message)), currentItem});
      return;
    }
    outbox.send(to, channel, share(protocol::encode(message)));
  }

  // Closes after what was sent before it, held or not.
  void closeSession(SessionId id) {
    if (holding()) {
      held.push_back({{id}, 0, nullptr, 0});
      return;
    }
    outbox.close(id);
  }
  template <class T>
  void sendTo(SessionId to, const T& message) {
    sendTo(std::span<const SessionId>(&to, 1), message);
  }

  void error(SessionId to, ErrorCode code, std::string context, std::string message,
             Millis retryAfter = 0) {
    ++stats.framesRejected;
    protocol::ErrorReply reply;
    reply.code = code;
    reply.retryAfterMs = static_cast<std::uint32_t>(std::clamp<Millis>(retryAfter, 0, UINT32_MAX));
    reply.context = std::move(context);  // nicks, rooms and ids: always within kMaxNameBytes
    reply.message = std::move(message);
    reply.clientId = answering;
    sendTo(to, reply);
  }

  // The user and everyone sharing a room with them, each once.
  std::vector<SessionId> audienceOf(const Session& s) {
    std::vector<SessionId> out{s.id};
    for (const auto& name : s.rooms) {
      const Room& room = rooms.at(name);
      out.insert(out.end(), room.members.begin(), room.members.end());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  void announcePresence(const Session& s) {
    protocol::PresenceEvent event{s.nick, s.state(), s.away ? s.awayMessage : std::string{}};
    sendTo(audienceOf(s), event);
  }

  // ---- checks shared by several requests ---------------------------------------------------

  // Message text: non-empty, within the configured size, UTF-8, no control characters but
  // newline and tab. Returns false after sending the error.
  bool checkMessageText(SessionId id, std::string_view textValue) {
    if (textValue.empty()) {
      error(id, ErrorCode::EmptyText, "", "message text is empty");
      return false;
    }
    if (textValue.size() > config.maxMessageBytes) {
      textTooLong(id, textValue.size());
      return false;
    }
    return checkLine(id, textValue, true, "message");
  }

  void textTooLong(SessionId id, std::size_t bytes) {
    error(id, ErrorCode::TextTooLong, "",
          "message is " + std::to_string(bytes) + " bytes; the limit is " +
              std::to_string(config.maxMessageBytes) + " bytes (nothing was sent)");
  }

  // A frame refused because a string or list is over its wire limit: the reply names the field
  // and that field's own limit. Message text has the configured limit, which is lower.
  void fieldTooLong(SessionId id, const std::optional<protocol::OverlongField>& field) {
    if (!field || field->name.empty()) {
      error(id, ErrorCode::TextTooLong, "",
            "a field is longer than the protocol allows (nothing was sent)");
      return;
    }
    const std::string name(field->name);
    const std::string claimed = std::to_string(field->claimed);
    const std::string limit = std::to_string(field->limit);
    std::string message;
    if (field->entries) {
      message = name + " has " + claimed + " entries; the limit is " + limit;
    } else if (name == "text") {
      return textTooLong(id, field->claimed);
    } else {
      message = (field->inList ? "an entry of " + name : name) + " is " + claimed +
                " bytes; the limit is " + limit + " bytes";
    }
    error(id, ErrorCode::TextTooLong, "", message + " (nothing was sent)");
  }

  // One-line fields (subject, topic, reasons, away message).
  bool checkLine(SessionId id, std::string_view value, bool allowNewlineTab,
                 std::string_view what) {
    switch (text::checkText(value, allowNewlineTab)) {
      case text::TextProblem::None:
        return true;
      case text::TextProblem::InvalidUtf8:
        error(id, ErrorCode::InvalidUtf8, "", std::string(what) + " is not valid UTF-8");
        return false;
      case text::TextProblem::ControlCharacter:
        error(id, ErrorCode::ControlCharacter, "",
              std::string(what) + " holds a control character or a bidirectional override" +
                  (allowNewlineTab ? " (only newline and tab are allowed)" : ""));
        return false;
    }
    return false;
  }

  // Returns the canonical room name when the session is in it, else sends the error.
  std::optional<std::string> memberRoom(const Session& s, std::string_view requested) {
    auto room = text::normalizeRoom(requested);
    if (!room) {
      error(s.id, ErrorCode::RoomInvalid, std::string(requested),
            "room names are 1 to 32 letters, digits, '_' or '-', optionally after '#'");
      return std::nullopt;
    }
    if (!s.inRoom(*room)) {
      error(s.id, ErrorCode::NotInRoom, *room, "you are not in #" + *room + "; /join it first");
      return std::nullopt;
    }
    return room;
  }

  bool nickAcceptable(const Session& s, const std::string& nick) {
    if (auto problem = text::nickProblem(nick, config.nickMin, config.nickMax)) {
      error(s.id, ErrorCode::NickInvalid, nick, "nick '" + nick + "' refused: " + *problem);
      return false;
    }
    const std::string folded = text::foldCase(nick);
    auto it = byNick.find(folded);
    if (it != byNick.end() && it->second != s.id) {
      error(s.id, ErrorCode::NickInUse, nick, "nick '" + nick + "' is already in use");
      return false;
    }
    if (auto remote = remoteUsers.find(folded); remote != remoteUsers.end()) {
      error(s.id, ErrorCode::NickInUse, nick,
            "nick '" + nick + "' is already in use on " + remote->second.record.serverName);
      return false;
    }
    if (accounts.contains(folded) && s.account != folded) {
      error(s.id, ErrorCode::NickRegistered, nick,
            "nick '" + nick + "' is registered; prove it is yours with /identify " + nick +
                " PASSWORD (udpchat-client --password), or choose another");
      return false;
    }
    return true;
  }

  std::string autoNick() {
    for (;;) {
      std::string nick = "user" + std::to_string(nextAutoNick++);
      if (!byNick.contains(nick) && !accounts.contains(nick) && !remoteUsers.contains(nick)) {
        return nick;
      }
    }
  }

  // A token nobody holds: not a live session's, and not one that may still be resumed (that
  // would hand the departed user's nick and messages to the newcomer).
  std::uint64_t newToken() {
    for (;;) {
      const std::uint64_t token = config.tokenSource();
      if (token != 0 && !byToken.contains(token) && !departedTokens.contains(token)) return token;
    }
  }

  // ---- rooms -------------------------------------------------------------------------------

  void sendWho(SessionId to, const Room& room, Millis nowMono) {
    // Users here and on other servers, by folded nick.
    std::vector<std::pair<const std::string*, protocol::WhoEntry>> members;
    members.reserve(room.members.size() + room.remoteMembers.size());
    for (SessionId id : room.members) {
      const Session& m = sessions.at(id);
      std::uint8_t flags = 0;
      if (m.oper) flags |= protocol::kUserOperator;
      if (m.typingIn(room.name, nowMono)) flags |= protocol::kUserTyping;
      members.push_back({&m.folded, {m.nick, m.state(), m.rttForDisplay(), flags}});
    }
    for (const std::string& key : room.remoteMembers) {
      const cluster::UserRecord& r = remoteUsers.at(key).record;
      members.push_back({&key,
                         {r.nick, r.away ? PresenceState::Away : PresenceState::Active, 0,
                          static_cast<std::uint8_t>(r.flags & protocol::kUserOperator)}});
    }
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    protocol::WhoReply page;
    page.room = room.name;
    for (std::size_t i = 0; i < members.size() || i == 0; i += kMaxWhoEntriesPerFrame) {
      page.users.clear();
      const std::size_t end = std::min(members.size(), i + kMaxWhoEntriesPerFrame);
      for (std::size_t k = i; k < end; ++k) page.users.push_back(members[k].second);
      page.more = end < members.size();
      sendTo(to, page);
      if (!page.more) break;
    }
  }

  // The room, brought to life with what the store kept of it if nobody here was in it.
  Room& roomFor(const std::string& name) {
    auto [it, created] = rooms.try_emplace(name);
    Room& room = it->second;
    if (created) {
      room.name = name;
      if (store != nullptr) {
        auto recent = store->recentMessages(name, std::max(config.historySize, kMinRecentMessages));
        room.recent.assign(std::make_move_iterator(recent.begin()),
                           std::make_move_iterator(recent.end()));
        if (auto topic = store->topic(name)) {
          room.topic = std::move(topic->topic);
          room.topicBy = std::move(topic->setBy);
          room.topicTs = topic->ts;
        }
      }
    }
    return room;
  }

  void dropIfEmpty(const std::string& name) {
    auto it = rooms.find(name);
    if (it != rooms.end() && it->second.members.empty() && it->second.remoteMembers.empty()) {
      rooms.erase(it);
    }
  }

  // `publish`: tell the cluster (the Hello that registered the user already named its rooms).
  void join(Session& s, const std::string& name, Millis nowMono, bool publish = true) {
    if (s.inRoom(name)) {
      // Already there: repeat the joiner's view so the client can switch to the room.
      const Room& room = rooms.at(name);
      sendTo(s.id, protocol::TopicEvent{room.name, room.topic, room.topicBy, room.topicTs});
      sendWho(s.id, room, nowMono);
      return;
    }
    if (s.rooms.size() >= kMaxRoomsPerUser) {
      error(s.id, ErrorCode::TooManyRooms, name,
            "you are in " + std::to_string(kMaxRoomsPerUser) + " rooms, the most allowed; /part one first");
      return;
    }
    Room& room = roomFor(name);
    room.members.push_back(s.id);
    s.rooms.push_back(name);
    sendTo(room.members, protocol::JoinEvent{room.name, s.nick});
    sendTo(s.id, protocol::TopicEvent{room.name, room.topic, room.topicBy, room.topicTs});
    sendWho(s.id, room, nowMono);
    const std::size_t replay = std::min(config.historySize, room.recent.size());
    for (auto m = room.recent.end() - static_cast<std::ptrdiff_t>(replay); m != room.recent.end();
         ++m) {
      protocol::ChatEvent event = m->event;
      event.flags |= protocol::kFlagHistory;
      sendTo(s.id, event);
    }
    if (publish) publishRecord(s);
  }

  // Takes the session out of a room; drops the room when it empties.
  void leaveRoom(Session& s, const std::string& name) {
    std::erase(s.rooms, name);
    s.stopTyping(name);
    auto it = rooms.find(name);
    if (it == rooms.end()) return;
    std::erase(it->second.members, s.id);
    dropIfEmpty(name);
  }

  // Forgets a session. Rooms hear `quitReason` unless it is nullopt (kicks announce themselves).
  // `resumableUntil` (mono; 0: never) keeps the token claimable by the same person.
  void removeSession(SessionId id, std::optional<std::string> quitReason,
                     Millis resumableUntil = 0) {
    auto it = sessions.find(id);
    if (it == sessions.end()) return;
    Session& s = it->second;
    const std::vector<std::string> memberOf = s.rooms;
    for (const auto& name : memberOf) {
      leaveRoom(s, name);
      auto room = rooms.find(name);
      if (quitReason && room != rooms.end()) {
        sendTo(room->second.members, protocol::QuitEvent{name, s.nick, *quitReason});
      }
    }
    if (s.registered) {
      byNick.erase(s.folded);
      --registeredCount;
      if (clustered()) {
        // The others announce the quit from the record, then the key is free again.
        cluster::UserRecord gone = recordOf(s);
        gone.rooms = memberOf;
        gone.gone = true;
        gone.reason = quitReason.value_or("kicked");  // the kick itself was in the log
        bus->remove(s.folded, 0, cluster::encode(gone));
      }
    }
    if (s.address != 0) {
      auto use = byAddress.find(s.address);
      if (use != byAddress.end()) {
        --use->second.sessions;
        if (!s.registered) --use->second.unregistered;
        if (use->second.sessions == 0) byAddress.erase(use);
      }
    }
    if (s.token != 0) {
      byToken.erase(s.token);
      if (resumableUntil != 0) {
        departedTokens[s.token] = resumableUntil;
        if (store != nullptr && s.registered) store->touchToken(s.token, lastWall);
      } else {
        acceptedByToken.erase(s.token);
      }
    }
    sessions.erase(it);
  }

  // ---- servers sharing one chat ----------------------------------------------------------

  cluster::UserRecord recordOf(const Session& s) const {
    cluster::UserRecord r;
    r.nick = s.nick;
    r.rooms = s.rooms;
    r.away = s.away;
    r.awayMessage = s.awayMessage;
    r.flags = s.oper ? protocol::kUserOperator : 0;
    r.signonTs = static_cast<std::uint64_t>(s.signonWall);
    r.server = bus->serverId();
    r.serverName = config.serverName;
    return r;
  }

  // Tells the cluster what the user looks like now (rooms, away, operator).
  void publishRecord(const Session& s) {
    if (clustered() && s.registered) putRecord(s, recordOf(s));
  }
  void putRecord(const Session& s, cluster::UserRecord record) {
    record.server = bus->serverId();
    record.serverName = config.serverName;
    bus->put(s.folded, cluster::encode(record));
  }

  void startClaim(Claim claim, cluster::UserRecord record) {
    record.server = bus->serverId();
    record.serverName = config.serverName;
    const std::uint64_t tag = nextTag++;
    const std::string key = text::foldCase(claim.nick);
    claims[tag] = std::move(claim);
    bus->claim(tag, key, cluster::encode(record));
  }

  void clusterDown(SessionId to, std::string context) {
    error(to, ErrorCode::ClusterUnavailable, std::move(context),
          "this server has lost its link to the other servers of the chat, so this was not "
          "done; it reconnects by itself, try again in a few seconds",
          config.clusterHeartbeat);
  }

  // A resend of a message still on its way through the log: its confirmation is coming.
  bool inFlight(const Session& s, protocol::ClientId clientId) const {
    if (clientId == 0) return false;
    return std::any_of(appends.begin(), appends.end(), [&](const auto& a) {
      return a.second.token == s.token && a.second.clientId == clientId;
    });
  }

  // Ids of the messages that do not go through the log: alone, a counter; in a cluster, the
  // ids after the last entry applied (cluster ids are sequence × kClusterIdStep), so they sort
  // where they were sent and cannot meet an id of the log.
  protocol::MessageId takeLocalId() {
    if (!clustered()) return nextMessageId++;
    if (outageBase != appliedThrough) {
      outageBase = appliedThrough;
      outageCount = 0;
    }
    return outageBase * kClusterIdStep + ++outageCount;
  }
  bool outageIdLeft() const {
    return outageBase != appliedThrough || outageCount + 1 < kClusterIdStep;
  }

  void appendEntry(const Session& s, protocol::ClientId clientId, cluster::LogEntry entry) {
    const std::uint64_t tag = nextTag++;
    entry.origin = bus->serverId();
    entry.tag = tag;
    appends[tag] = {s.id, s.token, clientId};
    bus->append(tag, cluster::encode(entry));
  }

  void refuse(std::string what) {
    ++stats.clusterRefused;
    logLine("cluster: ignored " + what);
  }

  static bool lineOk(std::string_view value, bool newlines) {
    return text::checkText(value, newlines) == text::TextProblem::None;
  }
  static bool nickOk(std::string_view nick) {
    return !text::nickProblem(nick, 1, kMaxNickBytes).has_value();
  }
  static bool roomOk(const std::string& room) {
    auto canonical = text::normalizeRoom(room);
    return canonical && *canonical == room;
  }

  void applyEvent(cluster::BusEvent& e, Now now) {
    using Kind = cluster::BusEvent::Kind;
    switch (e.kind) {
      case Kind::Logged: return applyLogged(e.sequence, e.data, now);
      case Kind::AppendFailed: return appendFailed(e.tag);
      case Kind::Claimed: return claimed(e.tag, now);
      case Kind::ClaimFailed: return claimFailed(e.tag, e.taken, now);
      case Kind::KeyLost: return keyLost(e.key);
      case Kind::DirectoryPut: return directoryPut(e.key, e.sequence, e.data, now);
      case Kind::DirectoryDeleted: return directoryDeleted(e.key, e.data);
      case Kind::SettingPut: return settingPut(e.key, e.data);
      case Kind::SettingDeleted: return settingDeleted(e.key);
      case Kind::Signal: return applySignal(e.data, now);
      case Kind::LinkLost: return linkLost(e.reason);
      case Kind::LinkRestored: return linkRestored(now);
    }
  }

  // ---- the log

  void applyLogged(std::uint64_t sequence, const protocol::Bytes& data, Now now) {
    if (sequence <= appliedThrough) return;  // the store holds it already
    auto decoded = cluster::decodeLogEntry(data);
    if (!decoded) {
      refuse("log entry " + std::to_string(sequence) + ": " +
             std::string(protocol::toString(decoded.error())));
      return markApplied(sequence);
    }
    cluster::LogEntry& entry = decoded.value();
    ++stats.clusterApplied;
    Append author;
    if (entry.origin == bus->serverId()) {
      if (auto it = appends.find(entry.tag); it != appends.end()) {
        author = it->second;
        appends.erase(it);
      }
    }
    switch (entry.kind) {
      case cluster::EntryKind::Chat:
        applyChat(sequence, entry.chat, author);
        break;
      case cluster::EntryKind::Private:
        applyPrivate(sequence, entry.pm, author, entry.origin == bus->serverId());
        break;
      case cluster::EntryKind::Topic:
        if (!roomOk(entry.topic.room) || !nickOk(entry.topic.setBy) ||
            !lineOk(entry.topic.topic, false)) {
          refuse("log entry " + std::to_string(sequence) + ": not a valid topic");
          break;
        }
        applyTopic(entry.topic, author.session, author.token);
        break;
      case cluster::EntryKind::Delete:
        if (!roomOk(entry.deleted.room) || !nickOk(entry.deleted.by)) {
          refuse("log entry " + std::to_string(sequence) + ": not a valid deletion");
          break;
        }
        applyDelete(entry.deleted, author.session, author.token);
        break;
      case cluster::EntryKind::Kick:
        if (!nickOk(entry.kick.nick) || !nickOk(entry.kick.by) ||
            !lineOk(entry.kick.reason, false)) {
          refuse("log entry " + std::to_string(sequence) + ": not a valid kick");
          break;
        }
        applyKick(entry.kick);
        break;
    }
    markApplied(sequence);
    static_cast<void>(now);
  }

  void markApplied(std::uint64_t sequence) {
    appliedThrough = sequence;
    if (store != nullptr) store->setClusterPosition(sequence);
  }

  void rememberToken(std::uint64_t token, protocol::ClientId clientId, protocol::MessageId id,
                     std::uint64_t ts, const std::string& target) {
    if (clientId == 0 || token == 0) return;
    auto& accepted = acceptedByToken[token];
    accepted.push_back({clientId, id, ts, target});
    if (accepted.size() > kAcceptedPerToken) accepted.pop_front();
  }

  void applyChat(std::uint64_t sequence, protocol::ChatEvent& event, const Append& author) {
    if (!roomOk(event.room) || !nickOk(event.from) || event.text.empty() ||
        !lineOk(event.text, true) || !lineOk(event.subject, false)) {
      return refuse("log entry " + std::to_string(sequence) + ": not a valid room message");
    }
    event.id = sequence * kClusterIdStep;
    event.flags &= protocol::kFlagAction;
    rememberToken(author.token, author.clientId, event.id, event.ts, event.room);
    auto authorSession = sessions.find(author.session);
    if (authorSession != sessions.end()) {
      ++stats.messagesRelayed;
      authorSession->second.stopTyping(event.room);
    }
    StoredMessage stored{event, author.token};
    if (store != nullptr) {
      store->addMessage(stored);
      beginWrite({PendingWrite::Kind::Chat, author.session, author.token, author.clientId,
                  event.id, event.room});
    }
    auto room = rooms.find(event.room);
    if (room != rooms.end()) {
      sendTo(room->second.members, event);
      room->second.recent.push_back(std::move(stored));
      while (room->second.recent.size() > std::max(config.historySize, kMinRecentMessages)) {
        room->second.recent.pop_front();
      }
    }
    if (authorSession != sessions.end() && !authorSession->second.inRoom(event.room)) {
      sendTo(author.session, event);  // parted meanwhile: still confirmed
    }
    endWrite();
  }

  void applyPrivate(std::uint64_t sequence, protocol::PrivateEvent& event, const Append& author,
                    bool mine) {
    if (!nickOk(event.from) || !nickOk(event.to) || event.text.empty() ||
        !lineOk(event.text, true) || !lineOk(event.subject, false)) {
      return refuse("log entry " + std::to_string(sequence) + ": not a valid private message");
    }
    event.id = sequence * kClusterIdStep;
    event.flags &= protocol::kFlagAction;
    const auto recipient = byNick.find(text::foldCase(event.to));
    auto sender = sessions.find(author.session);
    const bool toHere = recipient != byNick.end();
    if (!toHere && !mine) return;  // neither end is on this server
    if (mine) {
      rememberToken(author.token, author.clientId, event.id, event.ts, event.to);
      ++stats.messagesRelayed;
    }
    if (store != nullptr) {
      store->addPrivate({event, author.token});
      beginWrite({PendingWrite::Kind::Private, author.session, author.token, author.clientId,
                  event.id, {}});
    }
    std::vector<SessionId> to;
    if (toHere) to.push_back(recipient->second);
    if (sender != sessions.end() && (!toHere || recipient->second != sender->first)) {
      to.push_back(sender->first);
    }
    sendTo(to, event);
    if (sender != sessions.end() && !toHere) {
      auto remote = remoteUsers.find(text::foldCase(event.to));
      if (remote != remoteUsers.end() && remote->second.record.away) {
        sendTo(sender->first,
               protocol::AwayReply{remote->second.record.nick, remote->second.record.awayMessage});
      }
    } else if (sender != sessions.end() && toHere) {
      const Session& target = sessions.at(recipient->second);
      if (target.away) sendTo(sender->first, protocol::AwayReply{target.nick, target.awayMessage});
    }
    endWrite();
  }

  void appendFailed(std::uint64_t tag) {
    auto it = appends.find(tag);
    if (it == appends.end()) return;
    const Append a = it->second;
    appends.erase(it);
    if (!sessions.contains(a.session)) return;
    answering = a.clientId;
    clusterDown(a.session, "");
    answering = 0;
  }

  // ---- nick claims

  void claimed(std::uint64_t tag, Now now) {
    auto it = claims.find(tag);
    if (it == claims.end()) return;
    Claim claim = std::move(it->second);
    claims.erase(it);
    const std::string key = text::foldCase(claim.nick);
    auto session = sessions.find(claim.session);
    if (session == sessions.end()) {
      bus->remove(key);  // gone while asking: the nick is free again
      return;
    }
    Session& s = session->second;
    switch (claim.kind) {
      case Claim::Kind::Hello:
        s.claiming = false;
        if (s.registered) {
          bus->remove(key);
          return;
        }
        finishHello(s, claim.nick, claim.rooms, claim.resumed, claim.resumeToken, now);
        return;
      case Claim::Kind::Nick: {
        s.claiming = false;
        const std::string oldKey = s.folded;
        renameSession(s, claim.nick);
        bus->remove(oldKey);
        return;
      }
      case Claim::Kind::Reclaim:
        if (s.folded != key) bus->remove(key);  // renamed since
        return;
    }
  }

  void claimFailed(std::uint64_t tag, bool taken, Now now) {
    auto it = claims.find(tag);
    if (it == claims.end()) return;
    Claim claim = std::move(it->second);
    claims.erase(it);
    auto session = sessions.find(claim.session);
    if (session == sessions.end()) return;
    Session& s = session->second;
    if (claim.kind != Claim::Kind::Reclaim) s.claiming = false;
    if (claim.kind == Claim::Kind::Hello && taken && claim.automatic && claim.attempts < 8) {
      // Another server gave the same automatic nick: take the next one.
      claim.nick = autoNick();
      ++claim.attempts;
      cluster::UserRecord record;
      record.nick = claim.nick;
      record.rooms = claim.rooms;
      record.signonTs = static_cast<std::uint64_t>(now.wall);
      startClaim(std::move(claim), std::move(record));
      s.claiming = true;
      return;
    }
    if (claim.kind == Claim::Kind::Reclaim) {
      if (!taken) return;  // the link is down; tried again when it is back
      const SessionId id = s.id;
      error(id, ErrorCode::NickInUse, s.nick,
            "while this server was cut off from the others, someone else took the nick " +
                s.nick + "; reconnect and choose another");
      byNick.erase(s.folded);  // not ours: no record to withdraw
      s.registered = false;
      --registeredCount;
      if (s.address != 0) ++byAddress[s.address].unregistered;
      removeSession(id, std::string("nick taken elsewhere"));
      closeSession(id);
      return;
    }
    if (!taken) return clusterDown(s.id, claim.nick);
    error(s.id, ErrorCode::NickInUse, claim.nick,
          "nick '" + claim.nick + "' is already in use on another server of this chat");
  }

  // A key this server holds changed under it (it was cut off and declared gone): claim it
  // again, or tell its user it is lost.
  void keyLost(const std::string& key) {
    auto holder = byNick.find(key);
    if (holder == byNick.end()) return;
    Session& s = sessions.at(holder->second);
    Claim claim;
    claim.kind = Claim::Kind::Reclaim;
    claim.session = s.id;
    claim.nick = s.nick;
    startClaim(std::move(claim), recordOf(s));
  }

  // ---- the directory: users on other servers

  void notePeer(cluster::ServerId id, const std::string& name, Millis nowMono, bool heard) {
    auto [it, added] = peers.try_emplace(id);
    it->second.name = name;
    // A server first seen in a record gets a full timeout to be heard from.
    if (added || heard) it->second.lastHeard = nowMono;
  }

  bool recordOk(const std::string& key, const cluster::UserRecord& r) const {
    if (!nickOk(r.nick) || text::foldCase(r.nick) != key || r.server == 0) return false;
    if (!r.formerNick.empty() && !nickOk(r.formerNick)) return false;
    if (r.serverName.empty() || !lineOk(r.serverName, false) || !lineOk(r.awayMessage, false) ||
        !lineOk(r.reason, false)) {
      return false;
    }
    return std::all_of(r.rooms.begin(), r.rooms.end(), roomOk);
  }

  void directoryPut(const std::string& key, std::uint64_t revision, const protocol::Bytes& data,
                    Now now) {
    auto decoded = cluster::decodeUserRecord(data);
    if (!decoded) {
      return refuse("directory record " + key + ": " +
                    std::string(protocol::toString(decoded.error())));
    }
    cluster::UserRecord& record = decoded.value();
    if (!recordOk(key, record)) return refuse("directory record " + key + ": not a valid user");
    if (record.server == bus->serverId()) return;  // ours
    notePeer(record.server, record.serverName, now.mono, false);
    auto it = remoteUsers.find(key);
    if (record.gone) {
      if (it != remoteUsers.end()) remoteLeaves(it, record.reason);
      return;
    }
    if (it == remoteUsers.end() && !record.formerNick.empty()) {
      auto former = remoteUsers.find(text::foldCase(record.formerNick));
      if (former != remoteUsers.end() && former->second.record.server == record.server) {
        return remoteRenamed(former, key, revision, std::move(record));
      }
    }
    if (it == remoteUsers.end()) {
      if (byNick.contains(key)) {
        // Held here too: the directory gives each key to one server, so this server's claim
        // was lost while it was cut off; keyLost() settles it.
        logLine("cluster: " + record.nick + " is claimed by " + record.serverName +
                " while a user here has the nick");
      }
      it = remoteUsers.emplace(key, RemoteUser{}).first;
      it->second.record.nick = record.nick;
      it->second.record.server = record.server;
    }
    RemoteUser& user = it->second;
    const cluster::UserRecord before = std::move(user.record);
    user.record = std::move(record);
    user.revision = revision;
    const cluster::UserRecord& after = user.record;
    for (const auto& name : after.rooms) {
      if (std::find(before.rooms.begin(), before.rooms.end(), name) != before.rooms.end()) continue;
      Room& room = roomFor(name);
      room.remoteMembers.push_back(key);
      sendTo(room.members, protocol::JoinEvent{room.name, after.nick});
    }
    for (const auto& name : before.rooms) {
      if (std::find(after.rooms.begin(), after.rooms.end(), name) != after.rooms.end()) continue;
      auto room = rooms.find(name);
      if (room == rooms.end()) continue;
      std::erase(room->second.remoteMembers, key);
      sendTo(room->second.members, protocol::PartEvent{name, after.nick, after.reason});
      dropIfEmpty(name);
    }
    if (before.away != after.away || before.awayMessage != after.awayMessage) {
      sendTo(localAudience(after.rooms),
             protocol::PresenceEvent{after.nick,
                                     after.away ? PresenceState::Away : PresenceState::Active,
                                     after.away ? after.awayMessage : std::string()});
    }
  }

  // The users of this server in any of `roomNames`, each once.
  std::vector<SessionId> localAudience(const std::vector<std::string>& roomNames) const {
    std::vector<SessionId> out;
    for (const auto& name : roomNames) {
      if (auto room = rooms.find(name); room != rooms.end()) {
        out.insert(out.end(), room->second.members.begin(), room->second.members.end());
      }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  void remoteRenamed(std::unordered_map<std::string, RemoteUser>::iterator former,
                     const std::string& key, std::uint64_t revision, cluster::UserRecord record) {
    const std::string oldKey = former->first;
    const std::string oldNick = former->second.record.nick;
    for (const auto& name : former->second.record.rooms) {
      if (auto room = rooms.find(name); room != rooms.end()) {
        std::replace(room->second.remoteMembers.begin(), room->second.remoteMembers.end(), oldKey,
                     key);
      }
    }
    RemoteUser user{std::move(record), revision};
    user.record.rooms = former->second.record.rooms;  // membership changes come as puts
    remoteUsers.erase(former);
    const std::vector<std::string> memberOf = user.record.rooms;
    const std::string nick = user.record.nick;
    remoteUsers[key] = std::move(user);
    sendTo(localAudience(memberOf), protocol::NickEvent{oldNick, nick});
  }

  // A user of another server is gone: its rooms here hear the quit.
  void remoteLeaves(std::unordered_map<std::string, RemoteUser>::iterator it,
                    const std::string& reason) {
    const std::string key = it->first;
    const cluster::UserRecord record = std::move(it->second.record);
    remoteUsers.erase(it);
    for (const auto& name : record.rooms) {
      auto room = rooms.find(name);
      if (room == rooms.end()) continue;
      std::erase(room->second.remoteMembers, key);
      sendTo(room->second.members, protocol::QuitEvent{name, record.nick, reason});
      dropIfEmpty(name);
    }
  }

  // A key deleted: its user is gone, with the reason of the record sent along, if any.
  void directoryDeleted(const std::string& key, const protocol::Bytes& data) {
    auto it = remoteUsers.find(key);
    if (it == remoteUsers.end()) return;
    std::string reason = "left";
    if (!data.empty()) {
      auto decoded = cluster::decodeUserRecord(data);
      if (decoded && recordOk(key, decoded.value()) && decoded.value().gone) {
        reason = decoded.value().reason;
      } else {
        refuse("departure record " + key);
      }
    }
    remoteLeaves(it, reason);
  }

  // ---- the settings: accounts and bans, the same on every server

  // Tells the other servers (and, through the echo, this one: applying is idempotent, so the
  // order the settings bucket gives wins everywhere).
  void shareAccount(const std::string& key, const StoredAccount& account) {
    if (!clustered()) return;
    cluster::Setting setting;
    setting.kind = cluster::SettingKind::Account;
    setting.origin = bus->serverId();
    setting.nick = account.nick;
    setting.hash = account.hash;
    setting.createdTs = account.createdTs;
    bus->putSetting(cluster::settingKey(setting.kind, key), cluster::encode(setting));
  }
  void shareBan(const std::string& key, const protocol::BanEntry& ban) {
    if (!clustered()) return;
    cluster::Setting setting;
    setting.kind = cluster::SettingKind::Ban;
    setting.origin = bus->serverId();
    setting.ban = ban;
    bus->putSetting(cluster::settingKey(setting.kind, key), cluster::encode(setting));
  }
  void unshare(cluster::SettingKind kind, const std::string& key) {
    if (clustered()) bus->deleteSetting(cluster::settingKey(kind, key));
  }

  // A change to an account or a ban that must reach the other servers: refused while the link
  // is down, so that no server keeps one the others never hear of.
  bool settingsReachable(const Session& s, const std::string& context) {
    if (!clustered() || linkUp) return true;
    clusterDown(s.id, context);
    return false;
  }

  static bool hashOk(const std::string& hash) {
    return hash.rfind("$argon2id$", 0) == 0 && lineOk(hash, false);
  }

  void settingPut(const std::string& key, const protocol::Bytes& data) {
    auto parsed = cluster::parseSettingKey(key);
    if (!parsed) return refuse("setting " + key + ": not an account's or a ban's key");
    auto decoded = cluster::decodeSetting(data);
    if (!decoded) {
      return refuse("setting " + key + ": " + std::string(protocol::toString(decoded.error())));
    }
    cluster::Setting& setting = decoded.value();
    const std::string& inner = parsed->second;
    if (setting.kind != parsed->first) return refuse("setting " + key + ": not of its key's kind");
    if (setting.kind == cluster::SettingKind::Account) {
      if (!nickOk(setting.nick) || text::foldCase(setting.nick) != inner || !hashOk(setting.hash)) {
        return refuse("setting " + key + ": not a valid account");
      }
      StoredAccount account{setting.nick, setting.hash, setting.createdTs};
      if (auto it = accounts.find(inner);
          it != accounts.end() && it->second.nick == account.nick && it->second.hash == account.hash) {
        return;  // known: this server's own, heard back
      }
      if (store != nullptr) {
        store->putAccount(inner, account);
        beginWrite({PendingWrite::Kind::Setting, 0, 0, 0, 0, account.nick});
      }
      logLine("cluster: " + account.nick + " is registered");
      accounts[inner] = std::move(account);
      return endWrite();
    }
    protocol::BanEntry& ban = setting.ban;
    const bool targetOk = parseIpv4(ban.target) || nickOk(ban.target);
    if (!targetOk || banKeyOf(ban.target) != inner || !lineOk(ban.reason, false) ||
        !nickOk(ban.by)) {
      return refuse("setting " + key + ": not a valid ban");
    }
    auto it = bans.find(inner);
    if (it != bans.end() && it->second == ban) return;  // known
    if (it == bans.end() && bans.size() >= kMaxBans) {
      return refuse("setting " + key + ": this server holds " + std::to_string(kMaxBans) +
                    " bans already");
    }
    if (store != nullptr) {
      store->addBan(inner, ban);
      beginWrite({PendingWrite::Kind::Setting, 0, 0, 0, 0, ban.target});
    }
    logLine("cluster: " + ban.by + " banned " + ban.target +
            (ban.reason.empty() ? "" : " (" + ban.reason + ")"));
    bans[inner] = ban;
    // Whoever it names goes, here as on the server where it was set.
    const auto address = parseIpv4(inner);
    std::vector<SessionId> victims;
    for (auto& [id, other] : sessions) {
      if (!other.registered) continue;
      if (other.folded == inner || (address && other.peerAddress == *address)) victims.push_back(id);
    }
    for (SessionId id : victims) {
      kickSession(sessions.at(id), ban.by, "banned" + (ban.reason.empty() ? "" : ": " + ban.reason));
    }
    endWrite();
  }

  void settingDeleted(const std::string& key) {
    auto parsed = cluster::parseSettingKey(key);
    if (!parsed) return refuse("setting " + key + ": not an account's or a ban's key");
    const std::string& inner = parsed->second;
    if (parsed->first == cluster::SettingKind::Account) {
      auto it = accounts.find(inner);
      if (it == accounts.end()) return;  // this server's own, heard back
      logLine("cluster: " + it->second.nick + " is no longer registered");
      accounts.erase(it);
      for (auto& [id, other] : sessions) {
        if (other.account == inner) other.account.clear();
      }
      if (store != nullptr) {
        store->removeAccount(inner);
        beginWrite({PendingWrite::Kind::Setting, 0, 0, 0, 0, inner});
      }
      return endWrite();
    }
    auto it = bans.find(inner);
    if (it == bans.end()) return;
    logLine("cluster: the ban on " + it->second.target + " is lifted");
    bans.erase(it);
    if (store != nullptr) {
      store->removeBan(inner);
      beginWrite({PendingWrite::Kind::Setting, 0, 0, 0, 0, inner});
    }
    endWrite();
  }

  // ---- signals

  void applySignal(const protocol::Bytes& data, Now now) {
    auto decoded = cluster::decodeSignal(data);
    if (!decoded) {
      return refuse("signal: " + std::string(protocol::toString(decoded.error())));
    }
    cluster::Signal& signal = decoded.value();
    if (signal.from == bus->serverId() || signal.from == 0) return;
    if (signal.to != 0 && signal.to != bus->serverId()) return;
    if (signal.serverName.empty() || !lineOk(signal.serverName, false)) {
      return refuse("signal: no valid server name");
    }
    notePeer(signal.from, signal.serverName, now.mono, true);
    switch (signal.kind) {
      case cluster::SignalKind::Heartbeat:
        return;
      case cluster::SignalKind::WhoisAsk: {
        cluster::Signal answer;
        answer.kind = cluster::SignalKind::WhoisAnswer;
        answer.from = bus->serverId();
        answer.to = signal.from;
        answer.tag = signal.tag;
        answer.serverName = config.serverName;
        if (auto it = byNick.find(text::foldCase(signal.nick)); it != byNick.end()) {
          answer.whois = whoisOf(sessions.at(it->second), now);
        }
        bus->signal(cluster::encode(answer));
        return;
      }
      case cluster::SignalKind::WhoisAnswer: {
        auto wait = whoisWaits.find(signal.tag);
        if (wait == whoisWaits.end()) return;
        const WhoisWait w = wait->second;
        whoisWaits.erase(wait);
        if (!sessions.contains(w.session)) return;
        protocol::WhoisReply& reply = signal.whois;
        const bool valid = nickOk(reply.nick) && lineOk(reply.awayMessage, false) &&
                           std::all_of(reply.rooms.begin(), reply.rooms.end(), roomOk);
        if (reply.nick.empty() || !valid) {
          if (!reply.nick.empty()) refuse("whois answer from " + signal.serverName);
          return whoisFromDirectory(w, now);
        }
        reply.server = signal.serverName;
        sendTo(w.session, reply);
        return;
      }
    }
  }

  // No answer from the user's server: what the directory says, without round trip.
  void whoisFromDirectory(const WhoisWait& w, Now now) {
    static_cast<void>(now);
    auto it = remoteUsers.find(w.nick);
    if (it == remoteUsers.end()) {
      error(w.session, ErrorCode::NoSuchNick, w.nick, "no such nick: " + w.nick);
      return;
    }
    const cluster::UserRecord& r = it->second.record;
    protocol::WhoisReply reply;
    reply.nick = r.nick;
    reply.state = r.away ? PresenceState::Away : PresenceState::Active;
    reply.signonTs = r.signonTs;
    reply.awayMessage = r.away ? r.awayMessage : std::string();
    reply.flags = r.flags & protocol::kUserOperator;
    reply.rooms = r.rooms;
    reply.server = r.serverName;
    sendTo(w.session, reply);
  }

  // ---- the link and the other servers' health

  void linkLost(const std::string& reason) {
    if (!linkUp) return;
    linkUp = false;
    logLine("cluster: lost the link to the other servers (" + reason +
            "); local users stay connected, reconnecting");
    broadcastNotice("this server has lost its link to the other servers of the chat; it "
                    "reconnects by itself, and until then messages reach only the users of this "
                    "server");
  }

  void linkRestored(Now now) {
    if (linkUp) return;
    linkUp = true;
    logLine("cluster: the link to the other servers is back");
    // Nobody was heard while cut off: every other server gets a full timeout again.
    for (auto& [id, peer] : peers) peer.lastHeard = now.mono;
    // Others may have taken this server for dead and freed its nicks: write every record
    // again; a key that changed meanwhile comes back as KeyLost.
    for (const auto& [id, s] : sessions) publishRecord(s);
    broadcastNotice("this server is linked to the other servers of the chat again");
  }

  void broadcastNotice(const std::string& text) {
    std::vector<SessionId> everyone;
    for (const auto& [id, s] : sessions) {
      if (s.registered) everyone.push_back(id);
    }
    std::sort(everyone.begin(), everyone.end());
    sendTo(everyone, protocol::NoticeEvent{protocol::NoticeKind::Info, text});
  }

  void clusterTick(Now now) {
    if (!linkUp) return;
    if (now.mono >= nextHeartbeat) {
      cluster::Signal beat;
      beat.kind = cluster::SignalKind::Heartbeat;
      beat.from = bus->serverId();
      beat.serverName = config.serverName;
      bus->signal(cluster::encode(beat));
      nextHeartbeat = now.mono + config.clusterHeartbeat;
    }
    std::vector<cluster::ServerId> silent;
    for (const auto& [id, peer] : peers) {
      if (now.mono - peer.lastHeard > config.clusterPeerTimeout) silent.push_back(id);
    }
    for (cluster::ServerId id : silent) serverGone(id);
    std::vector<std::uint64_t> late;
    for (const auto& [tag, w] : whoisWaits) {
      if (w.deadline <= now.mono) late.push_back(tag);
    }
    for (std::uint64_t tag : late) {
      const WhoisWait w = whoisWaits.at(tag);
      whoisWaits.erase(tag);
      if (sessions.contains(w.session)) whoisFromDirectory(w, now);
    }
  }

  // A server silent past the timeout is gone: its users quit here, and their keys are freed
  // (each only if nobody claimed it since).
  void serverGone(cluster::ServerId id) {
    const std::string name = peers.at(id).name;
    peers.erase(id);
    std::vector<std::string> keys;
    for (const auto& [key, user] : remoteUsers) {
      if (user.record.server == id) keys.push_back(key);
    }
    logLine("cluster: " + name + " has not been heard from for " +
            std::to_string(config.clusterPeerTimeout / 1000) + " s; its " +
            std::to_string(keys.size()) + " users have left");
    for (const auto& key : keys) {
      auto it = remoteUsers.find(key);
      const std::uint64_t revision = it->second.revision;
      remoteLeaves(it, name + " is unreachable");
      bus->remove(key, revision);
    }
  }

  // ---- requests ----------------------------------------------------------------------------

  void onHello(Session& s, protocol::Hello& hello, Now now) {
    if (s.registered) {
      error(s.id, ErrorCode::AlreadyRegistered, s.nick, "you are already registered as " + s.nick);
      return;
    }
    std::vector<std::string> wanted;
    for (const auto& requested : hello.rooms) {
      auto room = text::normalizeRoom(requested);
      if (!room) {
        error(s.id, ErrorCode::RoomInvalid, requested,
              "room names are 1 to 32 letters, digits, '_' or '-', optionally after '#'");
        return;
      }
      if (std::find(wanted.begin(), wanted.end(), *room) == wanted.end()) wanted.push_back(*room);
    }
    if (wanted.empty()) wanted.emplace_back(kDefaultRoom);

    // A resume token names the same person coming back: its stale session goes first, so the
    // nick is free again and the person keeps the right to delete their own messages.
    bool resumed = false;
    if (hello.resumeToken != 0) {
      auto ghost = byToken.find(hello.resumeToken);
      if (ghost != byToken.end() && ghost->second != s.id) {
        const SessionId stale = ghost->second;
        // Still resumable, so what the stale session accepted stays known (a resend of it is
        // recognised) and a retry after a refused Hello resumes too.
        removeSession(stale, std::string("reconnected"), now.mono + kResumeWindow);
        closeSession(stale);
        resumed = true;
      } else if (auto departed = departedTokens.find(hello.resumeToken);
                 departed != departedTokens.end() && departed->second > now.mono) {
        resumed = true;
      }
    }
    std::string nick = hello.nick.empty() ? autoNick() : hello.nick;
    if (!hello.nick.empty() && !nickAcceptable(s, nick)) return;
    if (const protocol::BanEntry* ban = banFor(text::foldCase(nick), 0)) {
      const SessionId id = s.id;
      error(id, ErrorCode::Banned, nick, banText(*ban));
      removeSession(id, std::nullopt);  // `s` is gone from here on
      closeSession(id);
      return;
    }
    if (clustered()) {
      // The nick is this server's to give only once the cluster's directory agrees.
      if (s.claiming || !linkUp) {
        if (!linkUp) clusterDown(s.id, nick);
        return;
      }
      Claim claim{Claim::Kind::Hello, s.id, nick, wanted, resumed, hello.resumeToken,
                  hello.nick.empty(), 0};
      cluster::UserRecord record;
      record.nick = nick;
      record.rooms = wanted;
      record.signonTs = static_cast<std::uint64_t>(now.wall);
      startClaim(std::move(claim), std::move(record));
      s.claiming = true;
      return;
    }
    finishHello(s, nick, wanted, resumed, hello.resumeToken, now);
  }

  // Registers the session under `nick` and joins it to `wanted`.
  void finishHello(Session& s, const std::string& nick, const std::vector<std::string>& wanted,
                   bool resumed, std::uint64_t resumeToken, Now now) {
    s.registered = true;
    ++registeredCount;
    if (s.address != 0) --byAddress[s.address].unregistered;
    s.requests = RateLimiter(config.rateBurst, config.ratePerSecond, now.mono);
    s.nick = nick;
    s.folded = text::foldCase(nick);
    s.token = resumed ? resumeToken : newToken();
    departedTokens.erase(s.token);
    s.signonWall = now.wall;
    s.lastActive = now.mono;
    byNick[s.folded] = s.id;
    byToken[s.token] = s.id;
    if (store != nullptr) store->touchToken(s.token, now.wall);

    protocol::Welcome welcome;
    welcome.nick = s.nick;
    welcome.resumeToken = s.token;
    welcome.serverName = config.serverName;
    welcome.motd = config.motd;
    welcome.maxMessageBytes = static_cast<std::uint32_t>(config.maxMessageBytes);
    welcome.nickMin = static_cast<std::uint8_t>(config.nickMin);
    welcome.nickMax = static_cast<std::uint8_t>(config.nickMax);
    welcome.historySize = static_cast<std::uint16_t>(config.historySize);
    welcome.rateBurst = static_cast<std::uint16_t>(std::min<std::uint32_t>(config.rateBurst, 65535));
    welcome.ratePerSecond =
        static_cast<std::uint16_t>(std::min<std::uint32_t>(config.ratePerSecond, 65535));
    welcome.pingIntervalMs = static_cast<std::uint32_t>(config.pingInterval);
    sendTo(s.id, welcome);
    for (const auto& room : wanted) join(s, room, now.mono, false);
    if (s.rooms != wanted) publishRecord(s);
  }

  // `channel`: where the message arrived, and so where it is relayed (lab channels).
  const Accepted* findAccepted(const Session& s, protocol::ClientId clientId) const {
    if (clientId == 0) return nullptr;
    auto it = acceptedByToken.find(s.token);
    if (it == acceptedByToken.end()) return nullptr;
    for (auto a = it->second.rbegin(); a != it->second.rend(); ++a) {
      if (a->clientId == clientId) return &*a;
    }
    return nullptr;
  }

  void remember(const Session& s, protocol::ClientId clientId, protocol::MessageId id,
                std::uint64_t ts, const std::string& target) {
    if (clientId == 0) return;
    auto& accepted = acceptedByToken[s.token];
    accepted.push_back({clientId, id, ts, target});
    if (accepted.size() > kAcceptedPerToken) accepted.pop_front();
  }

  // `channel`: where the message arrived, and so where it is relayed (lab channels).
  void onChat(Session& s, const protocol::SendChat& m, Now now,
              std::uint8_t channel = kChannelReliable) {
    if (const Accepted* prior = findAccepted(s, m.clientId)) {
      // A resend of a message already delivered: the room saw it, so only the sender hears
      // of it again, with the id and time it was given the first time.
      sendTo(s.id,
             protocol::ChatEvent{prior->id, prior->ts, prior->target, s.nick, m.subject, m.text,
                                 static_cast<std::uint8_t>(m.flags & protocol::kFlagAction),
                                 m.clientId});
      ++stats.resendsRecognised;
      return;
    }
    auto roomName = memberRoom(s, m.room);
    if (!roomName || !checkMessageText(s.id, m.text) || !checkLine(s.id, m.subject, false, "subject")) {
      return;
    }
    if (storeDown(s, now.mono)) return;
    if (clustered() && channel == kChannelReliable) {
      // Through the log, so every server delivers the room's messages in one order; the room
      // hears it, and the author has it confirmed, when it comes back (applyChat).
      if (inFlight(s, m.clientId)) return;
      if (linkUp) {
        cluster::LogEntry entry;
        entry.kind = cluster::EntryKind::Chat;
        entry.chat = protocol::ChatEvent{
            0, static_cast<std::uint64_t>(now.wall), *roomName, s.nick, m.subject, m.text,
            static_cast<std::uint8_t>(m.flags & protocol::kFlagAction), m.clientId};
        appendEntry(s, m.clientId, std::move(entry));
        return;
      }
      // Cut off from the others: this server's users keep chatting among themselves.
      if (!outageIdLeft()) return clusterDown(s.id, "");
    }
    Room& room = rooms.at(*roomName);
    StoredMessage stored;
    stored.authorToken = s.token;
    stored.event = protocol::ChatEvent{takeLocalId(), static_cast<std::uint64_t>(now.wall),
                                       room.name, s.nick, m.subject, m.text,
                                       static_cast<std::uint8_t>(m.flags & protocol::kFlagAction),
                                       m.clientId};
    remember(s, m.clientId, stored.event.id, stored.event.ts, room.name);
    ++stats.messagesRelayed;
    s.stopTyping(room.name);
    if (store != nullptr) {
      store->addMessage(stored);
      beginWrite({PendingWrite::Kind::Chat, s.id, s.token, m.clientId, stored.event.id, room.name});
    }
    sendTo(room.members, stored.event, channel);
    endWrite();
    room.recent.push_back(std::move(stored));
    while (room.recent.size() > std::max(config.historySize, kMinRecentMessages)) {
      room.recent.pop_front();
    }
  }

  Session* findNick(const Session& asker, std::string_view nick) {
    auto it = byNick.find(text::foldCase(nick));
    if (it == byNick.end()) {
      error(asker.id, ErrorCode::NoSuchNick, std::string(nick),
            "no such nick: " + std::string(nick));
      return nullptr;
    }
    return &sessions.at(it->second);
  }

  void onPrivate(Session& s, const protocol::SendPrivate& m, Now now) {
    if (const Accepted* prior = findAccepted(s, m.clientId)) {
      sendTo(s.id, protocol::PrivateEvent{
                       prior->id, prior->ts, s.nick, prior->target, m.subject, m.text,
                       static_cast<std::uint8_t>(m.flags & protocol::kFlagAction), m.clientId});
      ++stats.resendsRecognised;
      return;
    }
    if (!checkMessageText(s.id, m.text) || !checkLine(s.id, m.subject, false, "subject")) return;
    const std::string toKey = text::foldCase(m.to);
    if (!byNick.contains(toKey) && !remoteUsers.contains(toKey) && accounts.contains(toKey)) {
      keepForLater(s, m, toKey, now);  // (kept on this server: see docs/ARCHITECTURE.md)
      return;
    }
    if (clustered()) {
      // Through the log too: its sequence number is the id, unique on every server.
      const auto local = byNick.find(toKey);
      const auto remote = remoteUsers.find(toKey);
      if (local == byNick.end() && remote == remoteUsers.end()) {
        findNick(s, m.to);  // says there is no such nick
        return;
      }
      if (storeDown(s, now.mono) || inFlight(s, m.clientId)) return;
      if (linkUp) {
        cluster::LogEntry entry;
        entry.kind = cluster::EntryKind::Private;
        entry.pm = protocol::PrivateEvent{
            0, static_cast<std::uint64_t>(now.wall), s.nick,
            local != byNick.end() ? sessions.at(local->second).nick : remote->second.record.nick,
            m.subject, m.text, static_cast<std::uint8_t>(m.flags & protocol::kFlagAction),
            m.clientId};
        appendEntry(s, m.clientId, std::move(entry));
        return;
      }
      // Cut off: only to someone on this server.
      if (local == byNick.end() || !outageIdLeft()) return clusterDown(s.id, m.to);
    }
    Session* target = findNick(s, m.to);
    if (target == nullptr || storeDown(s, now.mono)) return;
    protocol::PrivateEvent event{takeLocalId(), static_cast<std::uint64_t>(now.wall), s.nick,
                                 target->nick, m.subject, m.text,
                                 static_cast<std::uint8_t>(m.flags & protocol::kFlagAction),
                                 m.clientId};
    remember(s, m.clientId, event.id, event.ts, target->nick);
    ++stats.messagesRelayed;
    if (store != nullptr) {
      store->addPrivate({event, s.token});
      beginWrite({PendingWrite::Kind::Private, s.id, s.token, m.clientId, event.id, {}});
    }
    // Recipient first, then the sender's confirmation; one frame for both.
    const SessionId both[] = {target->id, s.id};
    sendTo(std::span<const SessionId>(both, target->id == s.id ? 1 : 2), event);
    if (target->away) sendTo(s.id, protocol::AwayReply{target->nick, target->awayMessage});
    endWrite();
  }

  // A private message to a registered nick that is not online: kept (with the store) and
  // delivered when its owner next identifies; the sender's echo says it is stored.
  void keepForLater(Session& s, const protocol::SendPrivate& m, const std::string& toKey, Now now) {
    const StoredAccount& account = accounts.at(toKey);
    if (store == nullptr) {
      error(s.id, ErrorCode::NoSuchNick, m.to,
            account.nick + " is not online, and this server keeps nothing on disk to keep the "
                           "message for later");
      return;
    }
    if (storeDown(s, now.mono)) return;
    if (store->offlineFor(toKey).size() >= kMaxKeptPerAccount) {
      error(s.id, ErrorCode::StorageUnavailable, m.to,
            account.nick + " has " + std::to_string(kMaxKeptPerAccount) +
                " messages waiting already; nothing more is kept until they read them");
      return;
    }
    protocol::PrivateEvent event{takeLocalId(), static_cast<std::uint64_t>(now.wall), s.nick,
                                 account.nick, m.subject, m.text,
                                 static_cast<std::uint8_t>(m.flags & protocol::kFlagAction),
                                 m.clientId};
    remember(s, m.clientId, event.id, event.ts, account.nick);
    ++stats.messagesRelayed;
    store->addOffline(toKey, event);
    beginWrite({PendingWrite::Kind::Private, s.id, s.token, m.clientId, event.id, {}});
    sendTo(s.id, event);
    notice(s.id, account.nick + " is not online; the message is kept and delivered when they "
                                "next identify");
    endWrite();
  }

  void onJoin(Session& s, const protocol::JoinRoom& m, Now now) {
    auto room = text::normalizeRoom(m.room);
    if (!room) {
      error(s.id, ErrorCode::RoomInvalid, m.room,
            "room names are 1 to 32 letters, digits, '_' or '-', optionally after '#'");
      return;
    }
    join(s, *room, now.mono);
  }

  void onPart(Session& s, const protocol::PartRoom& m) {
    auto roomName = memberRoom(s, m.room);
    if (!roomName || !checkLine(s.id, m.reason, false, "reason")) return;
    sendTo(rooms.at(*roomName).members, protocol::PartEvent{*roomName, s.nick, m.reason});
    leaveRoom(s, *roomName);
    if (clustered()) {
      cluster::UserRecord record = recordOf(s);
      record.reason = m.reason;
      putRecord(s, std::move(record));
    }
  }

  void onTopic(Session& s, const protocol::SetTopic& m, Now now) {
    auto roomName = memberRoom(s, m.room);
    if (!roomName || !checkLine(s.id, m.topic, false, "topic")) return;
    protocol::TopicEvent change{*roomName, m.topic, s.nick, static_cast<std::uint64_t>(now.wall)};
    if (clustered()) {
      if (!linkUp) return clusterDown(s.id, *roomName);
      cluster::LogEntry entry;
      entry.kind = cluster::EntryKind::Topic;
      entry.topic = std::move(change);
      return appendEntry(s, 0, std::move(entry));
    }
    applyTopic(change, s.id, s.token);
  }

  // A topic set (or cleared, when empty) by change.setBy at change.ts.
  void applyTopic(const protocol::TopicEvent& change, SessionId author, std::uint64_t token) {
    const bool cleared = change.topic.empty();
    const StoredTopic kept{change.topic, cleared ? std::string() : change.setBy,
                           cleared ? 0 : change.ts};
    if (store != nullptr) {
      store->setTopic(change.room, kept);
      beginWrite({PendingWrite::Kind::Setting, author, token, 0, 0, change.room});
    }
    if (auto it = rooms.find(change.room); it != rooms.end()) {
      Room& room = it->second;
      room.topic = kept.topic;
      room.topicBy = kept.setBy;
      room.topicTs = kept.ts;
      protocol::TopicEvent event{room.name, room.topic, room.topicBy, room.topicTs};
      if (cleared) event.setBy = change.setBy;  // say who cleared it
      sendTo(room.members, event);
    }
    endWrite();
  }

  void onNick(Session& s, const protocol::ChangeNick& m) {
    if (!nickAcceptable(s, m.nick)) return;
    if (const protocol::BanEntry* ban = banFor(text::foldCase(m.nick), 0)) {
      error(s.id, ErrorCode::Banned, m.nick, banText(*ban) + "; pick another nick");
      return;
    }
    if (m.nick == s.nick) return;
    if (clustered() && text::foldCase(m.nick) != s.folded) {
      if (s.claiming) return;
      if (!linkUp) return clusterDown(s.id, m.nick);
      cluster::UserRecord record = recordOf(s);
      record.nick = m.nick;
      record.formerNick = s.nick;
      Claim claim;
      claim.kind = Claim::Kind::Nick;
      claim.session = s.id;
      claim.nick = m.nick;
      startClaim(std::move(claim), std::move(record));
      s.claiming = true;
      return;
    }
    renameSession(s, m.nick);
  }

  void renameSession(Session& s, const std::string& nick) {
    const std::string old = s.nick;
    const std::string oldKey = s.folded;
    byNick.erase(s.folded);
    s.nick = nick;
    s.folded = text::foldCase(nick);
    byNick[s.folded] = s.id;
    sendTo(audienceOf(s), protocol::NickEvent{old, s.nick});
    // Under a new key the claim wrote the record already.
    if (s.folded == oldKey) publishRecord(s);
  }

  void onWho(Session& s, const protocol::WhoRequest& m, Now now) {
    if (auto roomName = memberRoom(s, m.room)) sendWho(s.id, rooms.at(*roomName), now.mono);
  }

  void onWhois(Session& s, const protocol::WhoisRequest& m, Now now) {
    if (auto remote = remoteUsers.find(text::foldCase(m.nick)); remote != remoteUsers.end()) {
      // Its server knows the round trip and the idle time: ask it, answer from the directory
      // if it stays silent.
      const std::uint64_t tag = nextTag++;
      whoisWaits[tag] = {s.id, remote->first, now.mono + config.clusterWhoisTimeout};
      cluster::Signal ask;
      ask.kind = cluster::SignalKind::WhoisAsk;
      ask.from = bus->serverId();
      ask.to = remote->second.record.server;
      ask.tag = tag;
      ask.serverName = config.serverName;
      ask.nick = remote->second.record.nick;
      bus->signal(cluster::encode(ask));
      return;
    }
    const Session* target = findNick(s, m.nick);
    if (target == nullptr) return;
    sendTo(s.id, whoisOf(*target, now));
  }

  protocol::WhoisReply whoisOf(const Session& user, Now now) {
    const Session* target = &user;
    protocol::WhoisReply reply;
    reply.nick = target->nick;
    reply.state = target->state();
    reply.signonTs = static_cast<std::uint64_t>(target->signonWall);
    reply.idleMs = static_cast<std::uint64_t>(std::max<Millis>(0, now.mono - target->lastActive));
    reply.awayMessage = target->away ? target->awayMessage : std::string();
    reply.rttMs = target->rttForDisplay();
    if (target->pinged) {
      const std::uint64_t expected = std::uint64_t{target->highestSeq} - target->firstSeq + 1;
      const std::uint64_t lost = expected - std::min(expected, target->pingsCounted);
      reply.pingLossPermille = static_cast<std::uint16_t>(lost * 1000 / expected);
    }
    reply.lastHeardMs = static_cast<std::uint64_t>(std::max<Millis>(0, now.mono - target->lastHeard));
    reply.flags = target->oper ? protocol::kUserOperator : 0;
    reply.rooms = target->rooms;
    reply.server = config.serverName;
    return reply;
  }

  void onAway(Session& s, const protocol::SetAway& m) {
    if (!checkLine(s.id, m.message, false, "away message")) return;
    s.away = m.away;
    s.awayMessage = m.away ? m.message : std::string();
    announcePresence(s);
    publishRecord(s);
  }

  void onDelete(Session& s, const protocol::DeleteMessage& m) {
    auto roomName = memberRoom(s, m.room);
    if (!roomName) return;
    Room& room = rooms.at(*roomName);
    auto it = std::find_if(room.recent.begin(), room.recent.end(),
                           [&](const StoredMessage& stored) { return stored.event.id == m.id; });
    const std::string idText = std::to_string(m.id);
    if (it == room.recent.end()) {
      error(s.id, ErrorCode::NoSuchMessage, idText,
            "no message " + idText + " among the recent messages of #" + room.name);
      return;
    }
    if (it->authorToken != s.token && !s.oper) {
      error(s.id, ErrorCode::NotYourMessage, idText,
            "message " + idText + " is not yours; you can delete only your own messages");
      return;
    }
    protocol::DeletedEvent deletion{room.name, m.id, s.nick};
    if (clustered()) {
      if (!linkUp) return clusterDown(s.id, idText);
      cluster::LogEntry entry;
      entry.kind = cluster::EntryKind::Delete;
      entry.deleted = std::move(deletion);
      return appendEntry(s, 0, std::move(entry));
    }
    applyDelete(deletion, s.id, s.token);
  }

  void applyDelete(const protocol::DeletedEvent& deletion, SessionId author, std::uint64_t token) {
    if (store != nullptr) {
      store->markDeleted(deletion.room, deletion.id, deletion.by);
      beginWrite({PendingWrite::Kind::Setting, author, token, 0, 0, deletion.room});
    }
    if (auto it = rooms.find(deletion.room); it != rooms.end()) {
      std::erase_if(it->second.recent,
                    [&](const StoredMessage& m) { return m.event.id == deletion.id; });
      sendTo(it->second.members, deletion);
    }
    endWrite();
  }

  // ---- accounts ----------------------------------------------------------------------------

  bool passwordAcceptable(const Session& s, const std::string& password) {
    if (password.size() < kMinPasswordBytes) {
      error(s.id, ErrorCode::PasswordInvalid, "",
            "a password needs at least " + std::to_string(kMinPasswordBytes) + " bytes");
      return false;
    }
    if (text::checkText(password, false) != text::TextProblem::None) {
      error(s.id, ErrorCode::PasswordInvalid, "",
            "a password must be UTF-8 without control characters");
      return false;
    }
    return true;
  }

  static_assert(crypto_pwhash_STRBYTES - 1 <= kMaxHashBytes, "a hash travels as a setting");
  std::optional<std::string> hashPassword(std::string_view password) {
    std::string out(crypto_pwhash_STRBYTES, '\0');
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), config.passwordOps,
                              config.passwordMemoryBytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
      return std::nullopt;  // out of memory
    }
    out.resize(std::strlen(out.c_str()));
    return out;
  }

  static bool passwordMatches(const StoredAccount& account, std::string_view password) {
    return crypto_pwhash_str_verify(account.hash.c_str(), password.data(), password.size()) == 0;
  }

  // True (after refusing, unchecked) while the account or the address is locked out.
  bool proofLocked(const Session& s, const std::string& key, const std::string& nick,
                   Millis nowMono) {
    Millis until = 0;
    if (auto it = proofGuessesByAccount.find(key); it != proofGuessesByAccount.end()) {
      until = std::max(until, it->second.lockedUntil);
    }
    if (auto it = proofGuessesByAddress.find(s.address); it != proofGuessesByAddress.end()) {
      until = std::max(until, it->second.lockedUntil);
    }
    if (until <= nowMono) return false;
    error(s.id, ErrorCode::RateLimited, nick,
          "too many wrong passwords for " + nick + " or from your address; retry in " +
              std::to_string((until - nowMono + 999) / 1000) + " s (this attempt was not checked)",
          until - nowMono);
    return true;
  }

  void proofFailed(const Session& s, const std::string& key, const std::string& nick,
                   Millis nowMono) {
    const Millis a = countFailure(proofGuessesByAccount[key], config.proofFreeFailures, nowMono);
    const Millis b = countFailure(proofGuessesByAddress[s.address], config.proofFreeFailures, nowMono);
    const Millis lock = std::max(a, b);
    logLine("wrong password for " + nick + " from " +
            (s.address != 0 ? ipv4Text(s.address) : std::string("this machine")));
    error(s.id, ErrorCode::BadPassword, nick,
          "wrong password for " + nick +
              (lock > 0 ? "; the next try is possible in " + std::to_string((lock + 999) / 1000) + " s"
                        : std::string()),
          lock);
  }

  // Verifies `password` for the account `key`, counting failures; false after the error.
  bool proveAccount(const Session& s, const std::string& key, const std::string& nick,
                    const std::string& password, Millis nowMono) {
    auto it = accounts.find(key);
    if (it == accounts.end()) {
      error(s.id, ErrorCode::AccountUnknown, nick, "nick " + nick + " is not registered");
      return false;
    }
    if (proofLocked(s, key, nick, nowMono)) return false;
    if (!passwordMatches(it->second, password)) {
      proofFailed(s, key, nick, nowMono);
      return false;
    }
    proofGuessesByAccount.erase(key);
    return true;
  }

  void notice(SessionId to, std::string text) {
    sendTo(to, protocol::NoticeEvent{protocol::NoticeKind::Info, std::move(text)});
  }

  std::string keptNote() const {
    return store != nullptr ? std::string()
                            : " (this server keeps nothing on disk: until it restarts)";
  }

  void onRegister(Session& s, const protocol::RegisterRequest& m, Now now) {
    if (!settingsReachable(s, s.nick)) return;
    if (accounts.contains(s.folded)) {
      error(s.id, ErrorCode::NickRegistered, s.nick,
            "nick " + s.nick + " is registered already; /passwd changes its password");
      return;
    }
    if (!passwordAcceptable(s, m.password)) return;
    auto hash = hashPassword(m.password);
    if (!hash) {
      error(s.id, ErrorCode::StorageUnavailable, "", "the server cannot hash a password right now");
      return;
    }
    StoredAccount account{s.nick, std::move(*hash), static_cast<std::uint64_t>(now.wall)};
    if (store != nullptr) {
      store->putAccount(s.folded, account);
      beginWrite({PendingWrite::Kind::Setting, s.id, s.token, 0, 0, s.nick});
    }
    shareAccount(s.folded, account);
    accounts[s.folded] = std::move(account);
    s.account = s.folded;
    logLine(s.nick + " registered their nick");
    notice(s.id, "nick " + s.nick + " is registered to you" + keptNote() +
                     "; from now on it needs the password: udpchat-client --password, or "
                     "/identify " + s.nick + " PASSWORD");
    endWrite();
  }

  void onIdentify(Session& s, const protocol::IdentifyRequest& m, Now now) {
    const std::string key = text::foldCase(m.nick);
    if (!proveAccount(s, key, m.nick, m.password, now.mono)) return;
    const StoredAccount& account = accounts.at(key);
    // Whoever holds the nick now is the same person on another connection: it goes.
    if (auto holder = byNick.find(key); holder != byNick.end() && holder->second != s.id) {
      kickSession(sessions.at(holder->second), account.nick, "identified from another connection");
    }
    s.account = key;
    if (s.folded != key) {
      const std::string oldKey = s.folded;
      renameSession(s, account.nick);
      if (clustered()) {
        // The account's nick is this user's here; the directory hears it as a claim.
        bus->remove(oldKey);
        Claim claim;
        claim.kind = Claim::Kind::Reclaim;
        claim.session = s.id;
        claim.nick = s.nick;
        startClaim(std::move(claim), recordOf(s));
      }
    }
    std::vector<protocol::PrivateEvent> kept;
    if (store != nullptr) kept = store->offlineFor(key);
    if (!kept.empty()) {
      store->clearOffline(key);
      beginWrite({PendingWrite::Kind::Setting, s.id, s.token, 0, 0, s.nick});
    }
    for (auto& e : kept) {
      e.flags |= protocol::kFlagOffline;
      e.to = s.nick;
      sendTo(s.id, e);
    }
    notice(s.id, "you are identified as " + s.nick +
                     (kept.empty() ? std::string()
                                   : "; " + std::to_string(kept.size()) +
                                         (kept.size() == 1 ? " message was" : " messages were") +
                                         " kept for you"));
    endWrite();
  }

  void onUnregister(Session& s, const protocol::UnregisterRequest& m, Now now) {
    if (s.account != s.folded || !accounts.contains(s.folded)) {
      error(s.id, ErrorCode::AccountUnknown, s.nick,
            "nick " + s.nick + " is not registered to you; /identify first");
      return;
    }
    if (!settingsReachable(s, s.nick) || !proveAccount(s, s.folded, s.nick, m.password, now.mono)) {
      return;
    }
    accounts.erase(s.folded);
    unshare(cluster::SettingKind::Account, s.folded);
    if (store != nullptr) {
      store->removeAccount(s.folded);
      beginWrite({PendingWrite::Kind::Setting, s.id, s.token, 0, 0, s.nick});
    }
    s.account.clear();
    logLine(s.nick + " gave up their registration");
    notice(s.id, "nick " + s.nick + " is no longer registered; anyone may use it when you leave");
    endWrite();
  }

  void onPasswordChange(Session& s, const protocol::PasswordChange& m, Now now) {
    if (s.account.empty() || !accounts.contains(s.account)) {
      error(s.id, ErrorCode::AccountUnknown, s.nick, "you have not identified; /identify first");
      return;
    }
    const std::string nick = accounts.at(s.account).nick;
    if (!settingsReachable(s, nick) || !proveAccount(s, s.account, nick, m.oldPassword, now.mono) ||
        !passwordAcceptable(s, m.newPassword)) {
      return;
    }
    auto hash = hashPassword(m.newPassword);
    if (!hash) {
      error(s.id, ErrorCode::StorageUnavailable, "", "the server cannot hash a password right now");
      return;
    }
    StoredAccount& account = accounts.at(s.account);
    account.hash = std::move(*hash);
    if (store != nullptr) {
      store->putAccount(s.account, account);
      beginWrite({PendingWrite::Kind::Setting, s.id, s.token, 0, 0, nick});
    }
    shareAccount(s.account, account);
    notice(s.id, "the password of " + nick + " is changed");
    endWrite();
  }

  void onHistory(Session& s, const protocol::HistoryRequest& m) {
    auto roomName = memberRoom(s, m.room);
    if (!roomName) return;
    const std::size_t count =
        m.count == 0 ? kDefaultHistoryPage : std::min<std::size_t>(m.count, kMaxHistoryPage);
    // One more than asked for, to tell whether there is more.
    std::vector<protocol::ChatEvent> page;
    if (store != nullptr) {
      for (auto& kept : store->messagesBefore(*roomName, m.beforeId, count + 1)) {
        page.push_back(std::move(kept.event));
      }
    } else {
      const Room& room = rooms.at(*roomName);
      for (auto it = room.recent.rbegin(); it != room.recent.rend() && page.size() <= count; ++it) {
        if (m.beforeId == 0 || it->event.id < m.beforeId) page.push_back(it->event);
      }
      std::reverse(page.begin(), page.end());
    }
    const bool more = page.size() > count;
    if (more) page.erase(page.begin());
    sendPage(s, *roomName, false, page, more);
  }

  void onSearch(Session& s, const protocol::SearchRequest& m) {
    auto roomName = memberRoom(s, m.room);
    if (!roomName || !checkLine(s.id, m.words, false, "search text")) return;
    if (m.words.find_first_not_of(" \t") == std::string::npos) {
      error(s.id, ErrorCode::EmptyText, "", "give the words to search for");
      return;
    }
    if (store == nullptr) {
      error(s.id, ErrorCode::StorageUnavailable, *roomName,
            "this server keeps nothing on disk (it runs with --no-store), so there is no "
            "history to search");
      return;
    }
    std::vector<protocol::ChatEvent> found;
    for (auto& kept : store->search(*roomName, m.words, kMaxSearchResults + 1)) {
      found.push_back(std::move(kept.event));
    }
    const bool more = found.size() > kMaxSearchResults;
    if (more) found.pop_back();
    sendPage(s, *roomName, true, found, more);
  }

  // History or search results, flagged as history, then the HistoryEnd that closes them.
  void sendPage(const Session& s, const std::string& room, bool search,
                std::vector<protocol::ChatEvent>& events, bool more) {
    protocol::MessageId oldest = 0;
    for (auto& e : events) {
      e.flags |= protocol::kFlagHistory | protocol::kFlagPage;
      oldest = oldest == 0 ? e.id : std::min(oldest, e.id);
      sendTo(s.id, e);
    }
    sendTo(s.id, protocol::HistoryEnd{room, search, static_cast<std::uint16_t>(events.size()),
                                      oldest, more});
  }

  void logLine(const std::string& line) {
    if (config.log) config.log(line);
  }

  // Counts a wrong password in `record` and returns the lockout it starts (0: none yet).
  Millis countFailure(GuessRecord& record, std::uint32_t freeFailures, Millis nowMono) {
    ++record.failures;
    record.lastFailure = nowMono;
    if (record.failures <= freeFailures) return 0;
    Millis lockout = config.operLockoutStart;
    for (std::uint32_t i = freeFailures + 1; i < record.failures && lockout < config.operLockoutMax;
         ++i) {
      lockout *= 2;
    }
    lockout = std::min(lockout, config.operLockoutMax);
    record.lockedUntil = nowMono + lockout;
    return lockout;
  }

  void onOper(Session& s, const protocol::OperRequest& m, Now now) {
    if (config.operPassword.empty()) {
      error(s.id, ErrorCode::OperDisabled, "", "this server has no operator password");
      return;
    }
    const std::string who = s.nick + " from " + (s.address != 0 ? ipv4Text(s.address) : "?");
    GuessRecord& mine = operGuesses[s.address];
    const Millis lockedUntil = std::max(mine.lockedUntil, operGuessesGlobal.lockedUntil);
    if (lockedUntil > now.mono) {
      // Refused unread, so guessing during a lockout learns nothing.
      const Millis wait = lockedUntil - now.mono;
      const bool global = operGuessesGlobal.lockedUntil > now.mono && mine.lockedUntil <= now.mono;
      error(s.id, ErrorCode::RateLimited, "",
            std::string("too many wrong operator passwords ") +
                (global ? "on this server" : "from your address") + "; retry in " +
                std::to_string((wait + 999) / 1000) + " s (this attempt was not checked)",
            wait);
      return;
    }
    if (!constantTimeEquals(m.password, config.operPassword)) {
      const Millis mineLock = countFailure(mine, config.operFreeFailuresPerAddress, now.mono);
      const Millis globalLock =
          countFailure(operGuessesGlobal, config.operFreeFailuresGlobal, now.mono);
      std::string line = "wrong operator password from " + who + " (" +
                         std::to_string(mine.failures) + " from this address)";
      if (mineLock > 0 || globalLock > 0) {
        line += "; operator attempts locked for " +
                std::to_string(std::max(mineLock, globalLock)) + " ms" +
                (globalLock >= mineLock ? " for everyone" : " from this address");
      }
      logLine(line);
      error(s.id, ErrorCode::BadPassword, "", "wrong operator password");
      return;
    }
    logLine("operator granted to " + who);
    operGuesses.erase(s.address);
    s.oper = true;
    sendTo(s.id, protocol::NoticeEvent{protocol::NoticeKind::OperGranted, "you are now an operator"});
    publishRecord(s);
  }

  void onKick(Session& s, const protocol::KickRequest& m) {
    if (!s.oper) {
      error(s.id, ErrorCode::NotOperator, "", "only operators can kick; see /oper");
      return;
    }
    if (!checkLine(s.id, m.reason, false, "reason")) return;
    if (clustered()) {
      // Through the log, so every server shows the kick; the target's server disconnects.
      const std::string key = text::foldCase(m.nick);
      if (key == s.folded) {
        error(s.id, ErrorCode::CannotKickSelf, s.nick, "you cannot kick yourself; use /quit");
        return;
      }
      if (!byNick.contains(key) && !remoteUsers.contains(key)) {
        findNick(s, m.nick);  // says there is no such nick
        return;
      }
      if (!linkUp) return clusterDown(s.id, m.nick);
      cluster::LogEntry entry;
      entry.kind = cluster::EntryKind::Kick;
      entry.kick = protocol::KickEvent{"", m.nick, s.nick, m.reason};
      return appendEntry(s, 0, std::move(entry));
    }
    Session* target = findNick(s, m.nick);
    if (target == nullptr) return;
    if (target->id == s.id) {
      error(s.id, ErrorCode::CannotKickSelf, s.nick, "you cannot kick yourself; use /quit");
      return;
    }
    kickSession(*target, s.nick, m.reason);
  }

  void applyKick(const protocol::KickEvent& kick) {
    const std::string key = text::foldCase(kick.nick);
    if (auto local = byNick.find(key); local != byNick.end()) {
      kickSession(sessions.at(local->second), kick.by, kick.reason);
      return;
    }
    auto remote = remoteUsers.find(key);
    if (remote == remoteUsers.end()) return;
    const cluster::UserRecord record = std::move(remote->second.record);
    remoteUsers.erase(remote);
    for (const auto& name : record.rooms) {
      auto room = rooms.find(name);
      if (room == rooms.end()) continue;
      std::erase(room->second.remoteMembers, key);
      sendTo(room->second.members, protocol::KickEvent{name, record.nick, kick.by, kick.reason});
      dropIfEmpty(name);
    }
  }

  // Tells the user's rooms (and the user) and disconnects them.
  void kickSession(Session& target, const std::string& by, const std::string& reason) {
    const SessionId victim = target.id;
    if (target.rooms.empty()) {
      sendTo(victim, protocol::KickEvent{"", target.nick, by, reason});
    }
    for (const auto& name : target.rooms) {
      sendTo(rooms.at(name).members, protocol::KickEvent{name, target.nick, by, reason});
    }
    removeSession(victim, std::nullopt);
    closeSession(victim);
  }

  // The ban that refuses this nick or address, if any.
  const protocol::BanEntry* banFor(std::string_view folded, std::uint32_t address) const {
    if (bans.empty()) return nullptr;
    if (!folded.empty()) {
      if (auto it = bans.find(folded); it != bans.end()) return &it->second;
    }
    if (address != 0) {
      if (auto it = bans.find(ipv4Text(address)); it != bans.end()) return &it->second;
    }
    return nullptr;
  }

  std::string banText(const protocol::BanEntry& ban) const {
    return ban.target + " is banned from this server" +
           (ban.reason.empty() ? std::string() : ": " + ban.reason);
  }

  bool operatorOnly(const Session& s, std::string_view what) {
    if (s.oper) return true;
    error(s.id, ErrorCode::NotOperator, "", "only operators can " + std::string(what) + "; see /oper");
    return false;
  }

  // A ban's key (banKeyOf); nullopt, after the error, for what is neither nick nor address.
  std::optional<std::string> banKey(const Session& s, const std::string& target) {
    if (!parseIpv4(target) && text::nickProblem(target, 1, kMaxNickBytes)) {
      error(s.id, ErrorCode::NickInvalid, target,
            "'" + target + "' is neither a nick nor an IPv4 address such as 192.0.2.7");
      return std::nullopt;
    }
    return banKeyOf(target);
  }

  void onBan(Session& s, const protocol::BanRequest& m, Now now) {
    if (!operatorOnly(s, "ban") || !checkLine(s.id, m.reason, false, "reason")) return;
    auto key = banKey(s, m.target);
    if (!key || !settingsReachable(s, m.target)) return;
    const auto address = parseIpv4(*key);
    if (*key == s.folded || (address && *address == s.peerAddress)) {
      error(s.id, ErrorCode::CannotKickSelf, m.target, "that would ban you; nothing was changed");
      return;
    }
    if (!bans.contains(*key) && bans.size() >= kMaxBans) {
      error(s.id, ErrorCode::TooManyRooms, m.target,
            "this server holds " + std::to_string(kMaxBans) + " bans, the most it keeps; /unban one");
      return;
    }
    protocol::BanEntry ban{m.target, m.reason, s.nick, static_cast<std::uint64_t>(now.wall)};
    bans[*key] = ban;
    shareBan(*key, ban);
    if (store != nullptr) {
      store->addBan(*key, ban);
      beginWrite({PendingWrite::Kind::Setting, s.id, s.token, 0, 0, m.target});
    }
    logLine(s.nick + " banned " + m.target + (m.reason.empty() ? "" : " (" + m.reason + ")"));
    sendTo(s.id, protocol::NoticeEvent{protocol::NoticeKind::Info,
                                       m.target + " is banned" +
                                           (m.reason.empty() ? "" : ": " + m.reason)});
    // Whoever it names goes now.
    std::vector<SessionId> victims;
    for (auto& [id, other] : sessions) {
      if (id == s.id || !other.registered) continue;
      if (other.folded == *key || (address && other.peerAddress == *address)) victims.push_back(id);
    }
    for (SessionId id : victims) {
      kickSession(sessions.at(id), s.nick, "banned" + (m.reason.empty() ? "" : ": " + m.reason));
    }
    endWrite();
  }

  void onUnban(Session& s, const protocol::UnbanRequest& m) {
    if (!operatorOnly(s, "unban")) return;
    auto key = banKey(s, m.target);
    if (!key || !settingsReachable(s, m.target)) return;
    auto it = bans.find(*key);
    if (it == bans.end()) {
      error(s.id, ErrorCode::NotBanned, m.target, m.target + " is not banned; see /bans");
      return;
    }
    bans.erase(it);
    unshare(cluster::SettingKind::Ban, *key);
    if (store != nullptr) {
      store->removeBan(*key);
      beginWrite({PendingWrite::Kind::Setting, s.id, s.token, 0, 0, m.target});
    }
    logLine(s.nick + " lifted the ban on " + m.target);
    sendTo(s.id, protocol::NoticeEvent{protocol::NoticeKind::Info, m.target + " is no longer banned"});
    endWrite();
  }

  void onBans(Session& s, const protocol::BansRequest& m) {
    if (!operatorOnly(s, "list bans")) return;
    const std::string prefix = text::foldCase(m.prefix);
    protocol::BanListReply page;
    auto flush = [&](bool more) {
      page.more = more;
      sendTo(s.id, page);
      page.bans.clear();
    };
    for (const auto& [key, ban] : bans) {
      if (!key.starts_with(prefix)) continue;
      if (page.bans.size() == kMaxBansPerFrame) flush(true);
      page.bans.push_back(ban);
    }
    flush(false);
  }

  void onPing(Session& s, const protocol::PresencePing& m, Now now) {
    sendTo(s.id, protocol::PresencePong{m.seq, m.clientTime, static_cast<std::uint64_t>(now.mono)});
    if (!s.pinged) {
      s.pinged = true;
      s.firstSeq = s.highestSeq = m.seq;
      s.pingsCounted = 1;
    } else if (m.seq > s.highestSeq) {
      s.highestSeq = m.seq;
      ++s.pingsCounted;
    }
    // Both echoed values are the client's word: compared as unsigned before any subtraction, so
    // an echo from the future or a hold longer than the round trip is ignored, never overflows.
    const auto sentAt = m.echoServerTime;
    if (sentAt != 0 && now.mono >= 0 && sentAt <= static_cast<std::uint64_t>(now.mono)) {
      const std::uint64_t elapsed = static_cast<std::uint64_t>(now.mono) - sentAt;
      if (m.echoHoldMs <= elapsed) {
        const auto sample = static_cast<Millis>(elapsed - m.echoHoldMs);
        s.srtt = s.rttMeasured ? s.srtt + (sample - s.srtt) / 8 : sample;
        s.rttMeasured = true;
      }
    }
  }

  void onTyping(Session& s, const protocol::TypingNotice& m, Now now) {
    protocol::TypingEvent event{s.nick, "", m.isPrivate, m.active};
    if (m.isPrivate) {
      auto it = byNick.find(text::foldCase(m.target));
      if (it == byNick.end()) return;
      const Session& target = sessions.at(it->second);
      event.target = target.nick;
      sendTo(target.id, event);
      return;
    }
    auto room = text::normalizeRoom(m.target);
    if (!room || !s.inRoom(*room)) return;
    s.stopTyping(*room);
    if (m.active) s.typing.emplace_back(*room, now.mono + kTypingExpiry);
    event.target = *room;
    std::vector<SessionId> others = rooms.at(*room).members;
    std::erase(others, s.id);
    sendTo(others, event);
  }

  void dispatch(Session& s, protocol::Message& message, Now now) {
    std::visit(Overloaded{
                   [&](protocol::Hello& m) { onHello(s, m, now); },
                   [&](protocol::SendChat& m) { onChat(s, m, now); },
                   [&](protocol::SendPrivate& m) { onPrivate(s, m, now); },
                   [&](protocol::JoinRoom& m) { onJoin(s, m, now); },
                   [&](protocol::PartRoom& m) { onPart(s, m); },
                   [&](protocol::SetTopic& m) { onTopic(s, m, now); },
                   [&](protocol::ChangeNick& m) { onNick(s, m); },
                   [&](protocol::WhoRequest& m) { onWho(s, m, now); },
                   [&](protocol::WhoisRequest& m) { onWhois(s, m, now); },
                   [&](protocol::SetAway& m) { onAway(s, m); },
                   [&](protocol::DeleteMessage& m) { onDelete(s, m); },
                   [&](protocol::OperRequest& m) { onOper(s, m, now); },
                   [&](protocol::KickRequest& m) { onKick(s, m); },
                   [&](protocol::HistoryRequest& m) { onHistory(s, m); },
                   [&](protocol::SearchRequest& m) { onSearch(s, m); },
                   [&](protocol::BanRequest& m) { onBan(s, m, now); },
                   [&](protocol::UnbanRequest& m) { onUnban(s, m); },
                   [&](protocol::BansRequest& m) { onBans(s, m); },
                   [&](protocol::RegisterRequest& m) { onRegister(s, m, now); },
                   [&](protocol::IdentifyRequest& m) { onIdentify(s, m, now); },
                   [&](protocol::UnregisterRequest& m) { onUnregister(s, m, now); },
                   [&](protocol::PasswordChange& m) { onPasswordChange(s, m, now); },
                   [&](protocol::PresencePing& m) { onPing(s, m, now); },
                   [&](protocol::TypingNotice& m) { onTyping(s, m, now); },
                   [&](auto&) {},  // QuitRequest is handled before dispatch; others are refused
               },
               message);
  }
};

ServerCore::ServerCore(ServerConfig config, Outbox& outbox, Store* store, cluster::Bus* bus)
    : state_(std::make_unique<State>(std::move(config), outbox, store, bus)) {}

void ServerCore::leaveCluster(Now now) {
  State& st = *state_;
  if (!st.clustered()) return;
  st.lastWall = now.wall;
  for (const auto& [id, s] : st.sessions) {
    if (!s.registered) continue;
    cluster::UserRecord gone = st.recordOf(s);
    gone.gone = true;
    gone.reason = "server shutting down";
    st.bus->remove(s.folded, 0, cluster::encode(gone));
  }
}

int ServerCore::serviceCluster(Now now) {
  State& st = *state_;
  if (!st.clustered()) return 0;
  st.load(now);
  st.lastWall = now.wall;
  std::vector<cluster::BusEvent> events;
  st.bus->poll(events);
  for (auto& event : events) st.applyEvent(event, now);
  return static_cast<int>(events.size());
}

void ServerCore::endTurn(Now now) {
  state_->lastWall = now.wall;
  state_->commitTurn(now);
}

ServerCore::~ServerCore() = default;

const ServerConfig& ServerCore::config() const { return state_->config; }

ServerStats ServerCore::stats() const {
  ServerStats out = state_->stats;
  out.sessions = state_->sessions.size();
  out.registered = state_->registeredCount;
  out.rooms = state_->rooms.size();
  out.clusterPeers = state_->peers.size();
  out.remoteUsers = state_->remoteUsers.size();
  return out;
}

void ServerCore::connected(SessionId id, Now now) { connected(id, now, 0); }

void ServerCore::connected(SessionId id, Now now, std::uint32_t peerIpv4) {
  State& st = *state_;
  st.load(now);
  st.lastWall = now.wall;
  if (st.sessions.size() >= st.config.maxClients) {
    st.error(id, ErrorCode::ServerFull, "",
             "server is full (" + std::to_string(st.config.maxClients) +
                 " clients); try again later");
    st.closeSession(id);
    return;
  }
  if (const protocol::BanEntry* ban = st.banFor({}, peerIpv4)) {
    st.error(id, ErrorCode::Banned, ipv4Text(peerIpv4), st.banText(*ban));
    st.closeSession(id);
    return;
  }
  const std::uint32_t reported = peerIpv4;
  if (st.config.exemptLoopback && (peerIpv4 >> 24) == 127) peerIpv4 = 0;
  if (peerIpv4 != 0) {
    const auto use = st.byAddress.find(peerIpv4);
    const std::size_t sessions = use == st.byAddress.end() ? 0 : use->second.sessions;
    const std::size_t unregistered = use == st.byAddress.end() ? 0 : use->second.unregistered;
    const bool overSessions =
        st.config.maxSessionsPerAddress != 0 && sessions >= st.config.maxSessionsPerAddress;
    const bool overUnregistered = st.config.maxUnregisteredPerAddress != 0 &&
                                  unregistered >= st.config.maxUnregisteredPerAddress;
    if (overSessions || overUnregistered) {
      st.error(id, ErrorCode::TooManyConnections, "",
               overSessions
                   ? "your address already has " + std::to_string(sessions) +
                         " connections, the most this server allows; close one and try again"
                   : "your address has " + std::to_string(unregistered) +
                         " connections that have not registered yet; try again in a few seconds");
      st.closeSession(id);
      return;
    }
    auto& counted = st.byAddress[peerIpv4];
    ++counted.sessions;
    ++counted.unregistered;
  }
  Session& s = st.sessions[id];
  s.id = id;
  s.address = peerIpv4;
  s.peerAddress = reported;
  s.connectedAt = s.lastHeard = s.lastActive = now.mono;
  s.requests = RateLimiter(st.config.rateBurst, st.config.ratePerSecond, now.mono);
  s.unreliable = RateLimiter(kUnreliableBurst, kUnreliablePerSecond, now.mono);
}

void ServerCore::disconnected(SessionId id, Now now) {
  state_->lastWall = now.wall;
  if (state_->holding()) state_->goneWhileHeld.push_back(id);
  state_->removeSession(id, std::string("connection lost"), now.mono + kResumeWindow);
}

void ServerCore::received(SessionId id, std::uint8_t channel, protocol::ByteSpan frame, Now now) {
  State& st = *state_;
  auto it = st.sessions.find(id);
  if (it == st.sessions.end()) return;  // closed by us; late frames are ignored
  Session& s = it->second;
  st.lastWall = now.wall;
  s.lastHeard = now.mono;
  if (s.lagging) {
    s.lagging = false;
    if (s.registered) st.announcePresence(s);
  }

  const bool reliable = channel == kChannelReliable;
  auto decoded = protocol::decode(frame);
  if (!decoded) {
    if (!reliable || !s.requests.tryTake(now.mono)) {
      // Unreliable garbage, or garbage beyond the rate limit: dropped without a reply, so a
      // flood of junk cannot make the server send a flood of errors.
      ++st.stats.framesRejected;
      return;
    }
    if (decoded.error() == protocol::DecodeError::BadVersion) {
      st.error(id, ErrorCode::UnsupportedVersion, "",
               "this server speaks protocol version " + std::to_string(kProtocolVersion));
      st.removeSession(id, std::string("unsupported protocol version"));
      st.closeSession(id);
      return;
    }
    // Two decode failures have codes of their own, because a person can act on them.
    switch (decoded.error()) {
      case protocol::DecodeError::InvalidUtf8:
        st.error(id, ErrorCode::InvalidUtf8, "", "text must be valid UTF-8 (nothing was sent)");
        break;
      case protocol::DecodeError::FieldTooLong:
        st.fieldTooLong(id, protocol::findOverlongField(frame));
        break;
      default:
        st.error(id, ErrorCode::Malformed, "",
                 "malformed frame: " + std::string(protocol::toString(decoded.error())));
    }
    return;
  }
  protocol::Message& message = decoded.value();
  const protocol::MessageType type = protocol::typeOf(message);
  // Errors about a chat or private message name it, so the client knows which line failed.
  struct Answering {
    protocol::ClientId& slot;
    ~Answering() { slot = 0; }
  } answering{st.answering};
  if (const protocol::ClientId* clientId = protocol::clientIdOf(message)) {
    st.answering = *clientId;
  }

  if (channel >= kChannelBulk) {
    // Lab channels carry chat only, for registered users of a server started for the lab;
    // anything else there is dropped like other traffic on a channel it does not belong to.
    if (!st.config.labChannels || channel >= kLabChannelCount ||
        type != protocol::MessageType::SendChat || !s.registered ||
        !s.requests.tryTake(now.mono)) {
      ++st.stats.framesRejected;
      return;
    }
    s.lastActive = now.mono;
    st.onChat(s, std::get<protocol::SendChat>(message), now, channel);
    return;
  }
  if (!reliable) {
    // Pings and typing notices only; anything else here is dropped silently, because replies
    // to unreliable traffic would let a spoofed or lossy stream trigger reliable errors.
    if (protocol::channelOf(type) != kChannelUnreliable || !protocol::isClientToServer(type) ||
        !s.unreliable.tryTake(now.mono)) {
      ++st.stats.framesRejected;
      return;
    }
    if (type == protocol::MessageType::TypingNotice && !s.registered) return;
    st.dispatch(s, message, now);
    return;
  }

  const bool expected =
      protocol::isClientToServer(type) && protocol::channelOf(type) == kChannelReliable;
  if (expected && type == protocol::MessageType::QuitRequest) {
    // Never rate limited: leaving must always work.
    std::string reason = std::get<protocol::QuitRequest>(message).reason;
    if (text::checkText(reason, false) != text::TextProblem::None) reason.clear();
    st.removeSession(id, std::move(reason), now.mono + kResumeWindow);
    st.closeSession(id);
    return;
  }
  // Every other request that can be answered spends a token first, wrong types and Hellos
  // included, so no kind of request gets more replies than the rate limit allows. A Hello that
  // succeeds refills the bucket (onHello), so registering never costs a newcomer its burst.
  if (!s.requests.tryTake(now.mono)) {
    const Millis wait = s.requests.retryAfter(now.mono);
    st.error(id, ErrorCode::RateLimited, "",
             "too many messages: at most " + std::to_string(st.config.rateBurst) +
                 " at once and " + std::to_string(st.config.ratePerSecond) +
                 " per second; retry in " + std::to_string(wait) + " ms (this one was not sent)",
             wait);
    return;
  }
  if (!expected) {
    st.error(id, ErrorCode::UnexpectedMessage, "",
             "message type " + std::to_string(static_cast<int>(type)) +
                 " is not accepted from a client on channel 0");
    return;
  }
  if (!s.registered && type != protocol::MessageType::Hello) {
    st.error(id, ErrorCode::NotRegistered, "", "register first: send Hello with your nick");
    return;
  }
  s.lastActive = now.mono;
  st.dispatch(s, message, now);
}

void ServerCore::tick(Now now) {
  State& st = *state_;
  st.load(now);
  st.lastWall = now.wall;
  std::vector<SessionId> expired;
  for (auto& [id, s] : st.sessions) {
    if (!s.registered) {
      if (now.mono - s.connectedAt > st.config.registrationTimeout) expired.push_back(id);
      continue;
    }
    if (!s.lagging && now.mono - s.lastHeard > st.config.laggingAfter) {
      s.lagging = true;
      st.announcePresence(s);
    }
    std::erase_if(s.typing, [&](const auto& t) { return t.second <= now.mono; });
  }
  std::erase_if(st.departedTokens, [&](const auto& t) {
    if (t.second > now.mono) return false;
    st.acceptedByToken.erase(t.first);
    return true;
  });
  std::erase_if(st.operGuesses, [&](const auto& g) { return g.second.stale(now.mono); });
  std::erase_if(st.proofGuessesByAccount, [&](const auto& g) { return g.second.stale(now.mono); });
  std::erase_if(st.proofGuessesByAddress, [&](const auto& g) { return g.second.stale(now.mono); });
  if (st.operGuessesGlobal.stale(now.mono)) st.operGuessesGlobal = GuessRecord{};
  if (st.clustered()) st.clusterTick(now);
  for (SessionId id : expired) {
    st.error(id, ErrorCode::RegistrationTimeout, "",
             "no Hello within " + std::to_string(st.config.registrationTimeout / 1000) +
                 " s of connecting");
    st.removeSession(id, std::nullopt);
    st.closeSession(id);
  }
}

}  // namespace udpchat
