#include "udpchat/event_format.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace udpchat::format {
namespace {

using nlohmann::json;

// Human lines use local time; the tests pin the zone so the expected clock readings hold.
class UtcEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};
const auto* const kUtc = ::testing::AddGlobalTestEnvironment(new UtcEnvironment);

constexpr Millis kEventTs = 1'700'000'000'123;  // 2023-11-14 22:13:20.123 UTC
constexpr Millis kWallNow = 1'700'000'061'000;  // 22:14:21

struct Sample {
  ClientEvent event;
  std::string type;
};

protocol::Welcome welcomeFrame(std::string nick) {
  protocol::Welcome w;
  w.nick = std::move(nick);
  w.resumeToken = 5;
  w.serverName = "lan";
  w.motd = "hello\nworld";
  w.maxMessageBytes = 2000;
  w.nickMin = 3;
  w.nickMax = 16;
  w.historySize = 50;
  w.rateBurst = 10;
  w.ratePerSecond = 5;
  w.pingIntervalMs = 1000;
  return w;
}

// One event of every alternative, each string field set to `s` (so a hostile string can be
// pushed through every path), with the JSON type it must produce.
std::vector<Sample> everyEvent(const std::string& s) {
  using namespace protocol;
  std::vector<Sample> out;
  out.push_back({client_event::Welcome{welcomeFrame(s), s, false}, "welcome"});
  out.push_back({ErrorReply{ErrorCode::NickInUse, 0, s, s}, "error"});
  out.push_back({ChatEvent{7, kEventTs, s, s, s, s, kFlagAction | kFlagHistory}, "message"});
  out.push_back({PrivateEvent{8, kEventTs, s, s, s, s, kFlagAction}, "private"});
  out.push_back({JoinEvent{s, s}, "join"});
  out.push_back({PartEvent{s, s, s}, "part"});
  out.push_back({QuitEvent{s, s, s}, "quit"});
  out.push_back({NickEvent{s, s}, "nick"});
  out.push_back({TopicEvent{s, s, s, 1}, "topic"});
  out.push_back({DeletedEvent{s, 9, s}, "deleted"});
  out.push_back({KickEvent{s, s, s, s}, "kick"});
  out.push_back(
      {WhoisReply{s, PresenceState::Away, 1, 2, s, 3, 4, 5, kUserOperator, {s, s}, s}, "whois"});
  out.push_back({PresenceEvent{s, PresenceState::Away, s}, "presence"});
  out.push_back({AwayReply{s, s}, "away"});
  out.push_back({NoticeEvent{NoticeKind::Info, s}, "notice"});
  out.push_back({HistoryEnd{s, true, 3, 7, true}, "history_end"});
  out.push_back({BanListReply{{{s, s, s, 1}}, true}, "bans"});
  out.push_back({client_event::WhoList{s, {{s, PresenceState::Lagging, 3, kUserTyping}}}, "who"});
  out.push_back({client_event::Typing{s, s, false, true}, "typing"});
  out.push_back({client_event::Connected{}, "connected"});
  out.push_back({client_event::ConnectionLost{s}, "connection_lost"});
  out.push_back({client_event::Reconnecting{500, 1}, "reconnecting"});
  out.push_back({client_event::LocalError{"usage", s}, "error"});
  out.push_back({client_event::Info{s}, "info"});
  out.push_back({client_event::Finished{kExitKicked, s}, "finished"});
  out.push_back({client_event::Sending{{5, s, false, s, s, false}}, "sending"});
  out.push_back(
      {client_event::Unconfirmed{{{5, s, false, s, s, false}, {6, s, true, "", s, true}}, true},
       "unconfirmed"});
  return out;
}

json parsed(const ClientEvent& event) {
  const std::string line = jsonLine(event, kWallNow);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  return json::parse(line);
}

// ---- human lines -------------------------------------------------------------------------

TEST(HumanLine, ChatMessageUsesItsOwnTimestamp) {
  const protocol::ChatEvent c{7, kEventTs, "lobby", "bob", "", "hello", 0};
  EXPECT_EQ(humanLine(c, kWallNow), "[22:13:20] #lobby <bob> hello  [id 7]");
}

