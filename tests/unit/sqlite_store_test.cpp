// The SQLite store on temporary files: what it keeps across a reopen, how it migrates, every
// refusal at open (file named, file left as it was), retention and the size bound, a full disk.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "temp_dir.hpp"
#include "udpchat/sqlite_store.hpp"

namespace udpchat {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

std::string contents(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Runs SQL on a file directly, as another program would.
void rawSql(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

std::int64_t rawInteger(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::int64_t value = -1;
  if (q != nullptr && sqlite3_step(q) == SQLITE_ROW) value = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return value;
}

StoredChat chat(protocol::MessageId id, std::string room, std::string text, std::uint64_t ts = 1000,
                std::uint64_t token = 77, protocol::ClientId clientId = 0) {
  StoredChat m;
  m.event = protocol::ChatEvent{id, ts, std::move(room), "alice", "", std::move(text), 0, clientId};
  m.authorToken = token;
  return m;
}

SqliteStoreOptions optionsFor(const TempDir& dir) {
  SqliteStoreOptions o;
  o.file = dir.file();
  o.synchronousFull = false;  // the tests kill nothing; fsync only slows them down
  return o;
}

std::string openError(const SqliteStoreOptions& options) {
  try {
    SqliteStore::open(options);
  } catch (const StoreOpenError& e) {
    return e.what();
  }
  return "";
}

TEST(SqliteStore, ANewFileIsInWalModeWithTheCurrentSchema) {
  TempDir dir;
  {
    auto store = openStoreIn(dir.path() / "data", optionsFor(dir));
    EXPECT_EQ(store->nextMessageId(), 1u);
  }
  const fs::path file = dir.path() / "data" / "udpchat.db";
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(rawInteger(file, "PRAGMA user_version"), SqliteStore::kSchemaVersion);
  EXPECT_EQ(fs::status(dir.path() / "data").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(file).permissions() & (fs::perms::group_all | fs::perms::others_all),
            fs::perms::none)
      << "private messages are in it";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "wal");
  sqlite3_finalize(q);
  sqlite3_close(db);
}

TEST(SqliteStore, WhatWasCommittedIsThereAfterAReopen) {
  TempDir dir;
  {
    auto store = SqliteStore::open(optionsFor(dir));
    store->addMessage(chat(1, "lobby", "one", 1000, 77, 501));
    store->addMessage(chat(2, "lobby", "two", 1001, 77, 502));
    store->addMessage(chat(3, "other", "elsewhere"));
    StoredPrivate p;
    p.event = protocol::PrivateEvent{4, 1002, "alice", "bob", "", "psst", 0, 503};
    p.authorToken = 77;
    store->addPrivate(p);
    store->setTopic("lobby", {"the topic", "alice", 999});
    store->touchToken(88, 1600);
    ASSERT_TRUE(store->pending());
    ASSERT_TRUE(store->commit(2000)) << store->lastError();
    EXPECT_FALSE(store->pending());
    store->markDeleted("lobby", 1, "alice");
    ASSERT_TRUE(store->commit(2001));
  }
  auto store = SqliteStore::open(optionsFor(dir));
  EXPECT_EQ(store->nextMessageId(), 5u);
  const auto lobby = store->recentMessages("lobby", 10);
  ASSERT_EQ(lobby.size(), 1u) << "the deleted message is not replayed";
  EXPECT_EQ(lobby[0].event.text, "two");
  EXPECT_EQ(lobby[0].event.from, "alice");
  EXPECT_EQ(lobby[0].event.clientId, 502u);
  EXPECT_EQ(lobby[0].authorToken, 77u);
  EXPECT_EQ(store->topic("lobby")->topic, "the topic");
  EXPECT_FALSE(store->topic("nowhere").has_value());
  EXPECT_EQ(store->tokensSeenSince(1500), std::vector<std::uint64_t>{88});
  EXPECT_TRUE(store->tokensSeenSince(2500).empty());
  const auto accepted = store->acceptedSince(1001);
  ASSERT_EQ(accepted.size(), 2u) << "from 1001 on, with a client id";
  EXPECT_EQ(accepted[0].first, 77u);
  EXPECT_EQ(accepted[0].second.clientId, 502u);
  EXPECT_EQ(accepted[1].second.clientId, 503u);
  EXPECT_EQ(accepted[1].second.target, "bob");
  // The deleted message's words are gone from the file, not only hidden.
  EXPECT_EQ(rawInteger(dir.file(), "SELECT count(*) FROM messages WHERE text = 'one'"), 0);
}

TEST(SqliteStore, AFailedBatchLeavesNothingOfItself) {
  TempDir dir;
  auto options = optionsFor(dir);
  auto store = SqliteStore::open(options);
  store->addMessage(chat(1, "lobby", "kept"));
  ASSERT_TRUE(store->commit(1));
  store->addMessage(chat(2, "lobby", "in the failed batch"));
  store->addMessage(chat(1, "lobby", "same id: the insert fails"));
  EXPECT_FALSE(store->commit(2));
  EXPECT_FALSE(store->lastError().empty());
  const auto lobby = store->recentMessages("lobby", 10);
  ASSERT_EQ(lobby.size(), 1u);
  EXPECT_EQ(lobby[0].event.text, "kept");
  // And the next batch works.
  store->addMessage(chat(3, "lobby", "after"));
  EXPECT_TRUE(store->commit(3)) << store->lastError();
}

TEST(SqliteStore, IdsAreNeverReusedEvenWhenEveryMessageWasPruned) {
  TempDir dir;
  auto options = optionsFor(dir);
  options.keepDays = 1;
  {
    auto store = SqliteStore::open(options);
    store->addMessage(chat(41, "lobby", "old", 1000));
    ASSERT_TRUE(store->commit(1000));
    ASSERT_TRUE(store->prune(1000 + 2 * 86'400'000));
    EXPECT_EQ(store->messageCount("lobby"), 0u);
  }
  EXPECT_EQ(SqliteStore::open(options)->nextMessageId(), 42u);
}

TEST(SqliteStore, AVersionOneFileIsMigratedForward) {
  TempDir dir;
  rawSql(dir.file(), std::string(SqliteStore::schemaStep(1)) +
                         "INSERT INTO messages VALUES (7, 'lobby', 5, 'ann', '', 'from an old "
                         "server', 0, 1, 0, NULL); PRAGMA user_version = 1;");
  {
    auto store = SqliteStore::open(optionsFor(dir));
    const auto lobby = store->recentMessages("lobby", 10);
    ASSERT_EQ(lobby.size(), 1u);
    EXPECT_EQ(lobby[0].event.text, "from an old server");
    EXPECT_EQ(store->nextMessageId(), 8u);
  }
  EXPECT_EQ(rawInteger(dir.file(), "PRAGMA user_version"), SqliteStore::kSchemaVersion);
  // Version 2's search index covers what version 1 wrote.
  EXPECT_EQ(rawInteger(dir.file(), "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'old'"),
            7);
}

TEST(SqliteStore, ACorruptFileIsRefusedByNameAndLeftAsItWas) {
  TempDir dir;
  {
    std::ofstream out(dir.file(), std::ios::binary);
    out << std::string(8192, 'x');
  }
  const std::string before = contents(dir.file());
  const std::string error = openError(optionsFor(dir));
  EXPECT_NE(error.find(dir.file().string()), std::string::npos) << error;
  EXPECT_NE(error.find("not a udpchat store"), std::string::npos) << error;
  EXPECT_NE(error.find("--no-store"), std::string::npos) << error;
  EXPECT_EQ(contents(dir.file()), before);
}

TEST(SqliteStore, ADamagedPageIsFoundAtOpen) {
  TempDir dir;
  {
    auto store = SqliteStore::open(optionsFor(dir));
    for (protocol::MessageId id = 1; id <= 300; ++id) {
      store->addMessage(chat(id, "lobby", std::string(200, 'a')));
    }
    ASSERT_TRUE(store->commit(1));
  }
  rawSql(dir.file(), "PRAGMA wal_checkpoint(TRUNCATE)");
  std::string bytes = contents(dir.file());
  ASSERT_GT(bytes.size(), 3 * 4096u);
  // Overwrite the middle of the second page (a b-tree page of a table) with garbage.
  for (std::size_t i = 4096 + 100; i < 4096 + 3000; ++i) bytes[i] = '\x5a';
  std::ofstream(dir.file(), std::ios::binary | std::ios::trunc) << bytes;
  const std::string error = openError(optionsFor(dir));
  EXPECT_NE(error.find("damaged"), std::string::npos) << error;
  EXPECT_EQ(contents(dir.file()), bytes);
}

TEST(SqliteStore, AFileFromANewerServerIsRefused) {
  TempDir dir;
  { SqliteStore::open(optionsFor(dir)); }
  rawSql(dir.file(), "PRAGMA user_version = 99");
  const std::string before = contents(dir.file());
  const std::string error = openError(optionsFor(dir));
  EXPECT_NE(error.find("newer udpchat-server"), std::string::npos) << error;
  EXPECT_NE(error.find("99"), std::string::npos) << error;
  EXPECT_EQ(contents(dir.file()), before);
}

TEST(SqliteStore, AnotherDatabaseIsNotTakenOver) {
  TempDir dir;
  rawSql(dir.file(), "CREATE TABLE invoices(n INTEGER)");
  EXPECT_NE(openError(optionsFor(dir)).find("not a udpchat store"), std::string::npos);
  EXPECT_EQ(rawInteger(dir.file(), "SELECT count(*) FROM sqlite_schema"), 1);
}

TEST(SqliteStore, AFileInUseByAnotherServerIsRefused) {
  TempDir dir;
  auto first = SqliteStore::open(optionsFor(dir));
  const std::string error = openError(optionsFor(dir));
  EXPECT_NE(error.find("another udpchat-server (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << error;
  first.reset();
  EXPECT_EQ(openError(optionsFor(dir)), "") << "the lock goes with the server that held it";
}

TEST(SqliteStore, AFileThePersonMayNotWriteIsRefused) {
  TempDir dir;
  { SqliteStore::open(optionsFor(dir)); }
  ::chmod(dir.file().c_str(), 0600);
  ::chmod(dir.path().c_str(), 0777);
  ::chmod((dir.file().string() + ".lock").c_str(), 0666);
  // Root may write anything, so the attempt runs as nobody.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::getuid() == 0 && ::setresuid(65534, 65534, 65534) != 0) ::_exit(3);
    const std::string error = openError(optionsFor(dir));
    ::_exit(error.find("no permission") != std::string::npos ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: another error than 'no permission'; 3: setresuid";
}

TEST(SqliteStore, RetentionKeepsTheNewestPerRoomAndTheFileBounded) {
  TempDir dir;
  auto options = optionsFor(dir);
  options.keepMessages = 100;
  options.pruneIntervalMs = 0;  // after every commit
  auto store = SqliteStore::open(options);
  const std::string text(1000, 'm');
  protocol::MessageId id = 1;
  auto writeBatches = [&](int batches) {
    for (int b = 0; b < batches; ++b) {
      for (int i = 0; i < 50; ++i) store->addMessage(chat(id++, "lobby", text));
      store->addMessage(chat(id++, "quiet", "short"));
      ASSERT_TRUE(store->commit(static_cast<std::int64_t>(id))) << store->lastError();
    }
  };
  writeBatches(6);  // 300 messages to a room that keeps 100
  const std::uint64_t early = store->fileBytes();
  writeBatches(60);  // ten times as many
  EXPECT_EQ(store->messageCount("lobby"), 100u);
  EXPECT_EQ(store->messageCount("quiet"), 66u) << "each room keeps its own newest";
  const auto recent = store->recentMessages("lobby", 1000);
  ASSERT_EQ(recent.size(), 100u);
  EXPECT_EQ(recent.back().event.id, id - 2);
  // Ten times the messages, the same file: freed pages go back.
  EXPECT_LE(store->fileBytes(), early * 3 / 2) << "early " << early;
  EXPECT_LT(store->fileBytes(), 3'000'000u);
}

TEST(SqliteStore, SearchFindsWordsNewestFirstAndNeverWhatWasDeletedOrPruned) {
  TempDir dir;
  auto options = optionsFor(dir);
  options.keepMessages = 3;
  options.pruneIntervalMs = 1'000'000'000;  // only when the test asks
  auto store = SqliteStore::open(options);
  store->addMessage(chat(1, "lobby", "the build is green"));
  store->addMessage(chat(2, "lobby", "Build failed again"));
  store->addMessage(chat(3, "other", "build in another room"));
  store->addMessage(chat(4, "lobby", "lunch?"));
  store->addMessage(chat(5, "lobby", "the build is slow"));
  ASSERT_TRUE(store->commit(1));
  auto ids = [&](std::string_view words, std::size_t limit = 10) {
    std::vector<protocol::MessageId> out;
    for (const auto& m : store->search("lobby", words, limit)) out.push_back(m.event.id);
    return out;
  };
  EXPECT_EQ(ids("build"), (std::vector<protocol::MessageId>{5, 2, 1}));
  EXPECT_EQ(ids("build", 2), (std::vector<protocol::MessageId>{5, 2}));
  EXPECT_EQ(ids("the build"), (std::vector<protocol::MessageId>{5, 1}));
  EXPECT_TRUE(ids("\"unbalanced AND ( NEAR").empty()) << "query syntax is not the person's";
  EXPECT_TRUE(ids("   ").empty());
  store->markDeleted("lobby", 5, "alice");
  ASSERT_TRUE(store->commit(2));
  EXPECT_EQ(ids("build"), (std::vector<protocol::MessageId>{2, 1}));
  ASSERT_TRUE(store->prune(3));  // keeps 2, 4, 5 in the lobby
  EXPECT_EQ(ids("build"), (std::vector<protocol::MessageId>{2}));
  EXPECT_EQ(rawInteger(dir.file(), "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'green'"), 0)
      << "a pruned message left its words in the index";
}

TEST(SqliteStore, BansAreKeptUntilLifted) {
  TempDir dir;
  {
    auto store = SqliteStore::open(optionsFor(dir));
    store->addBan("mallory", {"Mallory", "spam", "oper", 5});
    store->addBan("192.0.2.7", {"192.0.2.7", "", "oper", 6});
    ASSERT_TRUE(store->commit(7));
  }
  {
    auto store = SqliteStore::open(optionsFor(dir));
    const auto bans = store->bans();
    ASSERT_EQ(bans.size(), 2u);
    EXPECT_EQ(bans[0], (protocol::BanEntry{"Mallory", "spam", "oper", 5}));
    store->removeBan("mallory");
    ASSERT_TRUE(store->commit(8));
  }
  const auto bans = SqliteStore::open(optionsFor(dir))->bans();
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].target, "192.0.2.7");
}

TEST(SqliteStore, AccountsAndWhatIsKeptForThemSurviveAReopen) {
  TempDir dir;
  {
    auto store = SqliteStore::open(optionsFor(dir));
    store->putAccount("alice", {"Alice", "$argon2id$fake", 5});
    store->addOffline("alice", protocol::PrivateEvent{90, 6, "bob", "Alice", "s", "kept", 0, 7});
    ASSERT_TRUE(store->commit(7));
  }
  {
    auto store = SqliteStore::open(optionsFor(dir));
    EXPECT_EQ(store->nextMessageId(), 91u) << "kept messages' ids count too";
    const auto accounts = store->accounts();
    ASSERT_EQ(accounts.size(), 1u);
    EXPECT_EQ(accounts[0].nick, "Alice");
    EXPECT_EQ(accounts[0].hash, "$argon2id$fake");
    const auto kept = store->offlineFor("alice");
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept[0].text, "kept");
    EXPECT_EQ(kept[0].clientId, 7u);
    store->clearOffline("alice");
    ASSERT_TRUE(store->commit(8));
    EXPECT_TRUE(store->offlineFor("alice").empty());
    store->removeAccount("alice");
    ASSERT_TRUE(store->commit(9));
  }
  EXPECT_TRUE(SqliteStore::open(optionsFor(dir))->accounts().empty());
}

TEST(SqliteStore, RetentionByAge) {
  TempDir dir;
  auto options = optionsFor(dir);
  options.keepDays = 2;
  auto store = SqliteStore::open(options);
  const std::int64_t day = 86'400'000;
  store->addMessage(chat(1, "lobby", "three days old", 10 * day));
  store->addMessage(chat(2, "lobby", "one day old", 12 * day));
  ASSERT_TRUE(store->commit(13 * day));
  ASSERT_TRUE(store->prune(13 * day));
  const auto lobby = store->recentMessages("lobby", 10);
  ASSERT_EQ(lobby.size(), 1u);
  EXPECT_EQ(lobby[0].event.text, "one day old");
}

TEST(SqliteStore, AFullStoreRefusesTheBatchAndKeepsWhatItHad) {
  TempDir dir;
  auto options = optionsFor(dir);
  options.maxBytes = 256 * 1024;
  options.keepMessages = 0;
  auto store = SqliteStore::open(options);
  store->addMessage(chat(1, "lobby", "before it filled up"));
  ASSERT_TRUE(store->commit(1));
  protocol::MessageId id = 2;
  bool refused = false;
  for (int batch = 0; batch < 200 && !refused; ++batch) {
    for (int i = 0; i < 20; ++i) store->addMessage(chat(id++, "lobby", std::string(1500, 'f')));
    refused = !store->commit(batch);
  }
  ASSERT_TRUE(refused) << "the store never filled";
  EXPECT_NE(store->lastError().find("full"), std::string::npos) << store->lastError();
  EXPECT_LE(store->fileBytes(), options.maxBytes);
  EXPECT_EQ(store->recentMessages("lobby", 100000).front().event.text, "before it filled up");
}

}  // namespace
}  // namespace udpchat
