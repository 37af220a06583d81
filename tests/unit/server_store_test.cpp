// ServerCore with a store: nothing is confirmed before it is committed, a failed commit refuses
// instead of delivering, and a new core on the same store carries on where the last one stopped.
#include <gtest/gtest.h>

#include "unit/memory_store.hpp"
#include "unit/server_fixture.hpp"

namespace udpchat {
namespace {

using protocol::ErrorCode;
using testing::MemoryStore;
using testing::ServerHarness;

std::vector<protocol::ErrorReply> errorsOf(ServerHarness& h, SessionId s) {
  return h.take<protocol::ErrorReply>(s);
}

template <class T>
std::vector<T> ofType(const std::vector<testing::Delivery>& all) {
  std::vector<T> out;
  for (const auto& d : all) {
    if (const auto* m = std::get_if<T>(&d.message)) out.push_back(*m);
  }
  return out;
}

TEST(ServerStore, NothingConfirmingAMessageLeavesBeforeTheTurnIsCommitted) {
  MemoryStore store;
  ServerHarness h({}, &store);
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  const auto commitsBefore = h.core.stats().commits;
  h.endEachTurn = false;
  h.send(a, protocol::SendChat{"lobby", "", "kept", 0, 5});
  h.send(a, protocol::SetTopic{"lobby", "after it"});
  EXPECT_TRUE(h.drain(a).empty()) << "the echo went out before the commit";
  EXPECT_TRUE(h.drain(b).empty());
  EXPECT_TRUE(store.messages.empty());

  h.core.endTurn(h.now);
  ASSERT_EQ(store.messages.size(), 1u);
  EXPECT_EQ(store.messages.begin()->second.event.text, "kept");
  // Delivered in the order produced: the message, then the topic.
  const auto got = h.drain(b);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<protocol::ChatEvent>(got[0].message));
  EXPECT_TRUE(std::holds_alternative<protocol::TopicEvent>(got[1].message));
  EXPECT_EQ(h.core.stats().commits, commitsBefore + 1) << "one commit for the whole turn";
}

TEST(ServerStore, NothingHeldGoesToASessionTheTransportReportedGone) {
  MemoryStore store;
  ServerHarness h({}, &store);
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  h.endEachTurn = false;
  h.send(a, protocol::SendChat{"lobby", "", "held", 0, 5});
  h.disconnect(b);
  h.core.endTurn(h.now);
  EXPECT_TRUE(h.drain(b).empty()) << "a frame went to a session already gone";
  EXPECT_EQ(h.take<protocol::ChatEvent>(a).size(), 1u);
}

TEST(ServerStore, WithoutAStoreNothingIsHeld) {
  ServerHarness h;
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  h.endEachTurn = false;
  h.send(a, protocol::SendChat{"lobby", "", "now", 0, 5});
  EXPECT_EQ(h.take<protocol::ChatEvent>(a).size(), 1u);
}

TEST(ServerStore, AFailedCommitRefusesTheTurnsMessagesAndDeliversNothingOfThem) {
  MemoryStore store;
  ServerHarness h({}, &store);
  const SessionId a = h.registerUser("alice");
  const SessionId b = h.registerUser("bob");
  h.clearAll();
  store.failCommits = true;
  h.send(a, protocol::SendChat{"lobby", "", "lost", 0, 11});
  EXPECT_TRUE(h.take<protocol::ChatEvent>(b).empty()) << "delivered what was not stored";
  const auto errors = errorsOf(h, a);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::StorageUnavailable);
  EXPECT_EQ(errors[0].clientId, 11u) << "the refusal must name the message";
  EXPECT_GT(errors[0].retryAfterMs, 0u);
  EXPECT_EQ(h.core.stats().commitFailures, 1u);

