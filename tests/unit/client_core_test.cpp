#include "udpchat/client_core.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "udpchat/command_parser.hpp"
#include "udpchat/rate_limiter.hpp"

namespace udpchat {
namespace {

using protocol::ErrorCode;

// Records what the core asks of its transport, decoding every frame so tests compare structs.
class FakeHost : public ClientHost {
 public:
  enum class Kind { Connect, Send, Disconnect };
  struct Call {
    Kind kind;
    std::uint8_t channel = 0;
    protocol::Message message;
  };

  void connect() override { calls.push_back({Kind::Connect, 0, {}}); }
  void send(std::uint8_t channel, protocol::Bytes frame) override {
    auto decoded = protocol::decode(frame);
    ASSERT_TRUE(decoded.ok()) << protocol::toString(decoded.error());
    EXPECT_EQ(channel, protocol::channelOf(protocol::typeOf(decoded.value())));
    calls.push_back({Kind::Send, channel, std::move(decoded.value())});
  }
  void disconnect() override { calls.push_back({Kind::Disconnect, 0, {}}); }
  void event(const ClientEvent& e) override { events.push_back(e); }

  template <class T>
  std::vector<T> sent() const {
    std::vector<T> out;
    for (const Call& c : calls) {
      if (c.kind != Kind::Send) continue;
      if (const T* m = std::get_if<T>(&c.message)) out.push_back(*m);
    }
    return out;
  }
  std::size_t sentCount() const {
    std::size_t n = 0;
    for (const Call& c : calls) n += c.kind == Kind::Send ? 1 : 0;
    return n;
  }
  std::size_t count(Kind kind) const {
    std::size_t n = 0;
    for (const Call& c : calls) n += c.kind == kind ? 1 : 0;
    return n;
  }
  template <class T>
  std::vector<T> got() const {
    std::vector<T> out;
    for (const ClientEvent& e : events) {
      if (const T* m = std::get_if<T>(&e)) out.push_back(*m);
    }
    return out;
  }
  void clear() {
    calls.clear();
    events.clear();
  }

  std::vector<Call> calls;
  std::vector<ClientEvent> events;
};

class ClientCoreTest : public ::testing::Test {
 protected:
  static constexpr Millis kWallOffset = 1'700'000'000'000;

  ClientCoreTest() { config.nick = "alice"; }

  Now now() const { return Now{t, kWallOffset + t}; }

  void make() { core = std::make_unique<ClientCore>(config, host); }

  // Moves the clock forward in steps of at most 100 ms, ticking like a frontend does.
  void advance(Millis ms) {
    const Millis end = t + ms;
    while (t < end) {
      t = std::min(end, t + 100);
      core->tick(now());
    }
  }

  template <class T>
  void feed(const T& message) {
    const protocol::Bytes frame = protocol::encode(message);
    core->received(protocol::channelOf(T::kType), frame, now());
  }

  protocol::Welcome welcome(std::string nick = "alice", std::uint64_t token = 77) const {
    protocol::Welcome w;
    w.nick = std::move(nick);
    w.resumeToken = token;
    w.serverName = "testserver";
    w.motd = "be nice";
    w.maxMessageBytes = 2000;
    w.nickMin = 3;
    w.nickMax = 16;
    w.historySize = 50;
    w.rateBurst = 10;
    w.ratePerSecond = 5;
    w.pingIntervalMs = 1000;
    return w;
  }

  // start, connect, Welcome, and the server's join of the lobby; then forget the calls.
  void registered() {
    make();
    core->start(now());
    core->connected(now());
    feed(welcome());
    feed(protocol::JoinEvent{"lobby", "alice"});
    host.clear();
  }

  // The server confirms a join of ours.
  void joined(const std::string& room) {
    core->input("/join #" + room, now());
    feed(protocol::JoinEvent{room, core->nick()});
  }

  FakeHost host;
  ClientConfig config;
  std::unique_ptr<ClientCore> core;
  Millis t = 10'000;
};

// ---- accounts ----------------------------------------------------------------------------

TEST_F(ClientCoreTest, WithAPasswordTheClientRegistersUnderAPickedNameAndProvesItsNick) {
  config.nick = "alice";
  config.password = "correct horse";
  make();
  core->start(now());
  core->connected(now());
  ASSERT_EQ(host.sent<protocol::Hello>().size(), 1u);
  EXPECT_EQ(host.sent<protocol::Hello>()[0].nick, "") << "the registered nick is not asked for";
  host.clear();
  feed(welcome("user7"));
  EXPECT_EQ(host.sent<protocol::IdentifyRequest>(),
            (std::vector<protocol::IdentifyRequest>{{"alice", "correct horse"}}));
}

TEST_F(ClientCoreTest, AnUnregisteredNickGivenWithAPasswordIsTakenAsItIs) {
  config.nick = "alice";
  config.password = "correct horse";
  make();
  core->start(now());
  core->connected(now());
  feed(welcome("user7"));
  host.clear();
  feed(protocol::ErrorReply{ErrorCode::AccountUnknown, 0, "alice", "nick alice is not registered", 0});
  EXPECT_EQ(host.sent<protocol::ChangeNick>(), (std::vector<protocol::ChangeNick>{{"alice"}}));
}

TEST_F(ClientCoreTest, IdentifyAfterARefusedRegisteredNickRegistersAgainAndProvesIt) {
  config.nick = "alice";
  make();
  core->start(now());
  core->connected(now());
  feed(protocol::ErrorReply{ErrorCode::NickRegistered, 0, "alice", "nick 'alice' is registered", 0});
  host.clear();
  core->input("/identify hunter2hunter2", now());  // the nick refused is the one proven
  const auto hellos = host.sent<protocol::Hello>();
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos.back().nick, "");
  host.clear();
  feed(welcome("user3"));
  EXPECT_EQ(host.sent<protocol::IdentifyRequest>().back(),
            (protocol::IdentifyRequest{"alice", "hunter2hunter2"}));
}

// ---- history and search ----------------------------------------------------------------

TEST_F(ClientCoreTest, HistoryAndSearchAskForTheCurrentRoomUnlessOneIsNamed) {
  registered();
  core->input("/history 20", now());
  core->input("/history #Dev before 9", now());
  core->input("/search build failed", now());
  EXPECT_EQ(host.sent<protocol::HistoryRequest>(),
            (std::vector<protocol::HistoryRequest>{{"lobby", 0, 20}, {"dev", 9, 0}}));
  EXPECT_EQ(host.sent<protocol::SearchRequest>(),
            (std::vector<protocol::SearchRequest>{{"lobby", "build failed"}}));
}

TEST_F(ClientCoreTest, AnAskedForPageIsShownWholeEvenWhatWasSeenLive) {
  registered();
  protocol::ChatEvent live{5, 1, "lobby", "bob", "", "hello", 0, 77};
  feed(live);
  ASSERT_EQ(host.got<protocol::ChatEvent>().size(), 1u);
  host.clear();
  // A replay of a message already shown (as after a reconnect) is dropped...
  protocol::ChatEvent replay = live;
  replay.flags = protocol::kFlagHistory;
  feed(replay);
  EXPECT_TRUE(host.got<protocol::ChatEvent>().empty());
  // ...but a page the person asked for is shown in full, closed by its end.
  core->input("/history", now());
  protocol::ChatEvent paged = live;
  paged.flags = protocol::kFlagHistory | protocol::kFlagPage;
  feed(paged);
  feed(protocol::HistoryEnd{"lobby", false, 1, 5, false});
  EXPECT_EQ(host.got<protocol::ChatEvent>().size(), 1u);
  EXPECT_EQ(host.got<protocol::HistoryEnd>().size(), 1u);
  host.clear();
  feed(replay);  // a replay is still a replay
  EXPECT_TRUE(host.got<protocol::ChatEvent>().empty());
}

TEST_F(ClientCoreTest, ARefusedSearchLeavesReplaysDeduplicated) {
  registered();
  protocol::ChatEvent live{5, 1, "lobby", "bob", "", "hello", 0, 77};
  feed(live);
  host.clear();
  // A --no-store server refuses the search, and no HistoryEnd follows...
  core->input("/search hello", now());
  feed(protocol::ErrorReply{ErrorCode::StorageUnavailable, 0, "lobby",
                            "this server keeps nothing on disk"});
  host.clear();
  // ...so a later replay of what was seen (rejoining the room) must not come back.
  protocol::ChatEvent replay = live;
  replay.flags = protocol::kFlagHistory;
  feed(replay);
  EXPECT_TRUE(host.got<protocol::ChatEvent>().empty());
}

// ---- connection and registration ---------------------------------------------------------

TEST_F(ClientCoreTest, StartConnectsAndSendsHelloWhenConnected) {
  make();
  EXPECT_EQ(core->state(), ConnectionState::Idle);
  core->start(now());
  EXPECT_EQ(core->state(), ConnectionState::Connecting);
  ASSERT_EQ(host.count(FakeHost::Kind::Connect), 1u);
  EXPECT_EQ(host.sentCount(), 0u);

  core->connected(now());
  EXPECT_EQ(core->state(), ConnectionState::Registering);
  const auto hellos = host.sent<protocol::Hello>();
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0], (protocol::Hello{"alice", 0, {"lobby"}, "udpchat-client"}));
  EXPECT_EQ(host.calls.back().channel, kChannelReliable);
  EXPECT_EQ(host.got<client_event::Connected>().size(), 1u);
}

