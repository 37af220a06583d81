// The udpchat wire protocol: message types as plain structs, and their encoding.
//
// A frame is: version (u8) | type (u8) | body. Integers are big-endian; strings are a u16 byte
// length followed by UTF-8; lists are a u16 count followed by the elements. Each struct lists its
// fields once, in wire order, in `fields()`; the encoder and the decoder of that type are both
// generated from that list, so the two cannot drift apart. docs/PROTOCOL.md is the normative text.
//
// No sockets, no clock, no ENet here: everything works on byte spans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "udpchat/limits.hpp"
#include "udpchat/result.hpp"

namespace udpchat::protocol {

using Bytes = std::vector<std::byte>;
using ByteSpan = std::span<const std::byte>;
using MessageId = std::uint64_t;
// Chosen by the sending client for each SendChat/SendPrivate and carried, unchanged, by the
// events and errors that answer it. A client that resends a message after a reconnect uses the
// same id, so the server and the receivers can tell a resend from a new message. 0: none.
using ClientId = std::uint64_t;

enum class MessageType : std::uint8_t {
  // client -> server, channel 0
  Hello = 0x01,
  SendChat = 0x02,
  SendPrivate = 0x03,
  JoinRoom = 0x04,
  PartRoom = 0x05,
  SetTopic = 0x06,
  ChangeNick = 0x07,
  WhoRequest = 0x08,
  WhoisRequest = 0x09,
  SetAway = 0x0A,
  DeleteMessage = 0x0B,
  OperRequest = 0x0C,
  KickRequest = 0x0D,
  QuitRequest = 0x0E,
  HistoryRequest = 0x0F,
  SearchRequest = 0x10,
  BanRequest = 0x11,
  UnbanRequest = 0x12,
  BansRequest = 0x13,
  RegisterRequest = 0x14,
  IdentifyRequest = 0x15,
  UnregisterRequest = 0x16,
  PasswordChange = 0x17,
  // client -> server, channel 1
  PresencePing = 0x20,
  TypingNotice = 0x21,
  // server -> client, channel 0
  Welcome = 0x40,
  ErrorReply = 0x41,
  ChatEvent = 0x42,
  PrivateEvent = 0x43,
  JoinEvent = 0x44,
  PartEvent = 0x45,
  QuitEvent = 0x46,
  NickEvent = 0x47,
  TopicEvent = 0x48,
  DeletedEvent = 0x49,
  KickEvent = 0x4A,
  WhoReply = 0x4B,
  WhoisReply = 0x4C,
  PresenceEvent = 0x4D,
  AwayReply = 0x4E,
  NoticeEvent = 0x4F,
  HistoryEnd = 0x50,
  BanListReply = 0x51,
  // server -> client, channel 1
  PresencePong = 0x60,
  TypingEvent = 0x61,
};

// Error codes carried by ErrorReply. Values are part of the wire format: never renumber.
enum class ErrorCode : std::uint16_t {
  Malformed = 1,           // frame could not be decoded; message says why
  UnsupportedVersion = 2,  // frame version is not kProtocolVersion; connection is closed
  UnexpectedMessage = 3,   // a server-to-client type, or a type on the wrong channel
  NotRegistered = 4,       // send Hello first
  AlreadyRegistered = 5,   // Hello after a successful Hello
  NickInvalid = 6,         // context: the nick; message: the rule it breaks
  NickInUse = 7,           // context: the nick
  NoSuchNick = 8,          // context: the nick
  RoomInvalid = 9,         // context: the room name
  NotInRoom = 10,          // context: the room name
  TooManyRooms = 11,
  TextTooLong = 12,        // message says the limit
  InvalidUtf8 = 13,
  ControlCharacter = 14,   // text holds a control character (other than newline and tab in text)
  EmptyText = 15,
  RateLimited = 16,        // retryAfterMs says when one more message will be accepted
  NotOperator = 17,
  BadPassword = 18,
  OperDisabled = 19,       // the server has no operator password
  NoSuchMessage = 20,      // context: the message id
  NotYourMessage = 21,     // context: the message id
  ServerFull = 22,         // connection is closed after this error
  RegistrationTimeout = 23,
  CannotKickSelf = 24,
  TooManyConnections = 25,  // from one address; connection is closed after this error
  StorageUnavailable = 26,  // the server could not store it, so did not deliver it
  Banned = 27,              // context: the nick or address; message: the reason; closes
  NotBanned = 28,           // context: what /unban named
  NickRegistered = 29,      // the nick belongs to an account: identify first; context: the nick
  AccountUnknown = 30,      // no account has that nick; context: the nick
  PasswordInvalid = 31,     // a new password breaks the rules; message: which
  ClusterUnavailable = 32,  // the server cannot reach the other servers of its chat; not sent
};

inline constexpr std::uint16_t kLastErrorCode =
    static_cast<std::uint16_t>(ErrorCode::ClusterUnavailable);

// Stable lowercase name used in JSON output and logs, e.g. "nick_in_use".
std::string_view toString(ErrorCode code);

enum class PresenceState : std::uint8_t { Active = 0, Away = 1, Lagging = 2 };
inline constexpr std::uint8_t enumCount(PresenceState) { return 3; }
std::string_view toString(PresenceState state);  // "active", "away", "lagging"

enum class NoticeKind : std::uint8_t { Info = 0, OperGranted = 1 };
inline constexpr std::uint8_t enumCount(NoticeKind) { return 2; }

// Bits of the `flags` byte of chat and private messages.
inline constexpr std::uint8_t kFlagAction = 0x01;   // /me
inline constexpr std::uint8_t kFlagHistory = 0x02;  // replayed from history (server -> client)
// A private message kept while its registered recipient was offline, delivered on identifying.
inline constexpr std::uint8_t kFlagOffline = 0x04;
// With kFlagHistory: part of a page answering a HistoryRequest or SearchRequest, so the client
// shows it even if it was seen before (a join's replay has kFlagHistory alone).
inline constexpr std::uint8_t kFlagPage = 0x08;
inline constexpr std::uint8_t kKnownMessageFlags =
    kFlagAction | kFlagHistory | kFlagOffline | kFlagPage;
// Bits of WhoEntry::flags and WhoisReply::flags.
inline constexpr std::uint8_t kUserOperator = 0x01;
inline constexpr std::uint8_t kUserTyping = 0x02;
inline constexpr std::uint8_t kKnownUserFlags = kUserOperator | kUserTyping;

// Field markers used inside fields(): a string or list together with its limit.
// V is the encoder or the decoder; M is the struct (const when encoding).

// ---- client -> server ------------------------------------------------------------------------

// Registers the session. An empty nick asks the server to pick one (user1, user2, ...).
// resumeToken: 0, or the token from an earlier Welcome; when it matches a session the server
// still holds (a connection that dropped), that stale session is closed and its nick freed.
// rooms: rooms to start in (empty: "lobby").
struct Hello {
  static constexpr MessageType kType = MessageType::Hello;
  std::string nick;
  std::uint64_t resumeToken = 0;
  std::vector<std::string> rooms;
  std::string client;  // software name and version, informational
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
    v.u64(m.resumeToken);
    v.strList(m.rooms, kMaxRoomsPerUser, kMaxRoomBytes);
    v.str(m.client, kMaxNameBytes);
  }
  bool operator==(const Hello&) const = default;
};

