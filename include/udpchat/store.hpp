// What the server keeps across restarts, as the core sees it: no SQL, no files. The server's
// store (sqlite_store.hpp) implements it; tests implement it in memory.
//
// Writes go into the current batch; commit() makes the whole batch durable at once or none of
// it (group commit: the server commits once per loop turn, before any frame that confirms what
// the turn accepted leaves). Reads see what was committed and what the open batch wrote.
// Thread affinity: the core's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "udpchat/protocol.hpp"

namespace udpchat {

// A room message as kept: what was delivered, and the resume token of its author (the right to
// delete it; a resend under the same token and client id is recognised).
struct StoredChat {
  protocol::ChatEvent event;
  std::uint64_t authorToken = 0;
};

struct StoredPrivate {
  protocol::PrivateEvent event;
  std::uint64_t authorToken = 0;
};

struct StoredTopic {
  std::string topic;
  std::string setBy;
  std::uint64_t ts = 0;
};

// A message accepted under a resume token, found again by its client id after a restart.
struct StoredAccepted {
  protocol::ClientId clientId = 0;
  protocol::MessageId id = 0;
  std::uint64_t ts = 0;
  std::string target;  // room, or the recipient's nick
};

// A registered nick: its password as an Argon2id hash string (libsodium's crypto_pwhash_str).
struct StoredAccount {
  std::string nick;  // as registered
  std::string hash;
  std::uint64_t createdTs = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- reads, at start-up and when a room comes to life ---------------------------------
  // Above every id this store ever saw, deleted and pruned messages included.
  virtual protocol::MessageId nextMessageId() = 0;
  // The room's newest `count` messages that are not deleted and older than `beforeId` (0: any),
  // oldest first.
  virtual std::vector<StoredChat> messagesBefore(std::string_view room, protocol::MessageId beforeId,
                                                 std::size_t count) = 0;
  std::vector<StoredChat> recentMessages(std::string_view room, std::size_t count) {
    return messagesBefore(room, 0, count);
  }
  // The room's messages, not deleted, whose subject or text hold every word of `words`
  // (separated by blanks, compared without regard to case), newest first, at most `limit`.
  virtual std::vector<StoredChat> search(std::string_view room, std::string_view words,
                                         std::size_t limit) = 0;
  virtual std::optional<StoredTopic> topic(std::string_view room) = 0;
  // Resume tokens in use at or after `sinceWall` (ms since the epoch): a Hello, a departure
  // (touchToken) or a message.
  virtual std::vector<std::uint64_t> tokensSeenSince(std::int64_t sinceWall) = 0;
  // The messages (room and private) accepted with a client id at or after `sinceWall`, with
  // their authors' tokens, oldest first.
  virtual std::vector<std::pair<std::uint64_t, StoredAccepted>> acceptedSince(
      std::int64_t sinceWall) = 0;

  // Every ban in force.
  virtual std::vector<protocol::BanEntry> bans() = 0;
  // Every account.
  virtual std::vector<StoredAccount> accounts() = 0;
  // The private messages kept for the account `key` (its folded nick), oldest first.
  virtual std::vector<protocol::PrivateEvent> offlineFor(std::string_view key) = 0;

  // ---- writes, into the current batch ----------------------------------------------------
  // `key`: the ban's identity (the folded nick, or the address).
  virtual void addBan(std::string_view key, const protocol::BanEntry& ban) = 0;
  virtual void removeBan(std::string_view key) = 0;
  // Adds or replaces the account `key` (the folded nick).
  virtual void putAccount(std::string_view key, const StoredAccount& account) = 0;
  // Removes the account and what was kept for it.
  virtual void removeAccount(std::string_view key) = 0;
  virtual void addOffline(std::string_view key, const protocol::PrivateEvent& message) = 0;
  // Forgets what was kept for the account (it has been delivered).
  virtual void clearOffline(std::string_view key) = 0;
  virtual void addMessage(const StoredChat& message) = 0;
  virtual void addPrivate(const StoredPrivate& message) = 0;
  virtual void markDeleted(std::string_view room, protocol::MessageId id, std::string_view by) = 0;
  virtual void setTopic(std::string_view room, const StoredTopic& topic) = 0;
  // The token was in use at `wall` (a Hello, a departure; messages count by themselves).
  virtual void touchToken(std::uint64_t token, std::int64_t wall) = 0;

  // Servers sharing one chat: the last entry of the cluster's log this store holds (0: none, or
  // a store that has never been in a cluster), so a restarted server asks for what follows.
  virtual std::uint64_t clusterPosition() { return 0; }
  virtual void setClusterPosition(std::uint64_t sequence) { static_cast<void>(sequence); }

  // True when the store has writes not yet committed.
  virtual bool pending() const = 0;
  // Makes every write since the last commit durable. False: none of them is (the batch is
  // rolled back) and lastError() says why. `wall` (ms since the epoch) drives retention.
  virtual bool commit(std::int64_t wall) = 0;
  virtual std::string lastError() const = 0;
};

}  // namespace udpchat