TEST_F(ClientCoreTest, HelloAsksForConfiguredRoomsInCanonicalForm) {
  config.rooms = {"#Dev", "ops", "#dev", "no spaces allowed"};
  make();
  core->start(now());
  core->connected(now());
  const auto hellos = host.sent<protocol::Hello>();
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0].rooms, (std::vector<std::string>{"dev", "ops"}));
  const auto errors = host.got<client_event::LocalError>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "room_invalid");
}

TEST_F(ClientCoreTest, WelcomeRegistersAndTellsWhereLinesGo) {
  config.rooms = {"#dev", "ops"};
  make();
  core->start(now());
  core->connected(now());
  feed(welcome("alice", 99));
  EXPECT_EQ(core->state(), ConnectionState::Registered);
  EXPECT_EQ(core->nick(), "alice");
  EXPECT_EQ(core->currentRoom(), "dev");
  EXPECT_EQ(core->rooms(), (std::vector<std::string>{"dev", "ops"}));
  const auto welcomes = host.got<client_event::Welcome>();
  ASSERT_EQ(welcomes.size(), 1u);
  EXPECT_EQ(welcomes[0].server, welcome("alice", 99));
  EXPECT_EQ(welcomes[0].room, "dev");
  EXPECT_FALSE(welcomes[0].reconnected);

  // The joins that follow confirm the rooms and do not move the current room.
  feed(protocol::JoinEvent{"dev", "alice"});
  feed(protocol::JoinEvent{"ops", "alice"});
  EXPECT_EQ(core->currentRoom(), "dev");
  EXPECT_EQ(core->rooms(), (std::vector<std::string>{"dev", "ops"}));
}

TEST_F(ClientCoreTest, ServerPickedNickIsAdopted) {
  config.nick = "";
  make();
  core->start(now());
  core->connected(now());
  EXPECT_EQ(host.sent<protocol::Hello>().at(0).nick, "");
  feed(welcome("user1"));
  EXPECT_EQ(core->nick(), "user1");
}

// Found by client_core_fuzz: an /identify typed while the Hello stood refused was kept unchecked
// and sent when Welcome came; a nick over its wire limit cannot be encoded, and the client died.
TEST_F(ClientCoreTest, IdentifyTypedAfterARefusedHelloIsCheckedBeforeItIsKept) {
  make();
  core->start(now());
  core->connected(now());
  feed(protocol::ErrorReply{ErrorCode::NickInUse, 0, "alice", "nick in use: alice"});
  const std::string longNick(kMaxNickBytes + 1, 'n');
  core->input("/identify " + longNick + " hunter2hunter2", now());
  ASSERT_EQ(host.got<client_event::LocalError>().size(), 1u);
  EXPECT_EQ(host.got<client_event::LocalError>()[0].code, "nick_invalid");
  core->input("/identify alice " + std::string(kMaxPasswordBytes + 1, 'p'), now());
  ASSERT_EQ(host.got<client_event::LocalError>().size(), 2u);
  EXPECT_EQ(host.sent<protocol::Hello>().size(), 1u) << "nothing refused is tried";

  core->input("/nick alice2", now());
  feed(welcome("alice2"));
  EXPECT_EQ(core->state(), ConnectionState::Registered);
  EXPECT_TRUE(host.sent<protocol::IdentifyRequest>().empty());

  // A valid one is still kept and proven once Welcome comes.
  make();
  host.clear();
  core->start(now());
  core->connected(now());
  feed(protocol::ErrorReply{ErrorCode::NickInUse, 0, "alice", "nick in use: alice"});
  core->input("/identify alice hunter2hunter2", now());
  feed(welcome("guest1"));
  const auto proofs = host.sent<protocol::IdentifyRequest>();
  ASSERT_EQ(proofs.size(), 1u);
  EXPECT_EQ(proofs[0].nick, "alice");
  EXPECT_EQ(proofs[0].password, "hunter2hunter2");
}

TEST_F(ClientCoreTest, NickInUseWhileRegisteringThenNickCommandSendsNewHello) {
  make();
  core->start(now());
  core->connected(now());
  feed(protocol::ErrorReply{ErrorCode::NickInUse, 0, "alice", "nick in use: alice"});
  ASSERT_EQ(host.got<protocol::ErrorReply>().size(), 1u);
  EXPECT_EQ(core->state(), ConnectionState::Registering);

  core->input("/nick alice2", now());
  const auto hellos = host.sent<protocol::Hello>();
  ASSERT_EQ(hellos.size(), 2u);
  EXPECT_EQ(hellos[1].nick, "alice2");
  EXPECT_EQ(hellos[1].resumeToken, 0u);
  EXPECT_EQ(host.sent<protocol::ChangeNick>().size(), 0u);

  feed(welcome("alice2"));
  EXPECT_EQ(core->nick(), "alice2");
  EXPECT_EQ(core->state(), ConnectionState::Registered);
}

TEST_F(ClientCoreTest, NickCommandBeforeConnectingChangesTheFirstHello) {
  make();
  core->start(now());
  core->input("/nick bob", now());
  core->connected(now());
  EXPECT_EQ(host.sent<protocol::Hello>().at(0).nick, "bob");
}

TEST_F(ClientCoreTest, NickCommandWhileHelloIsPendingWaitsForRegistration) {
  make();
  core->start(now());
  core->connected(now());
  core->input("/nick bobby", now());
  EXPECT_EQ(host.sent<protocol::Hello>().size(), 1u);
  feed(welcome());
  EXPECT_EQ(host.sent<protocol::ChangeNick>(), (std::vector<protocol::ChangeNick>{{"bobby"}}));
}

TEST_F(ClientCoreTest, LinesTypedBeforeWelcomeAreSentAfterItInOrder) {
  make();
  core->start(now());
  core->input("one", now());
  core->connected(now());
  core->input("/me two", now());
  core->input("three", now());
  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 0u);

  feed(welcome());
  const auto chats = host.sent<protocol::SendChat>();
  ASSERT_EQ(chats.size(), 3u);
  // Client ids count up from the seed (0 here), one per message.
  EXPECT_EQ(chats[0], (protocol::SendChat{"lobby", "", "one", 0, 1}));
  EXPECT_EQ(chats[1], (protocol::SendChat{"lobby", "", "two", protocol::kFlagAction, 2}));
  EXPECT_EQ(chats[2], (protocol::SendChat{"lobby", "", "three", 0, 3}));
}

TEST_F(ClientCoreTest, QuitBeforeRegistrationComesAfterTheQueuedLines) {
  make();
  core->start(now());
  core->connected(now());
  core->input("last words", now());
  core->quit("bye", now());
  EXPECT_EQ(host.sent<protocol::QuitRequest>().size(), 0u);
  EXPECT_EQ(host.count(FakeHost::Kind::Disconnect), 0u);

  feed(welcome());
  ASSERT_GE(host.calls.size(), 2u);
  const auto& calls = host.calls;
  const std::size_t n = calls.size();
  // The server closes after QuitRequest; the client waits for that rather than cutting the
  // connection and the echo of its own last line with it.
  ASSERT_TRUE(std::holds_alternative<protocol::QuitRequest>(calls[n - 1].message));
  EXPECT_EQ(std::get<protocol::QuitRequest>(calls[n - 1].message).reason, "bye");
  ASSERT_TRUE(std::holds_alternative<protocol::SendChat>(calls[n - 2].message));
  EXPECT_EQ(host.count(FakeHost::Kind::Disconnect), 0u);
  EXPECT_EQ(core->state(), ConnectionState::Closing);

  core->disconnected("closed", now());
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitOk);
}