struct SendChat {
  static constexpr MessageType kType = MessageType::SendChat;
  std::string room;
  std::string subject;  // empty: none
  std::string text;
  std::uint8_t flags = 0;  // kFlagAction only
  ClientId clientId = 0;  // the sender's id for this message; 0: none (see ClientId)
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.str(m.subject, kMaxSubjectBytes);
    v.str(m.text, kMaxTextBytes);
    v.u8(m.flags);
    v.u64(m.clientId);
  }
  bool operator==(const SendChat&) const = default;
};

struct SendPrivate {
  static constexpr MessageType kType = MessageType::SendPrivate;
  std::string to;
  std::string subject;
  std::string text;
  std::uint8_t flags = 0;
  ClientId clientId = 0;  // the sender's id for this message; 0: none (see ClientId)
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.to, kMaxNickBytes);
    v.str(m.subject, kMaxSubjectBytes);
    v.str(m.text, kMaxTextBytes);
    v.u8(m.flags);
    v.u64(m.clientId);
  }
  bool operator==(const SendPrivate&) const = default;
};

struct JoinRoom {
  static constexpr MessageType kType = MessageType::JoinRoom;
  std::string room;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
  }
  bool operator==(const JoinRoom&) const = default;
};

struct PartRoom {
  static constexpr MessageType kType = MessageType::PartRoom;
  std::string room;
  std::string reason;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.str(m.reason, kMaxReasonBytes);
  }
  bool operator==(const PartRoom&) const = default;
};

