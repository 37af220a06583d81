#include "udpchat/command_parser.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <system_error>

#include "udpchat/limits.hpp"
#include "udpchat/text.hpp"

namespace udpchat::command {
namespace {

struct CommandInfo {
  std::string_view name;    // lowercase, without the slash
  std::string_view syntax;  // as shown by /help and in usage errors
  std::string_view description;
};

// The one list of commands: /help, the usage errors and the tests all read it, so a command
// cannot be documented in one place and spelled differently in another.
constexpr std::array kCommands{
    CommandInfo{"me", "/me text", "Describe an action: \"* nick text\""},
    CommandInfo{"msg", "/msg nick [subject] text", "Send a private message"},
    CommandInfo{"subject", "/subject [text]", "Set the subject of your next message (none: clear)"},
    CommandInfo{"join", "/join #room", "Join a room, or switch to one you are in"},
    CommandInfo{"part", "/part [#room] [reason]", "Leave a room (default: the current one)"},
    CommandInfo{"topic", "/topic [text]", "Set the current room's topic (none: show it)"},
    CommandInfo{"nick", "/nick new", "Change your nick"},
    CommandInfo{"who", "/who [#room]", "List the users in a room (default: the current one)"},
    CommandInfo{"whois", "/whois nick", "Show a user's presence, round-trip time and rooms"},
    CommandInfo{"away", "/away [message]", "Mark yourself away"},
    CommandInfo{"back", "/back", "Mark yourself active again"},
    CommandInfo{"delete", "/delete id", "Delete a message in the current room by its id"},
    CommandInfo{"history", "/history [#room] [N | before id]",
                "Show N earlier messages (or those before a message id) of a room"},
    CommandInfo{"search", "/search words", "Find the current room's kept messages holding every word"},
    CommandInfo{"oper", "/oper password", "Become an operator"},
    CommandInfo{"kick", "/kick nick [reason]", "Disconnect a user (operators only)"},
    CommandInfo{"ban", "/ban nick|address [reason]",
                "Refuse a nick or an IPv4 address from now on, across restarts (operators only)"},
    CommandInfo{"unban", "/unban nick|address", "Lift a ban (operators only)"},
    CommandInfo{"bans", "/bans [prefix]", "List the bans in force (operators only)"},
    CommandInfo{"register", "/register password",
                "Claim your nick: from now on it needs the password (blanks allowed)"},
    CommandInfo{"identify", "/identify [nick] password",
                "Prove a registered nick is yours and take it (and what was kept for you)"},
    CommandInfo{"unregister", "/unregister password", "Give up your nick's registration"},
    CommandInfo{"passwd", "/passwd old new", "Change your nick's password"},
    CommandInfo{"quit", "/quit [reason]", "Leave the chat"},
    CommandInfo{"close", "/close [reason]", "Same as /quit"},
    CommandInfo{"help", "/help [command]", "Show this list, or one command"},
};

constexpr std::string_view kPlainSyntax = "text";
constexpr std::string_view kPlainDescription =
    "Say text in the current room (//text sends a line starting with /)";

bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Splits off the first blank-separated word; `rest` keeps what follows, trimmed.
std::string_view firstWord(std::string_view s, std::string_view& rest) {
  s = trim(s);
  std::size_t end = 0;
  while (end < s.size() && !isBlank(s[end])) ++end;
  rest = trim(s.substr(end));
  return s.substr(0, end);
}

Failure<ParseError> usage(std::string_view name) {
  for (const CommandInfo& info : kCommands) {
    if (info.name == name) return fail(ParseError{"usage: " + std::string(info.syntax)});
  }
  return fail(ParseError{"usage: /" + std::string(name)});
}

std::optional<std::uint64_t> parseId(std::string_view word) {
  std::uint64_t value = 0;
  const char* first = word.data();
  const char* last = word.data() + word.size();
  // from_chars refuses signs and reports overflow; anything left over is junk such as "12abc".
  const auto [ptr, ec] = std::from_chars(first, last, value, 10);
  if (word.empty() || ec != std::errc() || ptr != last) return std::nullopt;
  return value;
}

Result<Command, ParseError> parseMsg(std::string_view args) {
  std::string_view rest;
  const std::string_view nick = firstWord(args, rest);
  std::string subject;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    // "[" with no "]" is ordinary text: a message may well start with a bracket.
    if (close != std::string_view::npos) {
      subject = std::string(trim(rest.substr(1, close - 1)));
      rest = trim(rest.substr(close + 1));
    }
  }
  if (nick.empty() || rest.empty()) return usage("msg");
  return Command{Msg{std::string(nick), std::move(subject), std::string(rest)}};
}

// Commands that take exactly one word.
Result<std::string, ParseError> oneWord(std::string_view name, std::string_view args,
                                        bool optional) {
  std::string_view rest;
  const std::string_view word = firstWord(args, rest);
  if (!rest.empty() || (word.empty() && !optional)) return usage(name);
  return std::string(word);
}

}  // namespace

