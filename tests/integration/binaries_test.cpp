// The real udpchat-server and udpchat-client processes over loopback, driven through pipes.
// Every wait has a deadline and a condition; nothing sleeps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "subprocess.hpp"

namespace udpchat::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Stream = Subprocess::Stream;

constexpr auto kStep = 5s;  // per step; loopback answers in milliseconds

const char* const kServerBin = UDPCHAT_SERVER_BIN;
const char* const kClientBin = UDPCHAT_CLIENT_BIN;

class ServerProcess {
 public:
  // port 0: an ephemeral one, read back from the "listening on" line.
  explicit ServerProcess(std::vector<std::string> extra = {}, std::uint16_t port = 0)
      : proc_(kServerBin, args(extra, port)) {
    const auto line = proc_.readLine(Stream::Stdout, after(kStep));
    static const std::regex kListening(
        R"(^udpchat-server listening on 127\.0\.0\.1:(\d+) \(UDP, ENet\)$)");
    std::smatch m;
    if (line && std::regex_match(*line, m, kListening)) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
    } else {
      ADD_FAILURE() << "no 'listening on' line; got: " << line.value_or("<nothing>");
    }
  }
  std::uint16_t port() const { return port_; }
  Subprocess& proc() { return proc_; }

 private:
  static std::vector<std::string> args(std::vector<std::string> extra, std::uint16_t port) {
    std::vector<std::string> a = {"--host", "127.0.0.1", "--port", std::to_string(port)};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  Subprocess proc_;
  std::uint16_t port_ = 0;
};

std::unique_ptr<Subprocess> startClient(std::uint16_t port, std::string nick,
                                        std::vector<std::string> extra = {"--json"}) {
  std::vector<std::string> a = {
      "--host",        "127.0.0.1",         "--port", std::to_string(port), "--nick",
      std::move(nick), "--connect-timeout", "3"};
  a.insert(a.end(), extra.begin(), extra.end());
  return std::make_unique<Subprocess>(kClientBin, std::move(a));
}

// Reads stdout lines until one is an event matching every key/value of `want`. In JSON mode
// every line must be a JSON object, and that is checked on the way.
std::optional<Json> waitForEvent(Subprocess& p, const Json& want,
                                 Deadline deadline = after(kStep)) {
  while (auto line = p.readLine(Stream::Stdout, deadline)) {
    const Json j = Json::parse(*line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << "not a JSON object: " << *line;
    if (!j.is_object()) continue;
    bool matches = true;
    for (const auto& [key, value] : want.items()) {
      if (!j.contains(key) || j[key] != value) matches = false;
    }
    if (matches) return j;
  }
  return std::nullopt;
}

// Waits until a JSON client is registered and in the lobby, so it sees what follows live.
void waitUntilInLobby(Subprocess& client, const std::string& nick) {
  ASSERT_TRUE(waitForEvent(client, {{"type", "welcome"}, {"nick", nick}}))
      << nick << " got no welcome";
  ASSERT_TRUE(waitForEvent(client, {{"type", "join"}, {"nick", nick}, {"room", "lobby"}}))
      << nick << " did not join the lobby";
}

bool anyLineContains(const std::vector<std::string>& lines, std::string_view needle) {
  for (const auto& l : lines) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

// A bound UDP socket that never answers: a port where no server is, and stays so.
class SilentPort {
 public:
  SilentPort() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
      ADD_FAILURE() << "cannot bind a loopback UDP socket";
    }
    port_ = ntohs(sin.sin_port);
  }
  ~SilentPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentPort(const SilentPort&) = delete;
  SilentPort& operator=(const SilentPort&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

TEST(Binaries, TwoJsonClientsChatAndTheLastLineBeforeEofIsDelivered) {
  ServerProcess server;
  auto bob = startClient(server.port(), "bob");
  waitUntilInLobby(*bob, "bob");

  auto alice = startClient(server.port(), "alice");
  // Typed before registration and followed at once by EOF: the client must register, send it,
  // then quit, in that order.
  ASSERT_TRUE(alice->write("hello\n"));
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);

  const auto message =
      waitForEvent(*bob, {{"type", "message"}, {"from", "alice"}, {"text", "hello"}});
  ASSERT_TRUE(message);
  EXPECT_EQ((*message)["room"], "lobby");
  EXPECT_EQ((*message)["history"], false);
  EXPECT_GT((*message)["id"].get<std::uint64_t>(), 0u);
  EXPECT_TRUE(waitForEvent(*bob, {{"type", "quit"}, {"nick", "alice"}}));

  alice->drain(after(kStep));
  for (const auto& line : alice->seen(Stream::Stdout)) {
    EXPECT_TRUE(Json::parse(line, nullptr, false).is_object()) << line;
  }
  bob->closeStdin();
  EXPECT_EQ(bob->wait(after(kStep)), 0);
}

TEST(Binaries, PrivateMessageToAnUnknownNickIsAnErrorNamingIt) {
  ServerProcess server;
  auto alice = startClient(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("/msg nobody are you there?\n"));
  const auto error = waitForEvent(*alice, {{"type", "error"}, {"code", "no_such_nick"}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->dump().find("nobody"), std::string::npos) << error->dump();
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);
}

TEST(Binaries, ASecondClientWithTheSameNickGetsNickInUse) {
  ServerProcess server;
  auto alice = startClient(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  auto impostor = startClient(server.port(), "Alice");  // nicks compare case-insensitively
  const auto error = waitForEvent(*impostor, {{"type", "error"}, {"code", "nick_in_use"}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->dump().find("lice"), std::string::npos) << error->dump();
  impostor->closeStdin();
  EXPECT_TRUE(impostor->wait(after(kStep)).has_value());
  // The first alice is untouched.
  ASSERT_TRUE(alice->write("still here\n"));
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "message"}, {"text", "still here"}}));
}

