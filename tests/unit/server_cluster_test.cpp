// Servers sharing one chat, without NATS: three cores on one MemoryCluster (cluster_memory.hpp),
// each with its own recording outbox and clock. settle() lets every server apply what the
// cluster delivered until nothing is left, the way their loops would.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "udpchat/cluster_memory.hpp"
#include "udpchat/limits.hpp"
#include "unit/memory_store.hpp"
#include "unit/server_fixture.hpp"

namespace udpchat::testing {
namespace {

using cluster::MemoryCluster;
using protocol::ErrorCode;

struct Node {
  std::unique_ptr<cluster::Bus> bus;
  std::unique_ptr<MemoryStore> store;
  std::unique_ptr<ServerHarness> h;
  bool alive = true;
};

// Each with an operator password ("sesame"): operators are per server.
// Passwords hash at libsodium's least cost: what is tested is where accounts travel.
ServerConfig named(const std::string& name) {
  ServerConfig c = withOper();
  c.serverName = name;
  c.passwordOps = 1;
  c.passwordMemoryBytes = 8192;
  return c;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"alpha", "beta", "gamma"}) add(name);
  }

  Node& add(const std::string& name, bool withStore = false) {
    auto node = std::make_unique<Node>();
    node->bus = net.connect(static_cast<cluster::ServerId>(nodes.size() + 11));
    if (withStore) node->store = std::make_unique<MemoryStore>();
    node->h = std::make_unique<ServerHarness>(named(name), node->store.get(), node->bus.get());
    nodes.push_back(std::move(node));
    return *nodes.back();
  }

  ServerHarness& A() { return *nodes[0]->h; }
  ServerHarness& B() { return *nodes[1]->h; }
  ServerHarness& C() { return *nodes[2]->h; }

  // Every live server applies what the cluster has for it, and ends its turn, until no server
  // gets anything more.
  void settle() {
    for (int round = 0; round < 100; ++round) {
      int events = 0;
      for (auto& node : nodes) {
        if (!node->alive) continue;
        events += node->h->core.serviceCluster(node->h->now);
        node->h->core.endTurn(node->h->now);
      }
      if (events == 0) return;
    }
    FAIL() << "the cluster kept producing events";
  }

  // Time passes on every live server, each ticking at its own cadence.
  void pass(Millis ms) {
    for (Millis done = 0; done < ms; done += 100) {
      for (auto& node : nodes) {
        if (!node->alive) continue;
        node->h->advance(100);
        node->h->core.tick(node->h->now);
        node->h->core.endTurn(node->h->now);
      }
      settle();
    }
  }

  SessionId hello(ServerHarness& h, const std::string& nick, std::vector<std::string> rooms = {}) {
    const SessionId id = h.connect();
    h.send(id, protocol::Hello{nick, 0, std::move(rooms), "test"});
    return id;
  }

  // Registers on `h` and lets the cluster settle; expects the Welcome.
  SessionId user(ServerHarness& h, const std::string& nick, std::vector<std::string> rooms = {}) {
    const SessionId id = hello(h, nick, std::move(rooms));
    settle();
    auto& queue = h.outbox.inbox[id];
    const auto welcomes = std::erase_if(queue, [](const Delivery& d) {
      return std::holds_alternative<protocol::Welcome>(d.message);
    });
    EXPECT_EQ(welcomes, 1u) << "no Welcome for " << nick;
    return id;
  }

  void say(ServerHarness& h, SessionId id, const std::string& text, protocol::ClientId cid = 0) {
    h.send(id, protocol::SendChat{"lobby", "", text, 0, cid});
  }

  MemoryCluster net;
  std::vector<std::unique_ptr<Node>> nodes;
};

std::vector<std::string> texts(const std::vector<protocol::ChatEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.from + ":" + e.text);
  return out;
}