Result<Command, ParseError> parse(std::string_view line) {
  // A line piped from a file written on Windows ends in "\r"; it is not part of the message.
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (trim(line).empty()) return fail(ParseError{});
  if (line.front() != '/') return Command{Say{std::string(line)}};
  if (line.starts_with("//")) return Command{Say{std::string(line.substr(1))}};

  std::size_t nameEnd = 1;
  while (nameEnd < line.size() && !isBlank(line[nameEnd])) ++nameEnd;
  const std::string name = text::foldCase(line.substr(1, nameEnd - 1));
  const std::string_view args = trim(line.substr(nameEnd));
  std::string_view rest;

  if (name == "me") {
    if (args.empty()) return usage(name);
    return Command{Me{std::string(args)}};
  }
  if (name == "msg") return parseMsg(args);
  if (name == "subject") return Command{Subject{std::string(args)}};
  if (name == "join") {
    auto room = oneWord(name, args, false);
    if (!room) return fail(room.error());
    return Command{Join{std::move(*room)}};
  }
  if (name == "part") {
    // Only a word starting with '#' is a room, so "/part see you" is a reason, not a room.
    if (args.starts_with('#')) {
      const std::string_view room = firstWord(args, rest);
      return Command{Part{std::string(room), std::string(rest)}};
    }
    return Command{Part{"", std::string(args)}};
  }
  if (name == "topic") return Command{Topic{std::string(args)}};
  if (name == "nick") {
    auto nick = oneWord(name, args, false);
    if (!nick) return fail(nick.error());
    return Command{Nick{std::move(*nick)}};
  }
  if (name == "who") {
    auto room = oneWord(name, args, true);
    if (!room) return fail(room.error());
    return Command{Who{std::move(*room)}};
  }
  if (name == "whois") {
    auto nick = oneWord(name, args, false);
    if (!nick) return fail(nick.error());
    return Command{Whois{std::move(*nick)}};
  }
  if (name == "away") return Command{Away{std::string(args)}};
  if (name == "back") {
    if (!args.empty()) return usage(name);
    return Command{Back{}};
  }
  if (name == "delete") {
    auto word = oneWord(name, args, false);
    if (!word) return fail(word.error());
    const auto id = parseId(*word);
    if (!id) return fail(ParseError{"usage: /delete id (the message's number, digits only)"});
    return Command{Delete{*id}};
  }
  if (name == "history") {
    History h;
    std::string_view words = args;
    std::string_view word = firstWord(words, rest);
    if (word.starts_with('#')) {
      h.room = std::string(word);
      words = rest;
      word = firstWord(words, rest);
    }
    if (text::foldCase(word) == "before") {
      const std::string_view idWord = firstWord(rest, rest);
      const auto id = parseId(idWord);
      if (!id || *id == 0 || !rest.empty()) return usage(name);
      h.beforeId = *id;
    } else if (!word.empty()) {
      const auto n = parseId(word);
      if (!n || *n == 0 || *n > kMaxHistoryPage || !rest.empty()) {
        return fail(ParseError{"usage: /history [#room] [N | before id], N from 1 to " +
                               std::to_string(kMaxHistoryPage)});
      }
      h.count = static_cast<std::uint16_t>(*n);
    }
    return Command{std::move(h)};
  }
  if (name == "search") {
    if (args.empty()) return usage(name);
    return Command{Search{std::string(args)}};
  }
  if (name == "oper") {
    if (args.empty()) return usage(name);
    return Command{Oper{std::string(args)}};
  }
  if (name == "kick") {
    const std::string_view nick = firstWord(args, rest);
    if (nick.empty()) return usage(name);
    return Command{Kick{std::string(nick), std::string(rest)}};
  }
  if (name == "ban") {
    const std::string_view target = firstWord(args, rest);
    if (target.empty()) return usage(name);
    return Command{Ban{std::string(target), std::string(rest)}};
  }
  if (name == "unban") {
    auto target = oneWord(name, args, false);
    if (!target) return fail(target.error());
    return Command{Unban{std::move(*target)}};
  }
  if (name == "bans") {
    auto prefix = oneWord(name, args, true);
    if (!prefix) return fail(prefix.error());
    return Command{Bans{std::move(*prefix)}};
  }
  if (name == "register" || name == "unregister") {
    // The rest of the line: a password may hold blanks.
    if (args.empty()) return usage(name);
    if (name == "register") return Command{Register{std::string(args)}};
    return Command{Unregister{std::string(args)}};
  }
  if (name == "identify") {
    const std::string_view first = firstWord(args, rest);
    if (first.empty()) return usage(name);
    if (rest.empty()) return Command{Identify{"", std::string(first)}};
    const std::string_view second = firstWord(rest, rest);
    if (!rest.empty()) return usage(name);
    return Command{Identify{std::string(first), std::string(second)}};
  }
  if (name == "passwd") {
    const std::string_view oldPassword = firstWord(args, rest);
    const std::string_view newPassword = firstWord(rest, rest);
    if (oldPassword.empty() || newPassword.empty() || !rest.empty()) return usage(name);
    return Command{Passwd{std::string(oldPassword), std::string(newPassword)}};
  }
  if (name == "quit" || name == "close") return Command{Quit{std::string(args)}};
  if (name == "help") {
    auto topic = oneWord(name, args, true);
    if (!topic) return fail(topic.error());
    std::string_view t = *topic;
    if (t.starts_with('/')) t.remove_prefix(1);
    return Command{Help{text::foldCase(t)}};
  }
  return fail(ParseError{"unknown command /" + std::string(line.substr(1, nameEnd - 1)) +
                         "; type /help for the list"});
}

std::string_view helpText() {
  static const std::string kText = [] {
    std::size_t width = kPlainSyntax.size();
    for (const CommandInfo& info : kCommands) width = std::max(width, info.syntax.size());
    auto row = [&](std::string_view syntax, std::string_view description) {
      std::string line(syntax);
      line.append(width + 2 - syntax.size(), ' ');
      line += description;
      line += '\n';
      return line;
    };
    std::string out = row(kPlainSyntax, kPlainDescription);
    for (const CommandInfo& info : kCommands) out += row(info.syntax, info.description);
    out.pop_back();  // no trailing newline: the caller prints lines
    return out;
  }();
  return kText;
}

}  // namespace udpchat::command