TEST(Binaries, ClientWithNoServerExits2WithinItsConnectTimeout) {
  SilentPort silent;
  const auto start = Clock::now();
  Subprocess client(kClientBin, {"--port", std::to_string(silent.port()), "--nick", "alice",
                                 "--connect-timeout", "1"});
  const auto status = client.wait(after(kStep));
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(status, 2);
  EXPECT_GE(elapsed, 1s);
  EXPECT_LT(elapsed, 3s);
  client.drain(after(kStep));
  EXPECT_TRUE(anyLineContains(
      client.seen(Stream::Stderr),
      "cannot connect to 127.0.0.1:" + std::to_string(silent.port()) + ": no answer within 1 s"))
      << "stderr: " << ::testing::PrintToString(client.seen(Stream::Stderr));
}

TEST(Binaries, InJsonModeEveryLineIsAJsonObjectEvenErrors) {
  SilentPort silent;
  Subprocess client(kClientBin, {"--json", "--port", std::to_string(silent.port()), "--nick",
                                 "alice", "--connect-timeout", "0.5"});
  EXPECT_EQ(client.wait(after(kStep)), 2);
  client.drain(after(kStep));
  ASSERT_FALSE(client.seen(Stream::Stderr).empty());
  for (auto stream : {Stream::Stdout, Stream::Stderr}) {
    for (const auto& line : client.seen(stream)) {
      EXPECT_TRUE(Json::parse(line, nullptr, false).is_object()) << line;
    }
  }
  EXPECT_TRUE(anyLineContains(client.seen(Stream::Stderr), "cannot_connect"));

  Subprocess badFlag(kClientBin, {"--json", "--port", "not-a-port"});
  EXPECT_EQ(badFlag.wait(after(kStep)), 64);
  badFlag.drain(after(kStep));
  ASSERT_FALSE(badFlag.seen(Stream::Stderr).empty());
  for (const auto& line : badFlag.seen(Stream::Stderr)) {
    EXPECT_TRUE(Json::parse(line, nullptr, false).is_object()) << line;
  }
}