TEST_F(ClusterTest, RoomMessagesReachEveryServerInOneOrderWithClusterWideIds) {
  const SessionId alice = user(A(), "alice");
  const SessionId bob = user(B(), "bob");
  const SessionId carol = user(C(), "carol");
  settle();
  A().clearAll();
  B().clearAll();
  C().clearAll();
  // Concurrent senders on three servers: nobody settles between the sends.
  for (int i = 0; i < 5; ++i) {
    say(A(), alice, "a" + std::to_string(i), 100 + i);
    say(B(), bob, "b" + std::to_string(i), 200 + i);
    say(C(), carol, "c" + std::to_string(i), 300 + i);
  }
  EXPECT_TRUE(A().take<protocol::ChatEvent>(alice).empty())
      << "a message is delivered only once the log gave it its place";
  settle();
  const auto seenA = A().take<protocol::ChatEvent>(alice);
  const auto seenB = B().take<protocol::ChatEvent>(bob);
  const auto seenC = C().take<protocol::ChatEvent>(carol);
  ASSERT_EQ(seenA.size(), 15u);
  EXPECT_EQ(texts(seenA), texts(seenB));
  EXPECT_EQ(texts(seenA), texts(seenC));
  for (std::size_t i = 0; i < seenA.size(); ++i) {
    EXPECT_EQ(seenA[i].id, seenB[i].id);
    EXPECT_EQ(seenA[i].id, seenC[i].id);
    if (i > 0) {
      EXPECT_GT(seenA[i].id, seenA[i - 1].id);
    }
  }
  // Each author's copy carries the client id it sent, so its client sees it confirmed.
  const auto mine = std::find_if(seenA.begin(), seenA.end(),
                                 [](const auto& e) { return e.text == "a3"; });
  ASSERT_NE(mine, seenA.end());
  EXPECT_EQ(mine->clientId, 103u);
  EXPECT_EQ(mine->room, "lobby");
}

TEST_F(ClusterTest, AResendWhileTheMessageIsInTheLogIsDeliveredOnce) {
  const SessionId alice = user(A(), "alice");
  const SessionId bob = user(B(), "bob");
  settle();
  B().clearAll();
  say(A(), alice, "once", 7);
  say(A(), alice, "once", 7);  // the client resent before the confirmation came
  settle();
  say(A(), alice, "once", 7);  // and again after it: confirmed to the author only
  settle();
  EXPECT_EQ(B().take<protocol::ChatEvent>(bob).size(), 1u);
  EXPECT_EQ(net.logSize(), 1u);
  const auto echoes = A().take<protocol::ChatEvent>(alice);
  ASSERT_EQ(echoes.size(), 2u);
  EXPECT_EQ(echoes[0].id, echoes[1].id);
}

TEST_F(ClusterTest, TwoServersRegisteringOneNickAtOnceGiveItToExactlyOne) {
  const SessionId onA = hello(A(), "dave");
  const SessionId onB = hello(B(), "Dave");
  settle();
  const auto welcomedA = A().take<protocol::Welcome>(onA).size();
  // take() drained A; B's inbox is read once, for both kinds.
  const auto deliveriesB = B().drain(onB);
  std::size_t welcomedB = 0;
  std::vector<protocol::ErrorReply> errorsB;
  for (const auto& d : deliveriesB) {
    if (std::holds_alternative<protocol::Welcome>(d.message)) ++welcomedB;
    if (auto* e = std::get_if<protocol::ErrorReply>(&d.message)) errorsB.push_back(*e);
  }
  EXPECT_EQ(welcomedA + welcomedB, 1u);
  EXPECT_EQ(welcomedA, 1u) << "the first claim to reach the directory wins";
  ASSERT_EQ(errorsB.size(), 1u);
  EXPECT_EQ(errorsB[0].code, ErrorCode::NickInUse);
  EXPECT_NE(errorsB[0].message.find("another server"), std::string::npos) << errorsB[0].message;
  ASSERT_TRUE(net.record("dave").has_value());
  EXPECT_EQ(net.record("dave")->serverName, "alpha");
  // The refused session may try another nick.
  B().send(onB, protocol::Hello{"dave2", 0, {}, "test"});
  settle();
  EXPECT_EQ(B().take<protocol::Welcome>(onB).size(), 1u);
}

TEST_F(ClusterTest, ANickHeldOnAnotherServerIsRefusedAtOnce) {
  user(B(), "bob");
  settle();
  const SessionId id = hello(A(), "BOB");
  const auto error = A().only<protocol::ErrorReply>(id);
  EXPECT_EQ(error.code, ErrorCode::NickInUse);
  EXPECT_NE(error.message.find("beta"), std::string::npos) << error.message;
}

TEST_F(ClusterTest, AutomaticNicksTakenElsewhereMoveOn) {
  const SessionId a = hello(A(), "");
  const SessionId b = hello(B(), "");
  settle();
  const auto wa = A().only<protocol::Welcome>(a);
  const auto wb = B().only<protocol::Welcome>(b);
  EXPECT_NE(wa.nick, wb.nick);
}