TEST_F(ClientCoreTest, QuitWhileRegisteringWithNothingQueuedJustCloses) {
  make();
  core->start(now());
  core->connected(now());
  core->quit("", now());
  EXPECT_EQ(host.sent<protocol::QuitRequest>().size(), 0u);
  EXPECT_EQ(host.count(FakeHost::Kind::Disconnect), 1u);
  EXPECT_EQ(core->state(), ConnectionState::Closing);
  core->disconnected("closed", now());
  EXPECT_EQ(core->exitStatus(), kExitOk);
}

TEST_F(ClientCoreTest, QuitPendingAndNickRefusedGivesUp) {
  make();
  core->start(now());
  core->connected(now());
  core->input("hello", now());
  core->quit("", now());
  feed(protocol::ErrorReply{ErrorCode::NickInUse, 0, "alice", "nick in use: alice"});
  EXPECT_EQ(host.count(FakeHost::Kind::Disconnect), 1u);
  core->disconnected("closed", now());
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitRefused);
  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 0u);
}

// ---- pacing ------------------------------------------------------------------------------

TEST_F(ClientCoreTest, ThirtyPipedLinesAreAllSentWithinTheServersRateLimit) {
  make();
  core->start(now());
  core->connected(now());
  // The server's bucket for this session, fed exactly what the server would see.
  // Hello is not charged, so the whole burst of ten is there for the lines.
  RateLimiter server(10, 5, t);
  for (int i = 0; i < 30; ++i) core->input("line " + std::to_string(i), now());
  feed(welcome());

  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_TRUE(server.tryTake(t)) << i;
  EXPECT_FALSE(server.tryTake(t)) << "the client must not send more than the burst at once";
  server = RateLimiter(10, 5, t);  // re-create, as the probe above took a token of its own
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(server.tryTake(t));

  std::size_t seen = 10;
  const Millis start = t;
  while (host.sent<protocol::SendChat>().size() < 30 && t < start + 60'000) {
    advance(100);
    const std::size_t total = host.sent<protocol::SendChat>().size();
    for (; seen < total; ++seen) EXPECT_TRUE(server.tryTake(t)) << "line " << seen << " at " << t;
  }
  const auto chats = host.sent<protocol::SendChat>();
  ASSERT_EQ(chats.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(chats[i].text, "line " + std::to_string(i));
  // 20 lines at 5 per second: the last one leaves 4 s after the Welcome, not earlier.
  EXPECT_EQ(t - start, 4000);
  EXPECT_TRUE(host.got<client_event::LocalError>().empty());
}

TEST_F(ClientCoreTest, RateLimitedReplyIsShownAndNothingIsResent) {
  registered();
  core->input("hi", now());
  feed(protocol::ErrorReply{ErrorCode::RateLimited, 150, "", "too many messages"});
  EXPECT_EQ(host.got<protocol::ErrorReply>().size(), 1u);
  advance(5000);
  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 1u);
}

TEST_F(ClientCoreTest, LinesQueuedBehindTheLimitKeepTheirOrderWithLocalCommands) {
  registered();
  for (int i = 0; i < 11; ++i) core->input("fill", now());  // ten go, one waits
  core->input("/subject later", now());
  core->input("after", now());
  EXPECT_EQ(host.got<client_event::Info>().size(), 0u);  // still behind the last "fill"
  advance(200);
  EXPECT_EQ(host.got<client_event::Info>().size(), 1u);
  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 11u);
  advance(200);
  const auto chats = host.sent<protocol::SendChat>();
  ASSERT_EQ(chats.size(), 12u);
  EXPECT_EQ(chats[10].subject, "");
  EXPECT_EQ(chats[11].text, "after");
  EXPECT_EQ(chats[11].subject, "later");
}

// ---- commands ----------------------------------------------------------------------------

TEST_F(ClientCoreTest, PlainLineGoesToTheCurrentRoom) {
  registered();
  core->input("hello", now());
  EXPECT_EQ(host.sent<protocol::SendChat>(),
            (std::vector<protocol::SendChat>{{"lobby", "", "hello", 0, 1}}));
  core->input("//help is a word", now());
  EXPECT_EQ(host.sent<protocol::SendChat>().at(1).text, "/help is a word");
}

TEST_F(ClientCoreTest, PlainLineInNoRoomIsALocalError) {
  registered();
  feed(protocol::PartEvent{"lobby", "alice", ""});
  EXPECT_EQ(core->currentRoom(), "");
  core->input("anyone?", now());
  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 0u);
  const auto errors = host.got<client_event::LocalError>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "not_in_room");
  EXPECT_NE(errors[0].message.find("/join"), std::string::npos);
}

TEST_F(ClientCoreTest, SubjectAppliesToTheNextMessageOnly) {
  registered();
  core->input("/subject plans", now());
  EXPECT_EQ(host.got<client_event::Info>().size(), 1u);
  core->input("lunch?", now());
  core->input("anyone?", now());
  const auto chats = host.sent<protocol::SendChat>();
  ASSERT_EQ(chats.size(), 2u);
  EXPECT_EQ(chats[0].subject, "plans");
  EXPECT_EQ(chats[1].subject, "");

  core->input("/subject for bob", now());
  core->input("/msg bob hi", now());
  core->input("/msg bob again", now());
  const auto privates = host.sent<protocol::SendPrivate>();
  ASSERT_EQ(privates.size(), 2u);
  EXPECT_EQ(privates[0], (protocol::SendPrivate{"bob", "for bob", "hi", 0, 3}));
  EXPECT_EQ(privates[1].subject, "");

  core->input("/subject gone", now());
  core->input("/subject", now());
  core->input("plain", now());
  EXPECT_EQ(host.sent<protocol::SendChat>().back().subject, "");
}

TEST_F(ClientCoreTest, MsgSubjectInBracketsWins) {
  registered();
  core->input("/subject pending", now());
  core->input("/msg bob [explicit] text", now());
  EXPECT_EQ(host.sent<protocol::SendPrivate>().at(0).subject, "explicit");
  core->input("next", now());
  EXPECT_EQ(host.sent<protocol::SendChat>().at(0).subject, "");
}

TEST_F(ClientCoreTest, JoinSwitchesRoomAtOnceSoTheNextLineGoesThere) {
  registered();
  core->input("/join #Dev", now());
  EXPECT_EQ(host.sent<protocol::JoinRoom>(), (std::vector<protocol::JoinRoom>{{"dev"}}));
  EXPECT_EQ(core->currentRoom(), "dev");  // the server handles the join before the next line
  core->input("first in dev", now());
  EXPECT_EQ(host.sent<protocol::SendChat>().at(0).room, "dev");

  feed(protocol::JoinEvent{"elsewhere", "bob"});
  EXPECT_EQ(core->currentRoom(), "dev");
  feed(protocol::JoinEvent{"dev", "alice"});
  EXPECT_EQ(core->currentRoom(), "dev");
  EXPECT_EQ(core->rooms(), (std::vector<std::string>{"lobby", "dev"}));
}

TEST_F(ClientCoreTest, ALateJoinConfirmationDoesNotUndoALaterJoin) {
  registered();
  core->input("/join #a", now());
  core->input("/join #b", now());
  EXPECT_EQ(core->currentRoom(), "b");
  feed(protocol::JoinEvent{"a", "alice"});
  EXPECT_EQ(core->currentRoom(), "b");
  feed(protocol::JoinEvent{"b", "alice"});
  EXPECT_EQ(core->currentRoom(), "b");
}

TEST_F(ClientCoreTest, ARefusedJoinSwitchesBackToTheLastRoom) {
  registered();
  core->input("/join #full", now());
  EXPECT_EQ(core->currentRoom(), "full");
  feed(protocol::ErrorReply{ErrorCode::TooManyRooms, 0, "full", "you are in 16 rooms"});
  EXPECT_EQ(core->currentRoom(), "lobby");
  core->input("back in lobby", now());
  EXPECT_EQ(host.sent<protocol::SendChat>().at(0).room, "lobby");
}

TEST_F(ClientCoreTest, JoiningARoomAlreadyJoinedSwitchesAtOnce) {
  registered();
  joined("dev");
  ASSERT_EQ(core->currentRoom(), "dev");
  core->input("/join lobby", now());
  EXPECT_EQ(core->currentRoom(), "lobby");
  EXPECT_EQ(host.sent<protocol::JoinRoom>().back().room, "lobby");
}

TEST_F(ClientCoreTest, InvalidRoomNameIsALocalError) {
  registered();
  core->input("/join #no.dots", now());
  EXPECT_EQ(host.sent<protocol::JoinRoom>().size(), 0u);
  EXPECT_EQ(host.got<client_event::LocalError>().at(0).code, "room_invalid");
}