  // Private messages too.
  h.advance(3'000);
  h.send(a, protocol::SendPrivate{"bob", "", "lost too", 0, 12});
  EXPECT_TRUE(h.take<protocol::PrivateEvent>(b).empty());
  EXPECT_EQ(errorsOf(h, a).at(0).clientId, 12u);

  // While the store is down, messages are refused at once, without trying it.
  const std::size_t failuresBefore = h.core.stats().commitFailures;
  h.send(a, protocol::SendChat{"lobby", "", "refused", 0, 13});
  EXPECT_EQ(errorsOf(h, a).at(0).code, ErrorCode::StorageUnavailable);
  EXPECT_EQ(h.core.stats().commitFailures, failuresBefore);

  // Everything else still works.
  h.send(a, protocol::WhoRequest{"lobby"});
  EXPECT_FALSE(h.take<protocol::WhoReply>(a).empty());

  // Once the store works again, so do messages; the refused ones are not in the history.
  store.failCommits = false;
  h.advance(3'000);
  h.send(a, protocol::SendChat{"lobby", "", "stored", 0, 14});
  EXPECT_EQ(h.only<protocol::ChatEvent>(b).text, "stored");
  const SessionId c = h.connect();
  h.send(c, protocol::Hello{"carol", 0, {}, ""});
  const auto history = h.take<protocol::ChatEvent>(c);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].text, "stored");
  // A refused message was forgotten: sent again under its id, it is a new message.
  h.send(a, protocol::SendChat{"lobby", "", "lost", 0, 11});
  EXPECT_EQ(h.only<protocol::ChatEvent>(b).text, "lost");
  EXPECT_EQ(h.core.stats().resendsRecognised, 0u);
}

TEST(ServerStore, AFailedTopicCommitStillAppliesAndTellsTheSetter) {
  MemoryStore store;
  ServerHarness h({}, &store);
  const SessionId a = h.registerUser("alice");
  h.clearAll();
  store.failCommits = true;
  h.send(a, protocol::SetTopic{"lobby", "only in memory"});
  const auto got = h.drain(a);
  ASSERT_EQ(ofType<protocol::TopicEvent>(got).size(), 1u);
  EXPECT_EQ(ofType<protocol::TopicEvent>(got)[0].topic, "only in memory");
  const auto errors = ofType<protocol::ErrorReply>(got);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, ErrorCode::StorageUnavailable);
  EXPECT_EQ(errors[0].context, "lobby");
}

TEST(ServerStore, ANewCoreOnTheSameStoreCarriesOn) {
  MemoryStore store;
  protocol::MessageId lastId = 0;
  std::uint64_t token = 0;
  {
    ServerHarness h({}, &store);
    const SessionId a = h.connect();
    h.send(a, protocol::Hello{"alice", 0, {}, ""});
    token = h.only<protocol::Welcome>(a).resumeToken;
    h.send(a, protocol::SendChat{"lobby", "subj", "one", 0, 1});
    h.send(a, protocol::SendChat{"lobby", "", "two", 0, 2});
    h.send(a, protocol::SendChat{"lobby", "", "three", 0, 3});
    const auto echoes = h.take<protocol::ChatEvent>(a);
    ASSERT_EQ(echoes.size(), 3u);
    lastId = echoes.back().id;
    h.send(a, protocol::DeleteMessage{"lobby", echoes[1].id});
    h.send(a, protocol::SetTopic{"lobby", "kept across restarts"});
    // The server dies here: no disconnect, no goodbye.
  }
  ServerHarness h({}, &store);
  h.advance(1'000);
  const SessionId b = h.connect();
  h.send(b, protocol::Hello{"bob", 0, {}, ""});
  const auto joined = h.drain(b);
  ASSERT_EQ(ofType<protocol::TopicEvent>(joined).size(), 1u);
  EXPECT_EQ(ofType<protocol::TopicEvent>(joined)[0].topic, "kept across restarts");
  const auto history = ofType<protocol::ChatEvent>(joined);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].text, "one");
  EXPECT_EQ(history[0].subject, "subj");
  EXPECT_EQ(history[1].text, "three");
  EXPECT_TRUE(history[0].flags & protocol::kFlagHistory);

  // Ids go on from the last one.
  h.send(b, protocol::SendChat{"lobby", "", "four", 0, 1});
  EXPECT_GT(h.only<protocol::ChatEvent>(b).id, lastId);

  // alice comes back with her token and resends her last message, whose echo she never saw:
  // confirmed with its first id, not delivered again.
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"alice", token, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(a).resumeToken, token) << "the token was not kept";
  h.clearAll();
  h.send(a, protocol::SendChat{"lobby", "", "three", 0, 3});
  EXPECT_EQ(h.only<protocol::ChatEvent>(a).id, lastId);
  EXPECT_TRUE(h.take<protocol::ChatEvent>(b).empty());
  EXPECT_EQ(h.core.stats().resendsRecognised, 1u);
  // And she may still delete her own message from before the restart.
  h.send(a, protocol::DeleteMessage{"lobby", lastId});
  EXPECT_EQ(h.only<protocol::DeletedEvent>(b).id, lastId);
}