TEST_F(ClusterTest, JoinsPartsAndQuitsAreSeenOnEveryServer) {
  const SessionId alice = user(A(), "alice");
  settle();
  A().clearAll();
  const SessionId bob = user(B(), "bob", {"lobby", "dev"});
  settle();
  const auto joins = A().take<protocol::JoinEvent>(alice);
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].nick, "bob");
  EXPECT_EQ(joins[0].room, "lobby");

  // The joiner's list has the users of every server.
  const auto who = B().take<protocol::WhoReply>(bob);
  ASSERT_FALSE(who.empty());
  std::vector<std::string> names;
  for (const auto& u : who[0].users) names.push_back(u.nick);
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "bob"}));
  A().send(alice, protocol::WhoRequest{"lobby"});
  const auto whoA = A().only<protocol::WhoReply>(alice);
  ASSERT_EQ(whoA.users.size(), 2u);
  EXPECT_EQ(whoA.users[1].nick, "bob");

  B().send(bob, protocol::PartRoom{"lobby", "lunch"});
  settle();
  const auto parts = A().take<protocol::PartEvent>(alice);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].nick, "bob");
  EXPECT_EQ(parts[0].reason, "lunch");

  B().send(bob, protocol::JoinRoom{"lobby"});
  settle();
  A().clearAll();
  B().send(bob, protocol::QuitRequest{"bye all"});
  settle();
  const auto quits = A().take<protocol::QuitEvent>(alice);
  ASSERT_EQ(quits.size(), 1u);
  EXPECT_EQ(quits[0].nick, "bob");
  EXPECT_EQ(quits[0].reason, "bye all");
  EXPECT_FALSE(net.record("bob").has_value()) << "a quit frees the nick cluster-wide";
  user(C(), "bob");
}

TEST_F(ClusterTest, PrivateMessagesCrossServers) {
  const SessionId alice = user(A(), "alice");
  const SessionId bob = user(B(), "bob");
  settle();
  A().clearAll();
  B().clearAll();
  A().send(alice, protocol::SendPrivate{"Bob", "hi", "psst", 0, 42});
  settle();
  const auto got = B().only<protocol::PrivateEvent>(bob);
  EXPECT_EQ(got.from, "alice");
  EXPECT_EQ(got.to, "bob");
  EXPECT_EQ(got.text, "psst");
  EXPECT_EQ(got.subject, "hi");
  const auto echo = A().only<protocol::PrivateEvent>(alice);
  EXPECT_EQ(echo.id, got.id);
  EXPECT_EQ(echo.clientId, 42u);
  EXPECT_TRUE(C().outbox.inbox.empty()) << "a server with neither end delivers nothing";

  A().send(alice, protocol::SendPrivate{"nobody", "", "hello?", 0, 43});
  EXPECT_EQ(A().only<protocol::ErrorReply>(alice).code, ErrorCode::NoSuchNick);
}

TEST_F(ClusterTest, WhoisOfAUserElsewhereNamesTheirServerAndAsksIt) {
  const SessionId alice = user(A(), "alice");
  const SessionId bob = user(B(), "bob", {"lobby", "dev"});
  settle();
  // bob's round trip, as B measured it from his pings.
  B().send(bob, protocol::PresencePing{1, 0, protocol::PresenceState::Active, 0, 0});
  const auto pong = B().only<protocol::PresencePong>(bob);
  B().advance(12);
  B().send(bob, protocol::PresencePing{2, 0, protocol::PresenceState::Active, pong.serverTime, 0});
  A().send(alice, protocol::WhoisRequest{"bob"});
  settle();
  const auto reply = A().only<protocol::WhoisReply>(alice);
  EXPECT_EQ(reply.nick, "bob");
  EXPECT_EQ(reply.server, "beta");
  EXPECT_EQ(reply.rttMs, 12u);
  EXPECT_EQ(reply.rooms, (std::vector<std::string>{"lobby", "dev"}));
  // A local user's whois names this server.
  A().send(alice, protocol::WhoisRequest{"alice"});
  EXPECT_EQ(A().only<protocol::WhoisReply>(alice).server, "alpha");
}

