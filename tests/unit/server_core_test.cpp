// ServerCore, driven without sockets: every request, every error, every timer.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "unit/server_fixture.hpp"
#include "udpchat/text.hpp"

namespace udpchat {
namespace {

using protocol::ErrorCode;
using protocol::PresenceState;
using testing::ServerHarness;

using testing::kHostA;
using testing::kHostB;
using testing::withOper;

ErrorCode errorOf(ServerHarness& h, SessionId s) {
  auto errors = h.take<protocol::ErrorReply>(s);
  EXPECT_EQ(errors.size(), 1u);
  return errors.empty() ? ErrorCode::Malformed : errors.front().code;
}

std::vector<std::string> nicksOf(const std::vector<protocol::WhoEntry>& users) {
  std::vector<std::string> out;
  for (const auto& u : users) out.push_back(u.nick);
  return out;
}

// ---- registration ---------------------------------------------------------------------------

TEST(ServerRegistration, WelcomeCarriesNickTokenAndLimits) {
  ServerConfig config;
  config.motd = "be nice";
  config.maxMessageBytes = 1500;
  ServerHarness h(config);
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"alice", 0, {}, "test"});
  auto welcome = h.only<protocol::Welcome>(a);
  EXPECT_EQ(welcome.nick, "alice");
  EXPECT_NE(welcome.resumeToken, 0u);
  EXPECT_EQ(welcome.motd, "be nice");
  EXPECT_EQ(welcome.maxMessageBytes, 1500u);
  EXPECT_EQ(welcome.nickMin, 3);
  EXPECT_EQ(welcome.nickMax, 16);
  EXPECT_EQ(welcome.rateBurst, 10);
  EXPECT_EQ(welcome.ratePerSecond, 5);
  EXPECT_EQ(welcome.historySize, 50);
}

TEST(ServerRegistration, JoinSequenceOrderIsWelcomeJoinTopicWhoHistory) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.send(a, protocol::SendChat{"lobby", "", "first", 0});
  const SessionId b = h.connect();
  h.send(b, protocol::Hello{"bob", 0, {}, ""});
  std::vector<protocol::MessageType> types;
  for (auto& d : h.drain(b)) types.push_back(protocol::typeOf(d.message));
  using T = protocol::MessageType;
  EXPECT_EQ(types, (std::vector<T>{T::Welcome, T::JoinEvent, T::TopicEvent, T::WhoReply,
                                   T::ChatEvent}));
}

TEST(ServerRegistration, EveryoneStartsInLobbyUnlessRoomsAreAsked) {
  ServerHarness h;
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"alice", 0, {}, ""});
  auto joins = h.take<protocol::JoinEvent>(a);
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].room, "lobby");
  EXPECT_EQ(joins[0].nick, "alice");

  const SessionId b = h.connect();
  h.send(b, protocol::Hello{"bob", 0, {"#Dev", "ops", "dev"}, ""});
  joins = h.take<protocol::JoinEvent>(b);
  ASSERT_EQ(joins.size(), 2u);  // duplicates collapse, '#' and case are canonicalised
  EXPECT_EQ(joins[0].room, "dev");
  EXPECT_EQ(joins[1].room, "ops");
}

TEST(ServerRegistration, ClientsWithoutNickGetUserN) {
  ServerHarness h;
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"", 0, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(a).nick, "user1");
  const SessionId b = h.connect();
  h.send(b, protocol::Hello{"", 0, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(b).nick, "user2");
}

TEST(ServerRegistration, AutomaticNickSkipsTakenOnes) {
  ServerHarness h;
  h.registerUser("user1");
  const SessionId b = h.connect();
  h.send(b, protocol::Hello{"", 0, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(b).nick, "user2");
}

TEST(ServerRegistration, NickRulesAreEnforcedWithTheReason) {
  ServerHarness h;
  const SessionId a = h.connect();
  for (std::string bad : {"ab", "seventeen_chars_x", "bad nick", "émile", "a.b"}) {
    h.send(a, protocol::Hello{bad, 0, {}, ""});
    auto errors = h.take<protocol::ErrorReply>(a);
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].code, ErrorCode::NickInvalid) << bad;
    EXPECT_EQ(errors[0].context, bad);
    EXPECT_FALSE(errors[0].message.empty());
  }
  h.send(a, protocol::Hello{"abc", 0, {}, ""});  // exactly the minimum
  EXPECT_EQ(h.only<protocol::Welcome>(a).nick, "abc");
  const SessionId b = h.connect();
  h.send(b, protocol::Hello{"sixteen_chars_xy", 0, {}, ""});  // exactly the maximum
  EXPECT_EQ(h.only<protocol::Welcome>(b).nick, "sixteen_chars_xy");
}

TEST(ServerRegistration, NickLengthFlagsApply) {
  ServerConfig config;
  config.nickMin = 5;
  config.nickMax = 8;
  ServerHarness h(config);
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"abcd", 0, {}, ""});
  EXPECT_EQ(errorOf(h, a), ErrorCode::NickInvalid);
  h.send(a, protocol::Hello{"abcdefghi", 0, {}, ""});
  EXPECT_EQ(errorOf(h, a), ErrorCode::NickInvalid);
  h.send(a, protocol::Hello{"abcde", 0, {}, ""});
  EXPECT_EQ(h.take<protocol::Welcome>(a).size(), 1u);
}

TEST(ServerRegistration, NicksAreUniqueCaseInsensitivelyAndRetryWorksOnTheSameConnection) {
  ServerHarness h;
  h.registerUser("Alice");
  const SessionId b = h.connect();
  h.send(b, protocol::Hello{"aLICE", 0, {}, ""});
  auto errors = h.take<protocol::ErrorReply>(b);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::NickInUse);
  EXPECT_EQ(errors[0].context, "aLICE");
  h.send(b, protocol::Hello{"alice2", 0, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(b).nick, "alice2");
  EXPECT_TRUE(h.outbox.closed.empty());
}

TEST(ServerRegistration, RequestsBeforeHelloAreRefused) {
  ServerHarness h;
  const SessionId a = h.connect();
  h.send(a, protocol::SendChat{"lobby", "", "hi", 0});
  EXPECT_EQ(errorOf(h, a), ErrorCode::NotRegistered);
}

TEST(ServerRegistration, SecondHelloIsRefused) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.send(a, protocol::Hello{"other", 0, {}, ""});
  EXPECT_EQ(errorOf(h, a), ErrorCode::AlreadyRegistered);
}

TEST(ServerRegistration, InvalidRoomInHelloIsRefused) {
  ServerHarness h;
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"alice", 0, {"no spaces"}, ""});
  EXPECT_EQ(errorOf(h, a), ErrorCode::RoomInvalid);
}

TEST(ServerRegistration, SilentConnectionsAreClosedAfterTheTimeout) {
  ServerHarness h;
  const SessionId a = h.connect();
  h.advance(9'000);
  h.core.tick(h.now);
  EXPECT_TRUE(h.outbox.closed.empty());
  h.advance(2'000);
  h.core.tick(h.now);
  EXPECT_EQ(errorOf(h, a), ErrorCode::RegistrationTimeout);
  EXPECT_EQ(h.outbox.closed, std::vector<SessionId>{a});
  EXPECT_EQ(h.core.stats().sessions, 0u);
}

TEST(ServerRegistration, ResumeTokenReplacesTheStaleSessionAndKeepsTheNick) {
  ServerHarness h;
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"alice", 0, {}, ""});
  const std::uint64_t token = h.only<protocol::Welcome>(a).resumeToken;
  const SessionId b = h.registerUser("bob");
  h.clearAll();

  const SessionId again = h.connect();  // alice's link dropped; the server has not noticed
  h.send(again, protocol::Hello{"alice", token, {"lobby"}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(again).nick, "alice");
  EXPECT_NE(std::find(h.outbox.closed.begin(), h.outbox.closed.end(), a), h.outbox.closed.end());
  auto quits = h.take<protocol::QuitEvent>(b);
  ASSERT_EQ(quits.size(), 1u);
  EXPECT_EQ(quits[0].nick, "alice");
  EXPECT_EQ(quits[0].reason, "reconnected");
  EXPECT_EQ(h.core.stats().registered, 2u);
}

TEST(ServerRegistration, ResumedUserMayStillDeleteOwnMessages) {
  ServerHarness h;
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"alice", 0, {}, ""});
  const std::uint64_t token = h.only<protocol::Welcome>(a).resumeToken;
  h.registerUser("bob");  // keeps the room, and so its history, alive
  h.send(a, protocol::SendChat{"lobby", "", "oops", 0});
  const auto id = h.only<protocol::ChatEvent>(a).id;
  h.disconnect(a);
  const SessionId again = h.connect();
  h.send(again, protocol::Hello{"alice", token, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(again).resumeToken, token);
  h.clearAll();
  h.send(again, protocol::DeleteMessage{"lobby", id});
  EXPECT_EQ(h.only<protocol::DeletedEvent>(again).id, id);
}