TEST(HumanLine, ActionSubjectAndHistory) {
  EXPECT_EQ(humanLine(protocol::ChatEvent{7, kEventTs, "lobby", "bob", "", "waves",
                                          protocol::kFlagAction},
                      kWallNow),
            "[22:13:20] #lobby * bob waves  [id 7]");
  EXPECT_EQ(
      humanLine(protocol::ChatEvent{7, kEventTs, "lobby", "bob", "plans", "noon?", 0}, kWallNow),
      "[22:13:20] #lobby <bob> [plans] noon?  [id 7]");
  EXPECT_EQ(
      humanLine(protocol::ChatEvent{7, kEventTs, "lobby", "bob", "", "old", protocol::kFlagHistory},
                kWallNow),
      "[22:13:20] [history] #lobby <bob> old  [id 7]");
}

TEST(HumanLine, EventWithoutTimestampUsesWallNow) {
  EXPECT_EQ(humanLine(protocol::ChatEvent{7, 0, "lobby", "bob", "", "hi", 0}, kWallNow),
            "[22:14:21] #lobby <bob> hi  [id 7]");
  EXPECT_EQ(humanLine(protocol::JoinEvent{"lobby", "bob"}, kWallNow),
            "[22:14:21] #lobby --> bob joined");
}

TEST(HumanLine, PrivateMessage) {
  EXPECT_EQ(humanLine(protocol::PrivateEvent{8, kEventTs, "bob", "alice", "", "psst", 0}, kWallNow),
            "[22:13:20] *bob -> alice* psst  [id 8]");
  EXPECT_EQ(humanLine(protocol::PrivateEvent{8, kEventTs, "bob", "alice", "re", "ok", 0}, kWallNow),
            "[22:13:20] *bob -> alice* [re] ok  [id 8]");
}

TEST(HumanLine, MultiLineTextIsIndentedUnderTheFirstLine) {
  const protocol::ChatEvent c{7, kEventTs, "lobby", "bob", "", "one\ntwo\n\tthree", 0};
  const std::string indent(std::string("[22:13:20] #lobby <bob> ").size(), ' ');
  EXPECT_EQ(humanLine(c, kWallNow),
            "[22:13:20] #lobby <bob> one\n" + indent + "two\n" + indent + "\tthree  [id 7]");
}

TEST(HumanLine, RoomAndUserEvents) {
  EXPECT_EQ(humanLine(protocol::PartEvent{"dev", "bob", "lunch"}, kWallNow),
            "[22:14:21] #dev <-- bob left (lunch)");
  EXPECT_EQ(humanLine(protocol::QuitEvent{"dev", "bob", ""}, kWallNow),
            "[22:14:21] #dev <-- bob quit");
  EXPECT_EQ(humanLine(protocol::NickEvent{"bob", "rob"}, kWallNow),
            "[22:14:21] -- bob is now known as rob");
  EXPECT_EQ(humanLine(protocol::KickEvent{"dev", "mallory", "op", "spam"}, kWallNow),
            "[22:14:21] #dev <-- mallory was kicked by op (spam)");
  EXPECT_EQ(humanLine(protocol::KickEvent{"", "mallory", "op", ""}, kWallNow),
            "[22:14:21] <-- mallory was kicked by op");
  EXPECT_EQ(humanLine(protocol::DeletedEvent{"dev", 12, "bob"}, kWallNow),
            "[22:14:21] #dev -- message 12 deleted by bob");
}

TEST(HumanLine, Topics) {
  EXPECT_EQ(humanLine(protocol::TopicEvent{"dev", "ship it", "bob", 1}, kWallNow),
            "[22:14:21] #dev -- topic: ship it (set by bob)");
  EXPECT_EQ(humanLine(protocol::TopicEvent{"dev", "", "bob", 1}, kWallNow),
            "[22:14:21] #dev -- bob cleared the topic");
  EXPECT_EQ(humanLine(protocol::TopicEvent{"dev", "", "", 0}, kWallNow), "");
}

