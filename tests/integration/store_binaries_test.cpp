// udpchat-server with its store, as people run it: what survives a restart, a store it cannot
// use, a store that fills up. The real binaries over loopback, each test with a folder of its own.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>

#include "binaries_support.hpp"
#include "temp_dir.hpp"

namespace udpchat::test {
namespace {

std::vector<std::string> storeArgs(const TempDir& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"--data-dir", (dir.path() / "data").string()};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string fileContents(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The "message" events a JSON client printed, live ones or history ones.
std::vector<Json> messages(const Subprocess& p, bool history) {
  std::vector<Json> out;
  for (const auto& line : p.seen(Stream::Stdout)) {
    Json j = Json::parse(line, nullptr, false);
    if (j.is_object() && j.value("type", "") == "message" && j.value("history", false) == history) {
      out.push_back(std::move(j));
    }
  }
  return out;
}

void stop(std::unique_ptr<ServerProcess>& server) {
  server->proc().kill(SIGTERM);
  EXPECT_EQ(server->proc().wait(after(kStep)), 0);
  server.reset();
}

TEST(StoreBinaries, ARestartKeepsHistoryTopicsDeletionsAndIds) {
  TempDir dir;
  auto server = std::make_unique<ServerProcess>(storeArgs(dir), restartablePort());
  const std::uint16_t port = server->port();
  auto alice = startClient(port, "alice");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("one\ntwo\n/topic kept across restarts\n"));
  const auto two = waitForEvent(*alice, {{"type", "message"}, {"text", "two"}});
  ASSERT_TRUE(two);
  const auto twoId = (*two)["id"].get<std::uint64_t>();
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "topic"}, {"topic", "kept across restarts"}}));
  ASSERT_TRUE(alice->write("/delete " + std::to_string(twoId) + "\n"));
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "deleted"}, {"id", twoId}}));
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);
  stop(server);

  server = std::make_unique<ServerProcess>(storeArgs(dir), port);
  auto bob = startClient(port, "bob");
  const auto topic = waitForEvent(*bob, {{"type", "topic"}, {"room", "lobby"}});
  ASSERT_TRUE(topic);
  EXPECT_EQ((*topic)["topic"], "kept across restarts");
  EXPECT_EQ((*topic)["set_by"], "alice");
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "message"}, {"text", "one"}, {"history", true}}));
  ASSERT_TRUE(bob->write("three\n"));
  const auto three = waitForEvent(*bob, {{"type", "message"}, {"text", "three"}});
  ASSERT_TRUE(three);
  EXPECT_GT((*three)["id"].get<std::uint64_t>(), twoId) << "an id was handed out twice";
  for (const Json& m : messages(*bob, true)) {
    EXPECT_NE(m["text"], "two") << "a deleted message came back";
  }
  bob->closeStdin();
  EXPECT_EQ(bob->wait(after(kStep)), 0);
}

TEST(StoreBinaries, HistoryPagesBackAndSearchFindsKeptWordsAfterARestart) {
  TempDir dir;
  auto server = std::make_unique<ServerProcess>(storeArgs(dir), restartablePort());
  const std::uint16_t port = server->port();
  auto alice = startClient(port, "alice");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("apple pie\nbanana bread\napple tart\nplum jam\n"));
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "message"}, {"text", "plum jam"}}));
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);
  stop(server);

  server = std::make_unique<ServerProcess>(storeArgs(dir, {"--history", "0"}), port);
  auto bob = startClient(port, "bob");
  waitUntilInLobby(*bob, "bob");
  ASSERT_TRUE(bob->write("/history 2\n"));
  auto end = waitForEvent(*bob, {{"type", "history_end"}, {"search", false}});
  ASSERT_TRUE(end);
  EXPECT_EQ((*end)["count"], 2);
  EXPECT_EQ((*end)["more"], true);
  auto shown = messages(*bob, true);
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0]["text"], "apple tart");
  EXPECT_EQ(shown[1]["text"], "plum jam");

  ASSERT_TRUE(bob->write("/history before " + std::to_string((*end)["oldest_id"].get<std::uint64_t>()) + "\n"));
  end = waitForEvent(*bob, {{"type", "history_end"}, {"search", false}});
  ASSERT_TRUE(end);
  EXPECT_EQ((*end)["more"], false);
  shown = messages(*bob, true);
  ASSERT_EQ(shown.size(), 4u);
  EXPECT_EQ(shown[2]["text"], "apple pie");
  EXPECT_EQ(shown[3]["text"], "banana bread");

  ASSERT_TRUE(bob->write("/search APPLE\n"));
  end = waitForEvent(*bob, {{"type", "history_end"}, {"search", true}});
  ASSERT_TRUE(end);
  EXPECT_EQ((*end)["count"], 2);
  shown = messages(*bob, true);
  ASSERT_EQ(shown.size(), 6u);
  EXPECT_EQ(shown[4]["text"], "apple tart") << "newest first";
  EXPECT_EQ(shown[5]["text"], "apple pie");
  bob->closeStdin();
  EXPECT_EQ(bob->wait(after(kStep)), 0);
}