TEST(ServerStore, TokensSeenLongAgoAreNotResumable) {
  MemoryStore store;
  std::uint64_t token = 0;
  {
    ServerHarness h({}, &store);
    const SessionId a = h.connect();
    h.send(a, protocol::Hello{"alice", 0, {}, ""});
    token = h.only<protocol::Welcome>(a).resumeToken;
  }
  ServerHarness h({}, &store);
  h.advance(60 * 60 * 1000);  // an hour later
  const SessionId a = h.connect();
  h.send(a, protocol::Hello{"alice", token, {}, ""});
  EXPECT_NE(h.only<protocol::Welcome>(a).resumeToken, token);
}

TEST(ServerStore, ARoomThatEmptiedKeepsItsHistoryAndTopic) {
  MemoryStore store;
  ServerHarness h({}, &store);
  const SessionId a = h.registerUser("alice", {"#side"});
  h.send(a, protocol::SendChat{"side", "", "still here", 0, 1});
  h.send(a, protocol::SetTopic{"side", "quiet room"});
  h.send(a, protocol::PartRoom{"side", ""});
  const SessionId b = h.registerUser("bob", {"#side"});
  const auto joined = h.drain(b);
  ASSERT_EQ(ofType<protocol::TopicEvent>(joined).size(), 1u);
  EXPECT_EQ(ofType<protocol::TopicEvent>(joined)[0].topic, "quiet room");
  const auto history = ofType<protocol::ChatEvent>(joined);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].text, "still here");
}

TEST(ServerHistory, PagesGoBackFromTheNewestWithAnEndThatSaysWhereToContinue) {
  for (bool withStore : {true, false}) {
    SCOPED_TRACE(withStore ? "store" : "memory only");
    MemoryStore store;
    ServerConfig config;
    config.rateBurst = 100;
    ServerHarness h(config, withStore ? &store : nullptr);
    const SessionId a = h.registerUser("alice");
    for (int i = 1; i <= 7; ++i) {
      h.send(a, protocol::SendChat{"lobby", "", "m" + std::to_string(i), 0, 0});
    }
    h.clearAll();
    h.send(a, protocol::HistoryRequest{"#lobby", 0, 3});
    auto got = h.drain(a);
    auto page = ofType<protocol::ChatEvent>(got);
    ASSERT_EQ(page.size(), 3u);
    EXPECT_EQ(page[0].text, "m5");
    EXPECT_EQ(page[2].text, "m7");
    for (const auto& e : page) {
      EXPECT_EQ(e.flags & (protocol::kFlagHistory | protocol::kFlagPage),
                protocol::kFlagHistory | protocol::kFlagPage);
    }
    ASSERT_TRUE(std::holds_alternative<protocol::HistoryEnd>(got.back().message)) << "end last";
    auto end = std::get<protocol::HistoryEnd>(got.back().message);
    EXPECT_EQ(end.room, "lobby");
    EXPECT_FALSE(end.search);
    EXPECT_EQ(end.count, 3u);
    EXPECT_EQ(end.oldestId, page[0].id);
    EXPECT_TRUE(end.more);

    h.send(a, protocol::HistoryRequest{"lobby", end.oldestId, 10});
    got = h.drain(a);
    page = ofType<protocol::ChatEvent>(got);
    ASSERT_EQ(page.size(), 4u);
    EXPECT_EQ(page[0].text, "m1");
    EXPECT_EQ(page[3].text, "m4");
    EXPECT_FALSE(ofType<protocol::HistoryEnd>(got).at(0).more);

    // A room one is not in is not read.
    h.send(a, protocol::HistoryRequest{"elsewhere", 0, 3});
    EXPECT_EQ(h.only<protocol::ErrorReply>(a).code, ErrorCode::NotInRoom);
  }
}

