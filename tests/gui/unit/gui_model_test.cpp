// The desktop client's window model fed ClientCore events by hand: conversations, unread counts,
// user lists, lines being sent, and the lines the compose area hands to the core. No display, no
// socket, no clock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat_model.hpp"

namespace udpchat::gui {
namespace {

struct FakeStatus : ChatStatus {
  ConnectionState st = ConnectionState::Registered;
  std::string nickName = "alice";
  std::vector<std::string> joined = {"lobby"};
  std::string current = "lobby";
  ConnectionState state() const override { return st; }
  const std::string& nick() const override { return nickName; }
  const std::vector<std::string>& rooms() const override { return joined; }
  const std::string& currentRoom() const override { return current; }
};

class GuiModel : public ::testing::Test {
 protected:
  void feed(const ClientEvent& e) { model.handle(e, status, 1'700'000'000'000, 1000); }
  void welcome() {
    protocol::Welcome w;
    w.nick = "alice";
    w.serverName = "Office";
    feed(client_event::Welcome{w, "lobby", false});
    feed(protocol::JoinEvent{"lobby", "alice"});
  }
  int lobby() const { return model.find(ConversationKind::Room, QStringLiteral("lobby")); }
  protocol::ChatEvent chat(std::string from, std::string text, std::uint8_t flags = 0) {
    protocol::ChatEvent c;
    c.id = ++lastId;
    c.ts = 1'700'000'000'000;
    c.room = "lobby";
    c.from = std::move(from);
    c.text = std::move(text);
    c.flags = flags;
    return c;
  }
  FakeStatus status;
  ChatModel model;
  protocol::MessageId lastId = 100;
};

TEST_F(GuiModel, OurJoinOpensTheRoomAndShowsIt) {
  welcome();
  ASSERT_GT(lobby(), 0);
  EXPECT_EQ(model.current(), lobby());
  EXPECT_EQ(model.serverName(), QStringLiteral("Office"));
  EXPECT_TRUE(model.connection().registered);
}

TEST_F(GuiModel, JoinsAndPartsKeepTheUserListSorted) {
  welcome();
  feed(protocol::JoinEvent{"lobby", "Carol"});
  feed(protocol::JoinEvent{"lobby", "bob"});
  const auto& members = model.at(lobby()).members;
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].nick, QStringLiteral("alice"));
  EXPECT_EQ(members[1].nick, QStringLiteral("bob"));
  EXPECT_EQ(members[2].nick, QStringLiteral("Carol"));
  feed(protocol::PartEvent{"lobby", "carol", "bye"});  // nicks compare case-insensitively
  EXPECT_EQ(model.at(lobby()).members.size(), 2u);
  feed(protocol::QuitEvent{"lobby", "bob", ""});
  EXPECT_EQ(model.at(lobby()).members.size(), 1u);
}

TEST_F(GuiModel, WhoListsCarryPresenceAndRoundTrip) {
  welcome();
  protocol::WhoEntry bob{"bob", protocol::PresenceState::Away, 42, protocol::kUserOperator};
  feed(client_event::WhoList{"lobby", {protocol::WhoEntry{"alice"}, bob}});
  const auto& members = model.at(lobby()).members;
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[1].state, protocol::PresenceState::Away);
  EXPECT_EQ(members[1].rttMs, 42u);
  EXPECT_TRUE(members[1].isOperator);
  feed(protocol::PresenceEvent{"bob", protocol::PresenceState::Lagging, ""});
  EXPECT_EQ(model.at(lobby()).members[1].state, protocol::PresenceState::Lagging);
}

TEST_F(GuiModel, TheEndOfAHistoryPageAndABanListAreSaidInTheirConversation) {
  welcome();
  feed(protocol::HistoryEnd{"lobby", false, 20, 41, true});
  EXPECT_EQ(model.at(lobby()).lines.back().kind, ChatLine::Kind::Event);
  EXPECT_EQ(model.at(lobby()).lines.back().text,
            QStringLiteral("20 earlier messages; /history before 41 for the ones before"));
  feed(protocol::HistoryEnd{"lobby", true, 0, 0, false});
  EXPECT_EQ(model.at(lobby()).lines.back().text, QStringLiteral("no kept message matches"));
  feed(protocol::BanListReply{{{"mallory", "spam", "oper", 1}}, false});
  EXPECT_EQ(model.at(model.current()).lines.back().text,
            QStringLiteral("bans: mallory (by oper: spam)"));
}