TEST(Binaries, ServerThatCannotBindExits1NamingTheAddress) {
  ServerProcess first;
  Subprocess second(kServerBin, {"--host", "127.0.0.1", "--port", std::to_string(first.port())});
  EXPECT_EQ(second.wait(after(kStep)), 1);
  second.drain(after(kStep));
  EXPECT_TRUE(anyLineContains(
      second.seen(Stream::Stderr),
      "cannot listen on 127.0.0.1:" + std::to_string(first.port()) + ": address already in use"))
      << ::testing::PrintToString(second.seen(Stream::Stderr));
  EXPECT_TRUE(second.seen(Stream::Stdout).empty());
}

TEST(Binaries, BadFlagsExit64) {
  const std::vector<std::vector<std::string>> serverArgs = {
      {"--no-such-flag"},           {"--port", "70000"},
      {"--max-message-bytes", "0"}, {"--max-message-bytes", "4001"},
      {"--history", "1001"},        {"--max-clients", "0"},
  };
  for (const auto& args : serverArgs) {
    Subprocess server(kServerBin, args);
    EXPECT_EQ(server.wait(after(kStep)), 64) << ::testing::PrintToString(args);
    server.drain(after(kStep));
    EXPECT_FALSE(server.seen(Stream::Stderr).empty()) << ::testing::PrintToString(args);
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--no-such-flag"}, {"--connect-timeout", "0"}, {"--json", "--plain"}}) {
    Subprocess client(kClientBin, args);
    EXPECT_EQ(client.wait(after(kStep)), 64) << ::testing::PrintToString(args);
  }
}

TEST(Binaries, HumanModePrintsTimestampedChatLines) {
  ServerProcess server;
  auto bob = startClient(server.port(), "bob", {"--plain"});
  // The human welcome line: "[HH:MM:SS] -- connected to udpchat as bob; you are in #lobby".
  ASSERT_TRUE(bob->waitForLine(Stream::Stdout, "you are in #lobby", after(kStep)));
  ASSERT_TRUE(bob->waitForLine(Stream::Stdout, "bob joined", after(kStep)));
  auto alice = startClient(server.port(), "alice", {"--plain"});
  ASSERT_TRUE(alice->write("hello\n"));
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);
  const auto line = bob->waitForLine(Stream::Stdout, "<alice>", after(kStep));
  ASSERT_TRUE(line);
  EXPECT_TRUE(std::regex_search(*line, std::regex(R"(^\[\d\d:\d\d:\d\d\] #lobby <alice> hello\b)")))
      << *line;
}

TEST(Binaries, AnEscapeSequenceIsRefusedAndNeverReachesOthers) {
  ServerProcess server;
  auto bob = startClient(server.port(), "bob");
  waitUntilInLobby(*bob, "bob");
  auto alice = startClient(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("evil \x1b[2J\x1b]0;owned\x07 text\n"));
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "error"}, {"code", "control_character"}}));
  // A later message arrives in order after anything the first could have produced.
  ASSERT_TRUE(alice->write("after\n"));
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "message"}, {"from", "alice"}, {"text", "after"}}));
  EXPECT_FALSE(anyLineContains(bob->seen(Stream::Stdout), "evil"));
  EXPECT_FALSE(anyLineContains(bob->seen(Stream::Stdout), "\x1b"));
}

TEST(Binaries, AnOperatorKicksAUser) {
  ServerProcess server({"--oper-password", "sekrit"});
  auto bob = startClient(server.port(), "bob");
  waitUntilInLobby(*bob, "bob");
  auto alice = startClient(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");

  ASSERT_TRUE(alice->write("/kick bob too early\n"));
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "error"}, {"code", "not_operator"}}));
  ASSERT_TRUE(alice->write("/oper sekrit\n"));
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "notice"}, {"kind", "oper_granted"}}));
  ASSERT_TRUE(alice->write("/kick bob bye\n"));

  const auto kick = waitForEvent(*bob, {{"type", "kick"}, {"nick", "bob"}, {"by", "alice"}});
  ASSERT_TRUE(kick);
  EXPECT_EQ((*kick)["reason"], "bye");
  EXPECT_EQ(bob->wait(after(kStep)), 3);  // kExitKicked
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "kick"}, {"nick", "bob"}}));
}