TEST_F(ClientCoreTest, PartingTheCurrentRoomFallsBackToTheMostRecentlyJoined) {
  registered();
  joined("a");
  joined("b");
  core->input("/join a", now());  // a switch counts as the latest join
  ASSERT_EQ(core->currentRoom(), "a");

  core->input("/part brb", now());
  EXPECT_EQ(host.sent<protocol::PartRoom>(), (std::vector<protocol::PartRoom>{{"a", "brb"}}));
  EXPECT_EQ(core->currentRoom(), "a");  // until the server confirms
  feed(protocol::PartEvent{"a", "alice", "brb"});
  EXPECT_EQ(core->currentRoom(), "b");
  EXPECT_EQ(core->rooms(), (std::vector<std::string>{"lobby", "b"}));

  core->input("/part #lobby", now());
  EXPECT_EQ(host.sent<protocol::PartRoom>().back(), (protocol::PartRoom{"lobby", ""}));
  feed(protocol::PartEvent{"lobby", "alice", ""});
  EXPECT_EQ(core->currentRoom(), "b");
}

TEST_F(ClientCoreTest, TopicIsSetOrShown) {
  registered();
  core->input("/topic", now());
  ASSERT_EQ(host.got<client_event::Info>().size(), 1u);
  EXPECT_EQ(host.got<client_event::Info>()[0].text, "#lobby has no topic");

  core->input("/topic release on friday", now());
  EXPECT_EQ(host.sent<protocol::SetTopic>(),
            (std::vector<protocol::SetTopic>{{"lobby", "release on friday"}}));
  feed(protocol::TopicEvent{"lobby", "release on friday", "alice", 123});
  feed(protocol::TopicEvent{"other", "not this one", "bob", 124});
  core->input("/topic", now());
  const auto infos = host.got<client_event::Info>();
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[1].text, "topic of #lobby: release on friday (set by alice)");
}

TEST_F(ClientCoreTest, NickChangeWhileRegistered) {
  registered();
  core->input("/nick al", now());  // shorter than the server's nickMin of 3
  EXPECT_EQ(host.sent<protocol::ChangeNick>().size(), 0u);
  EXPECT_EQ(host.got<client_event::LocalError>().at(0).code, "nick_invalid");

  core->input("/nick alicia", now());
  EXPECT_EQ(host.sent<protocol::ChangeNick>(), (std::vector<protocol::ChangeNick>{{"alicia"}}));
  EXPECT_EQ(core->nick(), "alice");
  feed(protocol::NickEvent{"bob", "bobby"});
  EXPECT_EQ(core->nick(), "alice");
  feed(protocol::NickEvent{"alice", "alicia"});
  EXPECT_EQ(core->nick(), "alicia");
}

TEST_F(ClientCoreTest, EachCommandSendsItsRequest) {
  registered();
  core->input("/who", now());
  core->input("/who #ops", now());
  core->input("/whois bob", now());
  core->input("/away lunch", now());
  core->input("/back", now());
  core->input("/delete 42", now());
  core->input("/oper hunter2", now());
  core->input("/kick mallory spam", now());
  EXPECT_EQ(host.sent<protocol::WhoRequest>(),
            (std::vector<protocol::WhoRequest>{{"lobby"}, {"ops"}}));
  EXPECT_EQ(host.sent<protocol::WhoisRequest>(), (std::vector<protocol::WhoisRequest>{{"bob"}}));
  EXPECT_EQ(host.sent<protocol::SetAway>(),
            (std::vector<protocol::SetAway>{{true, "lunch"}, {false, ""}}));
  EXPECT_EQ(host.sent<protocol::DeleteMessage>(),
            (std::vector<protocol::DeleteMessage>{{"lobby", 42}}));
  EXPECT_EQ(host.sent<protocol::OperRequest>(), (std::vector<protocol::OperRequest>{{"hunter2"}}));
  EXPECT_EQ(host.sent<protocol::KickRequest>(),
            (std::vector<protocol::KickRequest>{{"mallory", "spam"}}));
  EXPECT_TRUE(host.got<client_event::LocalError>().empty());
}

TEST_F(ClientCoreTest, QuitAndCloseCommandsQuit) {
  registered();
  core->input("/close see you", now());
  EXPECT_EQ(host.sent<protocol::QuitRequest>(), (std::vector<protocol::QuitRequest>{{"see you"}}));
  EXPECT_EQ(core->state(), ConnectionState::Closing);
}

TEST_F(ClientCoreTest, HelpIsLocal) {
  registered();
  core->input("/help", now());
  core->input("/help msg", now());
  core->input("/help nosuch", now());
  EXPECT_EQ(host.sentCount(), 0u);
  const auto infos = host.got<client_event::Info>();
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].text, command::helpText());
  EXPECT_TRUE(infos[1].text.starts_with("/msg nick [subject] text")) << infos[1].text;
  EXPECT_EQ(host.got<client_event::LocalError>().at(0).code, "usage");
}

TEST_F(ClientCoreTest, HelpAnswersEvenBeforeRegistration) {
  make();
  core->start(now());
  core->input("/help", now());
  EXPECT_EQ(host.got<client_event::Info>().size(), 1u);
}

TEST_F(ClientCoreTest, ParseErrorsAreUsageErrorsAndBlankLinesAreIgnored) {
  registered();
  core->input("/msg bob", now());
  core->input("/frobnicate", now());
  core->input("   ", now());
  const auto errors = host.got<client_event::LocalError>();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code, "usage");
  EXPECT_EQ(errors[0].message, "usage: /msg nick [subject] text");
  EXPECT_EQ(errors[1].message, "unknown command /frobnicate; type /help for the list");
  EXPECT_EQ(host.events.size(), 2u);
  EXPECT_EQ(host.sentCount(), 0u);
}

TEST_F(ClientCoreTest, TextIsCheckedAgainstTheServersLimitAtTheEdge) {
  registered();
  core->input(std::string(2000, 'x'), now());
  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 1u);
  core->input(std::string(2001, 'x'), now());
  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 1u);
  const auto errors = host.got<client_event::LocalError>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "text_too_long");
  EXPECT_NE(errors[0].message.find("2000"), std::string::npos);
}

TEST_F(ClientCoreTest, ControlCharactersAndBadUtf8AreRefusedLocally) {
  registered();
  core->input("colour \x1b[31mred", now());
  core->input("bad \xff byte", now());
  core->input("/subject two\tparts", now());
  core->input("/msg bob \x07", now());
  core->input("tab\tis fine", now());
  const auto errors = host.got<client_event::LocalError>();
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].code, "control_character");
  EXPECT_EQ(errors[1].code, "invalid_utf8");
  EXPECT_EQ(errors[2].code, "control_character");
  EXPECT_EQ(errors[3].code, "control_character");
  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 1u);
  EXPECT_EQ(host.sent<protocol::SendPrivate>().size(), 0u);
}

TEST_F(ClientCoreTest, OverlongArgumentsAreRefusedInsteadOfThrown) {
  registered();
  const std::string longName(40, 'n');
  core->input("/msg " + longName + " hi", now());
  core->input("/whois " + longName, now());
  core->input("/part #lobby " + std::string(400, 'r'), now());
  core->input("/away " + std::string(400, 'a'), now());
  core->input("/topic " + std::string(400, 't'), now());
  EXPECT_EQ(host.sentCount(), 0u);
  EXPECT_EQ(host.got<client_event::LocalError>().size(), 5u);
}

// ---- state from events -------------------------------------------------------------------

TEST_F(ClientCoreTest, WhoReplyPagesAreMergedIntoOneList) {
  registered();
  std::vector<protocol::WhoEntry> page1, page2;
  for (int i = 0; i < 64; ++i) page1.push_back({"u" + std::to_string(i), {}, 0, 0});
  page2.push_back({"zed", protocol::PresenceState::Away, 12, protocol::kUserOperator});
  feed(protocol::WhoReply{"lobby", page1, true});
  feed(protocol::WhoReply{"lobby", page1, true});
  EXPECT_TRUE(host.got<client_event::WhoList>().empty());
  feed(protocol::WhoReply{"lobby", page2, false});
  const auto lists = host.got<client_event::WhoList>();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].room, "lobby");
  ASSERT_EQ(lists[0].users.size(), 129u);
  EXPECT_EQ(lists[0].users.front().nick, "u0");
  EXPECT_EQ(lists[0].users.back(), page2[0]);

  // The next request starts a new list.
  feed(protocol::WhoReply{"lobby", page2, false});
  EXPECT_EQ(host.got<client_event::WhoList>().at(1).users.size(), 1u);
}