TEST_F(GuiModel, PrivateMessageOpensAConversationWithAnUnreadCount) {
  welcome();
  protocol::PrivateEvent p;
  p.id = 7;
  p.from = "bob";
  p.to = "alice";
  p.subject = "Slides";
  p.text = "bring them?";
  feed(p);
  const int i = model.find(ConversationKind::Private, QStringLiteral("bob"));
  ASSERT_GT(i, 0);
  EXPECT_NE(model.current(), i);
  EXPECT_EQ(model.at(i).unread, 1);
  EXPECT_TRUE(model.at(i).mentioned);
  EXPECT_EQ(model.at(i).lines.back().subject, QStringLiteral("Slides"));
  model.setCurrent(i);
  EXPECT_EQ(model.at(i).unread, 0);
  EXPECT_FALSE(model.at(i).mentioned);
}

TEST_F(GuiModel, UnreadCountsOnlyOthersLiveMessagesInHiddenConversations) {
  welcome();
  feed(chat("bob", "shown, so read"));
  EXPECT_EQ(model.at(lobby()).unread, 0);
  model.setCurrent(0);
  feed(chat("bob", "old", protocol::kFlagHistory));
  feed(chat("alice", "mine"));
  EXPECT_EQ(model.at(lobby()).unread, 0);
  feed(chat("bob", "new"));
  feed(chat("bob", "hey ALICE!"));
  EXPECT_EQ(model.at(lobby()).unread, 2);
  EXPECT_TRUE(model.at(lobby()).mentioned);
  const auto& lines = model.at(lobby()).lines;
  EXPECT_TRUE(lines[lines.size() - 4].history);
  EXPECT_TRUE(lines.back().mention);
  EXPECT_FALSE(lines[lines.size() - 2].mention);
}

TEST_F(GuiModel, MentionIsAWholeWord) {
  welcome();
  feed(chat("bob", "malice aforethought"));
  EXPECT_FALSE(model.at(lobby()).lines.back().mention);
  feed(chat("bob", "alice: hi"));
  EXPECT_TRUE(model.at(lobby()).lines.back().mention);
}

TEST_F(GuiModel, ALineBeingSentIsPendingUntilItsEcho) {
  welcome();
  OutgoingMessage m;
  m.clientId = 55;
  m.target = "lobby";
  m.text = "hello";
  feed(client_event::Sending{m});
  feed(client_event::Sending{m});  // the resend after a reconnect announces it again
  ASSERT_EQ(model.at(lobby()).lines.back().text, QStringLiteral("hello"));
  EXPECT_TRUE(model.at(lobby()).lines.back().pending);
  const std::size_t count = model.at(lobby()).lines.size();
  auto echo = chat("alice", "hello");
  echo.clientId = 55;
  feed(echo);
  EXPECT_EQ(model.at(lobby()).lines.size(), count);  // replaced, not added
  EXPECT_FALSE(model.at(lobby()).lines.back().pending);
  EXPECT_EQ(model.at(lobby()).lines.back().id, echo.id);
}

TEST_F(GuiModel, ARefusedLineSaysWhy) {
  welcome();
  OutgoingMessage m;
  m.clientId = 56;
  m.target = "lobby";
  m.text = "too much";
  feed(client_event::Sending{m});
  protocol::ErrorReply e;
  e.code = protocol::ErrorCode::TextTooLong;
  e.clientId = 56;
  feed(e);
  const auto& lines = model.at(lobby()).lines;
  auto it =
      std::find_if(lines.begin(), lines.end(), [](const ChatLine& l) { return l.clientId == 56; });
  ASSERT_NE(it, lines.end());
  EXPECT_FALSE(it->pending);
  EXPECT_TRUE(it->failure.contains(QStringLiteral("not sent")));
}

