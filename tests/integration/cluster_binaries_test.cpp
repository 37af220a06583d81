// Servers sharing one chat through a real nats-server (JetStream on, loopback, a temporary
// store, a child each test owns), as people run them: three udpchat servers with JSON clients
// on each. Every wait has a deadline and a condition; nothing sleeps.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include "binaries_support.hpp"
#include "nats_process.hpp"
#include "temp_dir.hpp"

namespace udpchat::test {
namespace {

std::vector<std::string> clusterArgs(const NatsProcess& nats, const std::string& name,
                                     std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"--cluster", nats.url(), "--server-name", name};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// The live room messages a JSON client has shown so far: "from:text#id", in order.
std::vector<std::string> roomLines(const Subprocess& p) {
  std::vector<std::string> out;
  for (const auto& line : p.seen(Stream::Stdout)) {
    const Json j = Json::parse(line, nullptr, false);
    if (j.is_object() && j.value("type", "") == "message" && !j.value("history", false)) {
      out.push_back(j.value("from", "") + ":" + j.value("text", "") + "#" +
                    std::to_string(j.value("id", 0)));
    }
  }
  return out;
}

bool waitForCount(Subprocess& p, std::size_t count, Deadline deadline) {
  while (roomLines(p).size() < count) {
    if (!p.readLine(Stream::Stdout, deadline)) return false;
  }
  return true;
}

// SIGTERM, as a person stops a server: it must leave cleanly (status 0). Under a sanitizer a
// report makes the status non-zero, so this is where a race in the cluster's threads shows.
void stopCleanly(ServerProcess& server) {
  server.proc().kill(SIGTERM);
  const auto status = server.proc().wait(after(2 * kStep));
  EXPECT_EQ(status, 0);
  if (status != 0) {
    server.proc().drain(after(kStep));
    for (const auto& line : server.proc().seen(Stream::Stderr)) ADD_FAILURE() << line;
  }
}

// Reads a JSON client's output until a notice whose text holds `needle`.
bool waitForNotice(Subprocess& p, std::string_view needle, Deadline deadline) {
  while (auto line = p.readLine(Stream::Stdout, deadline)) {
    const Json j = Json::parse(*line, nullptr, false);
    if (j.is_object() && j.value("type", "") == "notice" &&
        j.value("text", "").find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// A server started with `args` that cannot join its cluster: it exits with status 1 and its
// stderr says "cannot join the cluster" and each of `reasons`.
void expectRefusedAtStart(std::vector<std::string> args,
                          std::initializer_list<std::string_view> reasons = {}) {
  Subprocess refused(kServerBin, ServerProcess::args(std::move(args), 0));
  EXPECT_EQ(refused.wait(after(kStep)), 1);
  refused.drain(after(kStep));
  EXPECT_TRUE(anyLineContains(refused.seen(Stream::Stderr), "cannot join the cluster"));
  for (std::string_view reason : reasons) {
    EXPECT_TRUE(anyLineContains(refused.seen(Stream::Stderr), reason)) << reason;
  }
}

TEST(Cluster, UnreachableNatsIsAClearErrorAndExitStatus1) {
  expectRefusedAtStart({"--cluster", "nats://127.0.0.1:1"},
                       {"cannot reach NATS at nats://127.0.0.1:1"});
}

TEST(Cluster, ThreeServersShareRoomsPrivateMessagesWhoAndWhois) {
  NatsProcess nats;
  ServerProcess alpha(clusterArgs(nats, "alpha"));
  ServerProcess beta(clusterArgs(nats, "beta"));
  ServerProcess gamma(clusterArgs(nats, "gamma"));
  auto alice = startClient(alpha.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  auto bob = startClient(beta.port(), "bob");
  waitUntilInLobby(*bob, "bob");
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "join"}, {"nick", "bob"}}));
  auto carol = startClient(gamma.port(), "carol");
  waitUntilInLobby(*carol, "carol");
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "join"}, {"nick", "carol"}}));
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "join"}, {"nick", "carol"}}));

  // Concurrent senders on three servers: everyone sees the same order and the same ids.
  constexpr int kEach = 8;
  std::string a, b, c;
  for (int i = 0; i < kEach; ++i) {
    a += "a" + std::to_string(i) + "\n";
    b += "b" + std::to_string(i) + "\n";
    c += "c" + std::to_string(i) + "\n";
  }
  ASSERT_TRUE(alice->write(a));
  ASSERT_TRUE(bob->write(b));
  ASSERT_TRUE(carol->write(c));
  for (auto* p : {alice.get(), bob.get(), carol.get()}) {
    ASSERT_TRUE(waitForCount(*p, 3 * kEach, after(3 * kStep)));
  }
  const auto order = roomLines(*alice);
  EXPECT_EQ(order, roomLines(*bob));
  EXPECT_EQ(order, roomLines(*carol));
  std::set<std::string> distinct(order.begin(), order.end());
  EXPECT_EQ(distinct.size(), order.size());

  ASSERT_TRUE(carol->write("/who\n"));
  const auto who = waitForEvent(*carol, {{"type", "who"}, {"room", "lobby"}});
  ASSERT_TRUE(who);
  std::vector<std::string> names;
  for (const auto& u : (*who)["users"]) names.push_back(u["nick"]);
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "bob", "carol"}));

  ASSERT_TRUE(alice->write("/msg bob psst\n"));
  const auto pm = waitForEvent(*bob, {{"type", "private"}, {"from", "alice"}});
  ASSERT_TRUE(pm);
  EXPECT_EQ((*pm)["text"], "psst");

  ASSERT_TRUE(alice->write("/whois carol\n"));
  const auto whois = waitForEvent(*alice, {{"type", "whois"}, {"nick", "carol"}});
  ASSERT_TRUE(whois);
  EXPECT_EQ((*whois)["server"], "gamma");
  EXPECT_EQ((*whois)["rooms"], Json::array({"lobby"}));

  // A quit on one server is seen on the others, with its reason.
  ASSERT_TRUE(carol->write("/quit see you\n"));
  const auto quit = waitForEvent(*alice, {{"type", "quit"}, {"nick", "carol"}});
  ASSERT_TRUE(quit);
  EXPECT_EQ((*quit)["reason"], "see you");
  for (ServerProcess* server : {&alpha, &beta, &gamma}) stopCleanly(*server);
}