TEST_F(ClientCoreTest, ServerEventsArePassedOn) {
  registered();
  feed(protocol::ChatEvent{1, 5, "lobby", "bob", "", "hi", 0});
  feed(protocol::PrivateEvent{2, 6, "bob", "alice", "", "psst", 0});
  feed(protocol::WhoisReply{});
  feed(protocol::AwayReply{"bob", "lunch"});
  feed(protocol::NoticeEvent{protocol::NoticeKind::OperGranted, "you are now an operator"});
  feed(protocol::DeletedEvent{"lobby", 1, "bob"});
  EXPECT_EQ(host.got<protocol::ChatEvent>().size(), 1u);
  EXPECT_EQ(host.got<protocol::PrivateEvent>().size(), 1u);
  EXPECT_EQ(host.got<protocol::WhoisReply>().size(), 1u);
  EXPECT_EQ(host.got<protocol::AwayReply>().size(), 1u);
  EXPECT_EQ(host.got<protocol::NoticeEvent>().size(), 1u);
  EXPECT_EQ(host.got<protocol::DeletedEvent>().size(), 1u);
}

TEST_F(ClientCoreTest, MalformedFrameIsReportedNotFatal) {
  registered();
  const std::byte junk[] = {std::byte{1}, std::byte{0x42}, std::byte{0}};
  core->received(kChannelReliable, junk, now());
  ASSERT_EQ(host.got<client_event::LocalError>().size(), 1u);
  EXPECT_EQ(host.got<client_event::LocalError>()[0].code, "malformed");
  EXPECT_EQ(core->state(), ConnectionState::Registered);
}

// ---- presence ----------------------------------------------------------------------------

TEST_F(ClientCoreTest, PingsEveryIntervalWithEchoOfTheNewestPong) {
  make();
  core->start(now());
  core->connected(now());
  feed(welcome());
  // The first ping leaves with the Welcome, so round-trip time is known at once.
  auto pings = host.sent<protocol::PresencePing>();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].seq, 0u);
  EXPECT_EQ(pings[0].clientTime, static_cast<std::uint64_t>(t));
  EXPECT_EQ(pings[0].echoServerTime, 0u);
  const Millis first = t;

  advance(40);
  feed(protocol::PresencePong{0, static_cast<std::uint64_t>(first), 555'000});
  EXPECT_EQ(core->rttMs(), 40);

  advance(959);
  EXPECT_EQ(host.sent<protocol::PresencePing>().size(), 1u);
  advance(1);
  pings = host.sent<protocol::PresencePing>();
  ASSERT_EQ(pings.size(), 2u);
  EXPECT_EQ(pings[1].seq, 1u);
  EXPECT_EQ(pings[1].clientTime, static_cast<std::uint64_t>(first + 1000));
  EXPECT_EQ(pings[1].state, protocol::PresenceState::Active);
  EXPECT_EQ(pings[1].echoServerTime, 555'000u);
  EXPECT_EQ(pings[1].echoHoldMs, 960u);
  for (const auto& call : host.calls) {
    if (std::holds_alternative<protocol::PresencePing>(call.message)) {
      EXPECT_EQ(call.channel, kChannelUnreliable);
    }
  }
}

TEST_F(ClientCoreTest, RttIsSmoothedWithOneEighthOfEachSample) {
  registered();
  EXPECT_EQ(core->rttMs(), 0);
  const Millis sent = t;
  advance(40);
  feed(protocol::PresencePong{0, static_cast<std::uint64_t>(sent), 1});
  EXPECT_EQ(core->rttMs(), 40);
  const Millis sent2 = t;
  advance(120);
  feed(protocol::PresencePong{1, static_cast<std::uint64_t>(sent2), 2});
  EXPECT_EQ(core->rttMs(), 50);  // 40 + (120 - 40) / 8
  // A pong claiming to come from the future is ignored.
  feed(protocol::PresencePong{2, static_cast<std::uint64_t>(t + 1000), 3});
  EXPECT_EQ(core->rttMs(), 50);
}

TEST_F(ClientCoreTest, AwayShowsInPingsAndIntervalComesFromWelcome) {
  make();
  core->start(now());
  core->connected(now());
  protocol::Welcome w = welcome();
  w.pingIntervalMs = 2500;
  feed(w);
  core->input("/away", now());
  advance(2400);
  EXPECT_EQ(host.sent<protocol::PresencePing>().size(), 1u);
  advance(100);
  const auto pings = host.sent<protocol::PresencePing>();
  ASSERT_EQ(pings.size(), 2u);
  EXPECT_EQ(pings[1].state, protocol::PresenceState::Away);
}

// ---- typing ------------------------------------------------------------------------------

TEST_F(ClientCoreTest, TypingNoticesAreSentAtMostOncePerRefreshPerTarget) {
  registered();
  core->typing("#Lobby", false, now());
  core->typing("bob", true, now());
  auto notices = host.sent<protocol::TypingNotice>();
  ASSERT_EQ(notices.size(), 2u);
  EXPECT_EQ(notices[0], (protocol::TypingNotice{"lobby", false, true}));
  EXPECT_EQ(notices[1], (protocol::TypingNotice{"bob", true, true}));
  EXPECT_EQ(host.calls.back().channel, kChannelUnreliable);

  advance(2999);
  core->typing("lobby", false, now());
  EXPECT_EQ(host.sent<protocol::TypingNotice>().size(), 2u);
  advance(1);
  core->typing("lobby", false, now());
  EXPECT_EQ(host.sent<protocol::TypingNotice>().size(), 3u);

  // Sending the message clears receivers' indicators, so the next keystroke announces again.
  core->input("done", now());
  core->typing("lobby", false, now());
  EXPECT_EQ(host.sent<protocol::TypingNotice>().size(), 4u);
}

TEST_F(ClientCoreTest, TypingIsNotSentBeforeRegistration) {
  make();
  core->start(now());
  core->connected(now());
  core->typing("lobby", false, now());
  EXPECT_TRUE(host.sent<protocol::TypingNotice>().empty());
}

TEST_F(ClientCoreTest, OthersTypingStartsRefreshesAndExpires) {
  registered();
  feed(protocol::TypingEvent{"bob", "lobby", false, true});
  auto typing = host.got<client_event::Typing>();
  ASSERT_EQ(typing.size(), 1u);
  EXPECT_EQ(typing[0].nick, "bob");
  EXPECT_EQ(typing[0].target, "lobby");
  EXPECT_TRUE(typing[0].active);
  EXPECT_EQ(core->typingIn("lobby", false), (std::vector<std::string>{"bob"}));
  EXPECT_TRUE(core->typingIn("lobby", true).empty());

  advance(3000);
  feed(protocol::TypingEvent{"bob", "lobby", false, true});  // refresh: no new event
  EXPECT_EQ(host.got<client_event::Typing>().size(), 1u);
  advance(5999);
  EXPECT_EQ(core->typingIn("lobby", false).size(), 1u);
  advance(1);
  typing = host.got<client_event::Typing>();
  ASSERT_EQ(typing.size(), 2u);
  EXPECT_FALSE(typing[1].active);
  EXPECT_EQ(typing[1].nick, "bob");
  EXPECT_TRUE(core->typingIn("lobby", false).empty());
}

TEST_F(ClientCoreTest, TypingStopsWhenToldOrWhenTheMessageArrives) {
  registered();
  feed(protocol::TypingEvent{"bob", "lobby", false, true});
  feed(protocol::TypingEvent{"carol", "lobby", false, true});
  feed(protocol::TypingEvent{"dave", "alice", true, true});
  EXPECT_EQ(core->typingIn("alice", true), (std::vector<std::string>{"dave"}));

  feed(protocol::TypingEvent{"bob", "lobby", false, false});
  feed(protocol::ChatEvent{1, 1, "lobby", "carol", "", "hi", 0});
  feed(protocol::PrivateEvent{2, 2, "dave", "alice", "", "psst", 0});
  const auto typing = host.got<client_event::Typing>();
  ASSERT_EQ(typing.size(), 6u);
  EXPECT_FALSE(typing[3].active);
  EXPECT_EQ(typing[3].nick, "bob");
  EXPECT_EQ(typing[4].nick, "carol");
  EXPECT_FALSE(typing[4].active);
  EXPECT_EQ(typing[5].nick, "dave");
  EXPECT_FALSE(typing[5].active);
  EXPECT_TRUE(core->typingIn("lobby", false).empty());
  EXPECT_TRUE(core->typingIn("alice", true).empty());

  // The stop comes before the message it belongs to.
  ASSERT_GE(host.events.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<protocol::PrivateEvent>(host.events.back()));
  EXPECT_TRUE(std::holds_alternative<client_event::Typing>(host.events[host.events.size() - 2]));
}

// ---- disconnects and reconnects ----------------------------------------------------------

TEST_F(ClientCoreTest, CannotConnectFinishesWithItsStatus) {
  make();
  core->start(now());
  core->connectFailed("no answer", now());
  ASSERT_EQ(host.got<client_event::ConnectionLost>().size(), 1u);
  EXPECT_EQ(host.got<client_event::ConnectionLost>()[0].reason, "no answer");
  ASSERT_EQ(host.got<client_event::Finished>().size(), 1u);
  EXPECT_EQ(host.got<client_event::Finished>()[0].exitStatus, kExitCannotConnect);
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitCannotConnect);
  // The lost event comes first.
  EXPECT_TRUE(std::holds_alternative<client_event::ConnectionLost>(host.events[0]));
  advance(60'000);
  EXPECT_EQ(host.count(FakeHost::Kind::Connect), 1u);
}

TEST_F(ClientCoreTest, DropBeforeWelcomeIsCannotConnectToo) {
  make();
  core->start(now());
  core->connected(now());
  core->disconnected("timed out", now());
  EXPECT_EQ(core->exitStatus(), kExitCannotConnect);
  EXPECT_TRUE(core->finished());
}

TEST_F(ClientCoreTest, ReconnectBacksOffExponentiallyUpToTheCeiling) {
  config.reconnectInitial = 500;
  config.reconnectMax = 5000;
  registered();
  core->disconnected("timed out", now());
  EXPECT_EQ(core->state(), ConnectionState::WaitingRetry);
  EXPECT_EQ(host.got<client_event::ConnectionLost>().size(), 1u);

  std::vector<Millis> delays;
  for (int attempt = 1; attempt <= 6; ++attempt) {
    const auto reconnecting = host.got<client_event::Reconnecting>();
    ASSERT_EQ(reconnecting.size(), static_cast<std::size_t>(attempt));
    EXPECT_EQ(reconnecting.back().attempt, attempt);
    const Millis delay = reconnecting.back().delay;
    delays.push_back(delay);
    const std::size_t connects = host.count(FakeHost::Kind::Connect);
    advance(delay - 1);
    EXPECT_EQ(host.count(FakeHost::Kind::Connect), connects) << "attempt " << attempt;
    advance(1);
    EXPECT_EQ(host.count(FakeHost::Kind::Connect), connects + 1) << "attempt " << attempt;
    EXPECT_EQ(core->state(), ConnectionState::Connecting);
    core->connectFailed("refused", now());
  }
  EXPECT_EQ(delays, (std::vector<Millis>{500, 1000, 2000, 4000, 5000, 5000}));
  EXPECT_FALSE(core->finished());
}

TEST_F(ClientCoreTest, GivesUpAfterMaxReconnects) {
  config.maxReconnects = 2;
  registered();
  core->disconnected("gone", now());
  advance(500);
  core->connectFailed("refused", now());
  advance(1000);
  core->connectFailed("refused", now());
  EXPECT_EQ(host.count(FakeHost::Kind::Connect), 2u);
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitGaveUp);
  EXPECT_EQ(host.got<client_event::Finished>().at(0).exitStatus, kExitGaveUp);
}

TEST_F(ClientCoreTest, ReconnectRejoinsRoomsKeepsNickAndQueuesInput) {
  registered();
  joined("dev");
  core->input("/join lobby", now());  // current room: lobby
  feed(protocol::NickEvent{"alice", "alicia"});
  advance(3000);
  const std::uint32_t seqBefore = host.sent<protocol::PresencePing>().back().seq;
  host.clear();

  core->disconnected("timed out", now());
  core->input("typed while away", now());
  core->typing("lobby", false, now());
  advance(500);
  core->connected(now());
  const auto hellos = host.sent<protocol::Hello>();
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0].nick, "alicia");
  EXPECT_EQ(hellos[0].resumeToken, 77u);
  EXPECT_EQ(hellos[0].rooms, (std::vector<std::string>{"dev", "lobby"}));
  EXPECT_TRUE(host.sent<protocol::SendChat>().empty());
  EXPECT_TRUE(host.sent<protocol::TypingNotice>().empty());

  feed(welcome("alicia", 78));
  const auto welcomes = host.got<client_event::Welcome>();
  ASSERT_EQ(welcomes.size(), 1u);
  EXPECT_TRUE(welcomes[0].reconnected);
  EXPECT_EQ(welcomes[0].room, "lobby");
  EXPECT_EQ(core->currentRoom(), "lobby");
  EXPECT_EQ(host.sent<protocol::SendChat>(),
            (std::vector<protocol::SendChat>{{"lobby", "", "typed while away", 0, 1}}));
  feed(protocol::JoinEvent{"dev", "alicia"});
  feed(protocol::JoinEvent{"lobby", "alicia"});
  EXPECT_EQ(core->currentRoom(), "lobby");
  EXPECT_EQ(core->rooms(), (std::vector<std::string>{"dev", "lobby"}));
  // Ping numbers go on from where they were.
  EXPECT_EQ(host.sent<protocol::PresencePing>().at(0).seq, seqBefore + 1);

  // The new token is used next time, and the backoff starts over.
  host.clear();
  core->disconnected("timed out", now());
  EXPECT_EQ(host.got<client_event::Reconnecting>().at(0).delay, 500);
  advance(500);
  core->connected(now());
  EXPECT_EQ(host.sent<protocol::Hello>().at(0).resumeToken, 78u);
}