TEST_F(GuiModel, ComposeToTheCurrentRoomWithASubject) {
  welcome();
  auto lines = model.compose(QStringLiteral("#lobby"), QStringLiteral("Lunch"),
                             QStringLiteral("noon?"), status);
  EXPECT_EQ(lines, (std::vector<std::string>{"/subject Lunch", "noon?"}));
  // The core's confirmation of the subject is not shown.
  const std::size_t count = model.at(lobby()).lines.size();
  feed(client_event::Info{"subject of your next message: Lunch"});
  EXPECT_EQ(model.at(lobby()).lines.size(), count);
  feed(client_event::Info{"something else"});
  EXPECT_EQ(model.at(lobby()).lines.size(), count + 1);
}

TEST_F(GuiModel, ComposeToAnotherRoomSwitchesTheCoreFirst) {
  welcome();
  EXPECT_EQ(model.compose(QStringLiteral("#dev"), {}, QStringLiteral("hi"), status),
            (std::vector<std::string>{"/join #dev", "hi"}));
  EXPECT_EQ(model.compose({}, {}, QStringLiteral("/me waves"), status),
            (std::vector<std::string>{"/me waves"}));
  EXPECT_EQ(model.compose(QStringLiteral("#dev"), {}, QStringLiteral("/topic new"), status),
            (std::vector<std::string>{"/join #dev", "/topic new"}));
  EXPECT_TRUE(model.compose({}, {}, QStringLiteral("   "), status).empty());
}

TEST_F(GuiModel, ComposeToANickIsAPrivateMessage) {
  welcome();
  EXPECT_EQ(model.compose(QStringLiteral("bob"), QStringLiteral("Slides"), QStringLiteral("here"),
                          status),
            (std::vector<std::string>{"/msg bob [Slides] here"}));
  // A '[' in the text stays text; a ']' in the subject goes through /subject.
  EXPECT_EQ(model.compose(QStringLiteral("bob"), {}, QStringLiteral("[x] done"), status),
            (std::vector<std::string>{"/msg bob [] [x] done"}));
  EXPECT_EQ(
      model.compose(QStringLiteral("bob"), QStringLiteral("a]b"), QStringLiteral("t"), status),
      (std::vector<std::string>{"/subject a]b", "/msg bob [] t"}));
  // Typed commands pass through.
  EXPECT_EQ(model.compose(QStringLiteral("bob"), {}, QStringLiteral("/whois bob"), status),
            (std::vector<std::string>{"/whois bob"}));
}

TEST_F(GuiModel, RecipientFollowsTheConversation) {
  welcome();
  EXPECT_EQ(model.recipientFor(lobby()), QStringLiteral("#lobby"));
  const int p = model.openPrivate(QStringLiteral("bob"));
  EXPECT_EQ(model.current(), p);
  EXPECT_EQ(model.recipientFor(p), QStringLiteral("bob"));
  EXPECT_EQ(model.compose({}, {}, QStringLiteral("yo"), status),
            (std::vector<std::string>{"/msg bob [] yo"}));
  EXPECT_EQ(model.typingTarget({}), (std::pair<std::string, bool>{"bob", true}));
  EXPECT_EQ(model.typingTarget(QStringLiteral("#Dev")),
            (std::pair<std::string, bool>{"dev", false}));
}

TEST_F(GuiModel, TypingIsShownPerConversation) {
  welcome();
  feed(protocol::JoinEvent{"lobby", "bob"});
  feed(protocol::JoinEvent{"lobby", "carol"});
  feed(client_event::Typing{"bob", "lobby", false, true});
  EXPECT_EQ(model.typingText(lobby()), QStringLiteral("bob is typing"));
  feed(client_event::Typing{"carol", "lobby", false, true});
  EXPECT_EQ(model.typingText(lobby()), QStringLiteral("bob and carol are typing"));
  feed(client_event::Typing{"bob", "lobby", false, false});
  feed(client_event::Typing{"carol", "lobby", false, false});
  EXPECT_TRUE(model.typingText(lobby()).isEmpty());
}