TEST_F(ClusterTest, WhoisFallsBackToTheDirectoryWhenTheServerIsSilent) {
  const SessionId alice = user(A(), "alice");
  user(B(), "bob");
  settle();
  nodes[1]->alive = false;  // B stops answering
  A().send(alice, protocol::WhoisRequest{"bob"});
  pass(ServerConfig{}.clusterWhoisTimeout + 200);
  const auto reply = A().only<protocol::WhoisReply>(alice);
  EXPECT_EQ(reply.server, "beta");
  EXPECT_EQ(reply.rttMs, 0u);
}

TEST_F(ClusterTest, ASilentServersUsersQuitEverywhereAndTheirNicksAreFreed) {
  const SessionId alice = user(A(), "alice");
  user(B(), "bob");
  const SessionId carol = user(C(), "carol");
  pass(1500);  // heartbeats
  A().clearAll();
  C().clearAll();
  nodes[1]->alive = false;  // killed: no heartbeat, no goodbye
  pass(ServerConfig{}.clusterPeerTimeout + 1200);
  for (auto [h, id] : {std::pair{&A(), alice}, std::pair{&C(), carol}}) {
    const auto quits = h->take<protocol::QuitEvent>(id);
    ASSERT_EQ(quits.size(), 1u);
    EXPECT_EQ(quits[0].nick, "bob");
    EXPECT_NE(quits[0].reason.find("beta"), std::string::npos) << quits[0].reason;
  }
  EXPECT_FALSE(net.record("bob").has_value());
  user(C(), "bob");
  EXPECT_EQ(C().core.stats().clusterPeers, 1u);
}

TEST_F(ClusterTest, AServerCutOffKeepsItsUsersChattingSaysSoAndRejoins) {
  const SessionId alice = user(A(), "alice");
  const SessionId ann = user(A(), "ann");
  const SessionId bob = user(B(), "bob");
  pass(1500);
  say(A(), alice, "before", 8);
  settle();
  const auto before = A().take<protocol::ChatEvent>(alice);
  ASSERT_EQ(before.size(), 1u);
  A().clearAll();
  B().clearAll();
  net.setLinkUp(11, false);
  settle();
  const auto notices = A().take<protocol::NoticeEvent>(alice);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].text.find("only the users of this server"), std::string::npos);
  // Between this server's users, chat goes on, with ids after the last entry of the log.
  say(A(), alice, "anyone here?", 9);
  const auto local = A().only<protocol::ChatEvent>(ann);
  EXPECT_EQ(local.text, "anyone here?");
  EXPECT_GT(local.id, before[0].id);
  EXPECT_EQ(A().only<protocol::ChatEvent>(alice).clientId, 9u);
  A().send(alice, protocol::SendPrivate{"ann", "", "still here", 0, 10});
  EXPECT_EQ(A().only<protocol::PrivateEvent>(ann).text, "still here");
  // Whatever needs the others is refused, with the reason.
  A().send(alice, protocol::SendPrivate{"bob", "", "hello?", 0, 11});
  const auto refused = A().only<protocol::ErrorReply>(alice);
  EXPECT_EQ(refused.code, ErrorCode::ClusterUnavailable);
  EXPECT_EQ(refused.clientId, 11u);
  A().send(alice, protocol::SetTopic{"lobby", "cut off"});
  EXPECT_EQ(A().only<protocol::ErrorReply>(alice).code, ErrorCode::ClusterUnavailable);
  const SessionId late = hello(A(), "late");
  EXPECT_EQ(A().only<protocol::ErrorReply>(late).code, ErrorCode::ClusterUnavailable);
  // Long enough for the others to take alpha for dead and free its users' nicks.
  pass(ServerConfig{}.clusterPeerTimeout + 1200);
  EXPECT_EQ(B().take<protocol::QuitEvent>(bob).size(), 2u);
  EXPECT_FALSE(net.record("alice").has_value());
  EXPECT_TRUE(B().take<protocol::ChatEvent>(bob).empty()) << "what alpha said alone stays there";
  net.setLinkUp(11, true);
  pass(300);
  // alpha claims its users' nicks again, and everyone sees them back.
  ASSERT_TRUE(net.record("alice").has_value());
  EXPECT_EQ(B().take<protocol::JoinEvent>(bob).size(), 2u);
  say(A(), alice, "back", 12);
  settle();
  const auto back = B().only<protocol::ChatEvent>(bob);
  EXPECT_EQ(back.text, "back");
  EXPECT_GT(back.id, local.id);
}

