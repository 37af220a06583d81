// The real udpchat-server and udpchat-client processes over loopback, driven through pipes.
// Every wait has a deadline and a condition; nothing sleeps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "binaries_support.hpp"
#include "silent_tcp_port.hpp"
#include "subprocess.hpp"

namespace udpchat::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Stream = Subprocess::Stream;

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

using test::SilentTcpPort;

// A port where nothing answers, for the transport under test.
class NoServer {
 public:
  explicit NoServer(const std::string& transport) {
    if (transport == "tcp") {
      tcp_ = std::make_unique<SilentTcpPort>();
    } else {
      udp_ = std::make_unique<SilentPort>();
    }
  }
  std::uint16_t port() const { return tcp_ ? tcp_->port() : udp_->port(); }

 private:
  std::unique_ptr<SilentPort> udp_;
  std::unique_ptr<SilentTcpPort> tcp_;
};

// The chat tests, run once over each transport ("enet", "tcp"): the same features, the same
// expectations.
class Binaries : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& transport() const { return GetParam(); }
  std::unique_ptr<Subprocess> client(std::uint16_t port, std::string nick,
                                     std::vector<std::string> extra = {"--json"}) const {
    return startClient(port, std::move(nick), std::move(extra), transport());
  }
};

INSTANTIATE_TEST_SUITE_P(Transports, Binaries, ::testing::Values("enet", "tcp"),
                         [](const auto& p) { return p.param; });

TEST_P(Binaries, TwoJsonClientsChatAndTheLastLineBeforeEofIsDelivered) {
  ServerProcess server;
  auto bob = client(server.port(), "bob");
  waitUntilInLobby(*bob, "bob");

  auto alice = client(server.port(), "alice");
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

TEST_P(Binaries, PrivateMessageToAnUnknownNickIsAnErrorNamingIt) {
  ServerProcess server;
  auto alice = client(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("/msg nobody are you there?\n"));
  const auto error = waitForEvent(*alice, {{"type", "error"}, {"code", "no_such_nick"}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->dump().find("nobody"), std::string::npos) << error->dump();
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);
}

TEST_P(Binaries, ASecondClientWithTheSameNickGetsNickInUse) {
  ServerProcess server;
  auto alice = client(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  auto impostor = client(server.port(), "Alice");  // nicks compare case-insensitively
  const auto error = waitForEvent(*impostor, {{"type", "error"}, {"code", "nick_in_use"}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->dump().find("lice"), std::string::npos) << error->dump();
  impostor->closeStdin();
  EXPECT_TRUE(impostor->wait(after(kStep)).has_value());
  // The first alice is untouched.
  ASSERT_TRUE(alice->write("still here\n"));
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "message"}, {"text", "still here"}}));
}

