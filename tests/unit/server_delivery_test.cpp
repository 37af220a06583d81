// ServerCore and client ids: a message resent after a reconnect is confirmed, not delivered
// twice, and every refusal names the message it refuses.
#include <gtest/gtest.h>

#include "unit/server_fixture.hpp"

namespace udpchat {
namespace {

using protocol::ErrorCode;
using testing::ServerHarness;

struct Resumable {
  SessionId session = 0;
  std::uint64_t token = 0;
};

Resumable registerResumable(ServerHarness& h, const std::string& nick) {
  const SessionId s = h.connect();
  h.send(s, protocol::Hello{nick, 0, {}, ""});
  return {s, h.only<protocol::Welcome>(s).resumeToken};
}

SessionId resume(ServerHarness& h, const std::string& nick, std::uint64_t token) {
  const SessionId s = h.connect();
  h.send(s, protocol::Hello{nick, token, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(s).resumeToken, token);
  h.clearAll();
  return s;
}

TEST(ServerDelivery, EventsCarryTheSendersClientId) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", "hi", 0, 41});
  EXPECT_EQ(h.only<protocol::ChatEvent>(a).clientId, 41u);
  EXPECT_EQ(h.only<protocol::ChatEvent>(b).clientId, 41u);
  h.send(a, protocol::SendPrivate{"bob", "", "psst", 0, 42});
  EXPECT_EQ(h.only<protocol::PrivateEvent>(a).clientId, 42u);
  EXPECT_EQ(h.only<protocol::PrivateEvent>(b).clientId, 42u);
}

TEST(ServerDelivery, AResentChatIsConfirmedToTheSenderOnlyWithItsFirstIdAndTime) {
  ServerHarness h;
  const Resumable a = registerResumable(h, "alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a.session, protocol::SendChat{"lobby", "s", "one", 0, 7});
  const protocol::ChatEvent first = h.only<protocol::ChatEvent>(b);
  h.disconnect(a.session);  // the echo never reached alice
  h.advance(3'000);
  const SessionId again = resume(h, "alice", a.token);

  h.send(again, protocol::SendChat{"lobby", "s", "one", 0, 7});
  const protocol::ChatEvent echo = h.only<protocol::ChatEvent>(again);
  EXPECT_EQ(echo.id, first.id);
  EXPECT_EQ(echo.ts, first.ts);
  EXPECT_EQ(echo.text, "one");
  EXPECT_EQ(echo.clientId, 7u);
  EXPECT_TRUE(h.take<protocol::ChatEvent>(b).empty()) << "bob must not see it twice";
  EXPECT_EQ(h.core.stats().messagesRelayed, 1u);
  EXPECT_EQ(h.core.stats().resendsRecognised, 1u);

  // A new id is a new message.
  h.send(again, protocol::SendChat{"lobby", "", "two", 0, 8});
  EXPECT_EQ(h.only<protocol::ChatEvent>(b).text, "two");
}

TEST(ServerDelivery, AResendIsRecognisedWhileTheStaleSessionStillExists) {
  ServerHarness h;
  const Resumable a = registerResumable(h, "alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a.session, protocol::SendChat{"lobby", "", "one", 0, 7});
  h.clearAll();
  // The server has not noticed the drop: the Hello with the token replaces the stale session.
  const SessionId again = resume(h, "alice", a.token);
  h.send(again, protocol::SendChat{"lobby", "", "one", 0, 7});
  EXPECT_EQ(h.only<protocol::ChatEvent>(again).clientId, 7u);
  EXPECT_TRUE(h.take<protocol::ChatEvent>(b).empty());
}

TEST(ServerDelivery, AResentPrivateMessageReachesTheRecipientOnce) {
  ServerHarness h;
  const Resumable a = registerResumable(h, "alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a.session, protocol::SendPrivate{"bob", "", "psst", 0, 9});
  const auto first = h.only<protocol::PrivateEvent>(b);
  h.disconnect(a.session);
  const SessionId again = resume(h, "alice", a.token);
  h.send(again, protocol::SendPrivate{"bob", "", "psst", 0, 9});
  const auto echo = h.only<protocol::PrivateEvent>(again);
  EXPECT_EQ(echo.id, first.id);
  EXPECT_EQ(echo.to, "bob");
  EXPECT_TRUE(h.take<protocol::PrivateEvent>(b).empty());
}

TEST(ServerDelivery, ClientIdsAreRememberedPerPersonNotGlobally) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", "from alice", 0, 5});
  h.send(b, protocol::SendChat{"lobby", "", "from bob", 0, 5});  // same number, other person
  EXPECT_EQ(h.take<protocol::ChatEvent>(a).size(), 2u);
  EXPECT_EQ(h.core.stats().messagesRelayed, 2u);
}

TEST(ServerDelivery, WithoutAClientIdEveryMessageIsNew) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", "x", 0, 0});
  h.send(a, protocol::SendChat{"lobby", "", "x", 0, 0});
  EXPECT_EQ(h.take<protocol::ChatEvent>(a).size(), 2u);
}

TEST(ServerDelivery, TheMemoryOfAcceptedIdsIsBounded) {
  ServerConfig config;
  config.rateBurst = 1000;
  ServerHarness h(config);
  const Resumable a = registerResumable(h, "alice");
  h.clearAll();
  for (protocol::ClientId id = 1; id <= 200; ++id) {
    h.send(a.session, protocol::SendChat{"lobby", "", "m", 0, id});
  }
  h.clearAll();
  // The newest are remembered, the oldest forgotten (and so delivered again).
  h.send(a.session, protocol::SendChat{"lobby", "", "m", 0, 200});
  h.send(a.session, protocol::SendChat{"lobby", "", "m", 0, 1});
  EXPECT_EQ(h.core.stats().resendsRecognised, 1u);
  EXPECT_EQ(h.core.stats().messagesRelayed, 201u);
}

TEST(ServerDelivery, AFreshSessionDoesNotInheritAnotherTokensIds) {
  ServerHarness h;
  const Resumable a = registerResumable(h, "alice");
  h.send(a.session, protocol::SendChat{"lobby", "", "one", 0, 7});
  h.send(a.session, protocol::QuitRequest{""});
  h.clearAll();
  const SessionId c = h.registerUser("carol");  // a new token
  h.clearAll();
  h.send(c, protocol::SendChat{"lobby", "", "mine", 0, 7});
  EXPECT_EQ(h.only<protocol::ChatEvent>(c).text, "mine");
  EXPECT_EQ(h.core.stats().resendsRecognised, 0u);
}

TEST(ServerDelivery, RefusalsNameTheMessageTheyRefuse) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::SendChat{"nowhere", "", "x", 0, 11});
  auto e = h.only<protocol::ErrorReply>(a);
  EXPECT_EQ(e.code, ErrorCode::NotInRoom);
  EXPECT_EQ(e.clientId, 11u);
  h.send(a, protocol::SendPrivate{"nobody", "", "x", 0, 12});
  e = h.only<protocol::ErrorReply>(a);
  EXPECT_EQ(e.code, ErrorCode::NoSuchNick);
  EXPECT_EQ(e.clientId, 12u);
  h.send(a, protocol::SendChat{"lobby", "", "", 0, 13});
  EXPECT_EQ(h.only<protocol::ErrorReply>(a).clientId, 13u);
  // Errors about anything else name no message.
  h.send(a, protocol::JoinRoom{"bad room"});
  EXPECT_EQ(h.only<protocol::ErrorReply>(a).clientId, 0u);
}

TEST(ServerDelivery, RateLimitedNamesTheMessageSoTheClientCanSendItAgain) {
  ServerConfig config;
  config.rateBurst = 2;
  config.ratePerSecond = 1;
  ServerHarness h(config);
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", "1", 0, 1});
  h.send(a, protocol::SendChat{"lobby", "", "2", 0, 2});
  h.send(a, protocol::SendChat{"lobby", "", "3", 0, 3});
  const auto e = h.only<protocol::ErrorReply>(a);
  EXPECT_EQ(e.code, ErrorCode::RateLimited);
  EXPECT_EQ(e.clientId, 3u);
  EXPECT_GT(e.retryAfterMs, 0u);
  // A later error about something else does not inherit the id.
  h.advance(5'000);
  h.send(a, protocol::WhoisRequest{"nobody"});
  EXPECT_EQ(h.only<protocol::ErrorReply>(a).clientId, 0u);
}

}  // namespace
}  // namespace udpchat