TEST_F(ClusterTest, ANickTakenWhileCutOffIsLostToTheOtherUser) {
  const SessionId alice = user(A(), "alice");
  pass(1500);
  net.setLinkUp(11, false);
  pass(ServerConfig{}.clusterPeerTimeout + 1200);
  const SessionId other = user(B(), "alice");
  ASSERT_NE(other, 0u);
  A().clearAll();
  net.setLinkUp(11, true);
  pass(300);
  const auto errors = A().take<protocol::ErrorReply>(alice);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::NickInUse);
  EXPECT_NE(std::find(A().outbox.closed.begin(), A().outbox.closed.end(), alice),
            A().outbox.closed.end());
  EXPECT_EQ(net.record("alice")->serverName, "beta");
}

TEST_F(ClusterTest, NickChangesAndAwayTravel) {
  const SessionId alice = user(A(), "alice");
  const SessionId bob = user(B(), "bob");
  settle();
  A().clearAll();
  B().send(bob, protocol::ChangeNick{"robert"});
  settle();
  const auto renames = A().take<protocol::NickEvent>(alice);
  ASSERT_EQ(renames.size(), 1u);
  EXPECT_EQ(renames[0].oldNick, "bob");
  EXPECT_EQ(renames[0].newNick, "robert");
  EXPECT_FALSE(net.record("bob").has_value());
  EXPECT_TRUE(net.record("robert").has_value());
  A().send(alice, protocol::ChangeNick{"Robert"});
  EXPECT_EQ(A().only<protocol::ErrorReply>(alice).code, ErrorCode::NickInUse);

  B().send(bob, protocol::SetAway{true, "lunch"});
  settle();
  const auto presence = A().take<protocol::PresenceEvent>(alice);
  ASSERT_EQ(presence.size(), 1u);
  EXPECT_EQ(presence[0].nick, "robert");
  EXPECT_EQ(presence[0].state, protocol::PresenceState::Away);
  EXPECT_EQ(presence[0].awayMessage, "lunch");
  A().send(alice, protocol::SendPrivate{"robert", "", "you there?", 0, 5});
  settle();
  const auto away = A().take<protocol::AwayReply>(alice);
  ASSERT_EQ(away.size(), 1u);
  EXPECT_EQ(away[0].message, "lunch");
}

TEST_F(ClusterTest, HistoryOnJoinIsTheClustersOnAServerThatWasNotInTheRoom) {
  Node& delta = add("delta", true);
  const SessionId alice = user(A(), "alice");
  const SessionId bob = user(B(), "bob");
  settle();
  say(A(), alice, "from alpha");
  say(B(), bob, "from beta");
  settle();
  const SessionId dan = user(*delta.h, "dan");
  const auto history = delta.h->take<protocol::ChatEvent>(dan);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].text, "from alpha");
  EXPECT_EQ(history[1].text, "from beta");
  EXPECT_TRUE(history[0].flags & protocol::kFlagHistory);
  EXPECT_EQ(delta.store->clusterPosition(), net.logSize());
}

TEST_F(ClusterTest, WhatArrivesFromTheClusterIsCheckedLikeAClientFrame) {
  const SessionId alice = user(A(), "alice");
  settle();
  A().clearAll();
  auto evil = net.connect(99);
  // Undecodable bytes, a room name no client could send, a control character, a record whose
  // key is not its nick, and a signal without a server name.
  evil->append(1, protocol::Bytes{std::byte{1}, std::byte{0}, std::byte{7}});
  cluster::LogEntry entry;
  entry.origin = 99;
  entry.chat = protocol::ChatEvent{0, 1, "lob by", "mallory", "", "hi", 0, 0};
  evil->append(2, cluster::encode(entry));
  entry.chat.room = "lobby";
  entry.chat.text = "\x1b[2Jgone";
  evil->append(3, cluster::encode(entry));
  cluster::UserRecord record;
  record.server = 99;
  record.serverName = "evil";
  record.nick = "mallory";
  record.rooms = {"lobby"};
  evil->claim(4, "notmallory", cluster::encode(record));
  cluster::Signal signal;
  signal.from = 99;
  evil->signal(cluster::encode(signal));
  settle();
  EXPECT_TRUE(A().take<protocol::ChatEvent>(alice).empty());
  EXPECT_TRUE(A().take<protocol::JoinEvent>(alice).empty());
  EXPECT_EQ(A().core.stats().clusterRefused, 5u);
  // And the server carries on.
  say(A(), alice, "still here");
  settle();
  EXPECT_EQ(A().only<protocol::ChatEvent>(alice).text, "still here");
}

