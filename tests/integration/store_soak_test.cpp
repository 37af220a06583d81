// kill -9, twenty times: a client sends numbered messages while the server with its store is
// killed with SIGKILL at moments drawn from a seeded generator and restarted on the same folder
// and port. Afterwards every message whose echo the sender received is in the room's history
// exactly once and in order, and nothing else is. Label "soak": ENet notices each death only
// after its timeout, so this takes minutes; ./test.sh --soak and CI run it.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <random>
#include <set>

#include "binaries_support.hpp"
#include "temp_dir.hpp"

namespace udpchat::test {
namespace {

class StoreSoak : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(Transports, StoreSoak, ::testing::Values("enet", "tcp"),
                         [](const auto& p) { return p.param; });

std::uint32_t seedFromEnvironment() {
  if (const char* s = std::getenv("UDPCHAT_TEST_SEED")) return static_cast<std::uint32_t>(std::strtoul(s, nullptr, 10));
  return std::random_device{}();
}

// Texts of the "message" events from `from`, in the order printed, live or replayed.
std::vector<std::string> texts(const Subprocess& p, const std::string& from, bool history) {
  std::vector<std::string> out;
  for (const auto& line : p.seen(Stream::Stdout)) {
    const Json j = Json::parse(line, nullptr, false);
    if (j.is_object() && j.value("type", "") == "message" && j.value("from", "") == from &&
        j.value("history", false) == history) {
      out.push_back(j.value("text", ""));
    }
  }
  return out;
}

TEST_P(StoreSoak, TwentyKillsLoseNothingConfirmedAndDoubleNothing) {
  constexpr int kKills = 20;
  constexpr int kPerRound = 15;
  const std::uint32_t seed = seedFromEnvironment();
  SCOPED_TRACE("UDPCHAT_TEST_SEED=" + std::to_string(seed));
  std::mt19937 rng(seed);
  TempDir dir;
  const std::vector<std::string> args = {"--data-dir", (dir.path() / "data").string(),
                                         "--history", "1000", "--rate", "500",
                                         "--rate-burst", "500"};
  auto server = std::make_unique<ServerProcess>(args, restartablePort());
  const std::uint16_t port = server->port();
  ASSERT_NE(port, 0);
  auto alice = startClient(port, "alice", {"--json"}, GetParam());
  waitUntilInLobby(*alice, "alice");

  std::vector<std::string> sent;
  int next = 1;
  for (int kill = 0; kill < kKills; ++kill) {
    std::string lines;
    for (int i = 0; i < kPerRound; ++i, ++next) {
      sent.push_back("m" + std::to_string(next));
      lines += sent.back() + "\n";
    }
    ASSERT_TRUE(alice->write(lines));
    // The moment: after the echo of a random one of this round's messages, so the rest are
    // anywhere between typed, sent, received, stored and echoed when the server dies.
    const std::string trigger = sent[sent.size() - kPerRound + rng() % kPerRound];
    ASSERT_TRUE(waitForEvent(*alice, {{"type", "message"}, {"text", trigger}, {"history", false}},
                             after(4 * kStep)))
        << "kill " << kill << ": no echo of " << trigger;
    server->proc().kill(SIGKILL);
    ASSERT_TRUE(server->proc().wait(after(kStep)));
    server = std::make_unique<ServerProcess>(args, port);
    ASSERT_EQ(server->port(), port) << "kill " << kill << ": the server did not come back";
    ASSERT_TRUE(waitForEvent(*alice, {{"type", "welcome"}, {"reconnected", true}},
                             after(8 * kStep)))
        << "kill " << kill << ": alice did not come back";
  }
  // The client resends what it has no echo for; wait until everything is confirmed.
  ASSERT_TRUE(waitForAllFrom(*alice, "alice", sent, after(8 * kStep)))
      << ::testing::PrintToString(messagesFrom(*alice, "alice"));
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);
  alice->drain(after(kStep));

  // One more clean restart, then what a newcomer is shown.
  server->proc().kill(SIGTERM);
  EXPECT_EQ(server->proc().wait(after(kStep)), 0);
  server = std::make_unique<ServerProcess>(args, port);
  auto reader = startClient(port, "reader", {"--json"}, GetParam());
  ASSERT_TRUE(waitForAllFrom(*reader, "alice", sent, after(4 * kStep)))
      << "history lacks confirmed messages: "
      << ::testing::PrintToString(texts(*reader, "alice", true));
  reader->closeStdin();
  EXPECT_EQ(reader->wait(after(kStep)), 0);
  reader->drain(after(kStep));

  const std::vector<std::string> confirmedList = texts(*alice, "alice", false);
  const std::set<std::string> confirmed(confirmedList.begin(), confirmedList.end());
  const std::vector<std::string> history = texts(*reader, "alice", true);
  EXPECT_EQ(history, sent) << "the history must hold every confirmed message once, in order";
  for (const std::string& h : history) {
    EXPECT_TRUE(confirmed.contains(h)) << h << " is in the history but was never confirmed";
  }
}

}  // namespace
}  // namespace udpchat::test