TEST(HumanLine, PresenceAndAway) {
  EXPECT_EQ(
      humanLine(protocol::PresenceEvent{"bob", protocol::PresenceState::Away, "lunch"}, kWallNow),
      "[22:14:21] -- bob is away: lunch");
  EXPECT_EQ(
      humanLine(protocol::PresenceEvent{"bob", protocol::PresenceState::Lagging, ""}, kWallNow),
      "[22:14:21] -- bob is lagging");
  EXPECT_EQ(
      humanLine(protocol::PresenceEvent{"bob", protocol::PresenceState::Active, ""}, kWallNow),
      "[22:14:21] -- bob is active");
  EXPECT_EQ(humanLine(protocol::AwayReply{"bob", "lunch"}, kWallNow),
            "[22:14:21] -- bob is away: lunch");
}

TEST(HumanLine, Errors) {
  EXPECT_EQ(
      humanLine(protocol::ErrorReply{protocol::ErrorCode::NickInUse, 0, "bob", "nick in use: bob"},
                kWallNow),
      "[22:14:21] ! error nick_in_use: nick in use: bob");
  EXPECT_EQ(humanLine(protocol::ErrorReply{protocol::ErrorCode::NotInRoom, 0, "dev",
                                           "you are not in that room"},
                      kWallNow),
            "[22:14:21] ! error not_in_room: you are not in that room (dev)");
  EXPECT_EQ(humanLine(client_event::LocalError{"usage", "usage: /nick new"}, kWallNow),
            "[22:14:21] ! usage: /nick new");
  EXPECT_EQ(humanLine(client_event::LocalError{"text_too_long", "too long"}, kWallNow),
            "[22:14:21] ! error text_too_long: too long");
}

TEST(HumanLine, WelcomeShowsTheRoomAndTheMotdIndented) {
  const std::string line =
      humanLine(client_event::Welcome{welcomeFrame("alice"), "lobby", false}, kWallNow);
  EXPECT_EQ(line,
            "[22:14:21] -- connected to lan as alice; you are in #lobby\n"
            "              hello\n"
            "              world");
}

TEST(HumanLine, WhoListShowsOperatorsStatesAndRoundTripTimes) {
  client_event::WhoList w{"dev",
                          {{"alice", protocol::PresenceState::Active, 3, protocol::kUserOperator},
                           {"bob", protocol::PresenceState::Away, 0, protocol::kUserTyping},
                           {"carol", protocol::PresenceState::Active, 0, 0},
                           {"dave", protocol::PresenceState::Lagging, 250, 0}}};
  EXPECT_EQ(humanLine(w, kWallNow),
            "[22:14:21] #dev -- 4 users: @alice (3 ms), bob (away, typing), carol, dave (lagging, "
            "250 ms)");
}

TEST(HumanLine, TypingStartIsShownStopIsNot) {
  EXPECT_EQ(humanLine(client_event::Typing{"bob", "dev", false, true}, kWallNow),
            "[22:14:21] #dev -- bob is typing");
  EXPECT_EQ(humanLine(client_event::Typing{"bob", "alice", true, true}, kWallNow),
            "[22:14:21] -- bob is typing to you");
  EXPECT_EQ(humanLine(client_event::Typing{"bob", "dev", false, false}, kWallNow), "");
}

TEST(HumanLine, ConnectionEvents) {
  EXPECT_EQ(humanLine(client_event::ConnectionLost{"timed out"}, kWallNow),
            "[22:14:21] ! connection lost: timed out");
  EXPECT_EQ(humanLine(client_event::Reconnecting{500, 1}, kWallNow),
            "[22:14:21] -- reconnecting in 500 ms (attempt 1)");
  EXPECT_EQ(humanLine(client_event::Reconnecting{4000, 4}, kWallNow),
            "[22:14:21] -- reconnecting in 4.0 s (attempt 4)");
  EXPECT_EQ(humanLine(client_event::Finished{kExitOk, ""}, kWallNow), "[22:14:21] -- bye");
  EXPECT_EQ(humanLine(client_event::Finished{kExitKicked, "kicked by op: spam"}, kWallNow),
            "[22:14:21] ! kicked by op: spam (exit 3)");
}

TEST(HumanLine, WhoisIsSeveralIndentedLines) {
  protocol::WhoisReply w{"bob",
                         protocol::PresenceState::Away,
                         0,
                         3000,
                         "lunch",
                         12,
                         5,
                         200,
                         protocol::kUserOperator,
                         {"dev", "lobby"},
                         "beta"};
  EXPECT_EQ(humanLine(w, kWallNow),
            "[22:14:21] -- bob: away (lunch), operator, on server beta\n"
            "              rooms: #dev #lobby\n"
            "              round trip 12 ms, ping loss 0.5 %, last heard 200 ms ago, idle 3.0 s");
}