TEST_F(ClientCoreTest, ANickStillHeldAfterAReconnectIsAskedForAgainQuietlyForAWhile) {
  registered();
  core->disconnected("timed out", now());
  advance(500);
  core->connected(now());
  ASSERT_EQ(host.sent<protocol::Hello>().size(), 1u);
  host.clear();
  // Another server of the cluster still holds the nick for the server that died.
  feed(protocol::ErrorReply{ErrorCode::NickInUse, 0, "alice", "nick 'alice' is in use on beta"});
  EXPECT_EQ(host.got<protocol::ErrorReply>().size(), 1u);
  advance(999);
  EXPECT_TRUE(host.sent<protocol::Hello>().empty());
  advance(1);
  ASSERT_EQ(host.sent<protocol::Hello>().size(), 1u);
  EXPECT_EQ(host.sent<protocol::Hello>()[0].nick, "alice");
  feed(protocol::ErrorReply{ErrorCode::NickInUse, 0, "alice", "nick 'alice' is in use on beta"});
  EXPECT_EQ(host.got<protocol::ErrorReply>().size(), 1u) << "the retries are quiet";
  advance(1000);
  EXPECT_EQ(host.sent<protocol::Hello>().size(), 2u);
  feed(welcome("alice", 80));
  EXPECT_EQ(host.got<client_event::Welcome>().size(), 1u);
  EXPECT_EQ(core->nick(), "alice");
}

TEST_F(ClientCoreTest, TheRetriesOfAHeldNickStopAfterTheirWindow) {
  registered();
  core->disconnected("timed out", now());
  advance(500);
  core->connected(now());
  host.clear();
  for (int i = 0; i < 40; ++i) {
    feed(protocol::ErrorReply{ErrorCode::NickInUse, 0, "alice", "in use"});
    advance(1000);
  }
  const auto hellos = host.sent<protocol::Hello>().size();
  EXPECT_GE(hellos, 14u);
  EXPECT_LE(hellos, 16u);
  // Then it is the person's turn: /nick picks another.
  core->input("/nick alice2", now());
  EXPECT_EQ(host.sent<protocol::Hello>().back().nick, "alice2");
}

TEST_F(ClientCoreTest, AFirstRegistrationRefusedForItsNickIsNotRetried) {
  make();
  core->start(now());
  core->connected(now());
  host.clear();
  feed(protocol::ErrorReply{ErrorCode::NickInUse, 0, "alice", "in use"});
  advance(5000);
  EXPECT_TRUE(host.sent<protocol::Hello>().empty());
}

TEST_F(ClientCoreTest, AwayIsRestoredAfterAReconnect) {
  registered();
  core->input("/away lunch", now());
  feed(protocol::PresenceEvent{"alice", protocol::PresenceState::Away, "lunch"});
  host.clear();
  core->disconnected("timed out", now());
  advance(500);
  core->connected(now());
  feed(welcome());
  EXPECT_EQ(host.sent<protocol::SetAway>(), (std::vector<protocol::SetAway>{{true, "lunch"}}));
}

