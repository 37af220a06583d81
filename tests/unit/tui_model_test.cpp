// The full-screen client's model without a terminal: events in, keys in, actions out, and the
// cell grid it draws, read back as text.
#include "client/tui/tui_model.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "client/tui/screen.hpp"
#include "client/tui/tui_style.hpp"

namespace udpchat::tui {
namespace {

using Code = Key::Code;

constexpr Millis kNow = 1'700'000'000'000;

class FakeStatus final : public ChatStatus {
 public:
  ConnectionState state() const override { return state_; }
  const std::string& nick() const override { return nick_; }
  const std::vector<std::string>& rooms() const override { return rooms_; }
  const std::string& currentRoom() const override { return current_; }
  Millis rttMs() const override { return rtt_; }
  std::vector<std::string> typingIn(std::string_view target, bool isPrivate) const override {
    auto it = typing_.find({std::string(target), isPrivate});
    return it == typing_.end() ? std::vector<std::string>{} : it->second;
  }
  std::string_view transportName() const override { return "enet"; }

  ConnectionState state_ = ConnectionState::Registered;
  std::string nick_ = "alice";
  std::vector<std::string> rooms_{"lobby"};
  std::string current_ = "lobby";
  Millis rtt_ = 0;
  std::map<std::pair<std::string, bool>, std::vector<std::string>> typing_;
};

class TuiModelTest : public ::testing::Test {
 protected:
  TuiModelTest() : model_([](Millis) { return std::string("12:00"); }, 80, 24) {}

  void send(const ClientEvent& e) { model_.event(e, status_, kNow); }

  // Registered as alice in #lobby with bob there too.
  void registerInLobby() {
    protocol::Welcome w;
    w.nick = "alice";
    w.serverName = "testserver";
    send(client_event::Welcome{w, "lobby", false});
    send(protocol::JoinEvent{.room = "lobby", .nick = "alice"});
    send(client_event::WhoList{
        "lobby",
        {protocol::WhoEntry{.nick = "alice"}, protocol::WhoEntry{.nick = "bob", .rttMs = 12}}});
  }

  void chat(const std::string& room, const std::string& from, const std::string& text,
            protocol::MessageId id = 1) {
    send(protocol::ChatEvent{
        .id = id, .ts = kNow, .room = room, .from = from, .subject = "", .text = text});
  }

  std::vector<Action> press(Key k) { return model_.key(k, status_, kNow); }
  std::vector<Action> type(const std::string& text) {
    std::vector<Action> all;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t start = pos;
      ++pos;
      while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
      // Decode the one code point between start and pos.
      char32_t cp = static_cast<unsigned char>(text[start]);
      if (pos - start > 1) {
        cp &= 0xFF >> (pos - start + 1);
        for (std::size_t i = start + 1; i < pos; ++i) {
          cp = (cp << 6) | (static_cast<unsigned char>(text[i]) & 0x3F);
        }
      }
      for (auto& a : press(Key::character(cp))) all.push_back(std::move(a));
    }
    return all;
  }
  std::vector<Action> enter(const std::string& text) {
    type(text);
    return press(Key::named(Code::Enter));
  }

  Screen render() {
    Screen s;
    model_.render(s, status_, kNow);
    return s;
  }
  std::string screenText() { return render().text(); }
  std::string row(int y) { return render().rowText(y); }
  static bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
  }
  static std::vector<std::string> inputs(const std::vector<Action>& actions) {
    std::vector<std::string> out;
    for (const auto& a : actions) {
      if (const auto* in = std::get_if<action::Input>(&a)) out.push_back(in->line);
    }
    return out;
  }

  FakeStatus status_;
  TuiModel model_;
};