TEST_P(Binaries, ClientWithNoServerExits2WithinItsConnectTimeout) {
  NoServer silent(transport());
  const auto start = Clock::now();
  Subprocess client(kClientBin, {"--port", std::to_string(silent.port()), "--nick", "alice",
                                 "--connect-timeout", "1", "--transport", transport()});
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

TEST_P(Binaries, InJsonModeEveryLineIsAJsonObjectEvenErrors) {
  NoServer silent(transport());
  Subprocess client(kClientBin, {"--json", "--port", std::to_string(silent.port()), "--nick",
                                 "alice", "--connect-timeout", "0.5", "--transport", transport()});
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

// The UDP port taken (by another server), or only the TCP port (by a plain listener): either
// way the server exits 1 naming the address, the protocol where it is TCP, and the reason.
TEST_P(Binaries, ServerThatCannotBindExits1NamingTheAddress) {
  std::unique_ptr<ServerProcess> first;
  int tcpListener = -1;
  std::uint16_t port = 0;
  if (transport() == "enet") {
    first = std::make_unique<ServerProcess>();
    port = first->port();
  } else {
    tcpListener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    ASSERT_EQ(::bind(tcpListener, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    ASSERT_EQ(::listen(tcpListener, 1), 0);
    ASSERT_EQ(::getsockname(tcpListener, reinterpret_cast<sockaddr*>(&sin), &len), 0);
    port = ntohs(sin.sin_port);
  }
  Subprocess second(kServerBin,
                    {"--host", "127.0.0.1", "--port", std::to_string(port), "--no-store"});
  EXPECT_EQ(second.wait(after(kStep)), 1);
  second.drain(after(kStep));
  if (tcpListener >= 0) ::close(tcpListener);
  const std::string protocol = transport() == "tcp" ? " (TCP)" : "";
  EXPECT_TRUE(anyLineContains(
      second.seen(Stream::Stderr),
      "cannot listen on 127.0.0.1:" + std::to_string(port) + protocol + ": address already in use"))
      << ::testing::PrintToString(second.seen(Stream::Stderr));
  EXPECT_TRUE(second.seen(Stream::Stdout).empty());
}

TEST(BinaryFlags, BadFlagsExit64) {
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
  for (const auto& args : std::vector<std::vector<std::string>>{{"--no-such-flag"},
                                                                {"--connect-timeout", "0"},
                                                                {"--ask-password", "--nick", "x"},
                                                                {"--json", "--plain"},
                                                                {"--transport", "quic"},
                                                                {"--transport", ""},
                                                                {"--transport"}}) {
    Subprocess client(kClientBin, args);
    EXPECT_EQ(client.wait(after(kStep)), 64) << ::testing::PrintToString(args);
  }
}

TEST_P(Binaries, HumanModePrintsTimestampedChatLines) {
  ServerProcess server;
  auto bob = client(server.port(), "bob", {"--plain"});
  // The human welcome line: "[HH:MM:SS] -- connected to udpchat as bob; you are in #lobby".
  ASSERT_TRUE(bob->waitForLine(Stream::Stdout, "you are in #lobby", after(kStep)));
  ASSERT_TRUE(bob->waitForLine(Stream::Stdout, "bob joined", after(kStep)));
  auto alice = client(server.port(), "alice", {"--plain"});
  ASSERT_TRUE(alice->write("hello\n"));
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);
  const auto line = bob->waitForLine(Stream::Stdout, "<alice>", after(kStep));
  ASSERT_TRUE(line);
  EXPECT_TRUE(std::regex_search(*line, std::regex(R"(^\[\d\d:\d\d:\d\d\] #lobby <alice> hello\b)")))
      << *line;
}

TEST_P(Binaries, AnEscapeSequenceIsRefusedAndNeverReachesOthers) {
  ServerProcess server;
  auto bob = client(server.port(), "bob");
  waitUntilInLobby(*bob, "bob");
  auto alice = client(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("evil \x1b[2J\x1b]0;owned\x07 text\n"));
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "error"}, {"code", "control_character"}}));
  // A later message arrives in order after anything the first could have produced.
  ASSERT_TRUE(alice->write("after\n"));
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "message"}, {"from", "alice"}, {"text", "after"}}));
  EXPECT_FALSE(anyLineContains(bob->seen(Stream::Stdout), "evil"));
  EXPECT_FALSE(anyLineContains(bob->seen(Stream::Stdout), "\x1b"));
}

TEST_P(Binaries, AnOperatorKicksAUser) {
  ServerProcess server({"--oper-password", "sekrit"});
  auto bob = client(server.port(), "bob");
  waitUntilInLobby(*bob, "bob");
  auto alice = client(server.port(), "alice");
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

TEST_P(Binaries, AFullServerRefusesTheNextClient) {
  ServerProcess server({"--max-clients", "1"});
  auto alice = client(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  auto bob = client(server.port(), "bob", {"--plain"});
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

TEST_P(Binaries, ServerStopsCleanlyOnSigtermAndTellsItsClients) {
  ServerProcess server;
  auto alice = client(server.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  server.proc().kill(SIGTERM);
  EXPECT_EQ(server.proc().wait(after(kStep)), 0);
  // The server closed the session instead of leaving it to time out (5-30 s).
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "connection_lost"}}, after(3s)));
}