TEST(Cluster, TwoServersRegisteringOneNickAtOnceHaveOneWinner) {
  NatsProcess nats;
  ServerProcess alpha(clusterArgs(nats, "alpha"));
  ServerProcess beta(clusterArgs(nats, "beta"));
  auto first = startClient(alpha.port(), "dave");
  auto second = startClient(beta.port(), "dave");
  int welcomed = 0;
  int refused = 0;
  for (auto* p : {first.get(), second.get()}) {
    while (auto line = p->readLine(Stream::Stdout, after(kStep))) {
      const Json j = Json::parse(*line, nullptr, false);
      if (!j.is_object()) continue;
      if (j.value("type", "") == "welcome") {
        ++welcomed;
        break;
      }
      if (j.value("type", "") == "error" && j.value("code", "") == "nick_in_use") {
        ++refused;
        break;
      }
    }
  }
  EXPECT_EQ(welcomed, 1);
  EXPECT_EQ(refused, 1);
}

TEST(Cluster, AKilledServersUsersQuitOnTheOthersAndTheirNicksAreFreed) {
  NatsProcess nats;
  ServerProcess alpha(clusterArgs(nats, "alpha"));
  auto beta = std::make_unique<ServerProcess>(clusterArgs(nats, "beta"));
  auto alice = startClient(alpha.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  // bob's client knows both servers: beta first, then alpha.
  const std::string both = "127.0.0.1:" + std::to_string(beta->port()) + ",127.0.0.1:" +
                           std::to_string(alpha.port());
  auto bob = std::make_unique<Subprocess>(
      kClientBin, std::vector<std::string>{"--host", both, "--nick", "bob", "--json",
                                           "--connect-timeout", "3"});
  waitUntilInLobby(*bob, "bob");
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "join"}, {"nick", "bob"}}));
  beta->proc().kill(SIGKILL);
  // Its heartbeat stops; after the cluster's timeout (4 s) alpha announces the quit.
  const auto quit = waitForEvent(*alice, {{"type", "quit"}, {"nick", "bob"}}, after(3 * kStep));
  ASSERT_TRUE(quit);
  EXPECT_NE((*quit)["reason"].get<std::string>().find("beta"), std::string::npos);
  // bob's client notices the loss, goes to alpha, and gets its nick back once it is free.
  ASSERT_TRUE(waitForEvent(*bob, {{"type", "welcome"}, {"nick", "bob"}}, after(8 * kStep)))
      << "bob's client did not come back through alpha";
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "join"}, {"nick", "bob"}}, after(kStep)));
  ASSERT_TRUE(bob->write("back through alpha\n"));
  EXPECT_TRUE(waitForAllFrom(*alice, "bob", {"back through alpha"}, after(kStep)));
}

