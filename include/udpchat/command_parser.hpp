// Turns a line a person typed into a command. Pure syntax: which room a plain message goes to is
// the client core's business.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "udpchat/result.hpp"

namespace udpchat::command {

struct Say { std::string text; };                        // plain line
struct Me { std::string text; };                         // /me action
struct Msg { std::string nick, subject, text; };         // /msg nick [subject] text
struct Subject { std::string text; };                    // /subject text (empty clears)
struct Join { std::string room; };                       // /join #room
struct Part { std::string room, reason; };               // /part [#room] [reason]
struct Topic { std::string text; };                      // /topic [text] (none: show it)
struct Nick { std::string nick; };                       // /nick new
struct Who { std::string room; };                        // /who [#room]
struct Whois { std::string nick; };                      // /whois nick
struct Away { std::string message; };                    // /away [message]
struct Back {};                                          // /back
struct Delete { std::uint64_t id = 0; };                 // /delete id
// /history [#room] [N | before ID]: count 0 is the server's page size, beforeId 0 the newest.
struct History { std::string room; std::uint16_t count = 0; std::uint64_t beforeId = 0; };
struct Search { std::string words; };                   // /search text
struct Oper { std::string password; };                   // /oper password
struct Kick { std::string nick, reason; };               // /kick nick [reason]
struct Ban { std::string target, reason; };              // /ban nick|address [reason]
struct Unban { std::string target; };                    // /unban nick|address
struct Bans { std::string prefix; };                     // /bans [prefix]
struct Register { std::string password; };               // /register password
struct Identify { std::string nick, password; };         // /identify [nick] password
struct Unregister { std::string password; };             // /unregister password
struct Passwd { std::string oldPassword, newPassword; }; // /passwd old new
struct Quit { std::string reason; };                     // /quit [reason], /close
struct Help { std::string topic; };                      // /help [command]

using Command = std::variant<Say, Me, Msg, Subject, Join, Part, Topic, Nick, Who, Whois, Away,
                             Back, Delete, History, Search, Oper, Kick, Ban, Unban, Bans,
                             Register, Identify, Unregister, Passwd, Quit, Help>;

struct ParseError {
  std::string message;  // for people, naming the command and its syntax
};

// "//text" sends "/text" as a plain message. Empty lines and lines of blanks parse to a
// ParseError the client ignores silently (message empty).
Result<Command, ParseError> parse(std::string_view line);

// One line per command: "/msg nick [subject] text  Send a private message", for /help.
std::string_view helpText();

}  // namespace udpchat::command
