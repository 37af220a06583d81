#include "udpchat/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "udpchat/unique_fd.hpp"

namespace udpchat {
namespace {

// Schema steps, applied in order from the file's user_version. Never edit a step that has
// shipped: add one. Each runs inside the migration's one transaction.
constexpr std::array<std::string_view, SqliteStore::kSchemaVersion> kMigrations = {
    // 1: messages, private messages, topics, resume tokens, and the id counter.
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('next_message_id', 1);
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  room TEXT NOT NULL,
  ts INTEGER NOT NULL,
  nick TEXT NOT NULL,
  subject TEXT NOT NULL,
  text TEXT NOT NULL,
  flags INTEGER NOT NULL,
  author_token INTEGER NOT NULL,
  client_id INTEGER NOT NULL,
  deleted_by TEXT);
CREATE INDEX messages_by_room ON messages(room, id);
CREATE TABLE private_messages(
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  from_nick TEXT NOT NULL,
  to_nick TEXT NOT NULL,
  subject TEXT NOT NULL,
  text TEXT NOT NULL,
  flags INTEGER NOT NULL,
  author_token INTEGER NOT NULL,
  client_id INTEGER NOT NULL);
CREATE INDEX private_by_recipient ON private_messages(to_nick, id);
CREATE TABLE topics(
  room TEXT PRIMARY KEY,
  topic TEXT NOT NULL,
  set_by TEXT NOT NULL,
  ts INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE tokens(token INTEGER PRIMARY KEY, last_seen INTEGER NOT NULL);
)sql",
    // 2: full-text search over room messages (FTS5 over the messages table), filled in bulk up
    // to the id in meta 'search_indexed'.
    R"sql(
CREATE VIRTUAL TABLE messages_fts USING fts5(subject, text, content='messages', content_rowid='id');
INSERT INTO meta(key, value) VALUES ('search_indexed', 0);
)sql",
    // 3: bans, by folded nick or by address.
    R"sql(
CREATE TABLE bans(
  key TEXT PRIMARY KEY,
  target TEXT NOT NULL,
  reason TEXT NOT NULL,
  set_by TEXT NOT NULL,
  ts INTEGER NOT NULL) WITHOUT ROWID;
)sql",
    // 4: accounts (Argon2id hash strings) and the private messages kept for them.
    R"sql(
CREATE TABLE accounts(
  key TEXT PRIMARY KEY,
  nick TEXT NOT NULL,
  hash TEXT NOT NULL,
  created INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE offline_messages(
  id INTEGER PRIMARY KEY,
  to_key TEXT NOT NULL,
  ts INTEGER NOT NULL,
  from_nick TEXT NOT NULL,
  to_nick TEXT NOT NULL,
  subject TEXT NOT NULL,
  text TEXT NOT NULL,
  flags INTEGER NOT NULL,
  client_id INTEGER NOT NULL);
CREATE INDEX offline_by_recipient ON offline_messages(to_key, id);
)sql",
};