TEST(ServerRegistration, OnlyTokensTheServerIssuedCanBeResumed) {
  ServerHarness h;
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"alice", 1, {}, ""});  // a made-up token is not adopted
  EXPECT_NE(h.only<protocol::Welcome>(a).resumeToken, 1u);

  const SessionId b = h.connect();
  h.send(b, protocol::Hello{"bob", 0, {}, ""});
  const std::uint64_t token = h.only<protocol::Welcome>(b).resumeToken;
  h.disconnect(b);
  h.advance(10 * 60 * 1000 + 1);  // past the resume window
  h.core.tick(h.now);
  const SessionId again = h.connect();
  h.send(again, protocol::Hello{"bob", token, {}, ""});
  EXPECT_NE(h.only<protocol::Welcome>(again).resumeToken, token);
}

// The attack the resume tokens must survive: std::mt19937_64 reveals its whole state in 312
// consecutive outputs, and anyone can collect that many tokens by registering and quitting in
// a loop. This predicts the 313th output of a Mersenne Twister from the 312 before it.
std::uint64_t undoShiftXor(std::uint64_t y, int shift, std::uint64_t mask) {
  // Inverts y ^= (y << shift) & mask (shift > 0) or y ^= (y >> -shift) & mask (shift < 0):
  // every round recovers `shift` more bits.
  std::uint64_t x = y;
  for (int round = 0; round < 64; ++round) {
    x = y ^ ((shift > 0 ? x << shift : x >> -shift) & mask);
  }
  return x;
}

std::uint64_t untemper(std::uint64_t y) {
  y = undoShiftXor(y, -43, ~std::uint64_t{0});
  y = undoShiftXor(y, 37, 0xFFF7EEE000000000);
  y = undoShiftXor(y, 17, 0x71D67FFFEDA60000);
  return undoShiftXor(y, -29, 0x5555555555555555);
}

std::uint64_t temper(std::uint64_t y) {
  y ^= (y >> 29) & 0x5555555555555555;
  y ^= (y << 17) & 0x71D67FFFEDA60000;
  y ^= (y << 37) & 0xFFF7EEE000000000;
  return y ^ (y >> 43);
}

std::uint64_t predictNextMt64(const std::vector<std::uint64_t>& last312) {
  const std::uint64_t x0 = untemper(last312[0]);
  const std::uint64_t x1 = untemper(last312[1]);
  const std::uint64_t xm = untemper(last312[156]);
  const std::uint64_t joined = (x0 & ~std::uint64_t{0x7FFFFFFF}) | (x1 & 0x7FFFFFFF);
  const std::uint64_t twisted = (joined >> 1) ^ ((joined & 1) != 0 ? 0xB5026F5AA96619E9 : 0);
  return temper(xm ^ twisted);
}

TEST(ServerResumeTokens, ThePredictorBreaksAMersenneTwister) {
  // Proof that the next test can fail: on std::mt19937_64 the prediction is exact.
  std::mt19937_64 twister(1);
  twister.discard(1000);
  std::vector<std::uint64_t> seen(312);
  for (auto& v : seen) v = twister();
  EXPECT_EQ(predictNextMt64(seen), twister());
}

TEST(ServerResumeTokens, DefaultTokensCannotBePredictedFromEarlierOnes) {
  ServerHarness h;  // the default token source, as udpchat-server uses it
  std::vector<std::uint64_t> tokens;
  for (int i = 0; i < 313; ++i) {
    const SessionId s = h.connect();
    h.send(s, protocol::Hello{"mallory", 0, {}, ""});
    tokens.push_back(h.only<protocol::Welcome>(s).resumeToken);
    h.send(s, protocol::QuitRequest{""});
  }
  const std::uint64_t next = tokens.back();
  tokens.pop_back();
  EXPECT_NE(predictNextMt64(tokens), next);
  EXPECT_EQ(std::set<std::uint64_t>(tokens.begin(), tokens.end()).size(), tokens.size());
}

TEST(ServerResumeTokens, TokensComeFromTheConfiguredSourceSkippingZeroAndOnesInUse) {
  std::vector<std::uint64_t> script{0, 42, 42, 7, 42, 7, 9};
  std::size_t drawn = 0;
  ServerConfig config;
  config.tokenSource = [&] { return script.at(drawn++); };
  ServerHarness h(config);
  auto welcomeToken = [&](const std::string& nick) {
    const SessionId s = h.connect();
    h.send(s, protocol::Hello{nick, 0, {}, ""});
    return std::pair{s, h.only<protocol::Welcome>(s).resumeToken};
  };
  const auto [alice, aliceToken] = welcomeToken("alice");
  EXPECT_EQ(aliceToken, 42u);  // 0 is never a token
  const auto [bob, bobToken] = welcomeToken("bob");
  EXPECT_EQ(bobToken, 7u);     // alice holds 42
  h.disconnect(alice);         // 42 stays resumable by alice
  h.disconnect(bob);
  EXPECT_EQ(welcomeToken("carol").second, 9u);  // neither departed token is handed out again
  EXPECT_EQ(drawn, script.size());
}

// ---- rooms ----------------------------------------------------------------------------------

TEST(ServerRooms, JoinAndPartAreAnnouncedToTheRoom) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a, protocol::JoinRoom{"#dev"});
  h.send(b, protocol::JoinRoom{"dev"});
  auto joins = h.take<protocol::JoinEvent>(a);
  ASSERT_EQ(joins.size(), 2u);
  EXPECT_EQ(joins[1].nick, "bob");
  EXPECT_EQ(joins[1].room, "dev");
  auto who = h.take<protocol::WhoReply>(b);
  ASSERT_EQ(who.size(), 1u);
  EXPECT_EQ(nicksOf(who[0].users), (std::vector<std::string>{"alice", "bob"}));

  h.send(b, protocol::PartRoom{"dev", "lunch"});
  auto parts = h.take<protocol::PartEvent>(a);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].nick, "bob");
  EXPECT_EQ(parts[0].reason, "lunch");
  EXPECT_EQ(h.take<protocol::PartEvent>(b).size(), 1u);  // the leaver's confirmation
  h.send(b, protocol::SendChat{"dev", "", "still here?", 0});
  EXPECT_EQ(errorOf(h, b), ErrorCode::NotInRoom);
}

TEST(ServerRooms, EmptyRoomsDisappearWithTheirTopic) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.send(a, protocol::JoinRoom{"dev"});
  h.send(a, protocol::SetTopic{"dev", "release"});
  EXPECT_EQ(h.core.stats().rooms, 2u);
  h.send(a, protocol::PartRoom{"dev", ""});
  EXPECT_EQ(h.core.stats().rooms, 1u);
  h.clearAll();
  h.send(a, protocol::JoinRoom{"dev"});
  EXPECT_EQ(h.only<protocol::TopicEvent>(a).topic, "");
}