TEST_F(TuiModelTest, LayoutAtSeveralSizes) {
  model_.resize(80, 24);
  registerInLobby();
  Layout l = model_.layout();
  EXPECT_FALSE(l.tooSmall);
  EXPECT_EQ(l.titleY, 0);
  EXPECT_EQ(l.paneY, 1);
  EXPECT_EQ(l.paneHeight, 21);
  EXPECT_EQ(l.statusY, 22);
  EXPECT_EQ(l.inputY, 23);
  EXPECT_TRUE(l.nickList);
  EXPECT_EQ(l.listWidth, 20);
  EXPECT_EQ(l.paneWidth, 59);

  model_.resize(120, 40);
  l = model_.layout();
  EXPECT_EQ(l.listWidth, 26);
  EXPECT_EQ(l.paneWidth, 120 - 26 - 1);
  EXPECT_EQ(l.inputY, 39);

  model_.resize(50, 10);  // too narrow for a nick list
  l = model_.layout();
  EXPECT_FALSE(l.nickList);
  EXPECT_EQ(l.paneWidth, 50);
  const Screen s = render();
  EXPECT_EQ(s.width(), 50);
  EXPECT_EQ(s.height(), 10);
  EXPECT_TRUE(contains(s.rowText(0), "#lobby"));
  EXPECT_TRUE(contains(s.rowText(8), "[alice]"));
  EXPECT_TRUE(s.rowText(9).starts_with("[#lobby]"));

  model_.resize(10, 3);
  EXPECT_TRUE(model_.layout().tooSmall);
  EXPECT_EQ(render().rowText(0), "window too");
}

TEST_F(TuiModelTest, TitleNickListAndStatusBar) {
  registerInLobby();
  send(protocol::TopicEvent{.room = "lobby", .topic = "release \x1b[31mfriday", .setBy = "bob"});
  send(protocol::PresenceEvent{
      .nick = "bob", .state = protocol::PresenceState::Away, .awayMessage = ""});
  status_.rtt_ = 3;
  const Screen s = render();
  EXPECT_EQ(s.rowText(0), " #lobby: release ^[[31mfriday");  // sanitized
  EXPECT_TRUE(contains(s.rowText(1), "2 users"));
  EXPECT_TRUE(contains(s.rowText(2), "alice"));
  EXPECT_TRUE(contains(s.rowText(2), "3ms"));  // our own round trip
  EXPECT_TRUE(contains(s.rowText(3), "bob"));
  EXPECT_TRUE(contains(s.rowText(3), "away 12ms"));
  EXPECT_TRUE(contains(s.rowText(2), "\u2502"));  // the separator
  const std::string bar = s.rowText(22);
  EXPECT_TRUE(contains(bar, "[12:00] [alice] [2:#lobby] [enet: connected 3 ms]")) << bar;
}

TEST_F(TuiModelTest, NickListShowsTypingAndLagAndTheStatusBarWhoIsTyping) {
  registerInLobby();
  send(protocol::JoinEvent{.room = "lobby", .nick = "carol"});
  send(protocol::PresenceEvent{
      .nick = "carol", .state = protocol::PresenceState::Lagging, .awayMessage = ""});
  status_.typing_[{"lobby", false}] = {"bob"};
  Screen s = render();
  EXPECT_TRUE(contains(s.rowText(3), "bob")) << s.text();
  EXPECT_TRUE(contains(s.rowText(3), "typing 12ms"));
  EXPECT_TRUE(contains(s.rowText(4), "carol"));
  EXPECT_TRUE(contains(s.rowText(4), "lag"));
  EXPECT_TRUE(contains(s.rowText(22), "bob is typing"));
  status_.typing_[{"lobby", false}] = {"bob", "carol"};
  EXPECT_TRUE(contains(row(22), "bob and carol are typing"));
  status_.typing_.clear();
  status_.typing_[{"alice", true}] = {"dave"};
  EXPECT_TRUE(contains(row(22), "dave is typing to you"));
}

TEST_F(TuiModelTest, MessagesWrapWithTimestampAndStayInTheirRoomWindow) {
  registerInLobby();
  chat("lobby", "bob", "wide 漢字 and 😀 fit in a row of the pane but this sentence is long");
  const Screen s = render();
  int found = -1;
  for (int y = 1; y < 22; ++y) {
    if (contains(s.rowText(y), "12:00 <bob> wide 漢字 and 😀")) found = y;
  }
  ASSERT_GE(found, 0) << s.text();
  // The continuation row is indented past "12:00 <bob> " (12 columns).
  EXPECT_TRUE(s.rowText(found + 1).starts_with("            ")) << s.text();
  // Every cell up to the separator is accounted for: wide cells count twice.
  int columns = 0;
  for (int x = 0; x < s.width(); ++x) {
    if (s.at(x, found).text == "\u2502") break;
    columns += 1;
  }
  EXPECT_EQ(columns, model_.layout().paneWidth);
}