TEST(ServerHistory, SearchAnswersNewestFirstAndNeedsTheStore) {
  MemoryStore store;
  ServerHarness h({}, &store);
  const SessionId a = h.registerUser("alice");
  h.send(a, protocol::SendChat{"lobby", "", "build is green", 0, 0});
  h.send(a, protocol::SendChat{"lobby", "", "lunch", 0, 0});
  h.send(a, protocol::SendChat{"lobby", "", "build is red", 0, 0});
  h.clearAll();
  h.send(a, protocol::SearchRequest{"lobby", "build"});
  auto got = h.drain(a);
  const auto found = ofType<protocol::ChatEvent>(got);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].text, "build is red");
  EXPECT_EQ(found[1].text, "build is green");
  for (const auto& e : found) {
    EXPECT_EQ(e.flags & (protocol::kFlagHistory | protocol::kFlagPage),
              protocol::kFlagHistory | protocol::kFlagPage);
  }
  const auto end = ofType<protocol::HistoryEnd>(got).at(0);
  EXPECT_TRUE(end.search);
  EXPECT_EQ(end.count, 2u);
  EXPECT_EQ(end.oldestId, found[1].id);

  h.send(a, protocol::SearchRequest{"lobby", "  "});
  EXPECT_EQ(h.only<protocol::ErrorReply>(a).code, ErrorCode::EmptyText);

  ServerHarness memoryOnly;
  const SessionId b = memoryOnly.registerUser("bob");
  memoryOnly.clearAll();
  memoryOnly.send(b, protocol::SearchRequest{"lobby", "build"});
  const auto refusal = memoryOnly.only<protocol::ErrorReply>(b);
  EXPECT_EQ(refusal.code, ErrorCode::StorageUnavailable);
  EXPECT_NE(refusal.message.find("--no-store"), std::string::npos) << refusal.message;
}

SessionId registerOperator(ServerHarness& h, const std::string& nick) {
  const SessionId op = h.registerUser(nick);
  h.send(op, protocol::OperRequest{"sesame"});
  h.clearAll();
  return op;
}

TEST(ServerBans, ANickBanDisconnectsItsHolderAndRefusesItAtRegistrationAcrossARestart) {
  MemoryStore store;
  {
    ServerHarness h(testing::withOper(), &store);
    const SessionId op = registerOperator(h, "oper");
    const SessionId mallory = h.registerUser("mallory");
    const SessionId bob = h.registerUser("bob");
    h.clearAll();
    h.send(op, protocol::BanRequest{"Mallory", "spam"});
    EXPECT_NE(h.only<protocol::NoticeEvent>(op).text.find("Mallory is banned: spam"),
              std::string::npos);
    const auto kicks = h.take<protocol::KickEvent>(bob);
    ASSERT_EQ(kicks.size(), 1u);
    EXPECT_EQ(kicks[0].nick, "mallory");
    EXPECT_EQ(kicks[0].reason, "banned: spam");
    EXPECT_NE(std::find(h.outbox.closed.begin(), h.outbox.closed.end(), mallory),
              h.outbox.closed.end());
  }
  ServerHarness h(testing::withOper(), &store);
  const SessionId again = h.connect();
  h.send(again, protocol::Hello{"MALLORY", 0, {}, ""});
  const auto refused = h.only<protocol::ErrorReply>(again);
  EXPECT_EQ(refused.code, ErrorCode::Banned);
  EXPECT_EQ(refused.context, "MALLORY");
  EXPECT_NE(refused.message.find("spam"), std::string::npos) << "the reason is given";
  EXPECT_NE(std::find(h.outbox.closed.begin(), h.outbox.closed.end(), again),
            h.outbox.closed.end());
  EXPECT_EQ(h.core.stats().registered, 0u);
  // Renaming into a banned nick is refused too, without a disconnect.
  const SessionId eve = h.registerUser("eve");
  h.clearAll();
  h.send(eve, protocol::ChangeNick{"mallory"});
  EXPECT_EQ(h.only<protocol::ErrorReply>(eve).code, ErrorCode::Banned);
  EXPECT_EQ(h.core.stats().registered, 1u);
}