TEST(HumanLine, UnconfirmedMessagesAreListedOnePerLineAndSendingPrintsNothing) {
  const client_event::Unconfirmed u{
      {{5, "lobby", false, "", "are you there?", false}, {6, "bob", true, "re", "ping", false}},
      true};
  EXPECT_EQ(humanLine(u, kWallNow),
            "[22:14:21] ! 2 messages were not confirmed by the server; sending again after "
            "reconnecting:\n"
            "             #lobby: are you there?\n"
            "             to bob: [re] ping");
  EXPECT_NE(humanLine(client_event::Unconfirmed{{{5, "lobby", false, "", "x", false}}, false},
                      kWallNow)
                .find("1 message was not confirmed by the server and may not have arrived"),
            std::string::npos);
  EXPECT_EQ(humanLine(client_event::Sending{{5, "lobby", false, "", "x", false}}, kWallNow), "");
}

TEST(JsonLine, SendingAndUnconfirmedNameEachMessageByItsClientId) {
  json j = parsed(client_event::Sending{{5, "lobby", false, "", "hi", true}});
  EXPECT_EQ(j.at("type"), "sending");
  EXPECT_EQ(j.at("client_id"), 5);
  EXPECT_EQ(j.at("room"), "lobby");
  EXPECT_EQ(j.at("text"), "hi");
  EXPECT_EQ(j.at("subject"), nullptr);
  EXPECT_EQ(j.at("action"), true);
  j = parsed(client_event::Unconfirmed{{{6, "bob", true, "s", "yo", false}}, false});
  EXPECT_EQ(j.at("type"), "unconfirmed");
  EXPECT_EQ(j.at("will_resend"), false);
  ASSERT_EQ(j.at("messages").size(), 1u);
  EXPECT_EQ(j.at("messages")[0].at("to"), "bob");
  EXPECT_EQ(j.at("messages")[0].at("client_id"), 6);
  EXPECT_EQ(j.at("messages")[0].at("subject"), "s");
  j = parsed(protocol::ChatEvent{7, kEventTs, "lobby", "bob", "", "x", 0, 99});
  EXPECT_EQ(j.at("client_id"), 99);
  j = parsed(protocol::ChatEvent{7, kEventTs, "lobby", "bob", "", "x", 0, 0});
  EXPECT_EQ(j.at("client_id"), nullptr);
}

TEST(HumanLine, NoEscapeSequenceFromTheNetworkReachesTheTerminal) {
  // ESC, CSI as C1 (U+009B), BEL, carriage return, and a stray invalid byte.
  const std::string hostile = "x\x1b]0;owned\x07\x1b[2J\xc2\x9b\x31m\r\xff";
  for (const Sample& sample : everyEvent(hostile)) {
    const std::string line = humanLine(sample.event, kWallNow);
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << sample.type << ": " << line;
    EXPECT_EQ(line.find('\x07'), std::string::npos) << sample.type;
    EXPECT_EQ(line.find('\r'), std::string::npos) << sample.type;
    EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos) << sample.type;
    EXPECT_EQ(line.find('\xff'), std::string::npos) << sample.type;
    if (sample.type == "sending") {
      EXPECT_EQ(line, "") << "the echo, or an unconfirmed line, says it";
      continue;
    }
    if (sample.type != "reconnecting" && sample.type != "connected") {
      EXPECT_NE(line.find("^["), std::string::npos) << sample.type << ": " << line;
    }
  }
}