TEST(ServerRooms, TopicIsAnnouncedAndShownOnJoin) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a, protocol::SetTopic{"lobby", "Friday demo"});
  auto topic = h.only<protocol::TopicEvent>(b);
  EXPECT_EQ(topic.topic, "Friday demo");
  EXPECT_EQ(topic.setBy, "alice");
  EXPECT_EQ(topic.ts, static_cast<std::uint64_t>(h.now.wall));
  const SessionId c = h.registerUser("carol");  // registerUser drains the Welcome only
  EXPECT_EQ(h.only<protocol::TopicEvent>(c).topic, "Friday demo");
  h.send(a, protocol::SetTopic{"lobby", "line\nbreak"});
  EXPECT_EQ(errorOf(h, a), ErrorCode::ControlCharacter);
}

TEST(ServerRooms, RoomNamesAreValidated) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::JoinRoom{"#"});
  EXPECT_EQ(errorOf(h, a), ErrorCode::RoomInvalid);
  h.send(a, protocol::JoinRoom{"a room"});
  EXPECT_EQ(errorOf(h, a), ErrorCode::RoomInvalid);
}

TEST(ServerRooms, AtMostSixteenRoomsPerUser) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");  // lobby is the first
  for (int i = 1; i < 16; ++i) {
    h.advance(200);  // stay within the rate limit
    h.send(a, protocol::JoinRoom{"r" + std::to_string(i)});
  }
  h.clearAll();
  h.send(a, protocol::JoinRoom{"onemore"});
  EXPECT_EQ(errorOf(h, a), ErrorCode::TooManyRooms);
}

TEST(ServerRooms, JoiningARoomAgainRepeatsTopicAndWhoOnlyToTheJoiner) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a, protocol::JoinRoom{"lobby"});
  EXPECT_TRUE(h.take<protocol::JoinEvent>(b).empty());
  auto mine = h.drain(a);
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<protocol::TopicEvent>(mine[0].message));
  EXPECT_TRUE(std::holds_alternative<protocol::WhoReply>(mine[1].message));
}

// ---- messages -------------------------------------------------------------------------------

TEST(ServerChat, MessagesAreStampedByTheServerAndEchoedToTheSender) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "Lunch", "pizza?", 0});
  auto atBob = h.only<protocol::ChatEvent>(b);
  auto atAlice = h.only<protocol::ChatEvent>(a);
  EXPECT_EQ(atBob, atAlice);
  EXPECT_EQ(atBob.from, "alice");
  EXPECT_EQ(atBob.room, "lobby");
  EXPECT_EQ(atBob.subject, "Lunch");
  EXPECT_EQ(atBob.text, "pizza?");
  EXPECT_EQ(atBob.ts, static_cast<std::uint64_t>(h.now.wall));
  EXPECT_GT(atBob.id, 0u);
  EXPECT_EQ(atBob.flags & protocol::kFlagHistory, 0);

  h.advance(5);
  h.send(b, protocol::SendChat{"lobby", "", "yes", 0});
  auto second = h.only<protocol::ChatEvent>(a);
  EXPECT_GT(second.id, atBob.id);
  EXPECT_EQ(second.ts, atBob.ts + 5);
}

TEST(ServerChat, ABroadcastIsEncodedOnceForAllRecipients) {
  ServerHarness h;
  std::vector<SessionId> users;
  for (int i = 0; i < 5; ++i) users.push_back(h.registerUser("user_" + std::to_string(i)));
  h.clearAll();
  const std::size_t before = h.outbox.sendCalls;
  h.send(users[0], protocol::SendChat{"lobby", "", "hello all", 0});
  EXPECT_EQ(h.outbox.sendCalls, before + 1);
  std::set<const protocol::Bytes*> frames;
  for (SessionId u : users) {
    auto got = h.drain(u);
    ASSERT_EQ(got.size(), 1u);
    frames.insert(got[0].frame);
  }
  EXPECT_EQ(frames.size(), 1u);
}

TEST(ServerChat, MessagesStayInTheirRoom) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice", {"dev"});
  const SessionId b = h.registerUser("bob", {"lobby"});
  h.clearAll();
  h.send(a, protocol::SendChat{"dev", "", "secret", 0});
  EXPECT_TRUE(h.take<protocol::ChatEvent>(b).empty());
}

TEST(ServerChat, ActionFlagIsKeptAndUnknownFlagsAreDropped) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", "waves",
                               protocol::kFlagAction | protocol::kFlagHistory |
                                   protocol::kFlagPage | 0x80});
  EXPECT_EQ(h.only<protocol::ChatEvent>(a).flags, protocol::kFlagAction);
}

TEST(ServerChat, TextLimitIsEnforcedAtItsEdgeAndNeverTruncated) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", std::string(2000, 'x'), 0});
  EXPECT_EQ(h.only<protocol::ChatEvent>(a).text.size(), 2000u);
  h.send(a, protocol::SendChat{"lobby", "", std::string(2001, 'x'), 0});
  auto errors = h.take<protocol::ErrorReply>(a);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::TextTooLong);
  EXPECT_NE(errors[0].message.find("2000"), std::string::npos);
  EXPECT_TRUE(h.take<protocol::ChatEvent>(a).empty());
}

TEST(ServerChat, ConfiguredTextLimitApplies) {
  ServerConfig config;
  config.maxMessageBytes = 10;
  ServerHarness h(config);
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", "0123456789", 0});
  EXPECT_EQ(h.take<protocol::ChatEvent>(a).size(), 1u);
  h.send(a, protocol::SendChat{"lobby", "", "0123456789a", 0});
  EXPECT_EQ(errorOf(h, a), ErrorCode::TextTooLong);
}

TEST(ServerChat, ControlCharactersAreRefusedButNewlineAndTabPass) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  for (std::string bad : {"red \x1b[31m text", "bell\a", "csi \xc2\x9b" "31m", "del\x7f",
                          "rlo \u202e" "fdp.exe", "isolate \u2067x\u2069"}) {
    h.send(a, protocol::SendChat{"lobby", "", bad, 0});
    EXPECT_EQ(errorOf(h, a), ErrorCode::ControlCharacter) << text::sanitizeForTerminal(bad, false);
  }
  EXPECT_TRUE(h.take<protocol::ChatEvent>(b).empty());
  h.send(a, protocol::SendChat{"lobby", "", "line one\nline\ttwo", 0});
  EXPECT_EQ(h.only<protocol::ChatEvent>(b).text, "line one\nline\ttwo");
  h.send(a, protocol::SendChat{"lobby", "two\nlines", "subject", 0});
  EXPECT_EQ(errorOf(h, a), ErrorCode::ControlCharacter);
}

TEST(ServerChat, EmptyTextIsRefused) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", "", 0});
  EXPECT_EQ(errorOf(h, a), ErrorCode::EmptyText);
}

// ---- private messages -----------------------------------------------------------------------

TEST(ServerPrivate, DeliveredToRecipientAndEchoedOnce) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  const SessionId c = h.registerUser("carol");
  h.clearAll();
  h.send(a, protocol::SendPrivate{"BOB", "Re: lunch", "noon?", 0});
  auto atBob = h.only<protocol::PrivateEvent>(b);
  EXPECT_EQ(atBob.from, "alice");
  EXPECT_EQ(atBob.to, "bob");
  EXPECT_EQ(atBob.subject, "Re: lunch");
  EXPECT_EQ(atBob.text, "noon?");
  EXPECT_EQ(h.only<protocol::PrivateEvent>(a), atBob);
  EXPECT_TRUE(h.drain(c).empty());
}

TEST(ServerPrivate, UnknownNickIsAnErrorNamingTheNick) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::SendPrivate{"nobody", "", "hi", 0});
  auto errors = h.take<protocol::ErrorReply>(a);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::NoSuchNick);
  EXPECT_EQ(errors[0].context, "nobody");
  EXPECT_NE(errors[0].message.find("nobody"), std::string::npos);
}

TEST(ServerPrivate, AwayRecipientAnswersWithTheAwayMessage) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.send(b, protocol::SetAway{true, "at lunch"});
  h.clearAll();
  h.send(a, protocol::SendPrivate{"bob", "", "ping", 0});
  EXPECT_EQ(h.take<protocol::PrivateEvent>(b).size(), 1u);
  auto away = h.only<protocol::AwayReply>(a);
  EXPECT_EQ(away.nick, "bob");
  EXPECT_EQ(away.message, "at lunch");
  h.send(b, protocol::SetAway{false, ""});
  h.clearAll();
  h.send(a, protocol::SendPrivate{"bob", "", "ping", 0});
  EXPECT_TRUE(h.take<protocol::AwayReply>(a).empty());
}