TEST_F(ClientCoreTest, KickedMeansNoReconnect) {
  registered();
  feed(protocol::KickEvent{"lobby", "alice", "op", "spam"});
  ASSERT_EQ(host.got<protocol::KickEvent>().size(), 1u);
  EXPECT_TRUE(core->rooms().empty());
  core->disconnected("closed by server", now());
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitKicked);
  const auto finished = host.got<client_event::Finished>();
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_NE(finished[0].reason.find("spam"), std::string::npos);
  EXPECT_NE(finished[0].reason.find("op"), std::string::npos);
  advance(60'000);
  EXPECT_EQ(host.count(FakeHost::Kind::Connect), 0u);
}

TEST_F(ClientCoreTest, SomeoneElsesKickIsJustAnEvent) {
  registered();
  feed(protocol::KickEvent{"lobby", "mallory", "alice", "spam"});
  core->disconnected("timed out", now());
  EXPECT_FALSE(core->finished());
  EXPECT_EQ(core->state(), ConnectionState::WaitingRetry);
}

TEST_F(ClientCoreTest, ServerFullIsFinal) {
  make();
  core->start(now());
  core->connected(now());
  feed(protocol::ErrorReply{ErrorCode::ServerFull, 0, "", "server is full (2 clients)"});
  core->disconnected("closed", now());
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitRefused);
}

TEST_F(ClientCoreTest, TooManyConnectionsFromOurAddressIsFinalAndSaysWhy) {
  make();
  core->start(now());
  core->connected(now());
  feed(protocol::ErrorReply{ErrorCode::TooManyConnections, 0, "",
                            "your address already has 16 connections"});
  core->disconnected("closed", now());
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitRefused);
  const auto finished = host.got<client_event::Finished>();
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_NE(finished[0].reason.find("16 connections"), std::string::npos) << finished[0].reason;
  advance(60'000);
  EXPECT_EQ(host.count(FakeHost::Kind::Connect), 1u);  // the first connect only, no retry
}

TEST_F(ClientCoreTest, UnsupportedVersionAfterRegistrationIsFinalToo) {
  registered();
  feed(protocol::ErrorReply{ErrorCode::UnsupportedVersion, 0, "", "version 2 only"});
  core->disconnected("closed", now());
  EXPECT_EQ(core->exitStatus(), kExitRefused);
  advance(60'000);
  EXPECT_EQ(host.count(FakeHost::Kind::Connect), 0u);
}

// ---- quitting ----------------------------------------------------------------------------

TEST_F(ClientCoreTest, QuitSendsPendingLinesThenQuitRequestThenWaitsForTheServerToClose) {
  registered();
  for (int i = 0; i < 13; ++i) core->input("line " + std::to_string(i), now());
  core->quit("bye", now());
  EXPECT_TRUE(host.sent<protocol::QuitRequest>().empty());  // three lines still wait
  EXPECT_EQ(core->state(), ConnectionState::Registered);
  advance(1000);

  std::ptrdiff_t lastChat = -1, quitAt = -1, disconnectAt = -1;
  for (std::size_t i = 0; i < host.calls.size(); ++i) {
    const auto& c = host.calls[i];
    if (c.kind == FakeHost::Kind::Disconnect) disconnectAt = static_cast<std::ptrdiff_t>(i);
    if (std::holds_alternative<protocol::SendChat>(c.message)) {
      lastChat = static_cast<std::ptrdiff_t>(i);
    }
    if (std::holds_alternative<protocol::QuitRequest>(c.message)) {
      quitAt = static_cast<std::ptrdiff_t>(i);
    }
  }
  EXPECT_EQ(host.sent<protocol::SendChat>().size(), 13u);
  EXPECT_EQ(host.sent<protocol::SendChat>().back().text, "line 12");
  ASSERT_GE(lastChat, 0);
  EXPECT_LT(lastChat, quitAt);
  EXPECT_EQ(disconnectAt, -1);  // the server closes; the echo of "line 12" still gets here
  feed(protocol::ChatEvent{99, 1, "lobby", "alice", "", "line 12", 0});
  EXPECT_EQ(host.got<protocol::ChatEvent>().back().text, "line 12");
  EXPECT_EQ(host.sent<protocol::QuitRequest>().at(0).reason, "bye");
  EXPECT_EQ(core->state(), ConnectionState::Closing);

  core->input("too late", now());
  EXPECT_EQ(host.got<client_event::LocalError>().back().code, "closing");
  core->disconnected("closed", now());
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitOk);
  EXPECT_EQ(host.got<client_event::Finished>().size(), 1u);
}

TEST_F(ClientCoreTest, QuitClosesItselfWhenTheServerDoesNotWithinTheTimeout) {
  registered();
  core->quit("", now());
  EXPECT_EQ(core->state(), ConnectionState::Closing);
  advance(2999);
  EXPECT_FALSE(core->finished());
  EXPECT_EQ(host.count(FakeHost::Kind::Disconnect), 0u);
  advance(1);
  EXPECT_EQ(host.count(FakeHost::Kind::Disconnect), 1u);
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitOk);
}

TEST_F(ClientCoreTest, QuitWhileWaitingToRetryFinishesAtOnce) {
  registered();
  core->disconnected("gone", now());
  core->quit("", now());
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitOk);
  advance(10'000);
  EXPECT_EQ(host.count(FakeHost::Kind::Connect), 0u);
}

TEST_F(ClientCoreTest, QuitWhileConnectingWithNothingToSendClosesOnceConnected) {
  make();
  core->start(now());
  core->quit("", now());
  EXPECT_FALSE(core->finished());  // whether the server is reachable is still to be learnt
  core->connected(now());
  EXPECT_TRUE(host.sent<protocol::Hello>().empty());  // no join and quit for the room to see
  EXPECT_EQ(host.count(FakeHost::Kind::Disconnect), 1u);
  core->disconnected("closed", now());
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitOk);
}

TEST_F(ClientCoreTest, QuitWhileConnectingToNoServerStillReportsCannotConnect) {
  make();
  core->start(now());
  core->quit("", now());
  core->connectFailed("no answer within 5 s", now());
  EXPECT_TRUE(core->finished());
  EXPECT_EQ(core->exitStatus(), kExitCannotConnect);
}

TEST_F(ClientCoreTest, LinesTypedDuringAnOutageAreDeliveredBeforeAQuit) {
  registered();
  core->disconnected("gone", now());
  core->input("written while offline", now());
  core->quit("", now());
  EXPECT_FALSE(core->finished());
  advance(500);  // first retry
  ASSERT_EQ(host.count(FakeHost::Kind::Connect), 1u);
  core->connected(now());
  feed(welcome());
  const auto chats = host.sent<protocol::SendChat>();
  ASSERT_EQ(chats.size(), 1u);
  EXPECT_EQ(chats[0].text, "written while offline");
  EXPECT_EQ(host.sent<protocol::QuitRequest>().size(), 1u);
}

TEST_F(ClientCoreTest, QuitWithAnUnsendableReasonStillQuits) {
  registered();
  core->quit("bad \x1b reason", now());
  EXPECT_EQ(host.sent<protocol::QuitRequest>(), (std::vector<protocol::QuitRequest>{{""}}));
  EXPECT_EQ(host.got<client_event::LocalError>().size(), 1u);
}

// ---- nothing typed is lost ------------------------------------------------------------------

class ClientDeliveryTest : public ClientCoreTest {
 protected:
  ClientDeliveryTest() { config.clientIdSeed = 1000; }

  // The server's echo of a SendChat we sent, as the server builds it.
  protocol::ChatEvent echoOf(const protocol::SendChat& sent, protocol::MessageId id) const {
    return protocol::ChatEvent{id, 1, sent.room, core->nick(), sent.subject, sent.text,
                               sent.flags, sent.clientId};
  }

  void reconnect() {
    core->disconnected("timed out", now());
    advance(500);
    core->connected(now());
    feed(welcome());
  }

  std::vector<std::string> textsSent() const {
    std::vector<std::string> out;
    for (const auto& c : host.sent<protocol::SendChat>()) out.push_back(c.text);
    return out;
  }
};

TEST_F(ClientDeliveryTest, EachMessageGetsItsOwnClientIdAndIsShownAsSending) {
  registered();
  core->input("one", now());
  core->input("/msg bob two", now());
  const auto chats = host.sent<protocol::SendChat>();
  const auto privates = host.sent<protocol::SendPrivate>();
  ASSERT_EQ(chats.size(), 1u);
  ASSERT_EQ(privates.size(), 1u);
  EXPECT_EQ(chats[0].clientId, 1001u);
  EXPECT_EQ(privates[0].clientId, 1002u);
  const auto sending = host.got<client_event::Sending>();
  ASSERT_EQ(sending.size(), 2u);
  EXPECT_EQ(sending[0].message, (OutgoingMessage{1001, "lobby", false, "", "one", false}));
  EXPECT_EQ(sending[1].message, (OutgoingMessage{1002, "bob", true, "", "two", false}));
  EXPECT_EQ(core->unconfirmedCount(), 2u);

  feed(echoOf(chats[0], 50));
  EXPECT_EQ(core->unconfirmedCount(), 1u);
  feed(protocol::PrivateEvent{51, 1, "alice", "bob", "", "two", 0, 1002});
  EXPECT_EQ(core->unconfirmedCount(), 0u);
}