TEST_F(TuiModelTest, ScrollbackMarkerAndNewLinesDoNotYankTheView) {
  registerInLobby();
  for (int i = 1; i <= 60; ++i) chat("lobby", "bob", "line " + std::to_string(i), i);
  EXPECT_TRUE(contains(screenText(), "line 60"));
  EXPECT_FALSE(contains(screenText(), "more below"));

  press(Key::named(Code::PageUp));
  std::string text = screenText();
  EXPECT_FALSE(contains(text, "line 60")) << text;
  EXPECT_TRUE(contains(text, "line 40")) << text;
  EXPECT_TRUE(contains(row(21), "-- more below")) << text;

  const Screen before = render();
  chat("lobby", "bob", "line 61", 61);
  const Screen after = render();
  EXPECT_FALSE(contains(after.text(), "line 61"));
  EXPECT_TRUE(contains(after.rowText(21), "1 new")) << after.text();
  // Apart from the marker, the pane is exactly as it was.
  for (int y = 1; y < 21; ++y) EXPECT_EQ(after.rowText(y), before.rowText(y)) << y;

  press(Key::named(Code::PageUp));
  press(Key::named(Code::PageUp));
  press(Key::named(Code::PageUp));  // past the top: stops at the oldest line
  text = screenText();
  EXPECT_TRUE(contains(row(1), "alice joined #lobby")) << text;
  EXPECT_TRUE(contains(row(2), "<bob> line 1")) << text;

  for (int i = 0; i < 10; ++i) press(Key::named(Code::PageDown));
  text = screenText();
  EXPECT_TRUE(contains(text, "line 61"));
  EXPECT_FALSE(contains(text, "more below"));
}

TEST_F(TuiModelTest, MouseWheelScrollsThreeRows) {
  registerInLobby();
  for (int i = 1; i <= 40; ++i) chat("lobby", "bob", "line " + std::to_string(i), i);
  press(Key::named(Code::WheelUp));
  // The bottom row of the pane is the marker; above it, three rows further up than line 40.
  EXPECT_TRUE(contains(row(20), "line 37")) << screenText();
  press(Key::named(Code::WheelDown));
  EXPECT_TRUE(contains(row(21), "line 40"));
  EXPECT_FALSE(contains(screenText(), "more below"));
}

TEST_F(TuiModelTest, ResizeKeepsTheInputAndTheLineReadBack) {
  registerInLobby();
  for (int i = 1; i <= 60; ++i) chat("lobby", "bob", "line " + std::to_string(i), i);
  type("half a li");
  press(Key::named(Code::PageUp));
  const std::string bottom = row(20);
  model_.resize(40, 12);
  Screen s = render();
  EXPECT_EQ(s.rowText(11), "[#lobby] half a li");
  EXPECT_EQ(s.cursorX(), 18);
  EXPECT_EQ(s.cursorY(), 11);
  EXPECT_TRUE(contains(s.rowText(8), bottom.substr(0, 13))) << s.text();  // same line at the bottom
  model_.resize(100, 30);
  s = render();
  EXPECT_EQ(s.rowText(29), "[#lobby] half a li");
  EXPECT_TRUE(contains(s.rowText(26), bottom.substr(0, 13))) << s.text();
}

TEST_F(TuiModelTest, IncomingMessagesDoNotTouchTheInputLine) {
  registerInLobby();
  type("half a li");
  for (int i = 0; i < 30; ++i) chat("lobby", "bob", "interrupting " + std::to_string(i), i + 1);
  send(client_event::ConnectionLost{"timed out"});
  EXPECT_EQ(row(23), "[#lobby] half a li");
  EXPECT_EQ(model_.editor().text(), "half a li");
  EXPECT_EQ(render().cursorX(), 18);
}

TEST_F(TuiModelTest, ConnectionLossAndReconnectInTheStatusBar) {
  registerInLobby();
  model_.resize(120, 24);
  type("kept");
  send(client_event::ConnectionLost{"no answer within 5 s"});
  send(client_event::Reconnecting{2000, 3});
  status_.state_ = ConnectionState::WaitingRetry;
  EXPECT_TRUE(contains(row(22), "[enet: disconnected (no answer within 5 s), retry 3 in 2.0 s]"))
      << row(22);
  status_.state_ = ConnectionState::Connecting;
  EXPECT_TRUE(contains(row(22), "[enet: reconnecting]"));
  protocol::Welcome w;
  w.nick = "alice";
  send(client_event::Welcome{w, "lobby", true});
  status_.state_ = ConnectionState::Registered;
  EXPECT_TRUE(contains(row(22), "[enet: connected]"));
  EXPECT_EQ(row(23), "[#lobby] kept");
  EXPECT_TRUE(contains(screenText(), "reconnected to"));
}