TEST_F(ClusterTest, TopicsDeletionsAndKicksHoldOnEveryServer) {
  const SessionId op = user(A(), "opal");
  const SessionId bob = user(B(), "bob");
  const SessionId carol = user(C(), "carol");
  settle();
  A().clearAll();
  B().clearAll();
  C().clearAll();

  B().send(bob, protocol::SetTopic{"lobby", "plans for friday"});
  settle();
  for (auto [h, id] : {std::pair{&A(), op}, std::pair{&B(), bob}, std::pair{&C(), carol}}) {
    const auto topic = h->only<protocol::TopicEvent>(id);
    EXPECT_EQ(topic.topic, "plans for friday");
    EXPECT_EQ(topic.setBy, "bob");
  }

  // bob deletes his own message; every server drops it.
  say(B(), bob, "oops", 1);
  settle();
  const auto sent = B().only<protocol::ChatEvent>(bob);
  A().clearAll();
  C().clearAll();
  C().send(carol, protocol::DeleteMessage{"lobby", sent.id});
  EXPECT_EQ(C().only<protocol::ErrorReply>(carol).code, ErrorCode::NotYourMessage);
  B().send(bob, protocol::DeleteMessage{"lobby", sent.id});
  settle();
  for (auto [h, id] : {std::pair{&A(), op}, std::pair{&B(), bob}, std::pair{&C(), carol}}) {
    const auto deleted = h->only<protocol::DeletedEvent>(id);
    EXPECT_EQ(deleted.id, sent.id);
    EXPECT_EQ(deleted.by, "bob");
  }
  // A late joiner on any server does not get it back.
  const SessionId dan = user(C(), "dan");
  EXPECT_TRUE(C().take<protocol::ChatEvent>(dan).empty());

  // An operator on alpha kicks carol, who is on gamma.
  A().send(op, protocol::OperRequest{"sesame"});
  A().clearAll();
  B().clearAll();
  A().send(op, protocol::KickRequest{"carol", "spam"});
  settle();
  const auto seenOnB = B().only<protocol::KickEvent>(bob);
  EXPECT_EQ(seenOnB.nick, "carol");
  EXPECT_EQ(seenOnB.by, "opal");
  EXPECT_EQ(seenOnB.reason, "spam");
  EXPECT_EQ(A().only<protocol::KickEvent>(op).nick, "carol");
  EXPECT_NE(std::find(C().outbox.closed.begin(), C().outbox.closed.end(), carol),
            C().outbox.closed.end());
  EXPECT_TRUE(B().take<protocol::QuitEvent>(bob).empty()) << "the kick, not a quit as well";
  EXPECT_FALSE(net.record("carol").has_value());
  // Not an operator: refused on bob's own server, nothing reaches the log.
  const auto logBefore = net.logSize();
  B().send(bob, protocol::KickRequest{"opal", ""});
  EXPECT_EQ(B().only<protocol::ErrorReply>(bob).code, ErrorCode::NotOperator);
  EXPECT_EQ(net.logSize(), logBefore);
}