TEST(StoreBinaries, ABanHoldsAcrossARestartAndTheBannedClientIsToldWhy) {
  TempDir dir;
  auto server = std::make_unique<ServerProcess>(storeArgs(dir, {"--oper-password", "sesame"}), restartablePort());
  const std::uint16_t port = server->port();
  auto op = startClient(port, "oper");
  waitUntilInLobby(*op, "oper");
  ASSERT_TRUE(op->write("/oper sesame\n/ban mallory flooding the lobby\n"));
  ASSERT_TRUE(waitForEvent(*op, {{"type", "notice"}, {"text", "mallory is banned: flooding the lobby"}}));
  op->closeStdin();
  EXPECT_EQ(op->wait(after(kStep)), 0);
  stop(server);

  server = std::make_unique<ServerProcess>(storeArgs(dir), port);
  auto mallory = startClient(port, "mallory");
  const auto refused = waitForEvent(*mallory, {{"type", "error"}, {"code", "banned"}});
  ASSERT_TRUE(refused) << "the ban did not survive the restart";
  EXPECT_NE(refused->dump().find("flooding the lobby"), std::string::npos) << refused->dump();
  EXPECT_EQ(mallory->wait(after(kStep)), 5) << "a ban is final: the client does not retry";
  auto bob = startClient(port, "bob");
  waitUntilInLobby(*bob, "bob");
  bob->closeStdin();
  EXPECT_EQ(bob->wait(after(kStep)), 0);
}

TEST(StoreBinaries, AMessageKeptForARegisteredNickReachesItsOwnerAfterARestart) {
  TempDir dir;
  auto server = std::make_unique<ServerProcess>(storeArgs(dir), restartablePort());
  const std::uint16_t port = server->port();
  auto alice = startClient(port, "alice");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("/register correct-horse-battery\n"));
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "notice"}}));
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);

  auto bob = startClient(port, "bob");
  waitUntilInLobby(*bob, "bob");
  ASSERT_TRUE(bob->write("/msg alice [Slides] bring them tomorrow\n"));
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "private"}, {"to", "alice"}})) << "no confirmation";
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "notice"}}));
  // Someone else cannot take the nick meanwhile.
  auto impostor = startClient(port, "alice");
  ASSERT_TRUE(waitForEvent(*impostor, {{"type", "error"}, {"code", "nick_registered"}}));
  impostor->closeStdin();
  bob->closeStdin();
  EXPECT_EQ(bob->wait(after(kStep)), 0);
  stop(server);

  server = std::make_unique<ServerProcess>(storeArgs(dir), port);
  auto owner = startClient(port, "alice", {"--json", "--password", "correct-horse-battery"});
  const auto kept = waitForEvent(*owner, {{"type", "private"}, {"from", "bob"}});
  ASSERT_TRUE(kept) << ::testing::PrintToString(owner->seen(Stream::Stdout));
  EXPECT_EQ((*kept)["text"], "bring them tomorrow");
  EXPECT_EQ((*kept)["subject"], "Slides");
  EXPECT_EQ((*kept)["offline"], true);
  ASSERT_TRUE(waitForEvent(*owner, {{"type", "notice"}}));
  owner->closeStdin();
  EXPECT_EQ(owner->wait(after(kStep)), 0);
  // A wrong password gets the nick refused, with the reason.
  auto wrong = startClient(port, "alice", {"--json", "--password", "not the password"});
  ASSERT_TRUE(waitForEvent(*wrong, {{"type", "error"}, {"code", "bad_password"}}));
  wrong->closeStdin();
}