struct SetTopic {
  static constexpr MessageType kType = MessageType::SetTopic;
  std::string room;
  std::string topic;  // empty clears it
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.str(m.topic, kMaxTopicBytes);
  }
  bool operator==(const SetTopic&) const = default;
};

struct ChangeNick {
  static constexpr MessageType kType = MessageType::ChangeNick;
  std::string nick;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
  }
  bool operator==(const ChangeNick&) const = default;
};

struct WhoRequest {
  static constexpr MessageType kType = MessageType::WhoRequest;
  std::string room;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
  }
  bool operator==(const WhoRequest&) const = default;
};

struct WhoisRequest {
  static constexpr MessageType kType = MessageType::WhoisRequest;
  std::string nick;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
  }
  bool operator==(const WhoisRequest&) const = default;
};

struct SetAway {
  static constexpr MessageType kType = MessageType::SetAway;
  bool away = false;
  std::string message;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.boolean(m.away);
    v.str(m.message, kMaxAwayBytes);
  }
  bool operator==(const SetAway&) const = default;
};

struct DeleteMessage {
  static constexpr MessageType kType = MessageType::DeleteMessage;
  std::string room;
  MessageId id = 0;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.u64(m.id);
  }
  bool operator==(const DeleteMessage&) const = default;
};

// A page of a room's history: up to `count` messages older than `beforeId` (0: the newest),
// answered with ChatEvents flagged kFlagHistory | kFlagPage, oldest first, then a HistoryEnd.
// count 0 asks for the server's page size; more than kMaxHistoryPage is cut to it.
struct HistoryRequest {
  static constexpr MessageType kType = MessageType::HistoryRequest;
  std::string room;
  MessageId beforeId = 0;
  std::uint16_t count = 0;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.u64(m.beforeId);
    v.u16(m.count);
  }
  bool operator==(const HistoryRequest&) const = default;
};

// The room's kept messages holding every word of `words` (in the subject or the text), newest
// first, at most kMaxSearchResults; answered like a HistoryRequest, with HistoryEnd.search set.
struct SearchRequest {
  static constexpr MessageType kType = MessageType::SearchRequest;
  std::string room;
  std::string words;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.str(m.words, kMaxSearchBytes);
  }
  bool operator==(const SearchRequest&) const = default;
};

// Operators: refuse a nick, or an IPv4 address (dotted), from now on; a connected user it names is
// disconnected. Kept across restarts with the store.
struct BanRequest {
  static constexpr MessageType kType = MessageType::BanRequest;
  std::string target;
  std::string reason;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.target, kMaxNameBytes);
    v.str(m.reason, kMaxReasonBytes);
  }
  bool operator==(const BanRequest&) const = default;
};

struct UnbanRequest {
  static constexpr MessageType kType = MessageType::UnbanRequest;
  std::string target;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.target, kMaxNameBytes);
  }
  bool operator==(const UnbanRequest&) const = default;
};

// Operators: the bans in force whose target starts with `prefix` (empty: all, compared without
// regard to case), answered with BanListReply pages.
struct BansRequest {
  static constexpr MessageType kType = MessageType::BansRequest;
  std::string prefix;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.prefix, kMaxNameBytes);
  }
  bool operator==(const BansRequest&) const = default;
};

// Accounts. RegisterRequest claims the session's current nick with a password; IdentifyRequest
// proves a registered nick and gives it to the session (and delivers what was kept for it);
// UnregisterRequest gives the current nick's account up; PasswordChange replaces its password.
struct RegisterRequest {
  static constexpr MessageType kType = MessageType::RegisterRequest;
  std::string password;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.password, kMaxPasswordBytes);
  }
  bool operator==(const RegisterRequest&) const = default;
};