TEST(HumanLine, NewlinesOutsideMessageTextAreNotKept) {
  // A nick or room cannot hold a newline legitimately; printing one would forge a line.
  const std::string line =
      humanLine(protocol::JoinEvent{"dev", "bob\n[12:00:00] <op> hi"}, kWallNow);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

// ---- JSON lines --------------------------------------------------------------------------

TEST(JsonLine, EveryAlternativeHasAType) {
  const std::vector<Sample> samples = everyEvent("plain");
  std::set<std::size_t> indexes;
  for (const Sample& sample : samples) indexes.insert(sample.event.index());
  EXPECT_EQ(indexes.size(), std::variant_size_v<ClientEvent>);
  for (const Sample& sample : samples) {
    const json j = parsed(sample.event);
    EXPECT_EQ(j.at("type"), sample.type);
    EXPECT_TRUE(j.at("ts").is_number_integer()) << sample.type;
  }
}

TEST(JsonLine, Welcome) {
  const json j = parsed(client_event::Welcome{welcomeFrame("alice"), "lobby", true});
  EXPECT_EQ(j.at("type"), "welcome");
  EXPECT_EQ(j.at("nick"), "alice");
  EXPECT_EQ(j.at("room"), "lobby");
  EXPECT_EQ(j.at("reconnected"), true);
  EXPECT_EQ(j.at("server"), "lan");
  EXPECT_EQ(j.at("motd"), "hello\nworld");
  EXPECT_EQ(j.at("max_message_bytes"), 2000);
  EXPECT_EQ(j.at("rate_burst"), 10);
  EXPECT_EQ(j.at("rate_per_second"), 5);
  EXPECT_EQ(j.at("ping_interval_ms"), 1000);
  EXPECT_EQ(j.at("ts"), kWallNow);
}

TEST(JsonLine, Message) {
  json j = parsed(protocol::ChatEvent{7, kEventTs, "lobby", "bob", "", "hi\tthere", 0});
  EXPECT_EQ(j.at("type"), "message");
  EXPECT_EQ(j.at("id"), 7);
  EXPECT_EQ(j.at("ts"), kEventTs);
  EXPECT_EQ(j.at("room"), "lobby");
  EXPECT_EQ(j.at("from"), "bob");
  EXPECT_EQ(j.at("text"), "hi\tthere");
  EXPECT_TRUE(j.at("subject").is_null());
  EXPECT_EQ(j.at("history"), false);
  EXPECT_EQ(j.at("action"), false);

  j = parsed(protocol::ChatEvent{UINT64_MAX, kEventTs, "lobby", "bob", "plans", "x",
                                 protocol::kFlagAction | protocol::kFlagHistory});
  EXPECT_EQ(j.at("id").get<std::uint64_t>(), UINT64_MAX);
  EXPECT_EQ(j.at("subject"), "plans");
  EXPECT_EQ(j.at("history"), true);
  EXPECT_EQ(j.at("action"), true);
}

TEST(JsonLine, Private) {
  const json j = parsed(protocol::PrivateEvent{8, kEventTs, "bob", "alice", "re", "psst", 0});
  EXPECT_EQ(j.at("type"), "private");
  EXPECT_EQ(j.at("id"), 8);
  EXPECT_EQ(j.at("ts"), kEventTs);
  EXPECT_EQ(j.at("from"), "bob");
  EXPECT_EQ(j.at("to"), "alice");
  EXPECT_EQ(j.at("text"), "psst");
  EXPECT_EQ(j.at("subject"), "re");
  EXPECT_EQ(j.at("action"), false);
}

TEST(JsonLine, JoinPartQuit) {
  json j = parsed(protocol::JoinEvent{"dev", "bob"});
  EXPECT_EQ(j.at("type"), "join");
  EXPECT_EQ(j.at("room"), "dev");
  EXPECT_EQ(j.at("nick"), "bob");
  EXPECT_TRUE(j.at("reason").is_null());
  j = parsed(protocol::PartEvent{"dev", "bob", "lunch"});
  EXPECT_EQ(j.at("type"), "part");
  EXPECT_EQ(j.at("reason"), "lunch");
  j = parsed(protocol::QuitEvent{"dev", "bob", ""});
  EXPECT_EQ(j.at("type"), "quit");
  EXPECT_EQ(j.at("room"), "dev");
  EXPECT_TRUE(j.at("reason").is_null());
}

TEST(JsonLine, NickDeletedKickTopic) {
  json j = parsed(protocol::NickEvent{"bob", "rob"});
  EXPECT_EQ(j.at("old"), "bob");
  EXPECT_EQ(j.at("new"), "rob");
  j = parsed(protocol::DeletedEvent{"dev", 12, "op"});
  EXPECT_EQ(j.at("type"), "deleted");
  EXPECT_EQ(j.at("room"), "dev");
  EXPECT_EQ(j.at("id"), 12);
  EXPECT_EQ(j.at("by"), "op");
  j = parsed(protocol::KickEvent{"dev", "mallory", "op", "spam"});
  EXPECT_EQ(j.at("type"), "kick");
  EXPECT_EQ(j.at("room"), "dev");
  EXPECT_EQ(j.at("nick"), "mallory");
  EXPECT_EQ(j.at("by"), "op");
  EXPECT_EQ(j.at("reason"), "spam");
  EXPECT_TRUE(parsed(protocol::KickEvent{"", "m", "op", ""}).at("room").is_null());
  j = parsed(protocol::TopicEvent{"dev", "ship it", "bob", 1234});
  EXPECT_EQ(j.at("topic"), "ship it");
  EXPECT_EQ(j.at("set_by"), "bob");
  EXPECT_EQ(j.at("set_ts"), 1234);
  j = parsed(protocol::TopicEvent{"dev", "", "", 0});
  EXPECT_EQ(j.at("topic"), "");
  EXPECT_TRUE(j.at("set_by").is_null());
  EXPECT_TRUE(j.at("set_ts").is_null());
}

TEST(JsonLine, Who) {
  const json j = parsed(client_event::WhoList{
      "dev",
      {{"alice", protocol::PresenceState::Active, 12, protocol::kUserOperator},
       {"bob", protocol::PresenceState::Lagging, 0, protocol::kUserTyping}}});
  EXPECT_EQ(j.at("type"), "who");
  EXPECT_EQ(j.at("room"), "dev");
  const json& users = j.at("users");
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].at("nick"), "alice");
  EXPECT_EQ(users[0].at("state"), "active");
  EXPECT_EQ(users[0].at("rtt_ms"), 12);
  EXPECT_EQ(users[0].at("operator"), true);
  EXPECT_EQ(users[0].at("typing"), false);
  EXPECT_EQ(users[1].at("state"), "lagging");
  EXPECT_TRUE(users[1].at("rtt_ms").is_null());
  EXPECT_EQ(users[1].at("typing"), true);
}