TEST_F(ClusterTest, AnAccountRegisteredOnOneServerHoldsOnEveryServer) {
  const SessionId guest = user(B(), "guest");
  B().send(guest, protocol::IdentifyRequest{"alice", "correct horse"});
  EXPECT_EQ(B().only<protocol::ErrorReply>(guest).code, ErrorCode::AccountUnknown);

  const SessionId alice = user(A(), "alice");
  A().send(alice, protocol::RegisterRequest{"correct horse"});
  settle();
  A().disconnect(alice);
  settle();
  // Elsewhere the nick now needs its password, as on alpha.
  const SessionId impostor = hello(C(), "alice");
  settle();
  EXPECT_EQ(C().only<protocol::ErrorReply>(impostor).code, ErrorCode::NickRegistered);
  B().clearAll();
  B().send(guest, protocol::IdentifyRequest{"alice", "wrong horse"});
  EXPECT_EQ(B().only<protocol::ErrorReply>(guest).code, ErrorCode::BadPassword);
  B().send(guest, protocol::IdentifyRequest{"alice", "correct horse"});
  settle();
  const auto notices = B().take<protocol::NoticeEvent>(guest);
  ASSERT_FALSE(notices.empty());
  EXPECT_NE(notices.back().text.find("you are identified as alice"), std::string::npos);
  ASSERT_TRUE(net.record("alice").has_value());
  EXPECT_EQ(net.record("alice")->server, 12u) << "alice is on beta now";

  // Registered and on beta: a private message from alpha reaches her there, not a mailbox.
  const SessionId carol = user(A(), "carol");
  A().send(carol, protocol::SendPrivate{"alice", "", "where are you?", 0, 5});
  settle();
  EXPECT_EQ(B().only<protocol::PrivateEvent>(guest).text, "where are you?");

  // A new password set on beta is the one gamma checks; a server joining later learns it too.
  B().send(guest, protocol::PasswordChange{"correct horse", "battery staple"});
  settle();
  Node& late = add("delta", true);
  settle();
  ASSERT_TRUE(late.store->accountsByKey.contains("alice"));
  B().disconnect(guest);
  settle();
  const SessionId again = user(C(), "someone");
  C().send(again, protocol::IdentifyRequest{"alice", "correct horse"});
  EXPECT_EQ(C().only<protocol::ErrorReply>(again).code, ErrorCode::BadPassword);
  C().send(again, protocol::IdentifyRequest{"alice", "battery staple"});
  settle();
  EXPECT_TRUE(C().take<protocol::ErrorReply>(again).empty());

  // Given up on gamma: free everywhere, and gone from the late server's store.
  C().send(again, protocol::UnregisterRequest{"battery staple"});
  settle();
  EXPECT_FALSE(late.store->accountsByKey.contains("alice"));
  C().disconnect(again);
  settle();
  user(A(), "alice");
}

TEST_F(ClusterTest, ABanSetOnOneServerHoldsOnEveryServerUntilLifted) {
  const SessionId op = user(A(), "opal");
  const SessionId mallory = user(B(), "mallory");
  Node& withStore = add("delta", true);
  settle();
  A().send(op, protocol::OperRequest{"sesame"});
  A().send(op, protocol::BanRequest{"mallory", "spam"});
  settle();
  // Put out on her own server, by the operator of another.
  EXPECT_NE(std::find(B().outbox.closed.begin(), B().outbox.closed.end(), mallory),
            B().outbox.closed.end());
  EXPECT_FALSE(net.record("mallory").has_value());
  ASSERT_TRUE(withStore.store->banned.contains("mallory"));
  EXPECT_EQ(withStore.store->banned.at("mallory").by, "opal");
  for (ServerHarness* h : {&B(), &C()}) {
    const SessionId back = hello(*h, "mallory");
    settle();
    const auto refused = h->only<protocol::ErrorReply>(back);
    EXPECT_EQ(refused.code, ErrorCode::Banned);
    EXPECT_NE(refused.message.find("spam"), std::string::npos) << refused.message;
  }
  // Any server's operator sees it and may lift it.
  const SessionId op2 = user(C(), "otto");
  C().send(op2, protocol::OperRequest{"sesame"});
  C().send(op2, protocol::UnbanRequest{"mallory"});
  settle();
  EXPECT_FALSE(withStore.store->banned.contains("mallory"));
  user(B(), "mallory");
}

TEST_F(ClusterTest, AccountsAndBansAreNotChangedWhileCutOff) {
  const SessionId op = user(A(), "opal");
  const SessionId bob = user(A(), "bob");
  A().send(op, protocol::OperRequest{"sesame"});
  settle();
  A().clearAll();
  net.setLinkUp(11, false);
  settle();
  A().clearAll();
  A().send(bob, protocol::RegisterRequest{"correct horse"});
  EXPECT_EQ(A().only<protocol::ErrorReply>(bob).code, ErrorCode::ClusterUnavailable);
  A().send(op, protocol::BanRequest{"198.18.0.9", ""});
  EXPECT_EQ(A().only<protocol::ErrorReply>(op).code, ErrorCode::ClusterUnavailable);
  net.setLinkUp(11, true);
  settle();
  A().send(bob, protocol::RegisterRequest{"correct horse"});
  settle();
  const SessionId guest = user(C(), "guest");
  A().disconnect(bob);
  settle();
  C().send(guest, protocol::IdentifyRequest{"bob", "correct horse"});
  settle();
  EXPECT_TRUE(C().take<protocol::ErrorReply>(guest).empty());
}

