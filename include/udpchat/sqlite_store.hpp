// The server's store: one SQLite file in WAL mode (docs/ARCHITECTURE.md, "Store").
//
// open() refuses, with a message naming the file and the reason, a file that is corrupt, was
// written by a newer udpchat-server, is used by another running server (a lock file beside it),
// or cannot be read or written; such a file is left as it was. An older schema is migrated
// forward in one transaction.
//
// Writes run inside one open transaction per batch, with statements prepared once; commit()
// ends it. A message costs one row and one index entry; the search index (FTS5) is brought up
// to date in bulk (at open, with retention, and before a search), not per message. Retention (keepMessages per room and per private recipient, keepDays) is applied
// after a commit at most once every pruneInterval of wall time, and the pages it frees are
// handed back to the file system (incremental vacuum), so the file stays bounded by what
// retention keeps.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "udpchat/store.hpp"

namespace udpchat {

// The store cannot be opened; what() names the file and the reason, for people.
class StoreOpenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SqliteStoreOptions {
  std::filesystem::path file;              // the database; its folder must exist
  std::size_t keepMessages = 10000;        // per room, and per private recipient; 0: no limit
  std::int64_t keepDays = 0;               // 0: no limit by age
  std::uint64_t maxBytes = 0;              // the file never grows past this; 0: no limit
  // NORMAL (the server's default): a commit survives the process being killed, and a power cut
  // may take the last commits back. FULL: it survives a power cut too (fsync per commit).
  bool synchronousFull = false;
  std::int64_t pruneIntervalMs = 60'000;
};

class SqliteStore final : public Store {
 public:
  // The schema version this build writes; open() migrates any older file to it.
  static constexpr int kSchemaVersion = 4;
  // The SQL that brings a file from version - 1 to `version` (1..kSchemaVersion).
  static std::string_view schemaStep(int version);

  // Throws StoreOpenError.
  static std::unique_ptr<SqliteStore> open(const SqliteStoreOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  protocol::MessageId nextMessageId() override;
  std::vector<StoredChat> messagesBefore(std::string_view room, protocol::MessageId beforeId,
                                         std::size_t count) override;
  std::optional<StoredTopic> topic(std::string_view room) override;
  std::vector<std::uint64_t> tokensSeenSince(std::int64_t sinceWall) override;
  std::vector<std::pair<std::uint64_t, StoredAccepted>> acceptedSince(
      std::int64_t sinceWall) override;

  std::vector<protocol::BanEntry> bans() override;
  void addBan(std::string_view key, const protocol::BanEntry& ban) override;
  void removeBan(std::string_view key) override;
  std::vector<StoredAccount> accounts() override;
  std::vector<protocol::PrivateEvent> offlineFor(std::string_view key) override;
  void putAccount(std::string_view key, const StoredAccount& account) override;
  void removeAccount(std::string_view key) override;
  void addOffline(std::string_view key, const protocol::PrivateEvent& message) override;
  void clearOffline(std::string_view key) override;
  void addMessage(const StoredChat& message) override;
  void addPrivate(const StoredPrivate& message) override;
  void markDeleted(std::string_view room, protocol::MessageId id, std::string_view by) override;
  void setTopic(std::string_view room, const StoredTopic& topic) override;
  void touchToken(std::uint64_t token, std::int64_t wall) override;

  std::uint64_t clusterPosition() override;
  void setClusterPosition(std::uint64_t sequence) override;
  bool pending() const override;
  bool commit(std::int64_t wall) override;
  std::string lastError() const override;

  // Brings the search index up to date first (FTS5, each word a quoted phrase).
  std::vector<StoredChat> search(std::string_view room, std::string_view words,
                                 std::size_t limit) override;
  // Applies retention now, whatever the interval. False when it failed (lastError()).
  bool prune(std::int64_t wall);
  // The database file's size, bytes (the write-ahead log not counted).
  std::uint64_t fileBytes() const;
  // Messages kept for the room, deleted ones included.
  std::size_t messageCount(std::string_view room);

 private:
  struct State;
  explicit SqliteStore(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Creates `dir` (mode 0700) when missing and opens dir/udpchat.db. Throws StoreOpenError.
std::unique_ptr<SqliteStore> openStoreIn(const std::filesystem::path& dir,
                                         SqliteStoreOptions options);

}  // namespace udpchat