// ---- nick changes ---------------------------------------------------------------------------

TEST(ServerNick, RenameIsAnnouncedAndFreesTheOldNick) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a, protocol::ChangeNick{"alicia"});
  auto atBob = h.only<protocol::NickEvent>(b);
  EXPECT_EQ(atBob.oldNick, "alice");
  EXPECT_EQ(atBob.newNick, "alicia");
  EXPECT_EQ(h.take<protocol::NickEvent>(a).size(), 1u);
  h.send(b, protocol::ChangeNick{"ALICIA"});
  EXPECT_EQ(errorOf(h, b), ErrorCode::NickInUse);
  h.send(b, protocol::ChangeNick{"alice"});
  EXPECT_EQ(h.take<protocol::NickEvent>(b).size(), 1u);
  h.send(a, protocol::SendChat{"lobby", "", "hi", 0});
  EXPECT_EQ(h.only<protocol::ChatEvent>(b).from, "alicia");
}

TEST(ServerNick, ChangingOnlyTheCaseOfYourOwnNickWorks) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::ChangeNick{"Alice"});
  EXPECT_EQ(h.only<protocol::NickEvent>(a).newNick, "Alice");
}

// ---- who, whois, presence -------------------------------------------------------------------

TEST(ServerPresence, PingsAreAnsweredOnTheUnreliableChannel) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::PresencePing{7, 12345, PresenceState::Active, 0, 0});
  auto got = h.drain(a);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].channel, kChannelUnreliable);
  auto pong = std::get<protocol::PresencePong>(got[0].message);
  EXPECT_EQ(pong.seq, 7u);
  EXPECT_EQ(pong.echoClientTime, 12345u);
  EXPECT_EQ(pong.serverTime, static_cast<std::uint64_t>(h.now.mono));
}

TEST(ServerPresence, RoundTripTimeAndPingLossComeFromPings) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  // Pings 1..10, one every 140 ms, with 3, 4 and 8 lost, over a path of 100 ms round trip.
  // A pong stamped T reaches the client at T+50; the client holds it until its next ping, which
  // reaches the server 50 ms after it leaves. So for a ping arriving now, hold = now - T - 100.
  constexpr Millis kPath = 100;
  std::uint64_t pongServerTime = 0;
  for (std::uint32_t seq = 1; seq <= 10; ++seq) {
    if (seq != 3 && seq != 4 && seq != 8) {
      const auto hold = pongServerTime == 0
                            ? 0u
                            : static_cast<std::uint32_t>(h.now.mono - pongServerTime - kPath);
      h.send(b, protocol::PresencePing{seq, 0, PresenceState::Active, pongServerTime, hold});
      auto pongs = h.take<protocol::PresencePong>(b);
      ASSERT_EQ(pongs.size(), 1u);
      pongServerTime = pongs[0].serverTime;
    }
    h.advance(140);
  }
  h.clearAll();
  h.send(a, protocol::WhoisRequest{"bob"});
  auto whois = h.only<protocol::WhoisReply>(a);
  EXPECT_EQ(whois.rttMs, 100u);
  EXPECT_EQ(whois.pingLossPermille, 300);  // 3 of 10
  h.send(a, protocol::WhoRequest{"lobby"});
  auto who = h.only<protocol::WhoReply>(a);
  auto bob = std::find_if(who.users.begin(), who.users.end(), [](auto& u) { return u.nick == "bob"; });
  ASSERT_NE(bob, who.users.end());
  EXPECT_EQ(bob->rttMs, 100u);
  EXPECT_EQ(who.users[0].rttMs, 0u);  // alice never pinged: not measured
}

TEST(ServerPresence, EchoedTimesFromTheFutureOrPastTheEpochAreIgnored) {
  // Echoed server times and holds are the client's word. Times at or above 2^63 once made the
  // round-trip arithmetic overflow; now every value out of range is ignored, for registered
  // and unregistered sessions alike.
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  const SessionId stranger = h.connect();
  const auto nowMono = static_cast<std::uint64_t>(h.now.mono);
  constexpr std::uint64_t kTop = std::uint64_t{1} << 63;
  std::uint32_t seq = 1;
  for (const SessionId s : {b, stranger}) {
    for (std::uint64_t echo : {kTop, kTop + 1, ~std::uint64_t{0}, nowMono + 1}) {
      for (std::uint32_t hold : {0u, 1u, UINT32_MAX}) {
        h.send(s, protocol::PresencePing{seq++, ~std::uint64_t{0}, PresenceState::Active, echo, hold});
        auto pongs = h.take<protocol::PresencePong>(s);
        ASSERT_EQ(pongs.size(), 1u);
        EXPECT_EQ(pongs[0].echoClientTime, ~std::uint64_t{0});
      }
    }
    h.advance(2'000);  // refills the unreliable bucket
  }
  // A hold longer than the time since the echoed pong is ignored as well.
  h.send(b, protocol::PresencePing{seq++, 0, PresenceState::Active,
                                   static_cast<std::uint64_t>(h.now.mono) - 50, 51});
  h.clearAll();
  h.send(a, protocol::WhoisRequest{"bob"});
  EXPECT_EQ(h.only<protocol::WhoisReply>(a).rttMs, 0u);  // nothing was measured

  h.send(b, protocol::PresencePing{seq++, 0, PresenceState::Active,
                                   static_cast<std::uint64_t>(h.now.mono) - 50, 10});
  h.clearAll();
  h.send(a, protocol::WhoisRequest{"bob"});
  EXPECT_EQ(h.only<protocol::WhoisReply>(a).rttMs, 40u);
}

TEST(ServerPresence, WhoisShowsSignonIdleAwayAndRooms) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const Millis signon = h.now.wall;
  h.registerUser("bob", {"lobby", "dev"});
  h.advance(1000);
  h.send(a, protocol::SetAway{true, "coffee"});
  h.advance(2500);
  h.clearAll();
  const SessionId b = 2;
  h.send(b, protocol::WhoisRequest{"ALICE"});
  auto whois = h.only<protocol::WhoisReply>(b);
  EXPECT_EQ(whois.nick, "alice");
  EXPECT_EQ(whois.signonTs, static_cast<std::uint64_t>(signon));
  EXPECT_EQ(whois.idleMs, 2500u);
  EXPECT_EQ(whois.state, PresenceState::Away);
  EXPECT_EQ(whois.awayMessage, "coffee");
  EXPECT_EQ(whois.rooms, std::vector<std::string>{"lobby"});
  h.send(b, protocol::WhoisRequest{"ghost"});
  EXPECT_EQ(errorOf(h, b), ErrorCode::NoSuchNick);
}

TEST(ServerPresence, SilentUsersBecomeLaggingAndRecover) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  for (int i = 0; i < 5; ++i) {  // alice keeps pinging, bob goes silent
    h.advance(1000);
    h.send(a, protocol::PresencePing{static_cast<std::uint32_t>(i + 1), 0, PresenceState::Active, 0, 0});
    h.core.tick(h.now);
  }
  EXPECT_TRUE(h.take<protocol::PresenceEvent>(a).empty());  // exactly 5 s: not yet
  h.advance(100);
  h.core.tick(h.now);
  auto lagging = h.only<protocol::PresenceEvent>(a);
  EXPECT_EQ(lagging.nick, "bob");
  EXPECT_EQ(lagging.state, PresenceState::Lagging);
  h.core.tick(h.now);
  EXPECT_TRUE(h.take<protocol::PresenceEvent>(a).empty());  // announced once

  h.send(a, protocol::WhoRequest{"lobby"});
  auto who = h.only<protocol::WhoReply>(a);
  EXPECT_EQ(who.users[1].nick, "bob");
  EXPECT_EQ(who.users[1].state, PresenceState::Lagging);

  h.send(b, protocol::PresencePing{1, 0, PresenceState::Active, 0, 0});
  auto back = h.only<protocol::PresenceEvent>(a);
  EXPECT_EQ(back.state, PresenceState::Active);
}