TEST(JsonLine, Whois) {
  const json j = parsed(protocol::WhoisReply{"bob",
                                             protocol::PresenceState::Away,
                                             1000,
                                             3000,
                                             "lunch",
                                             12,
                                             5,
                                             200,
                                             protocol::kUserOperator,
                                             {"dev", "lobby"},
                                             "beta"});
  EXPECT_EQ(j.at("nick"), "bob");
  EXPECT_EQ(j.at("server"), "beta");
  EXPECT_EQ(j.at("state"), "away");
  EXPECT_EQ(j.at("away_message"), "lunch");
  EXPECT_EQ(j.at("signon_ts"), 1000);
  EXPECT_EQ(j.at("idle_ms"), 3000);
  EXPECT_EQ(j.at("rtt_ms"), 12);
  EXPECT_EQ(j.at("ping_loss_permille"), 5);
  EXPECT_EQ(j.at("last_heard_ms"), 200);
  EXPECT_EQ(j.at("operator"), true);
  EXPECT_EQ(j.at("typing"), false);
  EXPECT_EQ(j.at("rooms"), json::array({"dev", "lobby"}));
}

TEST(JsonLine, PresenceAwayNotice) {
  json j = parsed(protocol::PresenceEvent{"bob", protocol::PresenceState::Away, "lunch"});
  EXPECT_EQ(j.at("type"), "presence");
  EXPECT_EQ(j.at("nick"), "bob");
  EXPECT_EQ(j.at("state"), "away");
  EXPECT_EQ(j.at("message"), "lunch");
  j = parsed(protocol::PresenceEvent{"bob", protocol::PresenceState::Active, ""});
  EXPECT_TRUE(j.at("message").is_null());
  j = parsed(protocol::AwayReply{"bob", "lunch"});
  EXPECT_EQ(j.at("type"), "away");
  EXPECT_EQ(j.at("message"), "lunch");
  j = parsed(protocol::NoticeEvent{protocol::NoticeKind::OperGranted, "you are now an operator"});
  EXPECT_EQ(j.at("kind"), "oper_granted");
  EXPECT_EQ(j.at("text"), "you are now an operator");
}