TEST_F(TuiModelTest, WindowsPerRoomAndPrivateWithUnreadCountsAndAltKeys) {
  registerInLobby();
  EXPECT_EQ(model_.windowCount(), 2u);
  EXPECT_EQ(model_.activeWindow(), 1u);  // our join focused #lobby

  // "/join #dev" asks the core; the window opens and takes focus when the join arrives.
  EXPECT_EQ(inputs(enter("/join #dev")), std::vector<std::string>{"/join #dev"});
  send(protocol::JoinEvent{.room = "dev", .nick = "alice"});
  status_.rooms_ = {"lobby", "dev"};
  status_.current_ = "dev";
  EXPECT_EQ(model_.windowCount(), 3u);
  EXPECT_EQ(model_.activeWindow(), 2u);
  EXPECT_TRUE(contains(row(0), "#dev"));

  chat("lobby", "bob", "one", 1);
  chat("lobby", "bob", "two", 2);
  chat("lobby", "bob", "alice: look", 3);
  send(protocol::PrivateEvent{
      .id = 4, .ts = kNow, .from = "carol", .to = "alice", .subject = "", .text = "psst"});
  EXPECT_EQ(model_.window(1).unread(), 3);
  EXPECT_EQ(model_.window(1).activity(), Activity::Highlight);
  ASSERT_EQ(model_.windowCount(), 4u);
  EXPECT_EQ(model_.window(3).kind(), WindowKind::Private);
  EXPECT_EQ(model_.window(3).name(), "carol");
  const std::string bar = row(22);
  EXPECT_TRUE(contains(bar, "[Act: 2:#lobby(3) 4:carol(1)]")) << bar;

  press(Key::alt('2'));
  EXPECT_EQ(model_.activeWindow(), 1u);
  EXPECT_EQ(model_.window(1).unread(), 0);
  EXPECT_TRUE(contains(row(22), "[Act: 4:carol(1)]"));
  enter("/window 4");
  EXPECT_EQ(model_.activeWindow(), 3u);
  EXPECT_TRUE(contains(row(0), "private conversation with carol"));
  EXPECT_FALSE(contains(row(22), "Act:"));
  press(Key::ctrl('p'));
  EXPECT_EQ(model_.activeWindow(), 2u);
  press(Key::ctrl('n'));
  EXPECT_EQ(model_.activeWindow(), 3u);
  enter("/window 9");
  EXPECT_TRUE(contains(screenText(), "no window 9; there are 4"));
  // Joining a room already open switches to its window and sends nothing.
  EXPECT_TRUE(inputs(enter("/join #lobby")).empty());
  EXPECT_EQ(model_.activeWindow(), 1u);
}

TEST_F(TuiModelTest, LinesGoToTheWindowTheyAreTypedIn) {
  registerInLobby();
  send(protocol::JoinEvent{.room = "dev", .nick = "alice"});
  status_.rooms_ = {"lobby", "dev"};
  status_.current_ = "dev";  // the core's current room is #dev
  press(Key::alt('2'));      // but #lobby is on screen
  EXPECT_EQ(inputs(enter("hello")), (std::vector<std::string>{"/join #lobby", "hello"}));
  status_.current_ = "lobby";
  EXPECT_EQ(inputs(enter("/me waves")), std::vector<std::string>{"/me waves"});
  EXPECT_EQ(inputs(enter("/nick bert")), std::vector<std::string>{"/nick bert"});

  enter("/query bob");
  EXPECT_EQ(model_.window(model_.activeWindow()).name(), "bob");
  EXPECT_EQ(inputs(enter("hi there")), std::vector<std::string>{"/msg bob hi there"});
  EXPECT_EQ(inputs(enter("[not a subject] x")),
            std::vector<std::string>{"/msg bob [] [not a subject] x"});
  EXPECT_TRUE(inputs(enter("/me waves")).empty());
  EXPECT_TRUE(contains(screenText(), "/me works in room windows only"));
  EXPECT_EQ(inputs(enter("/quit bye")), std::vector<std::string>{"/quit bye"});
}

