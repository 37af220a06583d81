// How the line client prints events: human lines, or JSON Lines. Pure functions.
#pragma once

#include <string>

#include "udpchat/client_core.hpp"
#include "udpchat/time.hpp"

namespace udpchat::format {

// "[HH:MM:SS] <nick> text" style, in local time. `wallNow` stamps events that carry no time of
// their own. Every string from the network is passed through text::sanitizeForTerminal.
// Returns an empty string for events that print nothing.
std::string humanLine(const ClientEvent& event, Millis wallNow);

// One JSON object, no trailing newline; the types and keys are listed in docs/PROTOCOL.md.
std::string jsonLine(const ClientEvent& event, Millis wallNow);
// What a HistoryEnd says, for people: how many, and how to page on ("3 earlier messages;
// /history #dev before 41 for the ones before").
std::string historyEndText(const protocol::HistoryEnd& end);
// One BanListReply page, for people: "bans: mallory (by oper: spam), 192.0.2.7 (by oper)".
std::string banListText(const protocol::BanListReply& page);

}  // namespace udpchat::format