TEST(ServerPresence, AwayAndBackAreAnnouncedToSharedRooms) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice", {"lobby", "dev"});
  const SessionId b = h.registerUser("bob", {"dev"});
  const SessionId c = h.registerUser("carol", {"elsewhere"});
  h.clearAll();
  h.send(b, protocol::SetAway{true, "brb"});
  auto atAlice = h.only<protocol::PresenceEvent>(a);
  EXPECT_EQ(atAlice.nick, "bob");
  EXPECT_EQ(atAlice.state, PresenceState::Away);
  EXPECT_EQ(atAlice.awayMessage, "brb");
  EXPECT_EQ(h.take<protocol::PresenceEvent>(b).size(), 1u);
  EXPECT_TRUE(h.drain(c).empty());
  h.send(b, protocol::SetAway{false, ""});
  EXPECT_EQ(h.only<protocol::PresenceEvent>(a).state, PresenceState::Active);
}

TEST(ServerPresence, WhoIsPagedForLargeRooms) {
  ServerConfig config;
  config.maxClients = 200;
  ServerHarness h(config);
  for (int i = 0; i < 150; ++i) h.registerUser("user_" + std::to_string(1000 + i));
  const SessionId a = 1;
  h.clearAll();
  h.send(a, protocol::WhoRequest{"lobby"});
  auto pages = h.take<protocol::WhoReply>(a);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_TRUE(pages[0].more);
  EXPECT_TRUE(pages[1].more);
  EXPECT_FALSE(pages[2].more);
  EXPECT_EQ(pages[0].users.size() + pages[1].users.size() + pages[2].users.size(), 150u);
  EXPECT_EQ(pages[0].users.front().nick, "user_1000");  // sorted
  EXPECT_EQ(pages[2].users.back().nick, "user_1149");
}

TEST(ServerPresence, TypingGoesToTheOthersInTheRoomAndShowsInWho) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  const SessionId c = h.registerUser("carol", {"dev"});
  h.clearAll();
  h.send(a, protocol::TypingNotice{"#lobby", false, true});
  auto got = h.drain(b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].channel, kChannelUnreliable);
  auto typing = std::get<protocol::TypingEvent>(got[0].message);
  EXPECT_EQ(typing.from, "alice");
  EXPECT_EQ(typing.target, "lobby");
  EXPECT_TRUE(typing.active);
  EXPECT_TRUE(h.drain(a).empty());
  EXPECT_TRUE(h.drain(c).empty());

  h.send(b, protocol::WhoRequest{"lobby"});
  EXPECT_EQ(h.only<protocol::WhoReply>(b).users[0].flags & protocol::kUserTyping,
            protocol::kUserTyping);
  h.advance(6001);
  h.core.tick(h.now);
  h.clearAll();  // everyone went silent for 6 s: lagging notices
  h.send(b, protocol::WhoRequest{"lobby"});
  EXPECT_EQ(h.only<protocol::WhoReply>(b).users[0].flags & protocol::kUserTyping, 0);

  h.clearAll();  // bob's request ended his lagging: a presence notice
  h.send(c, protocol::TypingNotice{"lobby", false, true});  // not a member: dropped
  EXPECT_TRUE(h.drain(a).empty());
  h.send(c, protocol::TypingNotice{"alice", true, true});
  EXPECT_EQ(h.only<protocol::TypingEvent>(a).isPrivate, true);
}

// ---- history and deletion -------------------------------------------------------------------

TEST(ServerHistory, LastMessagesAreReplayedOnJoinMarkedAsHistory) {
  ServerConfig config;
  config.historySize = 3;
  ServerHarness h(config);
  const SessionId a = h.registerUser("alice");
  for (int i = 1; i <= 5; ++i) h.send(a, protocol::SendChat{"lobby", "", "m" + std::to_string(i), 0});
  const SessionId b = h.registerUser("bob");
  auto history = h.take<protocol::ChatEvent>(b);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].text, "m3");
  EXPECT_EQ(history[2].text, "m5");
  for (auto& m : history) {
    EXPECT_TRUE(m.flags & protocol::kFlagHistory);
    EXPECT_EQ(m.flags & protocol::kFlagPage, 0) << "a replay nobody asked for is not a page";
  }
  EXPECT_EQ(history[0].from, "alice");
}

TEST(ServerHistory, ZeroHistoryReplaysNothing) {
  ServerConfig config;
  config.historySize = 0;
  ServerHarness h(config);
  const SessionId a = h.registerUser("alice");
  h.send(a, protocol::SendChat{"lobby", "", "hello", 0});
  const SessionId b = h.registerUser("bob");
  EXPECT_TRUE(h.take<protocol::ChatEvent>(b).empty());
}

TEST(ServerHistory, DeleteRemovesOwnMessageForEveryoneAndFromHistory) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.send(a, protocol::SendChat{"lobby", "", "typo", 0});
  h.send(a, protocol::SendChat{"lobby", "", "fixed", 0});
  auto sent = h.take<protocol::ChatEvent>(a);
  h.clearAll();

  h.send(b, protocol::DeleteMessage{"lobby", sent[0].id});
  EXPECT_EQ(errorOf(h, b), ErrorCode::NotYourMessage);
  h.send(a, protocol::DeleteMessage{"lobby", 999999});
  EXPECT_EQ(errorOf(h, a), ErrorCode::NoSuchMessage);

  h.send(a, protocol::DeleteMessage{"lobby", sent[0].id});
  auto deleted = h.only<protocol::DeletedEvent>(b);
  EXPECT_EQ(deleted.room, "lobby");
  EXPECT_EQ(deleted.id, sent[0].id);
  EXPECT_EQ(deleted.by, "alice");
  EXPECT_EQ(h.take<protocol::DeletedEvent>(a).size(), 1u);

  const SessionId c = h.registerUser("carol");
  auto history = h.take<protocol::ChatEvent>(c);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].text, "fixed");
}

TEST(ServerHistory, OperatorsMayDeleteAnyMessage) {
  ServerHarness h(withOper());
  const SessionId a = h.registerUser("alice");
  const SessionId op = h.registerUser("admin");
  h.send(a, protocol::SendChat{"lobby", "", "spam", 0});
  const auto id = h.only<protocol::ChatEvent>(a).id;
  h.send(op, protocol::OperRequest{"sesame"});
  h.clearAll();
  h.send(op, protocol::DeleteMessage{"lobby", id});
  EXPECT_EQ(h.only<protocol::DeletedEvent>(a).by, "admin");
}

// ---- operators ------------------------------------------------------------------------------

TEST(ServerOperators, OperNeedsTheRightPassword) {
  ServerHarness h(withOper());
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::OperRequest{"wrong"});
  EXPECT_EQ(errorOf(h, a), ErrorCode::BadPassword);
  h.send(a, protocol::OperRequest{"sesam"});
  EXPECT_EQ(errorOf(h, a), ErrorCode::BadPassword);
  h.send(a, protocol::OperRequest{"sesame"});
  EXPECT_EQ(h.only<protocol::NoticeEvent>(a).kind, protocol::NoticeKind::OperGranted);
}