struct IdentifyRequest {
  static constexpr MessageType kType = MessageType::IdentifyRequest;
  std::string nick;
  std::string password;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
    v.str(m.password, kMaxPasswordBytes);
  }
  bool operator==(const IdentifyRequest&) const = default;
};

struct UnregisterRequest {
  static constexpr MessageType kType = MessageType::UnregisterRequest;
  std::string password;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.password, kMaxPasswordBytes);
  }
  bool operator==(const UnregisterRequest&) const = default;
};

struct PasswordChange {
  static constexpr MessageType kType = MessageType::PasswordChange;
  std::string oldPassword;
  std::string newPassword;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.oldPassword, kMaxPasswordBytes);
    v.str(m.newPassword, kMaxPasswordBytes);
  }
  bool operator==(const PasswordChange&) const = default;
};

struct OperRequest {
  static constexpr MessageType kType = MessageType::OperRequest;
  std::string password;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.password, kMaxPasswordBytes);
  }
  bool operator==(const OperRequest&) const = default;
};

struct KickRequest {
  static constexpr MessageType kType = MessageType::KickRequest;
  std::string nick;
  std::string reason;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
    v.str(m.reason, kMaxReasonBytes);
  }
  bool operator==(const KickRequest&) const = default;
};

struct QuitRequest {
  static constexpr MessageType kType = MessageType::QuitRequest;
  std::string reason;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.reason, kMaxReasonBytes);
  }
  bool operator==(const QuitRequest&) const = default;
};

// Sent every second on channel 1. The echo fields let the server measure round-trip time itself:
// echoServerTime is the serverTime of the newest PresencePong received (0 if none yet) and
// echoHoldMs how long the client held it before this ping, so RTT = now - echo - hold.
struct PresencePing {
  static constexpr MessageType kType = MessageType::PresencePing;
  std::uint32_t seq = 0;
  std::uint64_t clientTime = 0;  // client's monotonic milliseconds, echoed back in the pong
  PresenceState state = PresenceState::Active;
  std::uint64_t echoServerTime = 0;
  std::uint32_t echoHoldMs = 0;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.u32(m.seq);
    v.u64(m.clientTime);
    v.enumeration(m.state);
    v.u64(m.echoServerTime);
    v.u32(m.echoHoldMs);
  }
  bool operator==(const PresencePing&) const = default;
};

// "I am typing in target" (a room, or a nick when isPrivate). Channel 1; refreshed at most every
// 3 s while typing; receivers forget it after 6 s without a refresh. active=false: stopped.
struct TypingNotice {
  static constexpr MessageType kType = MessageType::TypingNotice;
  std::string target;
  bool isPrivate = false;
  bool active = true;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.target, kMaxRoomBytes > kMaxNickBytes ? kMaxRoomBytes : kMaxNickBytes);
    v.boolean(m.isPrivate);
    v.boolean(m.active);
  }
  bool operator==(const TypingNotice&) const = default;
};

// ---- server -> client ------------------------------------------------------------------------

struct Welcome {
  static constexpr MessageType kType = MessageType::Welcome;
  std::string nick;  // the registered nick (the server's pick when Hello had none)
  std::uint64_t resumeToken = 0;
  std::string serverName;
  std::string motd;
  std::uint32_t maxMessageBytes = 0;
  std::uint8_t nickMin = 0;
  std::uint8_t nickMax = 0;
  std::uint16_t historySize = 0;
  std::uint16_t rateBurst = 0;
  std::uint16_t ratePerSecond = 0;
  std::uint32_t pingIntervalMs = 0;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
    v.u64(m.resumeToken);
    v.str(m.serverName, kMaxNameBytes);
    v.str(m.motd, kMaxMotdBytes);
    v.u32(m.maxMessageBytes);
    v.u8(m.nickMin);
    v.u8(m.nickMax);
    v.u16(m.historySize);
    v.u16(m.rateBurst);
    v.u16(m.ratePerSecond);
    v.u32(m.pingIntervalMs);
  }
  bool operator==(const Welcome&) const = default;
};