TEST_F(TuiModelTest, TypingNoticesGoToTheWindowOnScreenButNotForCommands) {
  registerInLobby();
  auto actions = type("h");
  ASSERT_EQ(actions.size(), 1u);
  const auto* t = std::get_if<action::Typing>(&actions[0]);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->target, "lobby");
  EXPECT_FALSE(t->isPrivate);
  press(Key::ctrl('u'));
  EXPECT_TRUE(type("/who").empty());
  press(Key::ctrl('u'));
  EXPECT_FALSE(type("//x").empty());
  press(Key::ctrl('u'));
  EXPECT_TRUE(press(Key::named(Code::Left)).empty());  // moving is not typing
  enter("/query bob");
  actions = type("y");
  ASSERT_EQ(actions.size(), 1u);
  t = std::get_if<action::Typing>(&actions[0]);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->target, "bob");
  EXPECT_TRUE(t->isPrivate);
  status_.state_ = ConnectionState::WaitingRetry;
  EXPECT_TRUE(type("z").empty());
}

TEST_F(TuiModelTest, TabCompletesNicksAndCommandsCyclingThroughMatches) {
  registerInLobby();
  send(protocol::JoinEvent{.room = "lobby", .nick = "boris"});
  type("bo");
  press(Key::named(Code::Tab));
  EXPECT_EQ(model_.editor().text(), "bob: ");
  press(Key::named(Code::Tab));
  EXPECT_EQ(model_.editor().text(), "boris: ");
  press(Key::named(Code::Tab));
  EXPECT_EQ(model_.editor().text(), "bob: ");
  type("ask BO");
  press(Key::named(Code::Tab));
  EXPECT_EQ(model_.editor().text(), "bob: ask bob ");
  press(Key::ctrl('u'));
  type("/wh");
  press(Key::named(Code::Tab));
  EXPECT_EQ(model_.editor().text(), "/who ");
  press(Key::named(Code::Tab));
  EXPECT_EQ(model_.editor().text(), "/whois ");
  press(Key::ctrl('u'));
  type("/win");
  press(Key::named(Code::Tab));
  EXPECT_EQ(model_.editor().text(), "/window ");
  press(Key::ctrl('u'));
  type("/join #lo");
  press(Key::named(Code::Tab));
  EXPECT_EQ(model_.editor().text(), "/join #lobby ");
  press(Key::ctrl('u'));
  type("al");  // our own nick is not offered
  press(Key::named(Code::Tab));
  EXPECT_EQ(model_.editor().text(), "al");
}

TEST_F(TuiModelTest, HistoryAndEditingKeysThroughTheModel) {
  registerInLobby();
  enter("first");
  enter("second");
  press(Key::named(Code::Up));
  press(Key::named(Code::Up));
  EXPECT_EQ(model_.editor().text(), "first");
  press(Key::named(Code::Down));
  EXPECT_EQ(model_.editor().text(), "second");
  press(Key::ctrl('a'));
  type(">");
  press(Key::ctrl('e'));
  type("<");
  press(Key::named(Code::Home));
  press(Key::named(Code::Delete));
  press(Key::named(Code::End));
  press(Key::named(Code::Backspace));
  EXPECT_EQ(model_.editor().text(), "second");
  press(Key::ctrl('w'));
  EXPECT_EQ(model_.editor().text(), "");
}

TEST_F(TuiModelTest, LongInputScrollsSidewaysToKeepTheCursorVisible) {
  registerInLobby();
  model_.resize(30, 8);
  const std::string text = "0123456789abcdefghijklmnopqrstuvwxyz";
  type(text);
  Screen s = render();
  EXPECT_EQ(s.cursorY(), 7);
  EXPECT_EQ(s.cursorX(), 29);
  EXPECT_TRUE(s.rowText(7).ends_with("uvwxyz")) << s.rowText(7);
  press(Key::named(Code::Home));
  s = render();
  EXPECT_EQ(s.cursorX(), 9);  // after "[#lobby] "
  EXPECT_TRUE(contains(s.rowText(7), "[#lobby] 0123"));
}