TEST(Binaries, AFullServerRefusesTheNextClient) {
  ServerProcess server({"--max-clients", "1"});
  auto alice = startClient(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  auto bob = startClient(server.port(), "bob", {"--plain"});
  const auto status = bob->wait(after(kStep));
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  bob->drain(after(kStep));
  EXPECT_TRUE(anyLineContains(bob->seen(Stream::Stdout), "full"))
      << ::testing::PrintToString(bob->seen(Stream::Stdout));
  // Alice is still served.
  ASSERT_TRUE(alice->write("anyone?\n"));
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "message"}, {"text", "anyone?"}}));
}

TEST(Binaries, ServerStopsCleanlyOnSigtermAndTellsItsClients) {
  ServerProcess server;
  auto alice = startClient(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  server.proc().kill(SIGTERM);
  EXPECT_EQ(server.proc().wait(after(kStep)), 0);
  // The server closed the session instead of leaving it to time out (5-30 s).
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "connection_lost"}}, after(3s)));
}

TEST(Binaries, AClientReconnectsToARestartedServerAndRejoinsItsRoom) {
  auto server = std::make_unique<ServerProcess>();
  const std::uint16_t port = server->port();
  ASSERT_NE(port, 0);
  auto alice = startClient(port, "alice", {"--json", "--room", "dev"});
  const auto welcome = waitForEvent(*alice, {{"type", "welcome"}, {"nick", "alice"}});
  ASSERT_TRUE(welcome) << "alice got no welcome";
  EXPECT_EQ((*welcome)["reconnected"], false);
  EXPECT_EQ((*welcome)["room"], "dev");
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "join"}, {"nick", "alice"}, {"room", "dev"}}));

  // The server stops gracefully and closes alice's session; a new one takes the same port.
  server->proc().kill(SIGTERM);
  ASSERT_EQ(server->proc().wait(after(kStep)), 0);
  // Read in order: each wait starts after the line the previous one matched.
  const auto lost = waitForEvent(*alice, {{"type", "connection_lost"}});
  ASSERT_TRUE(lost) << "alice did not notice the server stopping";
  EXPECT_EQ((*lost)["reason"], "closed by the server");
  const auto retry = waitForEvent(*alice, {{"type", "reconnecting"}});
  ASSERT_TRUE(retry) << "no reconnecting after connection_lost";
  EXPECT_EQ((*retry)["attempt"], 1);
  EXPECT_EQ((*retry)["delay_ms"], 500);  // the documented default first delay
  server = std::make_unique<ServerProcess>(std::vector<std::string>{}, port);
  ASSERT_EQ(server->port(), port);

  const auto again =
      waitForEvent(*alice, {{"type", "welcome"}, {"nick", "alice"}}, after(2 * kStep));
  ASSERT_TRUE(again) << "alice did not re-register; her output: "
                     << ::testing::PrintToString(alice->seen(Stream::Stdout));
  EXPECT_EQ((*again)["reconnected"], true);
  EXPECT_EQ((*again)["room"], "dev");
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "join"}, {"nick", "alice"}, {"room", "dev"}}))
      << "alice did not rejoin #dev";
  EXPECT_FALSE(anyLineContains(alice->seen(Stream::Stdout), R"("type":"finished")"));

  auto bob = startClient(port, "bob", {"--json", "--room", "dev"});
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "welcome"}, {"nick", "bob"}}));
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "join"}, {"nick", "bob"}, {"room", "dev"}}));
  ASSERT_TRUE(alice->write("back after the restart\n"));
  const auto message = waitForEvent(
      *bob, {{"type", "message"}, {"from", "alice"}, {"text", "back after the restart"}});
  ASSERT_TRUE(message) << "bob did not hear alice";
  EXPECT_EQ((*message)["room"], "dev");
  EXPECT_EQ((*message)["history"], false);

  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);
  EXPECT_TRUE(waitForEvent(*bob, {{"type", "quit"}, {"nick", "alice"}}));
  bob->closeStdin();
  EXPECT_EQ(bob->wait(after(kStep)), 0);
}

}  // namespace
}  // namespace udpchat::test