struct ErrorReply {
  static constexpr MessageType kType = MessageType::ErrorReply;
  ErrorCode code = ErrorCode::Malformed;
  std::uint32_t retryAfterMs = 0;  // RateLimited only
  std::string context;             // the nick, room or id the error is about, or empty
  std::string message;             // for people
  ClientId clientId = 0;           // the SendChat/SendPrivate refused, or 0
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.errorCode(m.code);
    v.u32(m.retryAfterMs);
    v.str(m.context, kMaxNameBytes);
    v.str(m.message, kMaxErrorTextBytes);
    v.u64(m.clientId);
  }
  bool operator==(const ErrorReply&) const = default;
};

struct ChatEvent {
  static constexpr MessageType kType = MessageType::ChatEvent;
  MessageId id = 0;
  std::uint64_t ts = 0;  // milliseconds since the Unix epoch, stamped by the server
  std::string room;
  std::string from;
  std::string subject;
  std::string text;
  std::uint8_t flags = 0;
  ClientId clientId = 0;  // the sender's id for this message; 0: none (see ClientId)
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.u64(m.id);
    v.u64(m.ts);
    v.str(m.room, kMaxRoomBytes);
    v.str(m.from, kMaxNickBytes);
    v.str(m.subject, kMaxSubjectBytes);
    v.str(m.text, kMaxTextBytes);
    v.u8(m.flags);
    v.u64(m.clientId);
  }
  bool operator==(const ChatEvent&) const = default;
};

// Delivered to the recipient and echoed to the sender (the sender's confirmation).
struct PrivateEvent {
  static constexpr MessageType kType = MessageType::PrivateEvent;
  MessageId id = 0;
  std::uint64_t ts = 0;
  std::string from;
  std::string to;
  std::string subject;
  std::string text;
  std::uint8_t flags = 0;
  ClientId clientId = 0;  // the sender's id for this message; 0: none (see ClientId)
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.u64(m.id);
    v.u64(m.ts);
    v.str(m.from, kMaxNickBytes);
    v.str(m.to, kMaxNickBytes);
    v.str(m.subject, kMaxSubjectBytes);
    v.str(m.text, kMaxTextBytes);
    v.u8(m.flags);
    v.u64(m.clientId);
  }
  bool operator==(const PrivateEvent&) const = default;
};

struct JoinEvent {
  static constexpr MessageType kType = MessageType::JoinEvent;
  std::string room;
  std::string nick;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.str(m.nick, kMaxNickBytes);
  }
  bool operator==(const JoinEvent&) const = default;
};

struct PartEvent {
  static constexpr MessageType kType = MessageType::PartEvent;
  std::string room;
  std::string nick;
  std::string reason;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.str(m.nick, kMaxNickBytes);
    v.str(m.reason, kMaxReasonBytes);
  }
  bool operator==(const PartEvent&) const = default;
};

// One per room the quitting user was in.
struct QuitEvent {
  static constexpr MessageType kType = MessageType::QuitEvent;
  std::string room;
  std::string nick;
  std::string reason;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.str(m.nick, kMaxNickBytes);
    v.str(m.reason, kMaxReasonBytes);
  }
  bool operator==(const QuitEvent&) const = default;
};

struct NickEvent {
  static constexpr MessageType kType = MessageType::NickEvent;
  std::string oldNick;
  std::string newNick;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.oldNick, kMaxNickBytes);
    v.str(m.newNick, kMaxNickBytes);
  }
  bool operator==(const NickEvent&) const = default;
};

struct TopicEvent {
  static constexpr MessageType kType = MessageType::TopicEvent;
  std::string room;
  std::string topic;
  std::string setBy;     // empty when never set
  std::uint64_t ts = 0;  // when it was set, Unix milliseconds; 0 when never set
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.str(m.topic, kMaxTopicBytes);
    v.str(m.setBy, kMaxNickBytes);
    v.u64(m.ts);
  }
  bool operator==(const TopicEvent&) const = default;
};

struct DeletedEvent {
  static constexpr MessageType kType = MessageType::DeletedEvent;
  std::string room;
  MessageId id = 0;
  std::string by;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.u64(m.id);
    v.str(m.by, kMaxNickBytes);
  }
  bool operator==(const DeletedEvent&) const = default;
};