TEST(ServerBans, AnAddressBanRefusesConnectionsFromItAndUnbanLiftsIt) {
  MemoryStore store;
  ServerHarness h(testing::withOper(), &store);
  const SessionId op = registerOperator(h, "oper");
  const SessionId fromA = h.connectFrom(testing::kHostA);
  h.send(fromA, protocol::Hello{"alice", 0, {}, ""});
  h.clearAll();
  h.send(op, protocol::BanRequest{"198.18.0.2", ""});
  EXPECT_NE(std::find(h.outbox.closed.begin(), h.outbox.closed.end(), fromA),
            h.outbox.closed.end())
      << "the connected user from that address goes";
  const SessionId retry = h.connectFrom(testing::kHostA);
  EXPECT_EQ(h.only<protocol::ErrorReply>(retry).code, ErrorCode::Banned);
  const SessionId other = h.connectFrom(testing::kHostB);
  h.send(other, protocol::Hello{"bob", 0, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(other).nick, "bob");

  h.send(op, protocol::BansRequest{""});
  const auto list = h.only<protocol::BanListReply>(op);
  ASSERT_EQ(list.bans.size(), 1u);
  EXPECT_EQ(list.bans[0].target, "198.18.0.2");
  EXPECT_EQ(list.bans[0].by, "oper");
  EXPECT_EQ(store.banned.size(), 1u) << "kept in the store";

  h.send(op, protocol::UnbanRequest{"198.18.0.2"});
  EXPECT_TRUE(store.banned.empty());
  const SessionId back = h.connectFrom(testing::kHostA);
  h.send(back, protocol::Hello{"alice", 0, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(back).nick, "alice");
  h.send(op, protocol::UnbanRequest{"198.18.0.2"});
  EXPECT_EQ(h.only<protocol::ErrorReply>(op).code, ErrorCode::NotBanned);
}

TEST(ServerBans, OnlyOperatorsBanAndNobodyBansThemselvesOrNonsense) {
  ServerConfig config = testing::withOper();
  config.rateBurst = 100;
  ServerHarness h(config);
  const SessionId user = h.registerUser("user");
  h.clearAll();
  h.send(user, protocol::BanRequest{"bob", ""});
  EXPECT_EQ(h.only<protocol::ErrorReply>(user).code, ErrorCode::NotOperator);
  h.send(user, protocol::BansRequest{""});
  EXPECT_EQ(h.only<protocol::ErrorReply>(user).code, ErrorCode::NotOperator);
  const SessionId op = registerOperator(h, "oper");
  h.send(op, protocol::BanRequest{"OPER", ""});
  EXPECT_EQ(h.only<protocol::ErrorReply>(op).code, ErrorCode::CannotKickSelf);
  h.send(op, protocol::BanRequest{"not a nick!", ""});
  EXPECT_EQ(h.only<protocol::ErrorReply>(op).code, ErrorCode::NickInvalid);
  h.send(op, protocol::BanRequest{"300.1.2.3", ""});
  EXPECT_EQ(h.only<protocol::ErrorReply>(op).code, ErrorCode::NickInvalid);
  // Pages of the list.
  for (int i = 0; i < 20; ++i) h.send(op, protocol::BanRequest{"spammer" + std::to_string(i), ""});
  h.clearAll();
  h.send(op, protocol::BansRequest{"spammer1"});
  const auto pages = h.take<protocol::BanListReply>(op);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].bans.size(), 11u);  // spammer1 and spammer10..19
  h.send(op, protocol::BansRequest{""});
  const auto all = h.take<protocol::BanListReply>(op);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].more);
  EXPECT_EQ(all[0].bans.size() + all[1].bans.size(), 20u);
}