TEST_F(ClusterTest, SettingsThatDoNotHoldUpAreRefused) {
  const SessionId alice = user(A(), "alice");
  settle();
  A().clearAll();
  auto evil = net.connect(99);
  cluster::Setting account;
  account.origin = 99;
  account.nick = "mallory";
  account.hash = "plain text";  // not a hash
  evil->putSetting(cluster::settingKey(cluster::SettingKind::Account, "mallory"),
                   cluster::encode(account));
  account.hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA";
  evil->putSetting(cluster::settingKey(cluster::SettingKind::Account, "alice"),
                   cluster::encode(account));  // the key is not its nick
  cluster::Setting ban;
  ban.kind = cluster::SettingKind::Ban;
  ban.origin = 99;
  ban.ban = protocol::BanEntry{"alice", "\x1b[2J", "mallory", 1};
  evil->putSetting(cluster::settingKey(cluster::SettingKind::Ban, "alice"), cluster::encode(ban));
  evil->putSetting("ban.", cluster::encode(ban));
  evil->putSetting(cluster::settingKey(cluster::SettingKind::Ban, "bob"),
                   protocol::Bytes{std::byte{1}, std::byte{1}});
  settle();
  EXPECT_EQ(A().core.stats().clusterRefused, 5u);
  EXPECT_TRUE(A().outbox.closed.empty()) << "alice is not put out by a ban that fails its checks";
  say(A(), alice, "still here");
  settle();
  EXPECT_EQ(A().only<protocol::ChatEvent>(alice).text, "still here");
}

TEST(ClusterWire, RecordsRoundTripAndTruncationsAreRefused) {
  cluster::UserRecord r;
  r.server = 7;
  r.serverName = "alpha";
  r.nick = "bob";
  r.rooms = {"lobby", "dev"};
  r.away = true;
  r.awayMessage = "out";
  r.formerNick = "bobby";
  const protocol::Bytes bytes = cluster::encode(r);
  auto back = cluster::decodeUserRecord(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().rooms, r.rooms);
  EXPECT_EQ(back.value().formerNick, "bobby");
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(cluster::decodeUserRecord(protocol::ByteSpan(bytes.data(), n)).ok()) << n;
  }
  protocol::Bytes longer = bytes;
  longer.push_back(std::byte{0});
  EXPECT_EQ(cluster::decodeUserRecord(longer).error(), protocol::DecodeError::TrailingBytes);
  protocol::Bytes otherVersion = bytes;
  otherVersion[0] = std::byte{2};
  EXPECT_EQ(cluster::decodeUserRecord(otherVersion).error(), protocol::DecodeError::BadVersion);
}

TEST(ClusterWire, SettingsRoundTripAndTheirKeysSayTheirKind) {
  cluster::Setting ban;
  ban.kind = cluster::SettingKind::Ban;
  ban.origin = 3;
  ban.ban = protocol::BanEntry{"198.18.0.9", "flood", "opal", 42};
  const protocol::Bytes bytes = cluster::encode(ban);
  auto back = cluster::decodeSetting(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().ban, ban.ban);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(cluster::decodeSetting(protocol::ByteSpan(bytes.data(), n)).ok()) << n;
  }
  cluster::Setting account;
  account.nick = "Alice";
  account.hash = std::string(kMaxHashBytes, 'h');
  EXPECT_TRUE(cluster::decodeSetting(cluster::encode(account)).ok());
  account.hash.push_back('h');
  EXPECT_THROW(cluster::encode(account), std::length_error) << "over the hash limit";
  EXPECT_EQ(cluster::settingKey(cluster::SettingKind::Ban, "198.18.0.9"), "ban.198.18.0.9");
  const auto parsed = cluster::parseSettingKey("account.alice");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->first, cluster::SettingKind::Account);
  EXPECT_EQ(parsed->second, "alice");
  EXPECT_FALSE(cluster::parseSettingKey("account.").has_value());
  EXPECT_FALSE(cluster::parseSettingKey("users.alice").has_value());
}

TEST(ClusterWire, ClusterNamesAreSubjectTokens) {
  EXPECT_FALSE(cluster::clusterNameProblem("campus-1").has_value());
  EXPECT_TRUE(cluster::clusterNameProblem("").has_value());
  EXPECT_TRUE(cluster::clusterNameProblem("a.b").has_value());
  EXPECT_TRUE(cluster::clusterNameProblem("a>").has_value());
  EXPECT_TRUE(cluster::clusterNameProblem(std::string(33, 'a')).has_value());
}

}  // namespace
}  // namespace udpchat::testing