// One per room the kicked user was in; the kicked user receives them too, then is disconnected.
struct KickEvent {
  static constexpr MessageType kType = MessageType::KickEvent;
  std::string room;
  std::string nick;
  std::string by;
  std::string reason;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.str(m.nick, kMaxNickBytes);
    v.str(m.by, kMaxNickBytes);
    v.str(m.reason, kMaxReasonBytes);
  }
  bool operator==(const KickEvent&) const = default;
};

struct WhoEntry {
  std::string nick;
  PresenceState state = PresenceState::Active;
  std::uint32_t rttMs = 0;  // 0: not measured yet
  std::uint8_t flags = 0;   // kUserOperator, kUserTyping
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
    v.enumeration(m.state);
    v.u32(m.rttMs);
    v.u8(m.flags);
  }
  bool operator==(const WhoEntry&) const = default;
};

// A room's members, in pages of at most kMaxWhoEntriesPerFrame; `more` is true on every page
// but the last.
struct WhoReply {
  static constexpr MessageType kType = MessageType::WhoReply;
  std::string room;
  std::vector<WhoEntry> users;
  bool more = false;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.list(m.users, kMaxWhoEntriesPerFrame);
    v.boolean(m.more);
  }
  bool operator==(const WhoReply&) const = default;
};

struct WhoisReply {
  static constexpr MessageType kType = MessageType::WhoisReply;
  std::string nick;
  PresenceState state = PresenceState::Active;
  std::uint64_t signonTs = 0;  // Unix milliseconds
  std::uint64_t idleMs = 0;    // since the user's last message or command
  std::string awayMessage;
  std::uint32_t rttMs = 0;             // smoothed, from presence pings; 0: not measured yet
  std::uint16_t pingLossPermille = 0;  // presence pings lost, from sequence gaps
  std::uint64_t lastHeardMs = 0;       // since the last packet of any kind from the user
  std::uint8_t flags = 0;
  std::vector<std::string> rooms;
  std::string server;  // the --server-name of the server the user is connected to
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
    v.enumeration(m.state);
    v.u64(m.signonTs);
    v.u64(m.idleMs);
    v.str(m.awayMessage, kMaxAwayBytes);
    v.u32(m.rttMs);
    v.u16(m.pingLossPermille);
    v.u64(m.lastHeardMs);
    v.u8(m.flags);
    v.strList(m.rooms, kMaxRoomsPerUser, kMaxRoomBytes);
    v.str(m.server, kMaxNameBytes);
  }
  bool operator==(const WhoisReply&) const = default;
};

// A user's presence changed (active, away, lagging); sent to everyone sharing a room with them.
struct PresenceEvent {
  static constexpr MessageType kType = MessageType::PresenceEvent;
  std::string nick;
  PresenceState state = PresenceState::Active;
  std::string awayMessage;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
    v.enumeration(m.state);
    v.str(m.awayMessage, kMaxAwayBytes);
  }
  bool operator==(const PresenceEvent&) const = default;
};

// The recipient of your private message is away.
struct AwayReply {
  static constexpr MessageType kType = MessageType::AwayReply;
  std::string nick;
  std::string message;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.nick, kMaxNickBytes);
    v.str(m.message, kMaxAwayBytes);
  }
  bool operator==(const AwayReply&) const = default;
};

struct NoticeEvent {
  static constexpr MessageType kType = MessageType::NoticeEvent;
  NoticeKind kind = NoticeKind::Info;
  std::string text;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.enumeration(m.kind);
    v.str(m.text, kMaxMotdBytes);
  }
  bool operator==(const NoticeEvent&) const = default;
};

// Ends the answer to a HistoryRequest or SearchRequest: how many ChatEvents it carried, the
// oldest id among them (0: none; ask before it for the next page), and whether there is more.
struct HistoryEnd {
  static constexpr MessageType kType = MessageType::HistoryEnd;
  std::string room;
  bool search = false;
  std::uint16_t count = 0;
  MessageId oldestId = 0;
  bool more = false;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.room, kMaxRoomBytes);
    v.boolean(m.search);
    v.u16(m.count);
    v.u64(m.oldestId);
    v.boolean(m.more);
  }
  bool operator==(const HistoryEnd&) const = default;
};