// Argon2id at libsodium's minimum cost: the same code, fast enough for unit tests.
ServerConfig cheapHashes() {
  ServerConfig c;
  c.passwordOps = 1;
  c.passwordMemoryBytes = 8192;
  c.rateBurst = 100;
  return c;
}

std::string noticeText(ServerHarness& h, SessionId s) {
  const auto notices = h.take<protocol::NoticeEvent>(s);
  return notices.empty() ? std::string() : notices.back().text;
}

TEST(ServerAccounts, ARegisteredNickNeedsItsPasswordEvenAfterARestart) {
  MemoryStore store;
  {
    ServerHarness h(cheapHashes(), &store);
    const SessionId a = h.registerUser("alice");
    h.clearAll();
    h.send(a, protocol::RegisterRequest{"short"});
    EXPECT_EQ(h.only<protocol::ErrorReply>(a).code, ErrorCode::PasswordInvalid);
    h.send(a, protocol::RegisterRequest{"correct horse"});
    EXPECT_NE(noticeText(h, a).find("registered to you"), std::string::npos);
    ASSERT_EQ(store.accountsByKey.size(), 1u);
    const std::string hash = store.accountsByKey.begin()->second.hash;
    EXPECT_EQ(hash.find("correct horse"), std::string::npos) << "stored in clear";
    EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  }
  ServerHarness h(cheapHashes(), &store);
  const SessionId impostor = h.connect();
  h.send(impostor, protocol::Hello{"Alice", 0, {}, ""});
  const auto refused = h.only<protocol::ErrorReply>(impostor);
  EXPECT_EQ(refused.code, ErrorCode::NickRegistered);
  EXPECT_NE(refused.message.find("/identify"), std::string::npos);
  // Under another nick, a wrong password is refused and a rename to it too.
  h.send(impostor, protocol::Hello{"mallory", 0, {}, ""});
  h.clearAll();
  h.send(impostor, protocol::IdentifyRequest{"alice", "wrong password"});
  EXPECT_EQ(h.only<protocol::ErrorReply>(impostor).code, ErrorCode::BadPassword);
  h.send(impostor, protocol::ChangeNick{"alice"});
  EXPECT_EQ(h.only<protocol::ErrorReply>(impostor).code, ErrorCode::NickRegistered);
  // The owner proves it and gets the nick.
  const SessionId owner = h.registerUser("guest");
  h.clearAll();
  h.send(owner, protocol::IdentifyRequest{"ALICE", "correct horse"});
  const auto renamed = h.take<protocol::NickEvent>(owner);
  ASSERT_EQ(renamed.size(), 1u);
  EXPECT_EQ(renamed[0].newNick, "alice");
  h.send(owner, protocol::WhoisRequest{"alice"});
  EXPECT_EQ(h.only<protocol::WhoisReply>(owner).nick, "alice");
}

TEST(ServerAccounts, WrongPasswordsAreLockedOutPerAccountWithTheWaitSaid) {
  MemoryStore store;
  ServerHarness h(cheapHashes(), &store);
  const SessionId a = h.registerUser("alice");
  h.send(a, protocol::RegisterRequest{"correct horse"});
  h.send(a, protocol::QuitRequest{""});
  const SessionId guesser = h.registerUser("guesser");
  h.clearAll();
  for (int i = 0; i < 3; ++i) {
    h.send(guesser, protocol::IdentifyRequest{"alice", "guess " + std::to_string(i)});
    EXPECT_EQ(h.only<protocol::ErrorReply>(guesser).code, ErrorCode::BadPassword);
  }
  h.send(guesser, protocol::IdentifyRequest{"alice", "guess 3"});
  const auto locked = h.only<protocol::ErrorReply>(guesser);
  EXPECT_EQ(locked.code, ErrorCode::BadPassword);
  EXPECT_GT(locked.retryAfterMs, 0u) << "the fourth wrong one starts a lockout";
  // During it even the right password is refused unread, with the wait.
  const SessionId owner = h.connectFrom(0xC6120009);
  h.send(owner, protocol::Hello{"guest", 0, {}, ""});
  h.clearAll();
  h.send(owner, protocol::IdentifyRequest{"alice", "correct horse"});
  const auto wait = h.only<protocol::ErrorReply>(owner);
  EXPECT_EQ(wait.code, ErrorCode::RateLimited);
  EXPECT_NE(wait.message.find("retry in"), std::string::npos) << wait.message;
  h.advance(wait.retryAfterMs);
  h.send(owner, protocol::IdentifyRequest{"alice", "correct horse"});
  EXPECT_NE(noticeText(h, owner).find("identified as alice"), std::string::npos);
}