TEST_F(ClientDeliveryTest, UnconfirmedMessagesGoAgainAfterAReconnectBeforeNewLines) {
  registered();
  core->input("one", now());
  core->input("two", now());
  core->input("three", now());
  const auto first = host.sent<protocol::SendChat>();
  ASSERT_EQ(first.size(), 3u);
  feed(echoOf(first[0], 50));  // only "one" was confirmed before the server died
  host.clear();

  core->disconnected("timed out", now());
  const auto open = host.got<client_event::Unconfirmed>();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_TRUE(open[0].willResend);
  ASSERT_EQ(open[0].messages.size(), 2u);
  EXPECT_EQ(open[0].messages[0].text, "two");
  EXPECT_EQ(open[0].messages[1].text, "three");
  core->input("four", now());  // typed during the outage
  EXPECT_EQ(core->unconfirmedCount(), 2u);

  advance(500);
  core->connected(now());
  EXPECT_TRUE(host.sent<protocol::SendChat>().empty()) << "nothing before the Welcome";
  feed(welcome());
  const auto again = host.sent<protocol::SendChat>();
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(textsSent(), (std::vector<std::string>{"two", "three", "four"}));
  EXPECT_EQ(again[0].clientId, first[1].clientId);
  EXPECT_EQ(again[1].clientId, first[2].clientId);
  EXPECT_EQ(again[2].clientId, 1004u);
  // A resend is not announced as a new message: only "four" is.
  const auto sending = host.got<client_event::Sending>();
  ASSERT_EQ(sending.size(), 1u);
  EXPECT_EQ(sending[0].message.text, "four");
  EXPECT_EQ(core->unconfirmedCount(), 3u);
}

TEST_F(ClientDeliveryTest, MessagesSurviveSeveralOutagesInARow) {
  registered();
  core->input("kept", now());
  const protocol::ClientId id = host.sent<protocol::SendChat>().at(0).clientId;
  for (int i = 0; i < 3; ++i) {
    host.clear();
    reconnect();
    const auto chats = host.sent<protocol::SendChat>();
    ASSERT_EQ(chats.size(), 1u) << "outage " << i;
    EXPECT_EQ(chats[0].clientId, id);
  }
  feed(echoOf(host.sent<protocol::SendChat>().at(0), 9));
  host.clear();
  reconnect();
  EXPECT_TRUE(host.sent<protocol::SendChat>().empty()) << "a confirmed message is not resent";
}

TEST_F(ClientDeliveryTest, ASecondDeliveryOfTheSameMessageIsShownOnce) {
  registered();
  // bob's client resent after the server restarted: a new server id, the same client id.
  feed(protocol::ChatEvent{10, 1, "lobby", "bob", "", "hello", 0, 77});
  feed(protocol::ChatEvent{11, 2, "lobby", "Bob", "", "hello", 0, 77});
  // The same number from someone else is a different message, and 0 means "no id".
  feed(protocol::ChatEvent{12, 3, "lobby", "carol", "", "hi", 0, 77});
  feed(protocol::ChatEvent{13, 4, "lobby", "dave", "", "a", 0, 0});
  feed(protocol::ChatEvent{14, 5, "lobby", "dave", "", "a", 0, 0});
  feed(protocol::PrivateEvent{15, 6, "bob", "alice", "", "psst", 0, 78});
  feed(protocol::PrivateEvent{16, 7, "bob", "alice", "", "psst", 0, 78});
  std::vector<protocol::MessageId> shown;
  for (const auto& c : host.got<protocol::ChatEvent>()) shown.push_back(c.id);
  EXPECT_EQ(shown, (std::vector<protocol::MessageId>{10, 12, 13, 14}));
  EXPECT_EQ(host.got<protocol::PrivateEvent>().size(), 1u);
}

TEST_F(ClientDeliveryTest, OurOwnEchoConfirmsOnceAndAHistoryReplayOfItIsNotShownAgain) {
  registered();
  core->input("mine", now());
  const auto sent = host.sent<protocol::SendChat>().at(0);
  feed(echoOf(sent, 20));
  auto replay = echoOf(sent, 20);
  replay.flags |= protocol::kFlagHistory;
  feed(replay);  // rejoining after a reconnect replays the room's history
  EXPECT_EQ(host.got<protocol::ChatEvent>().size(), 1u);
  EXPECT_EQ(core->unconfirmedCount(), 0u);
}

TEST_F(ClientDeliveryTest, RateLimitedMessagesGoAgainInOrderOnceTheServerAllows) {
  registered();
  core->input("a", now());
  core->input("b", now());
  core->input("c", now());
  const auto first = host.sent<protocol::SendChat>();
  ASSERT_EQ(first.size(), 3u);
  feed(echoOf(first[0], 1));
  // The server's bucket was emptier than ours (another client of the same person, say).
  for (int i = 1; i < 3; ++i) {
    protocol::ErrorReply e;
    e.code = ErrorCode::RateLimited;
    e.retryAfterMs = 400;
    e.clientId = first[i].clientId;
    feed(e);
  }
  EXPECT_TRUE(host.got<protocol::ErrorReply>().empty()) << "nothing failed; it is only delayed";
  EXPECT_FALSE(host.got<client_event::Info>().empty());
  EXPECT_EQ(core->unconfirmedCount(), 2u);
  core->input("d", now());
  host.clear();
  advance(300);
  EXPECT_TRUE(host.sent<protocol::SendChat>().empty()) << "held for the wait the server named";
  advance(200);
  EXPECT_EQ(textsSent(), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_EQ(host.sent<protocol::SendChat>().at(0).clientId, first[1].clientId);
}

TEST_F(ClientDeliveryTest, ARefusedMessageIsFinalAndNeverResent) {
  registered();
  core->input("/msg nobody hi", now());
  const auto sent = host.sent<protocol::SendPrivate>().at(0);
  protocol::ErrorReply e;
  e.code = ErrorCode::NoSuchNick;
  e.context = "nobody";
  e.clientId = sent.clientId;
  feed(e);
  EXPECT_EQ(host.got<protocol::ErrorReply>().size(), 1u) << "the person is told";
  EXPECT_EQ(core->unconfirmedCount(), 0u);
  host.clear();
  reconnect();
  EXPECT_TRUE(host.sent<protocol::SendPrivate>().empty());
}

TEST_F(ClientDeliveryTest, FinishingWithUnconfirmedMessagesSaysWhichMayBeLost) {
  config.maxReconnects = 0;
  registered();
  core->input("maybe", now());
  host.clear();
  core->disconnected("timed out", now());
  EXPECT_EQ(core->exitStatus(), kExitGaveUp);
  const auto open = host.got<client_event::Unconfirmed>();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_FALSE(open[0].willResend);
  ASSERT_EQ(open[0].messages.size(), 1u);
  EXPECT_EQ(open[0].messages[0].text, "maybe");
}

TEST_F(ClientDeliveryTest, ClientIdsNeverTakeTheValueZero) {
  config.clientIdSeed = ~std::uint64_t{0};
  registered();
  core->input("wraps", now());
  EXPECT_EQ(host.sent<protocol::SendChat>().at(0).clientId, 1u);
}

TEST_F(ClientCoreTest, ANickArgumentThatIsNotUtf8IsRefusedBeforeSending) {
  // Found by the client-core fuzz target: "/msg \xa1ob hi" went out as a SendPrivate the
  // server could not decode.
  registered();
  core->input("/msg \xa1ob hi", now());
  core->input("/whois b\x1b[2Jb", now());
  EXPECT_TRUE(host.sent<protocol::SendPrivate>().empty());
  EXPECT_TRUE(host.sent<protocol::WhoisRequest>().empty());
  const auto errors = host.got<client_event::LocalError>();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code, "nick_invalid");
  EXPECT_EQ(errors[1].code, "nick_invalid");
}

TEST(ConnectionState, HasNames) {
  EXPECT_EQ(toString(ConnectionState::Registered), "registered");
  EXPECT_EQ(toString(ConnectionState::WaitingRetry), "waiting_retry");
}

}  // namespace
}  // namespace udpchat
