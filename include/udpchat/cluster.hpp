// Servers sharing one chat. What a server core tells the other servers and hears from them, and
// the bus it goes through: NatsBus (cluster_nats.hpp: NATS with JetStream) in the server,
// MemoryCluster (cluster_memory.hpp) in tests. The rules (ordering, nick ownership, dead
// servers) live in the core; a bus only carries bytes and reports what happened.
//
// Four things travel:
// - the log: one ordered, kept sequence of entries (room and private messages). Every server
//   applies every entry in log order, and an entry's sequence number is the message's id on
//   every server, so everyone sees a room in the same order and ids are unique cluster-wide.
// - the directory: one record per registered nick, under its folded form, created with
//   compare-and-set (exactly one of two racing claims succeeds) and watched by every server.
// - the settings: registered accounts and bans, one value per key (account.NICK, ban.TARGET),
//   last writer wins, watched by every server and kept by each in its store.
// - signals: heartbeats and whois questions, heard by every server and not kept.
//
// Everything that arrives is decoded with the protocol's bounds-checked reader and the same
// limits as a client's frame, and checked again by the core before use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "udpchat/protocol.hpp"
#include "udpchat/result.hpp"

namespace udpchat::cluster {

// A server's identity in the cluster: random, new at every start (a restarted server is a new
// member, its previous incarnation's users are cleaned up like any dead server's).
using ServerId = std::uint64_t;

inline constexpr std::uint8_t kClusterWireVersion = 1;
// Cluster names become NATS subject tokens and stream names: 1-32 of [A-Za-z0-9_-].
inline constexpr std::size_t kMaxClusterNameBytes = 32;
std::optional<std::string> clusterNameProblem(std::string_view name);

// ---- what travels ------------------------------------------------------------------------

enum class EntryKind : std::uint8_t { Chat = 0, Private = 1, Topic = 2, Delete = 3, Kick = 4 };
inline constexpr std::uint8_t enumCount(EntryKind) { return 5; }

// One log entry, as its origin accepted it: a message (its id inside is 0: the log's sequence
// number becomes the message's id), or a change that must fall in the same order (a topic, a
// deletion, a kick).
struct LogEntry {
  EntryKind kind = EntryKind::Chat;
  ServerId origin = 0;
  std::uint64_t tag = 0;     // the origin's reference, to confirm the message to its sender
  protocol::ChatEvent chat;  // kind Chat
  protocol::PrivateEvent pm;  // kind Private
  protocol::TopicEvent topic;  // kind Topic: setBy set it (or cleared it: empty topic) at ts
  protocol::DeletedEvent deleted;  // kind Delete
  protocol::KickEvent kick;  // kind Kick: room empty; the target's server disconnects them
};

// A registered nick, kept under directoryKey(its folded nick) by the server its user is on.
struct UserRecord {
  ServerId server = 0;
  std::string serverName;
  std::string nick;                // as the user spells it
  std::vector<std::string> rooms;  // canonical names, in join order
  bool away = false;
  std::string awayMessage;
  std::uint8_t flags = 0;  // protocol::kUserOperator
  std::uint64_t signonTs = 0;
  // Leaving: sent with the key's deletion; the others announce the quit with `reason`.
  bool gone = false;
  std::string reason;
  // Set when the record comes from a rename: the nick it replaces (whose key goes next).
  std::string formerNick;
};

// A registered account or a ban, under settingKey(); a deletion of the key undoes it.
enum class SettingKind : std::uint8_t { Account = 0, Ban = 1 };
inline constexpr std::uint8_t enumCount(SettingKind) { return 2; }

struct Setting {
  SettingKind kind = SettingKind::Account;
  ServerId origin = 0;
  // kind Account: the nick as registered, its Argon2id hash string, when it was registered
  std::string nick;
  std::string hash;
  std::uint64_t createdTs = 0;
  protocol::BanEntry ban;  // kind Ban
};

// The key of an account (its folded nick) or of a ban (a folded nick or a dotted IPv4 address).
std::string settingKey(SettingKind kind, std::string_view key);
// The kind and the inner key of a setting's key; nullopt if it is neither.
std::optional<std::pair<SettingKind, std::string>> parseSettingKey(std::string_view key);

enum class SignalKind : std::uint8_t { Heartbeat = 0, WhoisAsk = 1, WhoisAnswer = 2 };
inline constexpr std::uint8_t enumCount(SignalKind) { return 3; }

struct Signal {
  SignalKind kind = SignalKind::Heartbeat;
  ServerId from = 0;
  ServerId to = 0;         // 0: every server
  std::uint64_t tag = 0;   // WhoisAsk/WhoisAnswer: the asking server's reference
  std::string serverName;  // the sender's --server-name
  std::string nick;        // WhoisAsk: whom
  protocol::WhoisReply whois;  // WhoisAnswer
};

protocol::Bytes encode(const LogEntry& entry);
protocol::Bytes encode(const UserRecord& record);
protocol::Bytes encode(const Signal& signal);
protocol::Bytes encode(const Setting& setting);
Result<LogEntry, protocol::DecodeError> decodeLogEntry(protocol::ByteSpan bytes);
Result<UserRecord, protocol::DecodeError> decodeUserRecord(protocol::ByteSpan bytes);
Result<Signal, protocol::DecodeError> decodeSignal(protocol::ByteSpan bytes);
Result<Setting, protocol::DecodeError> decodeSetting(protocol::ByteSpan bytes);

// ---- the bus -----------------------------------------------------------------------------

struct BusEvent {
  enum class Kind {
    Logged,          // a log entry, this server's own included: sequence, data
    AppendFailed,    // tag: an append() that did not reach the log; reason
    Claimed,         // tag: claim() succeeded; the key is this server's
    ClaimFailed,     // tag: claim() failed; taken: someone holds the key, else reason
    KeyLost,         // key: a put() or remove() on a key this server owns found it changed
    DirectoryPut,    // key, sequence (its revision), data (a UserRecord)
    DirectoryDeleted,  // key, sequence, data (the record that went with it, or empty)
    SettingPut,      // key (settingKey()), data (a Setting); this server's own included
    SettingDeleted,  // key
    Signal,          // data
    LinkLost,        // the bus cannot reach the cluster; reason
    LinkRestored,    // it can again
  };
  Kind kind = Kind::Logged;
  std::uint64_t tag = 0;
  std::uint64_t sequence = 0;
  std::string key;
  bool taken = false;
  protocol::Bytes data;
  std::string reason;
};

// The core's view of the cluster. Calls return at once; what they lead to comes back from
// poll(), in the order it happened. Thread affinity: the core's thread.
class Bus {
 public:
  virtual ~Bus() = default;
  virtual ServerId serverId() const = 0;
  // Adds an entry to the log; it comes back as Logged (on every server) or AppendFailed.
  virtual void append(std::uint64_t tag, protocol::Bytes entry) = 0;
  // Creates the key if nobody holds it: Claimed or ClaimFailed. The bus remembers the keys
  // this server owns and their revisions.
  virtual void claim(std::uint64_t tag, std::string key, protocol::Bytes record) = 0;
  // Replaces the record of a key this server owns, if it still holds the revision it wrote
  // last; else KeyLost.
  virtual void put(std::string key, protocol::Bytes record) = 0;
  // Deletes a key this server owns (revision 0), or another's if its revision is still
  // `revision` (a dead server's users: a newer claim is left alone). `record`, if any, travels
  // with the deletion (a departing user's record, with the quit's reason): a watcher that is
  // behind may never see a value the key held only briefly, but it sees the deletion.
  virtual void remove(std::string key, std::uint64_t revision = 0, protocol::Bytes record = {}) = 0;
  // Sets or deletes a setting (an account, a ban), whoever wrote it last; every server, this
  // one included, hears it as SettingPut or SettingDeleted. Lost while the link is down (the
  // core refuses such changes then).
  virtual void putSetting(std::string key, protocol::Bytes setting) = 0;
  virtual void deleteSetting(std::string key) = 0;
  virtual void signal(protocol::Bytes signal) = 0;
  // What happened since the last call, in order, appended to `out`.
  virtual void poll(std::vector<BusEvent>& out) = 0;
};

}  // namespace udpchat::cluster