TEST(StoreBinaries, AStoreItCannotUseStopsTheStartNamingTheFileAndTheReason) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "data");
  const auto file = dir.path() / "data" / "udpchat.db";
  { std::ofstream(file, std::ios::binary) << std::string(4096, '\x01'); }
  const std::string before = fileContents(file);
  Subprocess corrupt(kServerBin, {"--host", "127.0.0.1", "--port", "0", "--data-dir",
                                  (dir.path() / "data").string()});
  EXPECT_EQ(corrupt.wait(after(kStep)), 1);
  corrupt.drain(after(kStep));
  EXPECT_TRUE(anyLineContains(corrupt.seen(Stream::Stderr), file.string() + ": file is not a database"))
      << ::testing::PrintToString(corrupt.seen(Stream::Stderr));
  EXPECT_TRUE(corrupt.seen(Stream::Stdout).empty()) << "it listened anyway";
  EXPECT_EQ(fileContents(file), before) << "the file was touched";

  // A folder another server is using.
  TempDir other;
  auto first = std::make_unique<ServerProcess>(storeArgs(other));
  Subprocess second(kServerBin, {"--host", "127.0.0.1", "--port", "0", "--data-dir",
                                 (other.path() / "data").string()});
  EXPECT_EQ(second.wait(after(kStep)), 1);
  second.drain(after(kStep));
  EXPECT_TRUE(anyLineContains(second.seen(Stream::Stderr),
                              "another udpchat-server (pid " +
                                  std::to_string(first->proc().pid()) + ") is using it"))
      << ::testing::PrintToString(second.seen(Stream::Stderr));
}

TEST(StoreBinaries, AFullStoreRefusesMessagesAndTheServerKeepsServing) {
  TempDir dir;
  auto server = std::make_unique<ServerProcess>(storeArgs(
      dir, {"--max-store-bytes", "300000", "--keep-messages", "0", "--history", "1000", "--rate", "1000",
            "--rate-burst", "1000"}));
  auto alice = startClient(server->port(), "alice");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("the first one\n"));
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "message"}, {"text", "the first one"}}));
  // Ten lines at a time (a pipe holds no more than the client reads), until one is refused.
  std::optional<Json> refused;
  for (int batch = 0; batch < 40 && !refused; ++batch) {
    std::string lines;
    for (int i = 0; i < 10; ++i) lines += std::to_string(batch * 10 + i) + std::string(1900, 'x') + "\n";
    ASSERT_TRUE(alice->write(lines));
    const std::string last = std::to_string(batch * 10 + 9) + std::string(1900, 'x');
    while (auto line = alice->readLine(Stream::Stdout, after(kStep))) {
      const Json j = Json::parse(*line, nullptr, false);
      if (j.value("type", "") == "error" && j.value("code", "") == "storage_unavailable") {
        refused = j;
        break;
      }
      if (j.value("type", "") == "message" && j.value("text", "") == last) break;
    }
  }
  ASSERT_TRUE(refused) << "the store never filled";
  EXPECT_NE(refused->dump().find("could not store"), std::string::npos) << refused->dump();

  // Everything else goes on: a newcomer joins and gets the history that was stored.
  auto bob = startClient(server->port(), "bob");
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "message"}, {"text", "the first one"}, {"history", true}}))
      << ::testing::PrintToString(bob->seen(Stream::Stdout));
  ASSERT_TRUE(bob->write("/who\n"));
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "who"}}));
  // Nothing refused was delivered: every message bob saw, alice saw confirmed.
  alice->closeStdin();
  alice->wait(after(kStep));
  alice->drain(after(kStep));
  bob->closeStdin();
  bob->wait(after(kStep));
  bob->drain(after(kStep));
  std::set<std::string> confirmed;
  for (const Json& m : messages(*alice, false)) confirmed.insert(m["text"].get<std::string>());
  for (const Json& m : messages(*bob, true)) {
    EXPECT_TRUE(confirmed.contains(m["text"].get<std::string>())) << "unconfirmed but delivered";
  }
  EXPECT_LT(confirmed.size(), 401u) << "nothing was refused";
}

}  // namespace
}  // namespace udpchat::test