TEST(ServerOperators, PasswordGuessesFromOneAddressAreLockedOutWithAGrowingDelayAndLogged) {
  ServerConfig config = withOper();
  config.rateBurst = 1000;  // the request bucket is not what is tested here
  std::vector<std::string> log;
  config.log = [&](std::string_view line) { log.emplace_back(line); };
  ServerHarness h(config);
  // A fresh session per guess, as an attacker would: the limit is the address's.
  auto guess = [&](std::uint32_t from, const std::string& password) {
    const SessionId s = h.connectFrom(from);
    h.send(s, protocol::Hello{"", 0, {}, ""});
    h.clearAll();
    h.send(s, protocol::OperRequest{password});
    auto errors = h.take<protocol::ErrorReply>(s);
    h.core.disconnected(s, h.now);
    return errors.empty() ? protocol::ErrorReply{} : errors.front();
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(guess(kHostA, "wrong").code, ErrorCode::BadPassword);
  EXPECT_EQ(guess(kHostA, "wrong").code, ErrorCode::BadPassword);  // the 4th starts 1 s
  auto locked = guess(kHostA, "sesame");  // even the right one is not checked meanwhile
  EXPECT_EQ(locked.code, ErrorCode::RateLimited);
  EXPECT_EQ(locked.retryAfterMs, 1000u);
  EXPECT_NE(locked.message.find("from your address"), std::string::npos) << locked.message;
  // Another address is not locked.
  EXPECT_EQ(guess(kHostB, "wrong").code, ErrorCode::BadPassword);
  h.advance(1000);
  EXPECT_EQ(guess(kHostA, "wrong").code, ErrorCode::BadPassword);  // the 5th: 2 s
  EXPECT_EQ(guess(kHostA, "x").retryAfterMs, 2000u);
  h.advance(2000);
  EXPECT_EQ(guess(kHostA, "wrong").code, ErrorCode::BadPassword);  // the 6th: 4 s
  EXPECT_EQ(guess(kHostA, "x").retryAfterMs, 4000u);
  ASSERT_GE(log.size(), 7u);
  EXPECT_NE(log.front().find("wrong operator password from user1 from 198.18.0.2"),
            std::string::npos)
      << log.front();
  EXPECT_NE(log.back().find("locked for 4000 ms"), std::string::npos) << log.back();
  // Once the lockout has passed the right password works, and is logged.
  h.advance(4000);
  const SessionId op = h.connectFrom(kHostA);
  h.send(op, protocol::Hello{"oper", 0, {}, ""});
  h.clearAll();
  h.send(op, protocol::OperRequest{"sesame"});
  EXPECT_EQ(h.only<protocol::NoticeEvent>(op).kind, protocol::NoticeKind::OperGranted);
  EXPECT_NE(log.back().find("operator granted to oper from 198.18.0.2"), std::string::npos);
}

TEST(ServerOperators, GuessesFromManyAddressesHitTheGlobalLimit) {
  ServerConfig config = withOper();
  config.operFreeFailuresGlobal = 5;
  ServerHarness h(config);
  std::vector<SessionId> guessers;
  for (std::uint32_t i = 0; i < 6; ++i) {
    const SessionId s = h.connectFrom(kHostA + i);  // one guess per address, never locked alone
    h.send(s, protocol::Hello{"guess" + std::to_string(i), 0, {}, ""});
    h.clearAll();
    h.send(s, protocol::OperRequest{"wrong"});
    EXPECT_EQ(errorOf(h, s), ErrorCode::BadPassword);
    guessers.push_back(s);
  }
  h.send(guessers[0], protocol::OperRequest{"sesame"});
  auto errors = h.take<protocol::ErrorReply>(guessers[0]);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::RateLimited);
  EXPECT_NE(errors[0].message.find("on this server"), std::string::npos) << errors[0].message;
}

TEST(ServerOperators, OperIsDisabledWithoutAPassword) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::OperRequest{""});
  EXPECT_EQ(errorOf(h, a), ErrorCode::OperDisabled);
}

TEST(ServerOperators, KickRemovesTheUserWithANoticeToTheRoom) {
  ServerHarness h(withOper());
  const SessionId op = h.registerUser("admin", {"lobby", "dev"});
  const SessionId bad = h.registerUser("troll", {"lobby", "dev"});
  const SessionId other = h.registerUser("carol", {"dev"});
  h.send(op, protocol::OperRequest{"sesame"});
  h.clearAll();

  h.send(bad, protocol::KickRequest{"admin", ""});
  EXPECT_EQ(errorOf(h, bad), ErrorCode::NotOperator);
  h.send(op, protocol::KickRequest{"nobody", ""});
  EXPECT_EQ(errorOf(h, op), ErrorCode::NoSuchNick);
  h.send(op, protocol::KickRequest{"admin", ""});
  EXPECT_EQ(errorOf(h, op), ErrorCode::CannotKickSelf);

  h.send(op, protocol::KickRequest{"TROLL", "spamming"});
  auto atCarol = h.only<protocol::KickEvent>(other);
  EXPECT_EQ(atCarol.room, "dev");
  EXPECT_EQ(atCarol.nick, "troll");
  EXPECT_EQ(atCarol.by, "admin");
  EXPECT_EQ(atCarol.reason, "spamming");
  EXPECT_EQ(h.take<protocol::KickEvent>(bad).size(), 2u);  // both rooms, then closed
  EXPECT_EQ(h.outbox.closed, std::vector<SessionId>{bad});
  EXPECT_TRUE(h.take<protocol::QuitEvent>(other).empty());  // the kick is the notice
  EXPECT_EQ(h.core.stats().registered, 2u);
  h.clearAll();
  h.send(bad, protocol::SendChat{"lobby", "", "still here", 0});  // late frame: ignored
  EXPECT_TRUE(h.drain(op).empty());
  const SessionId again = h.registerUser("troll");  // the nick is free again
  EXPECT_GT(again, bad);
}

// ---- capacity, quitting, flood control ------------------------------------------------------

TEST(ServerLimits, ClientsOverTheLimitAreToldTheServerIsFull) {
  ServerConfig config;
  config.maxClients = 2;
  ServerHarness h(config);
  h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  const SessionId c = h.connect();
  auto errors = h.take<protocol::ErrorReply>(c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::ServerFull);
  EXPECT_NE(errors[0].message.find("full"), std::string::npos);
  EXPECT_EQ(h.outbox.closed, std::vector<SessionId>{c});
  h.send(c, protocol::Hello{"carol", 0, {}, ""});  // a late Hello does nothing
  EXPECT_TRUE(h.drain(c).empty());

  h.disconnect(b);
  const SessionId d = h.registerUser("dave");
  EXPECT_GT(d, c);
}

bool refusedAsTooMany(ServerHarness& h, SessionId s) {
  auto errors = h.take<protocol::ErrorReply>(s);
  const bool closed = std::find(h.outbox.closed.begin(), h.outbox.closed.end(), s) !=
                      h.outbox.closed.end();
  return errors.size() == 1 && errors[0].code == ErrorCode::TooManyConnections && closed;
}

TEST(ServerLimits, OneAddressCannotHoldMoreUnregisteredSessionsThanItsShare) {
  ServerHarness h;  // defaults: 4 unregistered, 16 in all per address
  std::vector<SessionId> waiting;
  for (int i = 0; i < 4; ++i) waiting.push_back(h.connectFrom(kHostA));
  const SessionId fifth = h.connectFrom(kHostA);
  EXPECT_TRUE(refusedAsTooMany(h, fifth));
  EXPECT_EQ(h.core.stats().sessions, 4u);
  // Another host is not affected, and registering frees a place in the waiting share.
  EXPECT_TRUE(h.take<protocol::ErrorReply>(h.connectFrom(kHostB)).empty());
  h.send(waiting[0], protocol::Hello{"alice", 0, {}, ""});
  const SessionId again = h.connectFrom(kHostA);
  EXPECT_TRUE(h.take<protocol::ErrorReply>(again).empty());
  EXPECT_FALSE(refusedAsTooMany(h, again));
}

TEST(ServerLimits, OneAddressCannotHoldMoreSessionsThanTheLimit) {
  ServerConfig config;
  config.maxSessionsPerAddress = 3;
  ServerHarness h(config);
  for (int i = 0; i < 3; ++i) {
    const SessionId s = h.connectFrom(kHostA);
    h.send(s, protocol::Hello{"user_" + std::to_string(i), 0, {}, ""});
  }
  const SessionId extra = h.connectFrom(kHostA);
  EXPECT_TRUE(refusedAsTooMany(h, extra));
  EXPECT_EQ(h.core.stats().registered, 3u);
  // A session that leaves gives its place back.
  h.core.disconnected(1, h.now);
  EXPECT_TRUE(h.take<protocol::ErrorReply>(h.connectFrom(kHostA)).empty());
}