TEST(ServerAccounts, APrivateMessageToAnOfflineAccountIsKeptAndDeliveredOnIdentify) {
  MemoryStore store;
  {
    ServerHarness h(cheapHashes(), &store);
    const SessionId a = h.registerUser("alice");
    h.send(a, protocol::RegisterRequest{"correct horse"});
    h.send(a, protocol::QuitRequest{""});
    const SessionId b = h.registerUser("bob");
    h.clearAll();
    h.send(b, protocol::SendPrivate{"Alice", "Lunch", "at noon?", 0, 31});
    const auto echo = h.only<protocol::PrivateEvent>(b);
    EXPECT_EQ(echo.clientId, 31u) << "the sender's confirmation";
    h.send(b, protocol::SendPrivate{"alice", "", "second", 0, 32});
    EXPECT_NE(noticeText(h, b).find("kept"), std::string::npos);
    // To an unregistered nick that is offline it is refused as before.
    h.send(b, protocol::SendPrivate{"nobody", "", "hello?", 0, 33});
    EXPECT_EQ(h.only<protocol::ErrorReply>(b).code, ErrorCode::NoSuchNick);
  }
  ServerHarness h(cheapHashes(), &store);
  h.advance(60'000);
  const SessionId a = h.registerUser("guest");
  h.clearAll();
  h.send(a, protocol::IdentifyRequest{"alice", "correct horse"});
  const auto kept = ofType<protocol::PrivateEvent>(h.drain(a));
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].text, "at noon?");
  EXPECT_EQ(kept[0].subject, "Lunch");
  EXPECT_EQ(kept[0].from, "bob");
  EXPECT_TRUE(kept[0].flags & protocol::kFlagOffline);
  EXPECT_EQ(kept[0].ts, 1'700'000'000'000u) << "with the time it was sent";
  EXPECT_TRUE(store.kept.empty()) << "delivered, so no longer kept";
  // Identifying again delivers nothing twice.
  h.send(a, protocol::IdentifyRequest{"alice", "correct horse"});
  EXPECT_TRUE(h.take<protocol::PrivateEvent>(a).empty());
}

TEST(ServerAccounts, UnregisterAndPasswordChangeNeedThePassword) {
  ServerHarness h(cheapHashes());
  const SessionId a = h.registerUser("alice");
  h.send(a, protocol::RegisterRequest{"correct horse"});
  h.clearAll();
  h.send(a, protocol::PasswordChange{"wrong one!", "new password"});
  EXPECT_EQ(h.only<protocol::ErrorReply>(a).code, ErrorCode::BadPassword);
  h.send(a, protocol::PasswordChange{"correct horse", "new password"});
  EXPECT_NE(noticeText(h, a).find("changed"), std::string::npos);
  h.send(a, protocol::UnregisterRequest{"correct horse"});
  EXPECT_EQ(h.only<protocol::ErrorReply>(a).code, ErrorCode::BadPassword);
  h.send(a, protocol::UnregisterRequest{"new password"});
  EXPECT_NE(noticeText(h, a).find("no longer registered"), std::string::npos);
  h.send(a, protocol::QuitRequest{""});
  const SessionId b = h.connect();
  h.send(b, protocol::Hello{"alice", 0, {}, ""});
  EXPECT_EQ(h.only<protocol::Welcome>(b).nick, "alice") << "free again";
}

}  // namespace
}  // namespace udpchat
