#include "udpchat/command_parser.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace udpchat::command {
namespace {

template <class T>
T parsed(std::string_view line) {
  auto result = parse(line);
  EXPECT_TRUE(result.ok()) << "line: " << line
                           << " error: " << (result.ok() ? "" : result.error().message);
  if (!result.ok()) return T{};
  const T* value = std::get_if<T>(&result.value());
  EXPECT_NE(value, nullptr) << "line: " << line << " parsed to alternative "
                            << result.value().index();
  return value != nullptr ? *value : T{};
}

std::string errorOf(std::string_view line) {
  auto result = parse(line);
  EXPECT_FALSE(result.ok()) << "line: " << line;
  return result.ok() ? std::string("<parsed>") : result.error().message;
}

TEST(CommandParser, HistoryTakesARoomACountOrAnIdToGoBackFrom) {
  EXPECT_EQ(parsed<History>("/history").room, "");
  EXPECT_EQ(parsed<History>("/history").count, 0u);
  EXPECT_EQ(parsed<History>("/history 20").count, 20u);
  EXPECT_EQ(parsed<History>("/history #dev").room, "#dev");
  const History back = parsed<History>("/history #dev before 41");
  EXPECT_EQ(back.room, "#dev");
  EXPECT_EQ(back.beforeId, 41u);
  EXPECT_EQ(parsed<History>("/history BEFORE 7").beforeId, 7u);
  EXPECT_NE(errorOf("/history 0").find("1 to 200"), std::string::npos);
  EXPECT_NE(errorOf("/history 201").find("1 to 200"), std::string::npos);
  EXPECT_NE(errorOf("/history lots").find("usage: /history"), std::string::npos);
  EXPECT_NE(errorOf("/history before").find("usage: /history"), std::string::npos);
  EXPECT_NE(errorOf("/history before 3 extra").find("usage: /history"), std::string::npos);
}

TEST(CommandParser, BanUnbanAndBans) {
  const Ban ban = parsed<Ban>("/ban 192.0.2.7 flooding the lobby");
  EXPECT_EQ(ban.target, "192.0.2.7");
  EXPECT_EQ(ban.reason, "flooding the lobby");
  EXPECT_EQ(parsed<Ban>("/ban mallory").reason, "");
  EXPECT_EQ(parsed<Unban>("/unban mallory").target, "mallory");
  EXPECT_EQ(parsed<Bans>("/bans").prefix, "");
  EXPECT_EQ(parsed<Bans>("/bans 192.").prefix, "192.");
  EXPECT_NE(errorOf("/ban").find("usage: /ban"), std::string::npos);
  EXPECT_NE(errorOf("/unban a b").find("usage: /unban"), std::string::npos);
}

TEST(CommandParser, AccountCommands) {
  EXPECT_EQ(parsed<Register>("/register s3cret pass").password, "s3cret pass");
  EXPECT_EQ(parsed<Identify>("/identify s3cret-pass").nick, "");
  const Identify both = parsed<Identify>("/identify alice s3cret-pass");
  EXPECT_EQ(both.nick, "alice");
  EXPECT_EQ(both.password, "s3cret-pass");
  EXPECT_EQ(parsed<Unregister>("/unregister s3cret-pass").password, "s3cret-pass");
  const Passwd change = parsed<Passwd>("/passwd old-one new-one");
  EXPECT_EQ(change.oldPassword, "old-one");
  EXPECT_EQ(change.newPassword, "new-one");
  EXPECT_NE(errorOf("/register").find("usage: /register"), std::string::npos);
  EXPECT_NE(errorOf("/identify a b c").find("usage: /identify"), std::string::npos);
  EXPECT_NE(errorOf("/passwd only-one").find("usage: /passwd"), std::string::npos);
}

TEST(CommandParser, SearchTakesTheRestOfTheLine) {
  EXPECT_EQ(parsed<Search>("/search build  failed").words, "build  failed");
  EXPECT_NE(errorOf("/search").find("usage: /search"), std::string::npos);
}

TEST(CommandParser, PlainTextIsSay) {
  EXPECT_EQ(parsed<Say>("hello world").text, "hello world");
  EXPECT_EQ(parsed<Say>("  indented").text, "  indented");
  EXPECT_EQ(parsed<Say>("a / b").text, "a / b");
}

TEST(CommandParser, DoubleSlashSaysASlash) {
  EXPECT_EQ(parsed<Say>("//me is not a command").text, "/me is not a command");
  EXPECT_EQ(parsed<Say>("//").text, "/");
}

TEST(CommandParser, TrailingCarriageReturnIsDropped) {
  EXPECT_EQ(parsed<Say>("hello\r").text, "hello");
  EXPECT_EQ(parsed<Nick>("/nick bob\r\n").nick, "bob");
}

TEST(CommandParser, BlankLinesAreSilentErrors) {
  for (std::string_view line : {"", "   ", "\t", "\r"}) {
    auto result = parse(line);
    ASSERT_FALSE(result.ok()) << "'" << line << "'";
    EXPECT_TRUE(result.error().message.empty());
  }
}

TEST(CommandParser, Me) {
  EXPECT_EQ(parsed<Me>("/me waves at  everyone").text, "waves at  everyone");
  EXPECT_EQ(errorOf("/me"), "usage: /me text");
  EXPECT_EQ(errorOf("/me   "), "usage: /me text");
}

TEST(CommandParser, MsgWithoutSubject) {
  const Msg m = parsed<Msg>("/msg bob hi there");
  EXPECT_EQ(m.nick, "bob");
  EXPECT_EQ(m.subject, "");
  EXPECT_EQ(m.text, "hi there");
}

TEST(CommandParser, MsgWithSubject) {
  const Msg m = parsed<Msg>("/msg bob [lunch plans] at noon?");
  EXPECT_EQ(m.nick, "bob");
  EXPECT_EQ(m.subject, "lunch plans");
  EXPECT_EQ(m.text, "at noon?");
}

TEST(CommandParser, MsgBracketWithoutCloseIsText) {
  const Msg m = parsed<Msg>("/msg bob [not a subject");
  EXPECT_EQ(m.subject, "");
  EXPECT_EQ(m.text, "[not a subject");
}

TEST(CommandParser, MsgBracketLaterInTextIsText) {
  const Msg m = parsed<Msg>("/msg bob see [1]");
  EXPECT_EQ(m.subject, "");
  EXPECT_EQ(m.text, "see [1]");
}

TEST(CommandParser, MsgNeedsNickAndText) {
  EXPECT_EQ(errorOf("/msg"), "usage: /msg nick [subject] text");
  EXPECT_EQ(errorOf("/msg bob"), "usage: /msg nick [subject] text");
  EXPECT_EQ(errorOf("/msg bob [subject only]"), "usage: /msg nick [subject] text");
}

TEST(CommandParser, Subject) {
  EXPECT_EQ(parsed<Subject>("/subject release 1.2").text, "release 1.2");
  EXPECT_EQ(parsed<Subject>("/subject").text, "");
}

TEST(CommandParser, Join) {
  EXPECT_EQ(parsed<Join>("/join #dev").room, "#dev");
  EXPECT_EQ(parsed<Join>("/join dev").room, "dev");
  EXPECT_EQ(errorOf("/join"), "usage: /join #room");
  EXPECT_EQ(errorOf("/join two words"), "usage: /join #room");
}

TEST(CommandParser, PartRoomOnlyWhenHashed) {
  Part p = parsed<Part>("/part #dev off to lunch");
  EXPECT_EQ(p.room, "#dev");
  EXPECT_EQ(p.reason, "off to lunch");
  p = parsed<Part>("/part see you");
  EXPECT_EQ(p.room, "");
  EXPECT_EQ(p.reason, "see you");
  p = parsed<Part>("/part");
  EXPECT_EQ(p.room, "");
  EXPECT_EQ(p.reason, "");
  p = parsed<Part>("/part #dev");
  EXPECT_EQ(p.room, "#dev");
  EXPECT_EQ(p.reason, "");
}

TEST(CommandParser, Topic) {
  EXPECT_EQ(parsed<Topic>("/topic the plan").text, "the plan");
  EXPECT_EQ(parsed<Topic>("/topic").text, "");
}

TEST(CommandParser, Nick) {
  EXPECT_EQ(parsed<Nick>("/nick carol").nick, "carol");
  EXPECT_EQ(errorOf("/nick"), "usage: /nick new");
  EXPECT_EQ(errorOf("/nick two words"), "usage: /nick new");
}

TEST(CommandParser, Who) {
  EXPECT_EQ(parsed<Who>("/who").room, "");
  EXPECT_EQ(parsed<Who>("/who #dev").room, "#dev");
  EXPECT_EQ(errorOf("/who a b"), "usage: /who [#room]");
}

TEST(CommandParser, Whois) {
  EXPECT_EQ(parsed<Whois>("/whois bob").nick, "bob");
  EXPECT_EQ(errorOf("/whois"), "usage: /whois nick");
}

TEST(CommandParser, AwayAndBack) {
  EXPECT_EQ(parsed<Away>("/away gone fishing").message, "gone fishing");
  EXPECT_EQ(parsed<Away>("/away").message, "");
  parsed<Back>("/back");
  EXPECT_EQ(errorOf("/back now"), "usage: /back");
}

TEST(CommandParser, DeleteTakesADecimalU64) {
  EXPECT_EQ(parsed<Delete>("/delete 42").id, 42u);
  EXPECT_EQ(parsed<Delete>("/delete 0").id, 0u);
  EXPECT_EQ(parsed<Delete>("/delete 18446744073709551615").id, UINT64_MAX);
}

TEST(CommandParser, DeleteRejectsJunkAndOverflow) {
  for (std::string_view line : {"/delete", "/delete abc", "/delete 12abc", "/delete -1",
                                "/delete +1", "/delete 0x10", "/delete 18446744073709551616",
                                "/delete 99999999999999999999999", "/delete 1 2", "/delete 1.5"}) {
    EXPECT_TRUE(errorOf(line).starts_with("usage: /delete id")) << line;
  }
}

TEST(CommandParser, Oper) {
  EXPECT_EQ(parsed<Oper>("/oper s3cret").password, "s3cret");
  EXPECT_EQ(errorOf("/oper"), "usage: /oper password");
}

TEST(CommandParser, Kick) {
  Kick k = parsed<Kick>("/kick mallory spamming the room");
  EXPECT_EQ(k.nick, "mallory");
  EXPECT_EQ(k.reason, "spamming the room");
  k = parsed<Kick>("/kick mallory");
  EXPECT_EQ(k.reason, "");
  EXPECT_EQ(errorOf("/kick"), "usage: /kick nick [reason]");
}

TEST(CommandParser, QuitAndCloseAreTheSame) {
  EXPECT_EQ(parsed<Quit>("/quit good night").reason, "good night");
  EXPECT_EQ(parsed<Quit>("/close good night").reason, "good night");
  EXPECT_EQ(parsed<Quit>("/quit").reason, "");
}

TEST(CommandParser, Help) {
  EXPECT_EQ(parsed<Help>("/help").topic, "");
  EXPECT_EQ(parsed<Help>("/help msg").topic, "msg");
  EXPECT_EQ(parsed<Help>("/help /MSG").topic, "msg");
}

TEST(CommandParser, NamesAreCaseInsensitive) {
  EXPECT_EQ(parsed<Msg>("/MSG bob hi").text, "hi");
  EXPECT_EQ(parsed<Join>("/Join #dev").room, "#dev");
  EXPECT_EQ(parsed<Quit>("/QuIt bye").reason, "bye");
}

TEST(CommandParser, ArgumentsMayBeSeparatedByTabs) {
  const Msg m = parsed<Msg>("/msg\tbob\thi");
  EXPECT_EQ(m.nick, "bob");
  EXPECT_EQ(m.text, "hi");
}

TEST(CommandParser, UnknownCommand) {
  EXPECT_EQ(errorOf("/foo bar"), "unknown command /foo; type /help for the list");
  EXPECT_EQ(errorOf("/FOO"), "unknown command /FOO; type /help for the list");
  EXPECT_EQ(errorOf("/"), "unknown command /; type /help for the list");
}

std::vector<std::string> helpLines() {
  std::vector<std::string> lines;
  std::istringstream in{std::string(helpText())};
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(CommandParser, HelpListsEveryCommandWithItsSyntaxOnePerLine) {
  const std::vector<std::string> lines = helpLines();
  for (std::string_view syntax :
       {"/me text", "/msg nick [subject] text", "/subject [text]", "/join #room",
        "/part [#room] [reason]", "/topic [text]", "/nick new", "/who [#room]", "/whois nick",
        "/away [message]", "/back", "/delete id", "/oper password", "/kick nick [reason]",
        "/quit [reason]", "/close [reason]", "/help [command]"}) {
    int found = 0;
    for (const std::string& line : lines) {
      if (line.starts_with(std::string(syntax) + " ")) ++found;
    }
    EXPECT_EQ(found, 1) << syntax;
  }
  for (const std::string& line : lines) EXPECT_FALSE(line.empty());
}

TEST(CommandParser, EveryCommandInHelpParses) {
  // A command listed in /help but unknown to the parser would be a lie in the help.
  for (const std::string& line : helpLines()) {
    if (!line.starts_with("/")) continue;
    const std::string name = line.substr(0, line.find(' '));
    auto result = parse(name);
    if (!result.ok()) {
      EXPECT_TRUE(result.error().message.starts_with("usage: " + name)) << name;
    }
  }
}

}  // namespace
}  // namespace udpchat::command