// Tokens are unsigned 64-bit; SQLite integers are signed. Stored as the same bits.
std::int64_t asSql(std::uint64_t v) { return std::bit_cast<std::int64_t>(v); }
std::uint64_t fromSql(std::int64_t v) { return std::bit_cast<std::uint64_t>(v); }

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
      throw StoreOpenError(std::string("cannot prepare a statement: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)) {}
  Statement& operator=(Statement&& o) noexcept {
    std::swap(stmt_, o.stmt_);
    return *this;
  }

  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// A room message from a row of selectRecent or searchRoom (the same columns, in the same order).
StoredChat chatFromRow(const Statement& q, std::string_view room) {
  StoredChat m;
  m.event.id = static_cast<protocol::MessageId>(q.integer(0));
  m.event.ts = static_cast<std::uint64_t>(q.integer(1));
  m.event.room = std::string(room);
  m.event.from = q.text(2);
  m.event.subject = q.text(3);
  m.event.text = q.text(4);
  m.event.flags = static_cast<std::uint8_t>(q.integer(5));
  m.authorToken = fromSql(q.integer(6));
  m.event.clientId = fromSql(q.integer(7));
  return m;
}

}  // namespace

struct SqliteStore::State {
  SqliteStoreOptions options;
  UniqueFd lock;
  sqlite3* db = nullptr;
  // Closes db once every Statement below is finalized: members go in reverse order of
  // declaration, and sqlite3_close refuses (and keeps the connection's memory) while a
  // prepared statement is alive, so a statement added below needs no list kept by hand.
  struct Closer {
    sqlite3*& db;
    ~Closer() {
      if (db && sqlite3_close(db) != SQLITE_OK) {
        std::fprintf(stderr, "udpchat store: connection not closed: %s\n", sqlite3_errmsg(db));
      }
    }
  } closer{db};
  bool inBatch = false;
  bool batchFailed = false;
  std::string error;
  // Above every id written: kept in memory, written to meta only before retention could delete
  // the highest row (the file's max(id) carries it otherwise).
  protocol::MessageId nextId = 1;
  std::unordered_set<std::uint64_t> touched;
  std::int64_t touchedAt = 0;
  // The cluster's log: the last entry held, written with the batch that holds it.
  std::uint64_t clusterPosition = 0;
  bool positionDirty = false;
  std::int64_t lastPrune = 0;

  Statement begin, commitStmt, rollback;
  Statement insertMessage, insertPrivate, unindexMessage, deleteMessage, upsertTopic, upsertToken;
  Statement selectRecent, selectTopic, selectTokens, selectAccepted, countRoom, searchRoom;
  Statement listRooms, trimRoom, listRecipients, trimRecipient, unindexTrimmed;
  Statement selectBans, upsertBan, deleteBan, upsertPosition;
  Statement selectAccounts, upsertAccount, deleteAccount, selectOffline, insertOffline,
      deleteOffline;


  // Runs SQL with no results; returns false and records the error.
  bool exec(std::string_view sql) {
    char* message = nullptr;
    const std::string owned(sql);
    if (sqlite3_exec(db, owned.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return true;
    error = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return false;
  }

  // One write of the batch: opens the batch when it is the first; a failed step fails the
  // whole batch (commit() then rolls it back).
  void write(Statement& statement) {
    if (batchFailed) {
      statement.reset();
      return;
    }
    if (!inBatch) {
      const int rc = begin.step();
      begin.reset();
      inBatch = true;
      if (rc != SQLITE_DONE) {
        error = sqlite3_errmsg(db);
        batchFailed = true;
        statement.reset();
        return;
      }
    }
    if (statement.step() != SQLITE_DONE) {
      error = sqlite3_errmsg(db);
      batchFailed = true;
    }
    statement.reset();
  }

  // Everything up to the newest message goes into the search index, in one statement.
  bool indexForSearch() {
    return exec(
        "INSERT INTO messages_fts(rowid, subject, text) SELECT id, subject, text FROM messages "
        "WHERE id > (SELECT value FROM meta WHERE key = 'search_indexed') AND deleted_by IS NULL;"
        "UPDATE meta SET value = coalesce((SELECT max(id) FROM messages), 0) "
        "WHERE key = 'search_indexed' AND value < coalesce((SELECT max(id) FROM messages), 0);");
  }
};

SqliteStore::SqliteStore(std::unique_ptr<State> state) : state_(std::move(state)) {}
SqliteStore::~SqliteStore() {
  if (state_ && state_->inBatch) {
    state_->rollback.step();
    state_->rollback.reset();
  }
}

std::unique_ptr<SqliteStore> SqliteStore::open(const SqliteStoreOptions& options) {
  auto st = std::make_unique<State>();
  st->options = options;
  const std::string name = options.file.string();
  auto refuse = [&](const std::string& why) {
    return StoreOpenError("cannot use the store " + name + ": " + why);
  };

  // One server per file: the lock is held for the process's life (and dropped by the kernel
  // when it dies, however it dies).
  const std::string lockName = name + ".lock";
  st->lock = UniqueFd(::open(lockName.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!st->lock) {
    throw refuse("cannot open its lock file " + lockName + ": " + std::strerror(errno));
  }
  if (::flock(st->lock.get(), LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    const ssize_t got = ::pread(st->lock.get(), pid, sizeof pid - 1, 0);
    std::string holder = got > 0 ? std::string(pid, static_cast<std::size_t>(got)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    throw refuse("another udpchat-server" + (holder.empty() ? "" : " (pid " + holder + ")") +
                 " is using it; stop that one, or give this one another --data-dir");
  }
  const std::string pidText = std::to_string(::getpid()) + "\n";
  if (::ftruncate(st->lock.get(), 0) != 0 ||
      ::pwrite(st->lock.get(), pidText.data(), pidText.size(), 0) < 0) {
    // The lock itself is held; the pid is only a courtesy for the message above.
  }

  std::error_code ec;
  const bool exists = std::filesystem::exists(options.file, ec);
  if (exists && ::access(name.c_str(), R_OK | W_OK) != 0) {
    throw refuse(std::string("no permission to read and write it (") + std::strerror(errno) +
                 "); run the server as the file's owner or fix its permissions");
  }
  if (sqlite3_open_v2(name.c_str(), &st->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    throw refuse(st->db ? sqlite3_errmsg(st->db) : "out of memory");
  }
  sqlite3_extended_result_codes(st->db, 1);

  // Reads first: nothing is written to a file until it is known to be ours and readable.
  int version = -1;
  std::int64_t tables = 0;
  {
    Statement v(st->db, "PRAGMA user_version");
    const int rc = v.step();
    if (rc != SQLITE_ROW) {
      throw refuse(std::string(sqlite3_errmsg(st->db)) +
                   " (it is damaged or not a udpchat store); move it away to start with an "
                   "empty store, or start the server with --no-store");
    }
    version = static_cast<int>(v.integer(0));
    Statement t(st->db, "SELECT count(*) FROM sqlite_schema");
    if (t.step() != SQLITE_ROW) throw refuse(sqlite3_errmsg(st->db));
    tables = t.integer(0);
  }
  if (version > kSchemaVersion) {
    throw refuse("it was written by a newer udpchat-server (schema version " +
                 std::to_string(version) + "; this one reads up to " +
                 std::to_string(kSchemaVersion) + "); run that version, or another --data-dir");
  }
  if (version == 0 && tables > 0) {
    throw refuse("it is an SQLite database but not a udpchat store; give another --data-dir");
  }
  if (tables > 0) {
    Statement check(st->db, "PRAGMA quick_check(1)");
    const int rc = check.step();
    const std::string verdict = rc == SQLITE_ROW ? check.text(0) : sqlite3_errmsg(st->db);
    if (verdict != "ok") {
      throw refuse("it is damaged (" + verdict +
                   "); move it away to start with an empty store, or start with --no-store");
    }
  }

  // A new file frees pages back to the file system on an incremental vacuum; this must be
  // set before the first table exists.
  if (tables == 0 && !st->exec("PRAGMA auto_vacuum = INCREMENTAL")) throw refuse(st->error);
  if (!st->exec("PRAGMA journal_mode = WAL")) throw refuse(st->error);
  if (!st->exec(options.synchronousFull ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL") ||
      !st->exec("PRAGMA journal_size_limit = 4194304") || !st->exec("PRAGMA busy_timeout = 0")) {
    throw refuse(st->error);
  }
  if (version < kSchemaVersion) {
    if (!st->exec("BEGIN IMMEDIATE")) throw refuse(st->error);
    for (int step = version; step < kSchemaVersion; ++step) {
      if (!st->exec(kMigrations[static_cast<std::size_t>(step)])) {
        const std::string why = st->error;
        st->exec("ROLLBACK");
        throw refuse("cannot bring its schema from version " + std::to_string(version) +
                     " to " + std::to_string(kSchemaVersion) + ": " + why);
      }
    }
    if (!st->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion)) ||
        !st->exec("COMMIT")) {
      const std::string why = st->error;
      st->exec("ROLLBACK");
      throw refuse("cannot write its schema: " + why);
    }
  }
  if (options.maxBytes != 0) {
    Statement pageSize(st->db, "PRAGMA page_size");
    if (pageSize.step() != SQLITE_ROW) throw refuse(sqlite3_errmsg(st->db));
    const std::uint64_t pages = std::max<std::uint64_t>(
        1, options.maxBytes / static_cast<std::uint64_t>(std::max<std::int64_t>(1, pageSize.integer(0))));
    if (!st->exec("PRAGMA max_page_count = " + std::to_string(pages))) throw refuse(st->error);
  }

  sqlite3* db = st->db;
  st->begin = Statement(db, "BEGIN IMMEDIATE");
  st->commitStmt = Statement(db, "COMMIT");
  st->rollback = Statement(db, "ROLLBACK");
  st->insertMessage = Statement(db,
      "INSERT INTO messages(id, room, ts, nick, subject, text, flags, author_token, client_id) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  st->insertPrivate = Statement(db,
      "INSERT INTO private_messages(id, ts, from_nick, to_nick, subject, text, flags, "
      "author_token, client_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  // Out of the search index first (FTS5 reads the words to remove from the row), if indexed.
  st->unindexMessage = Statement(db,
      "DELETE FROM messages_fts WHERE rowid = ?2 AND rowid <= (SELECT value FROM meta WHERE "
      "key = 'search_indexed') AND EXISTS (SELECT 1 FROM messages WHERE id = ?2 AND room = ?1 "
      "AND deleted_by IS NULL)");
  // A deleted message keeps its id and who deleted it; its words are gone.
  st->deleteMessage = Statement(db,
      "UPDATE messages SET deleted_by = ?3, subject = '', text = '' WHERE room = ?1 AND id = ?2");
  st->upsertTopic = Statement(db,
      "INSERT INTO topics(room, topic, set_by, ts) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(room) DO UPDATE SET topic = excluded.topic, set_by = excluded.set_by, "
      "ts = excluded.ts");
  st->upsertToken = Statement(db,
      "INSERT INTO tokens(token, last_seen) VALUES (?1, ?2) "
      "ON CONFLICT(token) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)");
  st->selectRecent = Statement(db,
      "SELECT id, ts, nick, subject, text, flags, author_token, client_id FROM messages "
      "WHERE room = ?1 AND deleted_by IS NULL AND id < ?3 ORDER BY id DESC LIMIT ?2");
  st->selectTopic = Statement(db, "SELECT topic, set_by, ts FROM topics WHERE room = ?1");
  st->selectTokens = Statement(db, "SELECT token FROM tokens WHERE last_seen >= ?1");
  // Read once at start-up: a scan, which spares every message a second index entry.
  st->selectAccepted = Statement(db,
      "SELECT author_token, id, ts, room, client_id FROM messages WHERE ts >= ?1 AND "
      "client_id != 0 UNION ALL SELECT author_token, id, ts, to_nick, client_id FROM "
      "private_messages WHERE ts >= ?1 AND client_id != 0 ORDER BY 2");
  st->searchRoom = Statement(db,
      "SELECT m.id, m.ts, m.nick, m.subject, m.text, m.flags, m.author_token, m.client_id "
      "FROM messages_fts JOIN messages AS m ON m.id = messages_fts.rowid "
      "WHERE messages_fts MATCH ?2 AND m.room = ?1 AND m.deleted_by IS NULL "
      "ORDER BY m.id DESC LIMIT ?3");
  st->countRoom = Statement(db, "SELECT count(*) FROM messages WHERE room = ?1");
  st->listRooms = Statement(db, "SELECT DISTINCT room FROM messages");
  st->selectBans = Statement(db, "SELECT target, reason, set_by, ts FROM bans ORDER BY ts, key");
  st->upsertBan = Statement(db,
      "INSERT INTO bans(key, target, reason, set_by, ts) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(key) DO UPDATE SET target = excluded.target, reason = excluded.reason, "
      "set_by = excluded.set_by, ts = excluded.ts");
  st->deleteBan = Statement(db, "DELETE FROM bans WHERE key = ?1");
  st->selectAccounts = Statement(db, "SELECT nick, hash, created FROM accounts");
  st->upsertAccount = Statement(db,
      "INSERT INTO accounts(key, nick, hash, created) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(key) DO UPDATE SET nick = excluded.nick, hash = excluded.hash");
  st->deleteAccount = Statement(db, "DELETE FROM accounts WHERE key = ?1");
  st->selectOffline = Statement(db,
      "SELECT id, ts, from_nick, to_nick, subject, text, flags, client_id FROM "
      "offline_messages WHERE to_key = ?1 ORDER BY id");
  st->insertOffline = Statement(db,
      "INSERT INTO offline_messages(id, to_key, ts, from_nick, to_nick, subject, text, flags, "
      "client_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  st->deleteOffline = Statement(db, "DELETE FROM offline_messages WHERE to_key = ?1");
  st->unindexTrimmed = Statement(db,
      "DELETE FROM messages_fts WHERE rowid IN (SELECT id FROM messages WHERE room = ?1 AND id < "
      "(SELECT id FROM messages WHERE room = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2) AND "
      "deleted_by IS NULL AND id <= (SELECT value FROM meta WHERE key = 'search_indexed'))");
  st->trimRoom = Statement(db,
      "DELETE FROM messages WHERE room = ?1 AND id < (SELECT id FROM messages WHERE room = ?1 "
      "ORDER BY id DESC LIMIT 1 OFFSET ?2)");
  st->listRecipients = Statement(db, "SELECT DISTINCT to_nick FROM private_messages");
  st->trimRecipient = Statement(db,
      "DELETE FROM private_messages WHERE to_nick = ?1 AND id < (SELECT id FROM "
      "private_messages WHERE to_nick = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)");

  st->upsertPosition = Statement(db,
      "INSERT INTO meta(key, value) VALUES ('cluster_position', ?1) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  {
    Statement position(db, "SELECT value FROM meta WHERE key = 'cluster_position'");
    if (position.step() == SQLITE_ROW) {
      st->clusterPosition = static_cast<std::uint64_t>(position.integer(0));
    }
  }
  {
    Statement next(db,
        "SELECT max((SELECT value FROM meta WHERE key = 'next_message_id'), "
        "coalesce((SELECT max(id) FROM messages), 0) + 1, "
        "coalesce((SELECT max(id) FROM private_messages), 0) + 1, "
        "coalesce((SELECT max(id) FROM offline_messages), 0) + 1)");
    if (next.step() != SQLITE_ROW) throw refuse(sqlite3_errmsg(db));
    st->nextId = static_cast<protocol::MessageId>(next.integer(0));
  }
  if (!st->exec("BEGIN IMMEDIATE") || !st->indexForSearch() || !st->exec("COMMIT")) {
    const std::string why = st->error;
    st->exec("ROLLBACK");
    throw refuse("cannot bring its search index up to date: " + why);
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(st)));
}

std::string_view SqliteStore::schemaStep(int version) {
  return kMigrations.at(static_cast<std::size_t>(version - 1));
}

protocol::MessageId SqliteStore::nextMessageId() { return state_->nextId; }

std::vector<StoredChat> SqliteStore::messagesBefore(std::string_view room,
                                                    protocol::MessageId beforeId,
                                                    std::size_t count) {
  State& st = *state_;
  std::vector<StoredChat> out;
  if (count == 0) return out;
  Statement& q = st.selectRecent;
  q.bind(1, room)
      .bind(2, static_cast<std::int64_t>(count))
      .bind(3, beforeId == 0 ? INT64_MAX : static_cast<std::int64_t>(beforeId));
  while (q.step() == SQLITE_ROW) {
    out.push_back(chatFromRow(q, room));
  }
  q.reset();
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<StoredTopic> SqliteStore::topic(std::string_view room) {
  Statement& q = state_->selectTopic;
  q.bind(1, room);
  std::optional<StoredTopic> out;
  if (q.step() == SQLITE_ROW) {
    out = StoredTopic{q.text(0), q.text(1), static_cast<std::uint64_t>(q.integer(2))};
  }
  q.reset();
  return out;
}

std::vector<std::uint64_t> SqliteStore::tokensSeenSince(std::int64_t sinceWall) {
  Statement& q = state_->selectTokens;
  q.bind(1, sinceWall);
  std::vector<std::uint64_t> out;
  while (q.step() == SQLITE_ROW) out.push_back(fromSql(q.integer(0)));
  q.reset();
  return out;
}

std::vector<std::pair<std::uint64_t, StoredAccepted>> SqliteStore::acceptedSince(
    std::int64_t sinceWall) {
  Statement& q = state_->selectAccepted;
  q.bind(1, sinceWall);
  std::vector<std::pair<std::uint64_t, StoredAccepted>> out;
  while (q.step() == SQLITE_ROW) {
    out.emplace_back(fromSql(q.integer(0)),
                     StoredAccepted{fromSql(q.integer(4)),
                                    static_cast<protocol::MessageId>(q.integer(1)),
                                    static_cast<std::uint64_t>(q.integer(2)), q.text(3)});
  }
  q.reset();
  return out;
}

std::vector<StoredChat> SqliteStore::search(std::string_view room, std::string_view words,
                                            std::size_t limit) {
  State& st = *state_;
  std::vector<StoredChat> out;
  // Every word as a quoted phrase, so FTS5's query syntax never sees the person's punctuation.
  std::string query;
  std::size_t i = 0;
  while (i < words.size()) {
    while (i < words.size() && (words[i] == ' ' || words[i] == '\t')) ++i;
    std::size_t end = i;
    while (end < words.size() && words[end] != ' ' && words[end] != '\t') ++end;
    if (end > i) {
      if (!query.empty()) query += ' ';
      query += '"';
      for (char c : words.substr(i, end - i)) query += c == '"' ? std::string("\"\"") : std::string(1, c);
      query += '"';
    }
    i = end;
  }
  if (query.empty() || limit == 0) return out;
  if (!st.inBatch && st.exec("BEGIN IMMEDIATE")) {
    if (st.indexForSearch()) {
      st.exec("COMMIT");
    } else {
      st.exec("ROLLBACK");
    }
  }
  Statement& q = st.searchRoom;
  q.bind(1, room).bind(2, query).bind(3, static_cast<std::int64_t>(limit));
  while (q.step() == SQLITE_ROW) {
    out.push_back(chatFromRow(q, room));
  }
  q.reset();
  return out;
}

std::vector<protocol::BanEntry> SqliteStore::bans() {
  Statement& q = state_->selectBans;
  std::vector<protocol::BanEntry> out;
  while (q.step() == SQLITE_ROW) {
    out.push_back({q.text(0), q.text(1), q.text(2), static_cast<std::uint64_t>(q.integer(3))});
  }
  q.reset();
  return out;
}

void SqliteStore::addBan(std::string_view key, const protocol::BanEntry& ban) {
  State& st = *state_;
  st.upsertBan.bind(1, key)
      .bind(2, ban.target)
      .bind(3, ban.reason)
      .bind(4, ban.by)
      .bind(5, static_cast<std::int64_t>(ban.ts));
  st.write(st.upsertBan);
}

void SqliteStore::removeBan(std::string_view key) {
  State& st = *state_;
  st.deleteBan.bind(1, key);
  st.write(st.deleteBan);
}

std::vector<StoredAccount> SqliteStore::accounts() {
  Statement& q = state_->selectAccounts;
  std::vector<StoredAccount> out;
  while (q.step() == SQLITE_ROW) {
    out.push_back({q.text(0), q.text(1), static_cast<std::uint64_t>(q.integer(2))});
  }
  q.reset();
  return out;
}

std::vector<protocol::PrivateEvent> SqliteStore::offlineFor(std::string_view key) {
  Statement& q = state_->selectOffline;
  q.bind(1, key);
  std::vector<protocol::PrivateEvent> out;
  while (q.step() == SQLITE_ROW) {
    protocol::PrivateEvent e;
    e.id = static_cast<protocol::MessageId>(q.integer(0));
    e.ts = static_cast<std::uint64_t>(q.integer(1));
    e.from = q.text(2);
    e.to = q.text(3);
    e.subject = q.text(4);
    e.text = q.text(5);
    e.flags = static_cast<std::uint8_t>(q.integer(6));
    e.clientId = fromSql(q.integer(7));
    out.push_back(std::move(e));
  }
  q.reset();
  return out;
}

void SqliteStore::putAccount(std::string_view key, const StoredAccount& account) {
  State& st = *state_;
  st.upsertAccount.bind(1, key)
      .bind(2, account.nick)
      .bind(3, account.hash)
      .bind(4, static_cast<std::int64_t>(account.createdTs));
  st.write(st.upsertAccount);
}

void SqliteStore::removeAccount(std::string_view key) {
  State& st = *state_;
  st.deleteAccount.bind(1, key);
  st.write(st.deleteAccount);
  clearOffline(key);
}

void SqliteStore::addOffline(std::string_view key, const protocol::PrivateEvent& e) {
  State& st = *state_;
  st.insertOffline.bind(1, static_cast<std::int64_t>(e.id))
      .bind(2, key)
      .bind(3, static_cast<std::int64_t>(e.ts))
      .bind(4, e.from)
      .bind(5, e.to)
      .bind(6, e.subject)
      .bind(7, e.text)
      .bind(8, static_cast<std::int64_t>(e.flags))
      .bind(9, asSql(e.clientId));
  st.write(st.insertOffline);
  st.nextId = std::max(st.nextId, e.id + 1);
}

void SqliteStore::clearOffline(std::string_view key) {
  State& st = *state_;
  st.deleteOffline.bind(1, key);
  st.write(st.deleteOffline);
}

void SqliteStore::addMessage(const StoredChat& m) {
  State& st = *state_;
  const protocol::ChatEvent& e = m.event;
  st.insertMessage.bind(1, static_cast<std::int64_t>(e.id))
      .bind(2, e.room)
      .bind(3, static_cast<std::int64_t>(e.ts))
      .bind(4, e.from)
      .bind(5, e.subject)
      .bind(6, e.text)
      .bind(7, static_cast<std::int64_t>(e.flags & protocol::kFlagAction))
      .bind(8, asSql(m.authorToken))
      .bind(9, asSql(e.clientId));
  st.write(st.insertMessage);
  st.nextId = std::max(st.nextId, e.id + 1);
}

void SqliteStore::addPrivate(const StoredPrivate& m) {
  State& st = *state_;
  const protocol::PrivateEvent& e = m.event;
  st.insertPrivate.bind(1, static_cast<std::int64_t>(e.id))
      .bind(2, static_cast<std::int64_t>(e.ts))
      .bind(3, e.from)
      .bind(4, e.to)
      .bind(5, e.subject)
      .bind(6, e.text)
      .bind(7, static_cast<std::int64_t>(e.flags & protocol::kFlagAction))
      .bind(8, asSql(m.authorToken))
      .bind(9, asSql(e.clientId));
  st.write(st.insertPrivate);
  st.nextId = std::max(st.nextId, e.id + 1);
}

void SqliteStore::markDeleted(std::string_view room, protocol::MessageId id, std::string_view by) {
  State& st = *state_;
  st.unindexMessage.bind(1, room).bind(2, static_cast<std::int64_t>(id));
  st.write(st.unindexMessage);
  st.deleteMessage.bind(1, room).bind(2, static_cast<std::int64_t>(id)).bind(3, by);
  st.write(st.deleteMessage);
}

void SqliteStore::setTopic(std::string_view room, const StoredTopic& topic) {
  State& st = *state_;
  st.upsertTopic.bind(1, room)
      .bind(2, topic.topic)
      .bind(3, topic.setBy)
      .bind(4, static_cast<std::int64_t>(topic.ts));
  st.write(st.upsertTopic);
}

void SqliteStore::touchToken(std::uint64_t token, std::int64_t wall) {
  State& st = *state_;
  if (token == 0) return;
  st.touched.insert(token);
  st.touchedAt = std::max(st.touchedAt, wall);
}

std::uint64_t SqliteStore::clusterPosition() { return state_->clusterPosition; }

void SqliteStore::setClusterPosition(std::uint64_t sequence) {
  state_->clusterPosition = sequence;
  state_->positionDirty = true;
}

bool SqliteStore::pending() const {
  return state_->inBatch || !state_->touched.empty() || state_->positionDirty;
}

bool SqliteStore::commit(std::int64_t wall) {
  State& st = *state_;
  if (!st.touched.empty()) {
    // One row per token per batch, however many messages it sent.
    for (std::uint64_t token : st.touched) {
      st.upsertToken.bind(1, asSql(token)).bind(2, std::max(st.touchedAt, wall));
      st.write(st.upsertToken);
    }
    st.touched.clear();
  }
  if (st.positionDirty) {
    st.upsertPosition.bind(1, asSql(st.clusterPosition));
    st.write(st.upsertPosition);
    st.positionDirty = false;
  }
  if (!st.inBatch) return true;
  bool ok = !st.batchFailed;
  if (ok) {
    const int rc = st.commitStmt.step();
    st.commitStmt.reset();
    if (rc != SQLITE_DONE) {
      st.error = sqlite3_errmsg(st.db);
      ok = false;
    }
  }
  if (!ok) {
    st.rollback.step();
    st.rollback.reset();
  }
  st.inBatch = false;
  st.batchFailed = false;
  if (ok && wall - st.lastPrune >= st.options.pruneIntervalMs) prune(wall);
  return ok;
}

std::string SqliteStore::lastError() const { return state_->error; }

bool SqliteStore::prune(std::int64_t wall) {
  State& st = *state_;
  st.lastPrune = wall;
  if (st.inBatch) return false;  // never inside a batch: a failure would take the batch with it
  // The counter goes into meta before retention may delete the newest row, and the search
  // index catches up so what is about to go can be taken out of it.
  if (!st.exec("BEGIN IMMEDIATE")) return false;
  bool ok = st.exec("UPDATE meta SET value = max(value, " + std::to_string(st.nextId) +
                    ") WHERE key = 'next_message_id'") &&
            st.indexForSearch();
  if (st.options.keepMessages != 0) {
    // Per room and per recipient, everything older than the keep-th newest goes: one range
    // delete on the index for each, whatever the number of messages.
    const auto keep = static_cast<std::int64_t>(st.options.keepMessages - 1);
    for (auto [list, trim] : {std::pair{&st.listRooms, &st.trimRoom},
                              std::pair{&st.listRecipients, &st.trimRecipient}}) {
      std::vector<std::string> keys;
      while (list->step() == SQLITE_ROW) keys.push_back(list->text(0));
      list->reset();
      for (const auto& key : keys) {
        if (trim == &st.trimRoom) {
          st.unindexTrimmed.bind(1, key).bind(2, keep);
          ok = ok && st.unindexTrimmed.step() == SQLITE_DONE;
          st.unindexTrimmed.reset();
        }
        trim->bind(1, key).bind(2, keep);
        ok = ok && trim->step() == SQLITE_DONE;
        trim->reset();
      }
    }
  }
  std::string sql;
  if (st.options.keepDays > 0) {
    const std::string before = std::to_string(wall - st.options.keepDays * 86'400'000);
    sql += "DELETE FROM messages_fts WHERE rowid IN (SELECT id FROM messages WHERE ts < " +
           before + " AND deleted_by IS NULL AND id <= (SELECT value FROM meta WHERE key = "
           "'search_indexed'));";
    sql += "DELETE FROM messages WHERE ts < " + before + ";";
    sql += "DELETE FROM private_messages WHERE ts < " + before + ";";
  }
  // Resume tokens outlive their sessions by minutes; a day is plenty.
  sql += "DELETE FROM tokens WHERE last_seen < " + std::to_string(wall - 86'400'000) + ";";
  if (!ok) st.error = sqlite3_errmsg(st.db);
  if (!ok || !st.exec(sql) || !st.exec("COMMIT")) {
    st.exec("ROLLBACK");
    return false;
  }
  // Freed pages go back to the file system, and the log is folded in and cut short.
  return st.exec("PRAGMA incremental_vacuum") && st.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::uint64_t SqliteStore::fileBytes() const {
  std::error_code ec;
  const auto size = std::filesystem::file_size(state_->options.file, ec);
  return ec ? 0 : size;
}

std::size_t SqliteStore::messageCount(std::string_view room) {
  Statement& q = state_->countRoom;
  q.bind(1, room);
  const std::size_t n = q.step() == SQLITE_ROW ? static_cast<std::size_t>(q.integer(0)) : 0;
  q.reset();
  return n;
}

std::unique_ptr<SqliteStore> openStoreIn(const std::filesystem::path& dir,
                                         SqliteStoreOptions options) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      throw StoreOpenError("cannot create the data folder " + dir.string() + ": " + ec.message());
    }
    ::chmod(dir.c_str(), 0700);  // it holds private messages
  } else if (!std::filesystem::is_directory(dir, ec)) {
    throw StoreOpenError("the data folder " + dir.string() + " is not a folder");
  }
  options.file = dir / "udpchat.db";
  // Private messages are in it: readable by the server's user only.
  const mode_t previous = ::umask(0077);
  try {
    auto store = SqliteStore::open(options);
    ::umask(previous);
    return store;
  } catch (...) {
    ::umask(previous);
    throw;
  }
}

}  // namespace udpchat