TEST(Cluster, NatsRestartedUnderLoadLosesNothingThatWasConfirmed) {
  NatsProcess nats;
  TempDir storeA, storeB;
  ServerProcess alpha(clusterArgs(nats, "alpha", {"--data-dir", storeA.path().string()}));
  ServerProcess beta(clusterArgs(nats, "beta", {"--data-dir", storeB.path().string()}));
  auto alice = startClient(alpha.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  auto ann = startClient(alpha.port(), "ann");
  waitUntilInLobby(*ann, "ann");
  auto bob = startClient(beta.port(), "bob");
  waitUntilInLobby(*bob, "bob");
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "join"}, {"nick", "bob"}}));

  // One message at a time, each answered (confirmed or refused) before the next; NATS is
  // killed after the tenth and started again after the fifteenth. alpha's notices say when its
  // link is down: what it confirms then reaches its own users only.
  std::vector<std::string> shared, alone;
  int refusedCount = 0;
  bool linked = true;
  for (int i = 0; i < 30; ++i) {
    if (i == 10) nats.kill();
    if (i == 15) {
      nats.restart();
      // Until alpha says it is back, its answers still come from alone.
      if (!linked) {
        ASSERT_TRUE(waitForNotice(*alice, "again", after(3 * kStep)))
            << "alpha did not say it is linked again";
        linked = true;
      }
    }
    const std::string text = "m" + std::to_string(i);
    ASSERT_TRUE(alice->write(text + "\n"));
    for (;;) {
      auto line = alice->readLine(Stream::Stdout, after(2 * kStep));
      ASSERT_TRUE(line) << "no answer to " << text;
      const Json j = Json::parse(*line, nullptr, false);
      if (!j.is_object()) continue;
      const std::string type = j.value("type", "");
      if (type == "notice" && j.value("text", "").find("lost its link") != std::string::npos) {
        linked = false;
      }
      if (type == "message" && j.value("text", "") == text) {
        (linked ? shared : alone).push_back(text);
        break;
      }
      if (type == "error" && j.value("code", "") == "cluster_unavailable") {
        ++refusedCount;
        break;
      }
    }
    if (i == 14) {
      ASSERT_FALSE(linked) << "alpha never said it lost its link";
    }
  }
  RecordProperty("shared", static_cast<int>(shared.size()));
  RecordProperty("alone", static_cast<int>(alone.size()));
  RecordProperty("refused", refusedCount);
  EXPECT_GE(shared.size(), 15u);
  EXPECT_FALSE(alone.empty()) << "alpha's users kept chatting while NATS was down";
  std::vector<std::string> confirmed = shared;
  confirmed.insert(confirmed.end(), alone.begin(), alone.end());
  EXPECT_TRUE(waitForAllFrom(*ann, "alice", confirmed, after(2 * kStep)))
      << "ann, on alpha too, is missing a message alpha confirmed";
  EXPECT_TRUE(waitForAllFrom(*bob, "alice", shared, after(6 * kStep)))
      << "bob is missing a message the cluster confirmed";
  for (const auto& text : alone) {
    EXPECT_FALSE(messagesFrom(*bob, "alice").contains(text)) << text << " left alpha";
  }
}