TEST_P(Binaries, AClientReconnectsToARestartedServerAndRejoinsItsRoom) {
  auto server = std::make_unique<ServerProcess>(std::vector<std::string>{}, restartablePort());
  const std::uint16_t port = server->port();
  ASSERT_NE(port, 0);
  auto alice = client(port, "alice", {"--json", "--room", "dev"});
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

  auto bob = client(port, "bob", {"--json", "--room", "dev"});
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

TEST_P(Binaries, NumberedMessagesSurviveRepeatedServerKillsNoneLostNoneDoubled) {
  // Each round: ten lines while the server runs; the moment bob sees the first of them the
  // server freezes (SIGSTOP), ten more leave alice's client for the frozen server, which is
  // then killed (SIGKILL) and replaced on the same port. The memory-only server forgets
  // everything, so what reaches bob is what alice's client kept and resent.
  constexpr int kRounds = 3;
  constexpr int kPerBatch = 10;
  auto server = std::make_unique<ServerProcess>(std::vector<std::string>{}, restartablePort());
  const std::uint16_t port = server->port();
  ASSERT_NE(port, 0);
  auto alice = client(port, "alice");
  auto bob = client(port, "bob");
  waitUntilInLobby(*alice, "alice");
  waitUntilInLobby(*bob, "bob");

  std::vector<std::string> texts;
  int next = 1;
  auto batch = [&] {
    std::string lines;
    const std::string first = "m" + std::to_string(next);
    for (int i = 0; i < kPerBatch; ++i, ++next) {
      texts.push_back("m" + std::to_string(next));
      lines += texts.back() + "\n";
    }
    EXPECT_TRUE(alice->write(lines));
    return std::make_pair(first, texts.back());
  };
  for (int round = 0; round < kRounds; ++round) {
    const std::string first = batch().first;
    ASSERT_TRUE(waitForEvent(*bob, {{"type", "message"}, {"text", first}}))
        << "round " << round << ": bob did not see " << first;
    server->proc().kill(SIGSTOP);
    const std::string last = batch().second;
    ASSERT_TRUE(waitForEvent(*alice, {{"type", "sending"}, {"text", last}}))
        << "round " << round << ": alice's client did not send " << last;
    server->proc().kill(SIGKILL);
    ASSERT_TRUE(server->proc().wait(after(kStep)));
    server = std::make_unique<ServerProcess>(std::vector<std::string>{}, port);
    ASSERT_EQ(server->port(), port);
    // Both notice (ENet: after its timeout), reconnect and register again.
    ASSERT_TRUE(waitForEvent(*alice, {{"type", "welcome"}, {"reconnected", true}}, after(6 * kStep)))
        << "round " << round << ": alice did not come back";
    ASSERT_TRUE(waitForEvent(*bob, {{"type", "welcome"}, {"reconnected", true}}, after(6 * kStep)))
        << "round " << round << ": bob did not come back";
  }
  // Everything typed is confirmed to alice and shown to bob (live, or from the room's history
  // when alice's resend reached the new server before bob rejoined).
  ASSERT_TRUE(waitForAllFrom(*alice, "alice", texts, after(6 * kStep)))
      << ::testing::PrintToString(messagesFrom(*alice, "alice"));
  ASSERT_TRUE(waitForAllFrom(*bob, "alice", texts, after(6 * kStep)))
      << ::testing::PrintToString(messagesFrom(*bob, "alice"));
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);
  EXPECT_TRUE(waitForEvent(*bob, {{"type", "quit"}, {"nick", "alice"}}));
  bob->closeStdin();
  EXPECT_EQ(bob->wait(after(kStep)), 0);
  alice->drain(after(kStep));
  bob->drain(after(kStep));

  const auto echoed = messagesFrom(*alice, "alice");
  const auto heard = messagesFrom(*bob, "alice");
  for (const std::string& t : texts) {
    EXPECT_EQ(echoed.count(t) ? echoed.at(t) : 0, 1) << t << " confirmed to alice";
    EXPECT_EQ(heard.count(t) ? heard.at(t) : 0, 1) << t << " shown to bob";
  }
  EXPECT_EQ(echoed.size(), texts.size());
  EXPECT_EQ(heard.size(), texts.size());
}

// ---- both transports at once, and TCP's own failure modes ---------------------------------------

TEST(BinariesMixed, EnetAndTcpClientsChatThroughOneServer) {
  ServerProcess server;
  auto bob = startClient(server.port(), "bob", {"--json"}, "enet");
  waitUntilInLobby(*bob, "bob");
  auto carol = startClient(server.port(), "carol", {"--json"}, "tcp");
  waitUntilInLobby(*carol, "carol");
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "join"}, {"nick", "carol"}}));

  // A TCP client's message is broadcast to both kinds, and an ENet client's too.
  ASSERT_TRUE(carol->write("over tcp\n"));
  EXPECT_TRUE(waitForEvent(*bob, {{"type", "message"}, {"from", "carol"}, {"text", "over tcp"}}));
  EXPECT_TRUE(waitForEvent(*carol, {{"type", "message"}, {"from", "carol"}, {"text", "over tcp"}}));
  ASSERT_TRUE(bob->write("over enet\n"));
  EXPECT_TRUE(waitForEvent(*carol, {{"type", "message"}, {"from", "bob"}, {"text", "over enet"}}));
  ASSERT_TRUE(bob->write("/msg carol psst\n"));
  EXPECT_TRUE(waitForEvent(*carol, {{"type", "private"}, {"from", "bob"}, {"text", "psst"}}));

  // /who lists both, whatever their transport.
  ASSERT_TRUE(carol->write("/who\n"));
  const auto who = waitForEvent(*carol, {{"type", "who"}, {"room", "lobby"}});
  ASSERT_TRUE(who);
  EXPECT_EQ((*who)["users"].size(), 2u) << who->dump();

  carol->closeStdin();
  EXPECT_EQ(carol->wait(after(kStep)), 0);
  EXPECT_TRUE(waitForEvent(*bob, {{"type", "quit"}, {"nick", "carol"}}));
  bob->closeStdin();
  EXPECT_EQ(bob->wait(after(kStep)), 0);
}