TEST(ServerLimits, LoopbackIsExemptUnlessAskedAndUnknownAddressesAreNotCounted) {
  ServerHarness exempt;
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(exempt.take<protocol::ErrorReply>(exempt.connectFrom(0x7F000001)).empty());
    EXPECT_TRUE(exempt.take<protocol::ErrorReply>(exempt.connect()).empty());
  }
  ServerConfig config;
  config.exemptLoopback = false;
  ServerHarness limited(config);
  for (int i = 0; i < 4; ++i) limited.connectFrom(0x7F000001);
  EXPECT_TRUE(refusedAsTooMany(limited, limited.connectFrom(0x7F000001)));
}

TEST(ServerLimits, UnregisteredSessionsGiveTheirSlotBackAfterTenSeconds) {
  ServerHarness h;
  for (int i = 0; i < 4; ++i) h.connectFrom(kHostA);
  h.advance(10'001);
  h.core.tick(h.now);
  EXPECT_EQ(h.core.stats().sessions, 0u);
  EXPECT_TRUE(h.take<protocol::ErrorReply>(h.connectFrom(kHostA)).empty());
}

TEST(ServerLimits, QuitTellsTheRoomsAndFreesTheNick) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice", {"lobby", "dev"});
  const SessionId b = h.registerUser("bob", {"lobby", "dev"});
  h.clearAll();
  h.send(a, protocol::QuitRequest{"bye"});
  auto quits = h.take<protocol::QuitEvent>(b);
  ASSERT_EQ(quits.size(), 2u);
  EXPECT_EQ(quits[0].nick, "alice");
  EXPECT_EQ(quits[0].reason, "bye");
  EXPECT_EQ(h.outbox.closed, std::vector<SessionId>{a});
  EXPECT_EQ(h.core.stats().registered, 1u);
  h.registerUser("alice");
}

TEST(ServerLimits, DroppedConnectionsQuitWithConnectionLost) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.disconnect(a);
  EXPECT_EQ(h.only<protocol::QuitEvent>(b).reason, "connection lost");
  EXPECT_TRUE(h.outbox.closed.empty());
}

TEST(ServerLimits, LastMessageBeforeQuitIsDelivered) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", "goodbye all", 0});
  h.send(a, protocol::QuitRequest{""});
  auto got = h.drain(b);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(std::get<protocol::ChatEvent>(got[0].message).text, "goodbye all");
  EXPECT_TRUE(std::holds_alternative<protocol::QuitEvent>(got[1].message));
}

TEST(ServerLimits, FloodControlRefusesEachExcessMessageWithARetryTime) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  for (int i = 0; i < 13; ++i) h.send(a, protocol::SendChat{"lobby", "", "m" + std::to_string(i), 0});
  EXPECT_EQ(h.take<protocol::ChatEvent>(b).size(), 10u);
  auto errors = h.take<protocol::ErrorReply>(a);
  ASSERT_EQ(errors.size(), 3u);  // one per refused message
  for (auto& e : errors) {
    EXPECT_EQ(e.code, ErrorCode::RateLimited);
    EXPECT_EQ(e.retryAfterMs, 200u);
    EXPECT_NE(e.message.find("200 ms"), std::string::npos);
  }
  h.advance(199);
  h.send(a, protocol::SendChat{"lobby", "", "too soon", 0});
  EXPECT_EQ(h.only<protocol::ErrorReply>(a).retryAfterMs, 1u);
  h.advance(1);
  h.send(a, protocol::SendChat{"lobby", "", "now", 0});
  EXPECT_EQ(h.only<protocol::ChatEvent>(b).text, "now");
  h.send(a, protocol::QuitRequest{"never limited"});
  EXPECT_EQ(h.only<protocol::QuitEvent>(b).reason, "never limited");
}

// ---- bad input ------------------------------------------------------------------------------

TEST(ServerBadInput, MalformedFramesGetAnErrorAndTheSessionSurvives) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  const protocol::Bytes garbage{std::byte{kProtocolVersion}, std::byte{0x02}, std::byte{0xFF}};
  h.sendFrame(a, kChannelReliable, garbage);
  auto errors = h.take<protocol::ErrorReply>(a);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::Malformed);
  EXPECT_NE(errors[0].message.find("ends inside a field"), std::string::npos);
  h.sendFrame(a, kChannelReliable, {});
  EXPECT_EQ(errorOf(h, a), ErrorCode::Malformed);
  h.send(a, protocol::SendChat{"lobby", "", "still fine", 0});
  EXPECT_EQ(h.only<protocol::ChatEvent>(a).text, "still fine");
  EXPECT_TRUE(h.outbox.closed.empty());
}

TEST(ServerBadInput, InvalidUtf8AndOverlongFieldsHaveTheirOwnCodes) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  auto frame = protocol::encode(protocol::SendChat{"lobby", "", "abc", 0});
  frame[frame.size() - 1 - 1 - 8] = std::byte{0xC3};  // before flags and clientId: 'c' becomes
                                                     // a lone lead byte
  h.sendFrame(a, kChannelReliable, frame);
  EXPECT_EQ(errorOf(h, a), ErrorCode::InvalidUtf8);

  auto longFrame = protocol::encode(protocol::SendChat{"lobby", "", "x", 0});
  // Text length field (after version, type, room, subject) raised to 4001.
  const std::size_t textLength = 2 + 2 + 5 + 2;
  longFrame[textLength] = std::byte{0x0F};
  longFrame[textLength + 1] = std::byte{0xA1};
  h.sendFrame(a, kChannelReliable, longFrame);
  auto errors = h.take<protocol::ErrorReply>(a);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::TextTooLong);
  // Over the wire limit (4000), the configured one is what the user can act on.
  EXPECT_EQ(errors[0].message, "message is 4001 bytes; the limit is 2000 bytes (nothing was sent)");
}

TEST(ServerBadInput, OverlongFieldsAreNamedWithTheirOwnLimits) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  // Each frame is encoded at the limit, then its length prefix (after version, type and the
  // 5-byte room) claims one byte more: the decoder refuses it before reading the bytes.
  auto claimOneMore = [](protocol::Bytes frame, std::size_t at, std::size_t limit) {
    frame[at] = static_cast<std::byte>((limit + 1) >> 8);
    frame[at + 1] = static_cast<std::byte>((limit + 1) & 0xFF);
    return frame;
  };
  const std::size_t afterRoom = 2 + 2 + 5;
  auto messageOf = [&](SessionId s) {
    auto errors = h.take<protocol::ErrorReply>(s);
    EXPECT_EQ(errors.size(), 1u);
    EXPECT_TRUE(errors.empty() || errors[0].code == ErrorCode::TextTooLong);
    return errors.empty() ? std::string() : errors[0].message;
  };
  h.sendFrame(a, kChannelReliable,
              claimOneMore(protocol::encode(protocol::SendChat{
                               "lobby", std::string(kMaxSubjectBytes, 's'), "hi", 0}),
                           afterRoom, kMaxSubjectBytes));
  EXPECT_EQ(messageOf(a), "subject is 129 bytes; the limit is 128 bytes (nothing was sent)");
  h.sendFrame(a, kChannelReliable,
              claimOneMore(protocol::encode(protocol::SetTopic{
                               "lobby", std::string(kMaxTopicBytes, 't')}),
                           afterRoom, kMaxTopicBytes));
  EXPECT_EQ(messageOf(a), "topic is 301 bytes; the limit is 300 bytes (nothing was sent)");

  // Hello's room list: its count (after version, type, the 3-byte nick and the token).
  const SessionId b = h.connect();
  h.sendFrame(b, kChannelReliable,
              claimOneMore(protocol::encode(protocol::Hello{"bob", 0, {}, ""}), 2 + 2 + 3 + 8,
                           kMaxRoomsPerUser));
  EXPECT_EQ(messageOf(b), "rooms has 17 entries; the limit is 16 (nothing was sent)");
}