TEST(JsonLine, ServerAndLocalErrors) {
  json j = parsed(protocol::ErrorReply{protocol::ErrorCode::RateLimited, 180, "", "slow down"});
  EXPECT_EQ(j.at("type"), "error");
  EXPECT_EQ(j.at("code"), "rate_limited");
  EXPECT_EQ(j.at("message"), "slow down");
  EXPECT_EQ(j.at("retry_after_ms"), 180);
  EXPECT_TRUE(j.at("context").is_null());
  EXPECT_EQ(j.at("local"), false);
  j = parsed(protocol::ErrorReply{protocol::ErrorCode::NickInUse, 0, "bob", "taken"});
  EXPECT_EQ(j.at("code"), "nick_in_use");
  EXPECT_EQ(j.at("context"), "bob");
  j = parsed(client_event::LocalError{"text_too_long", "too long"});
  EXPECT_EQ(j.at("type"), "error");
  EXPECT_EQ(j.at("code"), "text_too_long");
  EXPECT_EQ(j.at("retry_after_ms"), 0);
  EXPECT_EQ(j.at("local"), true);
}

TEST(JsonLine, ClientEvents) {
  json j = parsed(client_event::Typing{"bob", "alice", true, false});
  EXPECT_EQ(j.at("nick"), "bob");
  EXPECT_EQ(j.at("target"), "alice");
  EXPECT_EQ(j.at("private"), true);
  EXPECT_EQ(j.at("active"), false);
  j = parsed(client_event::Reconnecting{2000, 3});
  EXPECT_EQ(j.at("delay_ms"), 2000);
  EXPECT_EQ(j.at("attempt"), 3);
  j = parsed(client_event::ConnectionLost{"timed out"});
  EXPECT_EQ(j.at("reason"), "timed out");
  j = parsed(client_event::Info{"line one\nline two"});
  EXPECT_EQ(j.at("text"), "line one\nline two");
  j = parsed(client_event::Finished{kExitGaveUp, "gave up"});
  EXPECT_EQ(j.at("exit_status"), kExitGaveUp);
  EXPECT_EQ(j.at("reason"), "gave up");
  EXPECT_TRUE(parsed(client_event::Finished{kExitOk, ""}).at("reason").is_null());
}

TEST(JsonLine, ControlCharactersAreEscapedAndTextIsKept) {
  const std::string line =
      jsonLine(protocol::ChatEvent{1, kEventTs, "lobby", "b\x1b", "", "a\x1b[31m\nb", 0}, kWallNow);
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  const json j = json::parse(line);
  EXPECT_EQ(j.at("text"), "a\x1b[31m\nb");  // exact text, for programs
  EXPECT_EQ(j.at("from"), "b\x1b");
}

TEST(JsonLine, InvalidUtf8BecomesReplacementCharacters) {
  const std::string line =
      jsonLine(client_event::LocalError{"usage", "bad \xff\xfe here"}, kWallNow);
  const json j = json::parse(line);  // throws on invalid UTF-8
  EXPECT_EQ(j.at("message"), "bad \xEF\xBF\xBD\xEF\xBF\xBD here");
}

}  // namespace
}  // namespace udpchat::format

namespace udpchat {
namespace {

TEST(HistoryEndText, SaysHowManyAndHowToPageOn) {
  EXPECT_EQ(format::historyEndText({"dev", false, 3, 41, true}),
            "3 earlier messages; /history #dev before 41 for the ones before");
  EXPECT_EQ(format::historyEndText({"dev", false, 1, 41, false}),
            "1 earlier message; that is the beginning");
  EXPECT_EQ(format::historyEndText({"dev", false, 0, 0, false}), "no earlier messages");
  EXPECT_EQ(format::historyEndText({"dev", true, 2, 5, false}), "2 messages match, newest first");
  EXPECT_EQ(format::historyEndText({"dev", true, 0, 0, false}), "no kept message matches");
  const auto j = nlohmann::json::parse(
      format::jsonLine(ClientEvent{protocol::HistoryEnd{"dev", true, 2, 5, true}}, 1));
  EXPECT_EQ(j["type"], "history_end");
  EXPECT_EQ(j["search"], true);
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["oldest_id"], 5);
  EXPECT_EQ(j["more"], true);
}

}  // namespace
}  // namespace udpchat