TEST(BinariesMixed, ARefusedTcpConnectExits2SayingSo) {
  // A bound TCP socket that does not listen: connects to it are refused at once.
  const int reserved = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(reserved, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  ASSERT_EQ(::bind(reserved, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  ASSERT_EQ(::getsockname(reserved, reinterpret_cast<sockaddr*>(&sin), &len), 0);
  const std::string port = std::to_string(ntohs(sin.sin_port));
  const auto start = Clock::now();
  Subprocess client(kClientBin, {"--port", port, "--nick", "alice", "--transport", "tcp"});
  const auto status = client.wait(after(kStep));
  ::close(reserved);
  EXPECT_EQ(status, 2);
  EXPECT_LT(Clock::now() - start, 3s);  // no waiting for the 5 s connect timeout
  client.drain(after(kStep));
  EXPECT_TRUE(anyLineContains(client.seen(Stream::Stderr),
                              "cannot connect to 127.0.0.1:" + port + ": connection refused"))
      << ::testing::PrintToString(client.seen(Stream::Stderr));
}

// CPU seconds (user + system) a process has used so far, from /proc.
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  if (f.size() < 13) return -1;
  // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
  return static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

TEST(BinariesMixed, AcceptFailuresForWantOfDescriptorsDoNotSpinTheLoop) {
  // The server may hold 12 descriptors: stdio, its UDP socket, epoll, the listener and a spare
  // leave room for about five connections. The rest fail accept() with EMFILE.
  std::vector<std::string> argv = {"-c", "ulimit -n 12 && exec \"$0\" \"$@\"", kServerBin};
  const auto serverArgs = ServerProcess::args({}, 0);
  argv.insert(argv.end(), serverArgs.begin(), serverArgs.end());
  ServerProcess server("/bin/sh", argv);
  ASSERT_NE(server.port(), 0);
  const pid_t pid = server.proc().pid();
  const double cpuBefore = cpuSeconds(pid);
  const auto wallBefore = Clock::now();

  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(server.port());
  constexpr int kConnections = 16;
  std::vector<int> fds;
  for (int i = 0; i < kConnections; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    fds.push_back(fd);
  }
  // The ones the server could not keep are closed at once (not left hanging in the backlog).
  auto closedByServer = [&] {
    int closed = 0;
    for (int fd : fds) {
      pollfd p{fd, POLLIN, 0};
      char c;
      if (::poll(&p, 1, 0) == 1 && ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0) ++closed;
    }
    return closed;
  };
  const Deadline deadline = after(kStep);
  while (closedByServer() == 0 && Clock::now() < deadline) {
    pollfd none{};
    ::poll(&none, 0, 10);
  }
  EXPECT_GT(closedByServer(), 0);
  EXPECT_LT(closedByServer(), kConnections);

  // Over a second with descriptors exhausted, the loop keeps to its normal duty cycle (it
  // wakes every millisecond) instead of spinning on a listener that stays readable.
  server.proc().drain(after(1s));  // a bounded wait; the server prints nothing meanwhile
  const double cpu = cpuSeconds(pid) - cpuBefore;
  const double wall = std::chrono::duration<double>(Clock::now() - wallBefore).count();
  EXPECT_LT(cpu, 0.5 * wall) << cpu << " s of CPU in " << wall << " s";

  // Descriptors freed, the server serves again.
  for (int fd : fds) ::close(fd);
  auto alice = startClient(server.port(), "alice", {"--json"}, "tcp");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("back in business\n"));
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "message"}, {"text", "back in business"}}));
  alice->closeStdin();
  EXPECT_EQ(alice->wait(after(kStep)), 0);

  server.proc().kill(SIGTERM);
  EXPECT_EQ(server.proc().wait(after(kStep)), 0);
  server.proc().drain(after(kStep));
  std::smatch m;
  bool counted = false;
  for (const auto& line : server.proc().seen(Stream::Stderr)) {
    if (std::regex_search(line, m, std::regex(R"((\d+) accept errors)"))) {
      counted = std::stoi(m[1]) > 0;
    }
  }
  EXPECT_TRUE(counted) << ::testing::PrintToString(server.proc().seen(Stream::Stderr));
}

}  // namespace
}  // namespace udpchat::test