struct BanEntry {
  std::string target;  // a nick (as banned) or an IPv4 address
  std::string reason;
  std::string by;
  std::uint64_t ts = 0;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.target, kMaxNameBytes);
    v.str(m.reason, kMaxReasonBytes);
    v.str(m.by, kMaxNickBytes);
    v.u64(m.ts);
  }
  bool operator==(const BanEntry&) const = default;
};

// One page of the bans in force (BansRequest); `more` on every page but the last.
struct BanListReply {
  static constexpr MessageType kType = MessageType::BanListReply;
  std::vector<BanEntry> bans;
  bool more = false;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.list(m.bans, kMaxBansPerFrame);
    v.boolean(m.more);
  }
  bool operator==(const BanListReply&) const = default;
};

struct PresencePong {
  static constexpr MessageType kType = MessageType::PresencePong;
  std::uint32_t seq = 0;
  std::uint64_t echoClientTime = 0;
  std::uint64_t serverTime = 0;  // server's monotonic milliseconds, echoed in the next ping
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.u32(m.seq);
    v.u64(m.echoClientTime);
    v.u64(m.serverTime);
  }
  bool operator==(const PresencePong&) const = default;
};

struct TypingEvent {
  static constexpr MessageType kType = MessageType::TypingEvent;
  std::string from;
  std::string target;  // the room, or the recipient's nick when isPrivate
  bool isPrivate = false;
  bool active = true;
  template <class M, class V>
  static void fields(M& m, V& v) {
    v.str(m.from, kMaxNickBytes);
    v.str(m.target, kMaxRoomBytes > kMaxNickBytes ? kMaxRoomBytes : kMaxNickBytes);
    v.boolean(m.isPrivate);
    v.boolean(m.active);
  }
  bool operator==(const TypingEvent&) const = default;
};

using Message = std::variant<Hello, SendChat, SendPrivate, JoinRoom, PartRoom, SetTopic,
                             ChangeNick, WhoRequest, WhoisRequest, SetAway, DeleteMessage,
                             OperRequest, KickRequest, QuitRequest, HistoryRequest,
                             SearchRequest, BanRequest, UnbanRequest, BansRequest,
                             RegisterRequest, IdentifyRequest, UnregisterRequest, PasswordChange,
                             PresencePing, TypingNotice,
                             Welcome, ErrorReply, ChatEvent, PrivateEvent, JoinEvent, PartEvent,
                             QuitEvent, NickEvent, TopicEvent, DeletedEvent, KickEvent, WhoReply,
                             WhoisReply, PresenceEvent, AwayReply, NoticeEvent, HistoryEnd,
                             BanListReply, PresencePong, TypingEvent>;

// The channel a message type travels on.
std::uint8_t channelOf(MessageType type);
// True for types a client sends; the server refuses the others.
bool isClientToServer(MessageType type);
MessageType typeOf(const Message& message);
// The client id of a SendChat or SendPrivate; nullptr for every other message.
const ClientId* clientIdOf(const Message& message);
ClientId* clientIdOf(Message& message);

enum class DecodeError : std::uint8_t {
  Empty,            // zero bytes
  TooLarge,         // frame longer than kMaxFrameBytes
  BadVersion,       // first byte is not kProtocolVersion
  UnknownType,      // second byte names no message type
  Truncated,        // the frame ends inside a field
  FieldTooLong,     // a string or list is longer than its limit
  InvalidUtf8,      // a string is not valid UTF-8
  BadValue,         // an enum or bool holds a value outside its range (flag bits are not
                    // checked: receivers ignore unknown bits)
  TrailingBytes,    // bytes left after the last field
};

std::string_view toString(DecodeError error);

Result<Message, DecodeError> decode(ByteSpan frame);

// Encoders never fail for values within the limits; a string longer than its limit is a
// programming error and is caught by an exception (std::length_error) so it never hits the wire.
template <class T>
Bytes encode(const T& message);
Bytes encode(const Message& message);

}  // namespace udpchat::protocol