TEST_F(GuiModel, ConnectionLossAndReconnectForTheBar) {
  welcome();
  feed(client_event::ConnectionLost{"no answer within 5 s"});
  feed(client_event::Reconnecting{2000, 1});
  EXPECT_TRUE(model.connection().lost);
  EXPECT_EQ(model.connection().retryAtMono, 3000);
  EXPECT_EQ(model.connection().attempt, 1);
  protocol::Welcome w;
  w.nick = "alice";
  feed(client_event::Welcome{w, "lobby", true});
  EXPECT_FALSE(model.connection().lost);
  EXPECT_TRUE(model.connection().registered);
}

TEST_F(GuiModel, LeavingARoomClosesItsConversation) {
  welcome();
  feed(protocol::JoinEvent{"dev", "alice"});
  const int dev = model.find(ConversationKind::Room, QStringLiteral("dev"));
  model.setCurrent(dev);
  feed(protocol::PartEvent{"dev", "alice", ""});
  EXPECT_EQ(model.find(ConversationKind::Room, QStringLiteral("dev")), -1);
  EXPECT_EQ(model.current(), lobby());
}

TEST_F(GuiModel, DeletingOwnMessagesOnly) {
  welcome();
  feed(chat("alice", "oops"));
  feed(chat("bob", "not mine"));
  const int n = static_cast<int>(model.at(lobby()).lines.size());
  EXPECT_TRUE(model.canDelete(lobby(), n - 2));
  EXPECT_FALSE(model.canDelete(lobby(), n - 1));
  status.current = "dev";
  EXPECT_EQ(model.deleteLine(lobby(), n - 2, status),
            (std::vector<std::string>{"/join #lobby", "/delete " + std::to_string(lastId - 1)}));
  feed(protocol::DeletedEvent{"lobby", lastId - 1, "alice"});
  EXPECT_TRUE(model.at(lobby()).lines[static_cast<std::size_t>(n - 2)].deleted);
  EXPECT_FALSE(model.canDelete(lobby(), n - 2));
}

TEST_F(GuiModel, NickColoursAreStableAndCaseBlind) {
  EXPECT_EQ(nickHue(QStringLiteral("Bob")), nickHue(QStringLiteral("bob")));
  EXPECT_NE(nickHue(QStringLiteral("bob")), nickHue(QStringLiteral("carol")));
}

}  // namespace
}  // namespace udpchat::gui

namespace udpchat::gui {
namespace {

TEST_F(GuiModel, LinesTypedWhileDisconnectedShowAtOnceAndTakeTheirIdLater) {
  welcome();
  feed(client_event::ConnectionLost{"closed"});
  status.st = ConnectionState::WaitingRetry;
  const auto lines = model.compose(QStringLiteral("#lobby"), QStringLiteral("S"),
                                   QStringLiteral("queued"), status);
  ASSERT_EQ(lines, (std::vector<std::string>{"/subject S", "queued"}));
  const std::size_t count = model.at(lobby()).lines.size();
  EXPECT_TRUE(model.at(lobby()).lines.back().pending);
  EXPECT_EQ(model.at(lobby()).lines.back().subject, QStringLiteral("S"));
  EXPECT_EQ(model.at(lobby()).lines.back().clientId, 0u);
  OutgoingMessage m;
  m.clientId = 77;
  m.target = "lobby";
  m.subject = "S";
  m.text = "queued";
  feed(client_event::Sending{m});
  EXPECT_EQ(model.at(lobby()).lines.size(), count);
  EXPECT_EQ(model.at(lobby()).lines.back().clientId, 77u);
  auto echo = chat("alice", "queued");
  echo.clientId = 77;
  feed(echo);
  EXPECT_FALSE(model.at(lobby()).lines.back().pending);
}

}  // namespace
}  // namespace udpchat::gui