TEST_F(TuiModelTest, MentionsAreHighlightedAndNickColoursAreStable) {
  registerInLobby();
  chat("lobby", "bob", "hey Alice, lunch?", 1);
  chat("lobby", "carol", "malice is not a mention", 2);
  const Screen s = render();
  int mentionRow = -1, otherRow = -1;
  for (int y = 1; y < 22; ++y) {
    if (contains(s.rowText(y), "hey Alice")) mentionRow = y;
    if (contains(s.rowText(y), "malice")) otherRow = y;
  }
  ASSERT_GE(mentionRow, 0);
  ASSERT_GE(otherRow, 0);
  // "12:00 <bob> hey " is 16 columns; "Alice" is drawn reversed.
  EXPECT_TRUE(s.at(16, mentionRow).attr.reverse);
  EXPECT_EQ(s.at(16, mentionRow).text, "A");
  EXPECT_FALSE(s.at(15, mentionRow).attr.reverse);
  for (int x = 0; x < 40; ++x) EXPECT_FALSE(s.at(x, otherRow).attr.reverse) << x;
  // bob's colour is the same in the message and in the nick list, and in every run.
  const Attr inMessage = s.at(7, mentionRow).attr;
  EXPECT_EQ(s.at(7, mentionRow).text, "b");
  EXPECT_GE(inMessage.fg, 0);
  const int listX = model_.layout().listX;
  EXPECT_EQ(s.at(listX + 1, 3).text, "b");
  EXPECT_EQ(s.at(listX + 1, 3).attr.fg, inMessage.fg);
  EXPECT_EQ(style::nickAttr("BOB", false).fg, inMessage.fg);
  EXPECT_NE(style::nickAttr("carol", false), style::nickAttr("carol", true));  // own nick bold
}

TEST_F(TuiModelTest, HelpListsCommandsWithSyntaxAndTheFullScreenKeys) {
  registerInLobby();
  model_.resize(100, 60);
  EXPECT_TRUE(inputs(enter("/help")).empty());
  const std::string text = screenText();
  EXPECT_TRUE(contains(text, "/msg nick [subject] text")) << text;
  EXPECT_TRUE(contains(text, "/join #room"));
  EXPECT_TRUE(contains(text, "/window N|next|prev|close"));
  EXPECT_TRUE(contains(text, "Alt-1..9"));
  EXPECT_EQ(inputs(enter("/help msg")), std::vector<std::string>{"/help msg"});
  EXPECT_TRUE(inputs(enter("/help window")).empty());
}

TEST_F(TuiModelTest, EventsFromTheNetworkAreSanitized) {
  registerInLobby();
  chat("lobby", "bob",
       "evil \x1b]0;title\x07 and \xc2\x9b"
       "2J",
       1);
  send(protocol::JoinEvent{.room = "lobby", .nick = "m\x1b[1mx"});
  const Screen s = render();
  for (int y = 0; y < s.height(); ++y) {
    for (int x = 0; x < s.width(); ++x) {
      for (unsigned char c : s.at(x, y).text) {
        ASSERT_FALSE(c < 0x20 || c == 0x7f) << "control byte at " << x << "," << y;
      }
      ASSERT_NE(s.at(x, y).text, "\xc2\x9b");
    }
  }
  EXPECT_TRUE(contains(s.text(), "evil ^[]0;title^G and \\x9b2J")) << s.text();
}

TEST_F(TuiModelTest, PartClosesTheWindowAndDeletedMessagesAreReplaced) {
  registerInLobby();
  chat("lobby", "bob", "oops", 7);
  send(protocol::DeletedEvent{.room = "lobby", .id = 7, .by = "bob"});
  std::string text = screenText();
  EXPECT_FALSE(contains(text, "oops"));
  EXPECT_TRUE(contains(text, "<bob> (message deleted by bob)")) << text;
  send(protocol::PartEvent{.room = "lobby", .nick = "bob", .reason = "lunch"});
  EXPECT_TRUE(contains(screenText(), "bob left (lunch)"));
  ASSERT_EQ(model_.window(1).nicks().size(), 1u);  // bob is gone from the nick list
  EXPECT_EQ(model_.window(1).nicks()[0].nick, "alice");
  EXPECT_EQ(inputs(enter("/window close")), std::vector<std::string>{"/part #lobby"});
  send(protocol::PartEvent{.room = "lobby", .nick = "alice", .reason = ""});
  EXPECT_EQ(model_.windowCount(), 1u);
  EXPECT_EQ(model_.activeWindow(), 0u);
}