TEST(Cluster, AnAccountAndABanMadeOnOneServerHoldOnTheOthers) {
  NatsProcess nats;
  TempDir betaStore;
  ServerProcess alpha(clusterArgs(nats, "alpha", {"--oper-password", "sesame"}));
  ServerProcess beta(clusterArgs(nats, "beta", {"--data-dir", betaStore.path().string()}));
  auto mallory = startClient(beta.port(), "mallory");
  waitUntilInLobby(*mallory, "mallory");
  auto alice = startClient(alpha.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  ASSERT_TRUE(alice->write("/register correct-horse\n"));
  ASSERT_TRUE(waitForNotice(*alice, "is registered to you", after(kStep)));
  // beta says in its log when the account reaches it.
  ASSERT_TRUE(beta.proc().waitForLine(Stream::Stderr, "cluster: alice is registered", after(kStep)));
  ASSERT_TRUE(alice->write("/quit\n"));
  EXPECT_EQ(alice->wait(after(kStep)), 0);
  // Once beta has seen her go, the nick is free there but for its password.
  ASSERT_TRUE(waitForEvent(*mallory, {{"type", "quit"}, {"nick", "alice"}}));

  // On beta the nick needs its password too; with it, alice is herself there.
  auto impostor = startClient(beta.port(), "alice");
  ASSERT_TRUE(waitForEvent(*impostor, {{"type", "error"}, {"code", "nick_registered"}}));
  auto back = startClient(beta.port(), "alice", {"--json", "--password", "correct-horse"});
  ASSERT_TRUE(waitForNotice(*back, "you are identified as alice", after(kStep)));

  // An operator on alpha bans mallory, who is on beta: she goes, and cannot come back there.
  auto op = startClient(alpha.port(), "opal");
  waitUntilInLobby(*op, "opal");
  ASSERT_TRUE(op->write("/oper sesame\n"));
  ASSERT_TRUE(waitForNotice(*op, "operator", after(kStep)));
  ASSERT_TRUE(op->write("/ban mallory spam\n"));
  const auto kicked = waitForEvent(*back, {{"type", "kick"}, {"nick", "mallory"}});
  ASSERT_TRUE(kicked);
  EXPECT_EQ((*kicked)["by"], "opal");
  auto again = startClient(beta.port(), "mallory");
  const auto refused = waitForEvent(*again, {{"type", "error"}, {"code", "banned"}});
  ASSERT_TRUE(refused);
  EXPECT_NE((*refused)["message"].get<std::string>().find("spam"), std::string::npos);
  stopCleanly(alpha);
  stopCleanly(beta);
}

TEST(Cluster, NatsCredentialsAreUsedAndAWrongPasswordIsRefused) {
  NatsProcess nats({"--user", "chat", "--pass", "s3cret-pass"});
  expectRefusedAtStart(
      clusterArgs(nats, "alpha", {"--cluster-user", "chat", "--cluster-password", "wrong"}));
  ServerProcess alpha(
      clusterArgs(nats, "alpha", {"--cluster-user", "chat", "--cluster-password", "s3cret-pass"}));
  auto alice = startClient(alpha.port(), "alice");
  waitUntilInLobby(*alice, "alice");
}

// A certificate authority and a server certificate for 127.0.0.1 it signed, made with the
// openssl command in `dir` (ca.pem, server.pem, server.key); false if openssl failed.
bool makeCertificates(const std::filesystem::path& dir) {
  {
    std::ofstream ext(dir / "server.ext");
    ext << "subjectAltName=IP:127.0.0.1\n";
  }
  const std::string d = dir.string() + "/";
  const std::vector<std::vector<std::string>> steps = {
      {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", d + "ca.key", "-out", d + "ca.pem", "-days", "2", "-subj", "/CN=udpchat test CA"},
      {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
       d + "server.key", "-out", d + "server.csr", "-subj", "/CN=127.0.0.1"},
      {"x509", "-req", "-in", d + "server.csr", "-CA", d + "ca.pem", "-CAkey", d + "ca.key",
       "-CAcreateserial", "-out", d + "server.pem", "-days", "2", "-extfile", d + "server.ext"},
  };
  for (const auto& args : steps) {
    Subprocess openssl(UDPCHAT_OPENSSL_BIN, args);
    openssl.drain(after(kStep));
    if (openssl.wait(after(kStep)) != 0) {
      for (const auto& line : openssl.seen(Stream::Stderr)) ADD_FAILURE() << line;
      return false;
    }
  }
  return true;
}

// The cluster's link with TLS: a NATS that asks for TLS gets it, its certificate checked
// against --cluster-ca; a certificate nobody vouched for is refused at start with what to do,
// and so is a tls:// URL to a NATS that offers no TLS (never a silent fall back to clear text).
TEST(Cluster, ATlsUrlEncryptsTheLinkAndAnUntrustedCertificateIsRefused) {
  TempDir certs;
  ASSERT_TRUE(makeCertificates(certs.path()));
  const std::string dir = certs.path().string() + "/";
  NatsProcess nats({"--tls", "--tlscert", dir + "server.pem", "--tlskey", dir + "server.key"});
  const auto tlsArgs = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> a = {"--cluster", nats.tlsUrl(), "--server-name", name};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  expectRefusedAtStart(tlsArgs("alpha", {}), {"give its certificate with --cluster-ca FILE"});
  NatsProcess clearText;
  expectRefusedAtStart({"--cluster", clearText.tlsUrl(), "--server-name", "alpha"},
                       {"this NATS does not offer TLS"});

  ServerProcess alpha(tlsArgs("alpha", {"--cluster-ca", dir + "ca.pem"}));
  ServerProcess beta(tlsArgs("beta", {"--cluster-ca", dir + "ca.pem"}));
  auto alice = startClient(alpha.port(), "alice");
  waitUntilInLobby(*alice, "alice");
  auto bob = startClient(beta.port(), "bob");
  waitUntilInLobby(*bob, "bob");
  ASSERT_TRUE(waitForEvent(*alice, {{"type", "join"}, {"nick", "bob"}}));
  ASSERT_TRUE(alice->write("over tls\n"));
  const auto said = waitForEvent(*bob, {{"type", "message"}, {"from", "alice"}});
  ASSERT_TRUE(said);
  EXPECT_EQ((*said)["text"], "over tls");
  for (ServerProcess* server : {&alpha, &beta}) stopCleanly(*server);
}

}  // namespace
}  // namespace udpchat::test