TEST(ServerBadInput, WrongVersionIsRefusedAndClosed) {
  ServerHarness h;
  const SessionId a = h.connect();
  auto frame = protocol::encode(protocol::Hello{"alice", 0, {}, ""});
  frame[0] = std::byte{kProtocolVersion + 1};
  h.sendFrame(a, kChannelReliable, frame);
  EXPECT_EQ(errorOf(h, a), ErrorCode::UnsupportedVersion);
  EXPECT_EQ(h.outbox.closed, std::vector<SessionId>{a});
}

TEST(ServerBadInput, ServerMessagesFromClientsAreRefused) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.sendFrame(a, kChannelReliable, protocol::encode(protocol::ChatEvent{1, 2, "lobby", "bob", "", "forged", 0}));
  EXPECT_EQ(errorOf(h, a), ErrorCode::UnexpectedMessage);
  h.sendFrame(a, kChannelReliable, protocol::encode(protocol::PresencePing{}));
  EXPECT_EQ(errorOf(h, a), ErrorCode::UnexpectedMessage);
}

TEST(ServerBadInput, ReliableMessagesOnTheUnreliableChannelAreDroppedSilently) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.sendFrame(a, kChannelUnreliable, protocol::encode(protocol::SendChat{"lobby", "", "x", 0}));
  h.sendFrame(a, kChannelUnreliable, {std::byte{9}});
  EXPECT_TRUE(h.drain(a).empty());
  EXPECT_EQ(h.core.stats().framesRejected, 2u);
}

TEST(ServerBadInput, GarbageBeyondTheRateLimitGetsNoReplies) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  for (int i = 0; i < 100; ++i) h.sendFrame(a, kChannelReliable, {std::byte{kProtocolVersion}, std::byte{0xEE}});
  EXPECT_EQ(h.take<protocol::ErrorReply>(a).size(), 10u);
}

// Each kind of reply-producing request spends the sender's tokens: past the burst of 10 the
// replies are rate_limited, never the request's own error.
TEST(ServerBadInput, WrongChannelTypesAndRepeatedHellosSpendTokens) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  for (int i = 0; i < 200; ++i) {
    h.sendFrame(a, kChannelReliable, protocol::encode(protocol::PresencePing{}));
  }
  auto errors = h.take<protocol::ErrorReply>(a);
  ASSERT_EQ(errors.size(), 200u);
  EXPECT_EQ(std::count_if(errors.begin(), errors.end(),
                          [](auto& e) { return e.code == ErrorCode::UnexpectedMessage; }),
            10);
  h.advance(60'000);
  for (int i = 0; i < 200; ++i) h.send(a, protocol::Hello{"other", 0, {}, ""});
  errors = h.take<protocol::ErrorReply>(a);
  ASSERT_EQ(errors.size(), 200u);
  EXPECT_EQ(std::count_if(errors.begin(), errors.end(),
                          [](auto& e) { return e.code == ErrorCode::AlreadyRegistered; }),
            10);
  EXPECT_EQ(errors.back().code, ErrorCode::RateLimited);
}

TEST(ServerRegistration, RefusedHellosSpendTokensAndASuccessfulOneRefillsTheBucket) {
  ServerHarness h;
  h.registerUser("alice");
  const SessionId b = h.connect();
  for (int i = 0; i < 12; ++i) h.send(b, protocol::Hello{"alice", 0, {}, ""});
  auto errors = h.take<protocol::ErrorReply>(b);
  ASSERT_EQ(errors.size(), 12u);
  EXPECT_EQ(errors[9].code, ErrorCode::NickInUse);
  EXPECT_EQ(errors[10].code, ErrorCode::RateLimited);
  h.advance(200);  // one token back
  h.send(b, protocol::Hello{"bob", 0, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(b).nick, "bob");
  h.clearAll();
  for (int i = 0; i < 10; ++i) h.send(b, protocol::SendChat{"lobby", "", "hi", 0});
  EXPECT_EQ(h.take<protocol::ChatEvent>(b).size(), 10u);  // the full burst after registering
}

TEST(ServerBadInput, FramesFromUnknownSessionsAreIgnored) {
  ServerHarness h;
  h.sendFrame(42, kChannelReliable, protocol::encode(protocol::Hello{"alice", 0, {}, ""}));
  h.disconnect(42);
  EXPECT_TRUE(h.outbox.inbox.empty());
}

TEST(ServerLimits, ConfiguredRateLimitAppliesAndLargeValuesAreAnnouncedClamped) {
  ServerConfig config;
  config.rateBurst = 100'000;
  config.ratePerSecond = 2;
  ServerHarness h(config);
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"alice", 0, {}, ""});
  auto welcome = h.only<protocol::Welcome>(a);
  EXPECT_EQ(welcome.rateBurst, 65535);
  EXPECT_EQ(welcome.ratePerSecond, 2);
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  for (int i = 0; i < 500; ++i) h.send(a, protocol::SendChat{"lobby", "", "x", 0});
  EXPECT_EQ(h.take<protocol::ChatEvent>(b).size(), 500u);
  EXPECT_TRUE(h.take<protocol::ErrorReply>(a).empty());
}

TEST(ServerLabChannels, ChatIsRelayedOnTheChannelItArrivedOn) {
  ServerConfig config;
  config.labChannels = true;
  ServerHarness h(config);
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  for (std::uint8_t channel : {kChannelBulk, kChannelLabUnreliable, kChannelLabUnsequenced}) {
    const std::string text = "via " + std::to_string(channel);
    h.sendFrame(a, channel, protocol::encode(protocol::SendChat{"lobby", "", text, 0}));
    auto got = h.drain(b);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].channel, channel);
    EXPECT_EQ(std::get<protocol::ChatEvent>(got[0].message).text, text);
    EXPECT_EQ(std::get<protocol::ChatEvent>(got[0].message).from, "alice");
  }
}

TEST(ServerLabChannels, OnlyChatAndOnlyWhenEnabled) {
  ServerHarness off;
  const SessionId a = off.registerUser("alice");
  const SessionId b = off.registerUser("bob");
  off.clearAll();
  off.sendFrame(a, kChannelBulk, protocol::encode(protocol::SendChat{"lobby", "", "x", 0}));
  EXPECT_TRUE(off.drain(b).empty());
  EXPECT_TRUE(off.drain(a).empty());

  ServerConfig config;
  config.labChannels = true;
  ServerHarness on(config);
  const SessionId c = on.registerUser("carol");
  on.clearAll();
  on.sendFrame(c, kChannelBulk, protocol::encode(protocol::SetTopic{"lobby", "x"}));
  on.sendFrame(c, kLabChannelCount, protocol::encode(protocol::SendChat{"lobby", "", "x", 0}));
  EXPECT_TRUE(on.drain(c).empty());
  EXPECT_EQ(on.core.stats().framesRejected, 2u);
}

TEST(ServerConfigValidation, RejectsOutOfRangeValuesWithAReason) {
  ServerConfig ok;
  EXPECT_FALSE(ok.validate().has_value());
  auto broken = [](auto change) {
    ServerConfig c;
    change(c);
    return c.validate();
  };
  EXPECT_TRUE(broken([](ServerConfig& c) { c.maxClients = 0; }));
  EXPECT_TRUE(broken([](ServerConfig& c) { c.historySize = kMaxHistory + 1; }));
  EXPECT_TRUE(broken([](ServerConfig& c) { c.nickMin = 10; c.nickMax = 9; }));
  EXPECT_TRUE(broken([](ServerConfig& c) { c.nickMax = kMaxNickBytes + 1; }));
  EXPECT_TRUE(broken([](ServerConfig& c) { c.maxMessageBytes = kMaxTextBytes + 1; }));
  EXPECT_TRUE(broken([](ServerConfig& c) { c.maxMessageBytes = 0; }));
  EXPECT_TRUE(broken([](ServerConfig& c) { c.motd = "evil \x1b[2J"; }));
  EXPECT_TRUE(broken([](ServerConfig& c) { c.rateBurst = 0; }));
  EXPECT_TRUE(broken([](ServerConfig& c) { c.ratePerSecond = kMaxRateLimit + 1; }));
  auto message = broken([](ServerConfig& c) { c.maxMessageBytes = 5000; });
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("--max-message-bytes"), std::string::npos);
}

}  // namespace
}  // namespace udpchat