TEST_F(TuiModelTest, SentLinesStayDimmedUntilTheirEchoTakesTheirPlace) {
  registerInLobby();
  send(client_event::Sending{{41, "lobby", false, "", "first", false}});
  send(client_event::Sending{{42, "lobby", false, "", "second", false}});
  chat("lobby", "bob", "in between", 5);
  Screen s = render();
  int first = -1, second = -1;
  for (int y = 1; y < 22; ++y) {
    if (contains(s.rowText(y), "<alice> first  (sending)")) first = y;
    if (contains(s.rowText(y), "<alice> second  (sending)")) second = y;
  }
  ASSERT_GE(first, 0) << s.text();
  ASSERT_EQ(second, first + 1) << s.text();
  EXPECT_TRUE(s.at(6, first).attr.dim) << "an unconfirmed line is dimmed";

  // The echo of the first replaces its line where it was typed, no longer dim, with its id.
  send(protocol::ChatEvent{.id = 9, .ts = kNow, .room = "lobby", .from = "alice",
                           .subject = "", .text = "first", .flags = 0, .clientId = 41});
  s = render();
  EXPECT_TRUE(contains(s.rowText(first), "<alice> first #9")) << s.text();
  EXPECT_FALSE(contains(s.text(), "first  (sending)"));
  EXPECT_FALSE(s.at(6, first).attr.dim);
  EXPECT_TRUE(contains(s.rowText(second), "second  (sending)"));

  // A refusal naming the second ends its wait with the reason.
  protocol::ErrorReply e;
  e.code = protocol::ErrorCode::TextTooLong;
  e.message = "too long";
  e.clientId = 42;
  send(e);
  EXPECT_TRUE(contains(render().rowText(second), "second  (sending)  (not sent: text_too_long)"))
      << screenText();
}

TEST_F(TuiModelTest, UnconfirmedLinesAfterALossAreCountedAndMarkedWhenTheClientGivesUp) {
  registerInLobby();
  send(client_event::Sending{{41, "lobby", false, "", "lost?", false}});
  send(client_event::Unconfirmed{{{41, "lobby", false, "", "lost?", false}}, true});
  EXPECT_TRUE(contains(screenText(), "1 message not confirmed by the server; sending"))
      << screenText();
  EXPECT_TRUE(contains(screenText(), "lost?  (sending)"));
  send(client_event::Unconfirmed{{{41, "lobby", false, "", "lost?", false}}, false});
  EXPECT_TRUE(contains(screenText(), "lost?  (sending)  (not confirmed)")) << screenText();
}

TEST_F(TuiModelTest, NickChangesRenameNickListEntriesAndPrivateWindows) {
  registerInLobby();
  send(protocol::PrivateEvent{
      .id = 1, .ts = kNow, .from = "bob", .to = "alice", .subject = "", .text = "hi"});
  send(protocol::NickEvent{.oldNick = "bob", .newNick = "rob"});
  EXPECT_EQ(model_.window(2).name(), "rob");
  ASSERT_EQ(model_.window(1).nicks().size(), 2u);
  EXPECT_EQ(model_.window(1).nicks()[1].nick, "rob");
}

TEST_F(TuiModelTest, TickRefreshesTheNickListOfTheRoomOnScreenNowAndThen) {
  registerInLobby();
  EXPECT_TRUE(model_.tick(status_, kNow + 1000).empty());
  EXPECT_EQ(inputs(model_.tick(status_, kNow + kWhoRefreshMs)),
            std::vector<std::string>{"/who #lobby"});
  EXPECT_TRUE(model_.tick(status_, kNow + kWhoRefreshMs + 1).empty());
  // The answer updates the list without a line in the window.
  const std::size_t lines = model_.window(1).lineCount();
  send(client_event::WhoList{
      "lobby",
      {protocol::WhoEntry{.nick = "alice"}, protocol::WhoEntry{.nick = "bob", .rttMs = 40}}});
  EXPECT_EQ(model_.window(1).lineCount(), lines);
  EXPECT_TRUE(contains(row(3), "40ms"));
  // A /who the person typed is answered in the window.
  enter("/who");
  send(client_event::WhoList{"lobby", {protocol::WhoEntry{.nick = "alice"}}});
  EXPECT_TRUE(contains(screenText(), "1 user: alice"));
}

}  // namespace
}  // namespace udpchat::tui
