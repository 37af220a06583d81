#include "udpchat/event_format.hpp"

#include <time.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "udpchat/text.hpp"

namespace udpchat::format {
namespace {

using Json = nlohmann::ordered_json;  // keeps "type" first, which people reading logs expect

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// ---- human lines -----------------------------------------------------------------------------

// A name, reason or other one-line string from the network.
std::string safe(std::string_view s) {
  return text::sanitizeForTerminal(s, false);
}
// Message text: newline and tab survive, everything else a terminal could interpret does not.
std::string safeText(std::string_view s) {
  return text::sanitizeForTerminal(s, true);
}

std::string localTime(Millis unixMs, const char* pattern) {
  const time_t seconds = static_cast<time_t>(unixMs / 1000);
  struct tm parts {};
  if (localtime_r(&seconds, &parts) == nullptr) return "??:??:??";
  char buffer[32];
  const std::size_t n = strftime(buffer, sizeof buffer, pattern, &parts);
  return std::string(buffer, n);
}

std::string stamp(Millis unixMs) {
  return "[" + localTime(unixMs, "%H:%M:%S") + "] ";
}

// Appends `body`, putting `width` spaces after each of its newlines.
void appendIndented(std::string& out, std::string_view body, std::size_t width) {
  for (char c : body) {
    out += c;
    if (c == '\n') out.append(width, ' ');
  }
}

// `head` then `body`; continuation lines of a multi-line body are indented to where the body
// started, so a message's second line cannot be mistaken for a new event.
std::string line(Millis unixMs, std::string_view head, std::string_view body) {
  std::string out = stamp(unixMs);
  out += head;
  appendIndented(out, body, text::codePoints(out));
  return out;
}

std::string room(std::string_view name) {
  return "#" + safe(name);
}

std::string reasonSuffix(std::string_view reason) {
  return reason.empty() ? std::string() : " (" + safe(reason) + ")";
}

std::string subjectPrefix(std::string_view subject) {
  return subject.empty() ? std::string() : "[" + safe(subject) + "] ";
}

std::string idSuffix(protocol::MessageId id) {
  return "  [id " + std::to_string(id) + "]";
}

Millis eventTime(std::uint64_t ts, Millis wallNow) {
  return ts != 0 ? static_cast<Millis>(ts) : wallNow;
}

std::string durationText(Millis ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buffer;
}

std::string whoisText(const protocol::WhoisReply& w) {
  std::string out = safe(w.nick) + ": " + std::string(protocol::toString(w.state));
  if (!w.awayMessage.empty()) out += " (" + safe(w.awayMessage) + ")";
  if (w.flags & protocol::kUserOperator) out += ", operator";
  if (w.flags & protocol::kUserTyping) out += ", typing";
  if (!w.server.empty()) out += ", on server " + safe(w.server);
  out += "\nrooms:";
  if (w.rooms.empty()) out += " none";
  for (const auto& r : w.rooms) {
    out += ' ';
    out += room(r);
  }
  out += "\nround trip ";
  out += w.rttMs == 0 ? std::string("not measured") : std::to_string(w.rttMs) + " ms";
  char loss[32];
  std::snprintf(loss, sizeof loss, "%.1f %%", w.pingLossPermille / 10.0);
  out += ", ping loss " + std::string(loss);
  out += ", last heard " + durationText(static_cast<Millis>(w.lastHeardMs)) + " ago";
  out += ", idle " + durationText(static_cast<Millis>(w.idleMs));
  if (w.signonTs != 0) {
    out += "\nsigned on " + localTime(static_cast<Millis>(w.signonTs), "%Y-%m-%d %H:%M:%S");
  }
  return out;
}

// "#room: text" or "to bob: text", one per unconfirmed message.
std::string unconfirmedText(const client_event::Unconfirmed& u) {
  std::string out = std::to_string(u.messages.size()) +
                    (u.messages.size() == 1 ? " message was" : " messages were") +
                    " not confirmed by the server" +
                    (u.willResend ? "; sending again after reconnecting:"
                                  : " and may not have arrived:");
  for (const OutgoingMessage& m : u.messages) {
    out += '\n';
    out += m.isPrivate ? "to " + safe(m.target) : room(m.target);
    out += ": ";
    out += subjectPrefix(m.subject);
    out += safeText(m.text);
  }
  return out;
}

}  // namespace

std::string banListText(const protocol::BanListReply& b) {
  if (b.bans.empty()) return "no bans";
  std::string out = "bans: ";
  const char* separator = "";
  for (const auto& ban : b.bans) {
    out += separator;
    separator = ", ";
    out += safe(ban.target) + " (by " + safe(ban.by) +
           (ban.reason.empty() ? std::string() : ": " + safe(ban.reason)) + ")";
  }
  if (b.more) out += ", ...";
  return out;
}

std::string historyEndText(const protocol::HistoryEnd& h) {
  const std::string n = std::to_string(h.count);
  if (h.search) {
    if (h.count == 0) return "no kept message matches";
    return n + (h.count == 1 ? " message matches" : " messages match") + ", newest first" +
           (h.more ? "; there are more: give more words" : "");
  }
  if (h.count == 0) return "no earlier messages";
  return n + (h.count == 1 ? " earlier message" : " earlier messages") +
         (h.more ? "; /history #" + safe(h.room) + " before " + std::to_string(h.oldestId) +
                       " for the ones before"
                 : "; that is the beginning");
}

namespace {

std::string whoListText(const client_event::WhoList& w) {
  std::string out = std::to_string(w.users.size()) + (w.users.size() == 1 ? " user" : " users");
  const char* separator = ": ";
  for (const auto& u : w.users) {
    out += separator;
    separator = ", ";
    if (u.flags & protocol::kUserOperator) out += "@";
    out += safe(u.nick);
    // Presence in parentheses: the state when not plain active, typing, and the round-trip
    // time once the server has measured one.
    std::vector<std::string> tags;
    if (u.state != protocol::PresenceState::Active) tags.emplace_back(protocol::toString(u.state));
    if (u.flags & protocol::kUserTyping) tags.emplace_back("typing");
    if (u.rttMs != 0) tags.push_back(std::to_string(u.rttMs) + " ms");
    for (std::size_t i = 0; i < tags.size(); ++i) {
      out += i == 0 ? " (" : ", ";
      out += tags[i];
    }
    if (!tags.empty()) out += ')';
  }
  return out;
}

std::string presenceText(const protocol::PresenceEvent& p) {
  switch (p.state) {
    case protocol::PresenceState::Away:
      return safe(p.nick) + " is away" +
             (p.awayMessage.empty() ? std::string() : ": " + safe(p.awayMessage));
    case protocol::PresenceState::Active:
      return safe(p.nick) + " is active";
    case protocol::PresenceState::Lagging:
      return safe(p.nick) + " is lagging";
  }
  return safe(p.nick) + " changed state";
}

// ---- JSON ------------------------------------------------------------------------------------

// Optional strings (empty on the wire) are null in JSON, so "no subject" and "subject ''" are
// not two different things to a consumer.
Json optional(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}
Json optionalNumber(std::uint64_t n) {
  return n == 0 ? Json(nullptr) : Json(n);
}

Json object(std::string_view type, Millis ts) {
  Json j;
  j["type"] = type;
  j["ts"] = ts;
  return j;
}

// A message we sent: its client id, where it went and what it said.
Json outgoingJson(const OutgoingMessage& m) {
  Json j;
  j["client_id"] = m.clientId;
  j[m.isPrivate ? "to" : "room"] = m.target;
  j["subject"] = optional(m.subject);
  j["text"] = m.text;
  j["action"] = m.action;
  return j;
}

}  // namespace

std::string humanLine(const ClientEvent& event, Millis wallNow) {
  const Millis now = wallNow;
  return std::visit(
      Overloaded{
          [&](const client_event::Welcome& w) {
            std::string head =
                std::string(w.reconnected ? "-- reconnected to " : "-- connected to ") +
                safe(w.server.serverName) + " as " + safe(w.server.nick) + "; you are in " +
                room(w.room);
            std::string out = line(now, head, "");
            // The message of the day goes under the line, indented like a continuation.
            if (!w.server.motd.empty()) {
              const std::size_t width = stamp(now).size() + 3;
              out += '\n';
              out.append(width, ' ');
              appendIndented(out, safeText(w.server.motd), width);
            }
            return out;
          },
          [&](const protocol::ErrorReply& e) {
            std::string text =
                "! error " + std::string(protocol::toString(e.code)) + ": " + safe(e.message);
            if (!e.context.empty() && e.message.find(e.context) == std::string::npos) {
              text += " (" + safe(e.context) + ")";
            }
            return line(now, text, "");
          },
          [&](const protocol::ChatEvent& c) {
            std::string head = (c.flags & protocol::kFlagHistory) ? "[history] " : "";
            head += room(c.room) + " ";
            head += (c.flags & protocol::kFlagAction) ? "* " + safe(c.from) + " "
                                                      : "<" + safe(c.from) + "> ";
            head += subjectPrefix(c.subject);
            return line(eventTime(c.ts, now), head, safeText(c.text)) + idSuffix(c.id);
          },
          [&](const protocol::PrivateEvent& p) {
            std::string head = "*" + safe(p.from) + " -> " + safe(p.to) + "* ";
            if (p.flags & protocol::kFlagAction) head += "* " + safe(p.from) + " ";
            if (p.flags & protocol::kFlagHistory) head = "[history] " + head;
            if (p.flags & protocol::kFlagOffline) head = "[kept while you were away] " + head;
            head += subjectPrefix(p.subject);
            return line(eventTime(p.ts, now), head, safeText(p.text)) + idSuffix(p.id);
          },
          [&](const protocol::JoinEvent& j) {
            return line(now, room(j.room) + " --> " + safe(j.nick) + " joined", "");
          },
          [&](const protocol::PartEvent& p) {
            return line(
                now, room(p.room) + " <-- " + safe(p.nick) + " left" + reasonSuffix(p.reason), "");
          },
          [&](const protocol::QuitEvent& q) {
            return line(
                now, room(q.room) + " <-- " + safe(q.nick) + " quit" + reasonSuffix(q.reason), "");
          },
          [&](const protocol::NickEvent& n) {
            return line(now, "-- " + safe(n.oldNick) + " is now known as " + safe(n.newNick), "");
          },
          [&](const protocol::TopicEvent& t) -> std::string {
            if (!t.topic.empty()) {
              std::string by = t.setBy.empty() ? std::string() : " (set by " + safe(t.setBy) + ")";
              return line(now, room(t.room) + " -- topic: " + safe(t.topic) + by, "");
            }
            // A room that never had a topic says nothing on join.
            if (t.setBy.empty()) return std::string();
            return line(now, room(t.room) + " -- " + safe(t.setBy) + " cleared the topic", "");
          },
          [&](const protocol::DeletedEvent& d) {
            return line(
                now,
                room(d.room) + " -- message " + std::to_string(d.id) + " deleted by " + safe(d.by),
                "");
          },
          [&](const protocol::KickEvent& k) {
            std::string head = k.room.empty() ? std::string() : room(k.room) + " ";
            head += "<-- " + safe(k.nick) + " was kicked by " + safe(k.by) + reasonSuffix(k.reason);
            return line(now, head, "");
          },
          [&](const protocol::WhoisReply& w) { return line(now, "-- ", whoisText(w)); },
          [&](const protocol::PresenceEvent& p) { return line(now, "-- " + presenceText(p), ""); },
          [&](const protocol::AwayReply& a) {
            return line(now,
                        "-- " + safe(a.nick) + " is away" +
                            (a.message.empty() ? std::string() : ": " + safe(a.message)),
                        "");
          },
          [&](const protocol::NoticeEvent& n) {
            return line(now, "-- notice: ", safeText(n.text));
          },
          [&](const protocol::BanListReply& b) { return line(now, "-- " + banListText(b), ""); },
          [&](const protocol::HistoryEnd& h) { return line(now, room(h.room) + " -- " + historyEndText(h), ""); },
          [&](const client_event::WhoList& w) {
            return line(now, room(w.room) + " -- " + whoListText(w), "");
          },
          [&](const client_event::Typing& t) -> std::string {
            // Only the start is worth a line; the stop is the message itself, or silence.
            if (!t.active) return std::string();
            if (t.isPrivate) return line(now, "-- " + safe(t.nick) + " is typing to you", "");
            return line(now, room(t.target) + " -- " + safe(t.nick) + " is typing", "");
          },
          [&](const client_event::Connected&) {
            return line(now, "-- connected; registering", "");
          },
          [&](const client_event::ConnectionLost& c) {
            return line(
                now,
                "! connection lost" + (c.reason.empty() ? std::string() : ": " + safe(c.reason)),
                "");
          },
          [&](const client_event::Reconnecting& r) {
            return line(now,
                        "-- reconnecting in " + durationText(r.delay) + " (attempt " +
                            std::to_string(r.attempt) + ")",
                        "");
          },
          [&](const client_event::LocalError& e) {
            if (e.code == "usage") return line(now, "! " + safe(e.message), "");
            return line(now, "! error " + safe(e.code) + ": " + safe(e.message), "");
          },
          [&](const client_event::Info& i) { return line(now, "-- ", safeText(i.text)); },
          [&](const client_event::Sending&) {
            // Normally confirmed within a round trip; Unconfirmed says so when it is not.
            return std::string();
          },
          [&](const client_event::Unconfirmed& u) { return line(now, "! ", unconfirmedText(u)); },
          [&](const client_event::Finished& f) {
            if (f.exitStatus == kExitOk) return line(now, "-- bye", "");
            return line(now,
                        "! " + safe(f.reason.empty() ? std::string("finished") : f.reason) +
                            " (exit " + std::to_string(f.exitStatus) + ")",
                        "");
          },
      },
      event);
}

std::string jsonLine(const ClientEvent& event, Millis wallNow) {
  const Millis now = wallNow;
  Json j = std::visit(Overloaded{
                          [&](const client_event::Welcome& w) {
                            Json o = object("welcome", now);
                            o["nick"] = w.server.nick;
                            o["room"] = w.room;
                            o["reconnected"] = w.reconnected;
                            o["server"] = w.server.serverName;
                            o["motd"] = optional(w.server.motd);
                            o["max_message_bytes"] = w.server.maxMessageBytes;
                            o["nick_min"] = w.server.nickMin;
                            o["nick_max"] = w.server.nickMax;
                            o["history_size"] = w.server.historySize;
                            o["rate_burst"] = w.server.rateBurst;
                            o["rate_per_second"] = w.server.ratePerSecond;
                            o["ping_interval_ms"] = w.server.pingIntervalMs;
                            return o;
                          },
                          [&](const protocol::ErrorReply& e) {
                            Json o = object("error", now);
                            o["code"] = std::string(protocol::toString(e.code));
                            o["message"] = e.message;
                            o["context"] = optional(e.context);
                            o["retry_after_ms"] = e.retryAfterMs;
                            o["local"] = false;
                            o["client_id"] = optionalNumber(e.clientId);
                            return o;
                          },
                          [&](const protocol::ChatEvent& c) {
                            Json o = object("message", eventTime(c.ts, now));
                            o["id"] = c.id;
                            o["room"] = c.room;
                            o["from"] = c.from;
                            o["text"] = c.text;
                            o["subject"] = optional(c.subject);
                            o["history"] = (c.flags & protocol::kFlagHistory) != 0;
                            o["action"] = (c.flags & protocol::kFlagAction) != 0;
                            o["client_id"] = optionalNumber(c.clientId);
                            return o;
                          },
                          [&](const protocol::PrivateEvent& p) {
                            Json o = object("private", eventTime(p.ts, now));
                            o["id"] = p.id;
                            o["from"] = p.from;
                            o["to"] = p.to;
                            o["text"] = p.text;
                            o["subject"] = optional(p.subject);
                            o["action"] = (p.flags & protocol::kFlagAction) != 0;
                            o["offline"] = (p.flags & protocol::kFlagOffline) != 0;
                            o["client_id"] = optionalNumber(p.clientId);
                            return o;
                          },
                          [&](const protocol::JoinEvent& e) {
                            Json o = object("join", now);
                            o["room"] = e.room;
                            o["nick"] = e.nick;
                            o["reason"] = nullptr;
                            return o;
                          },
                          [&](const protocol::PartEvent& e) {
                            Json o = object("part", now);
                            o["room"] = e.room;
                            o["nick"] = e.nick;
                            o["reason"] = optional(e.reason);
                            return o;
                          },
                          [&](const protocol::QuitEvent& e) {
                            Json o = object("quit", now);
                            o["room"] = e.room;
                            o["nick"] = e.nick;
                            o["reason"] = optional(e.reason);
                            return o;
                          },
                          [&](const protocol::NickEvent& e) {
                            Json o = object("nick", now);
                            o["old"] = e.oldNick;
                            o["new"] = e.newNick;
                            return o;
                          },
                          [&](const protocol::TopicEvent& e) {
                            Json o = object("topic", now);
                            o["room"] = e.room;
                            o["topic"] = e.topic;
                            o["set_by"] = optional(e.setBy);
                            o["set_ts"] = optionalNumber(e.ts);
                            return o;
                          },
                          [&](const protocol::DeletedEvent& e) {
                            Json o = object("deleted", now);
                            o["room"] = e.room;
                            o["id"] = e.id;
                            o["by"] = e.by;
                            return o;
                          },
                          [&](const protocol::KickEvent& e) {
                            Json o = object("kick", now);
                            o["room"] = optional(e.room);
                            o["nick"] = e.nick;
                            o["by"] = e.by;
                            o["reason"] = optional(e.reason);
                            return o;
                          },
                          [&](const protocol::WhoisReply& e) {
                            Json o = object("whois", now);
                            o["nick"] = e.nick;
                            o["state"] = std::string(protocol::toString(e.state));
                            o["away_message"] = optional(e.awayMessage);
                            o["operator"] = (e.flags & protocol::kUserOperator) != 0;
                            o["typing"] = (e.flags & protocol::kUserTyping) != 0;
                            o["rooms"] = e.rooms;
                            o["signon_ts"] = e.signonTs;
                            o["idle_ms"] = e.idleMs;
                            o["rtt_ms"] = optionalNumber(e.rttMs);
                            o["ping_loss_permille"] = e.pingLossPermille;
                            o["last_heard_ms"] = e.lastHeardMs;
                            o["server"] = optional(e.server);
                            return o;
                          },
                          [&](const protocol::PresenceEvent& e) {
                            Json o = object("presence", now);
                            o["nick"] = e.nick;
                            o["state"] = std::string(protocol::toString(e.state));
                            o["message"] = optional(e.awayMessage);
                            return o;
                          },
                          [&](const protocol::AwayReply& e) {
                            Json o = object("away", now);
                            o["nick"] = e.nick;
                            o["message"] = optional(e.message);
                            return o;
                          },
                          [&](const protocol::BanListReply& e) {
                            Json o = object("bans", now);
                            Json list = Json::array();
                            for (const auto& b : e.bans) {
                              list.push_back({{"target", b.target},
                                              {"reason", optional(b.reason)},
                                              {"by", b.by},
                                              {"set_ts", b.ts}});
                            }
                            o["bans"] = std::move(list);
                            o["more"] = e.more;
                            return o;
                          },
                          [&](const protocol::HistoryEnd& e) {
                            Json o = object("history_end", now);
                            o["room"] = e.room;
                            o["search"] = e.search;
                            o["count"] = e.count;
                            o["oldest_id"] = e.oldestId == 0 ? Json() : Json(e.oldestId);
                            o["more"] = e.more;
                            return o;
                          },
                          [&](const protocol::NoticeEvent& e) {
                            Json o = object("notice", now);
                            o["kind"] = e.kind == protocol::NoticeKind::OperGranted ? "oper_granted"
                                                                                    : "info";
                            o["text"] = e.text;
                            return o;
                          },
                          [&](const client_event::WhoList& e) {
                            Json o = object("who", now);
                            o["room"] = e.room;
                            Json users = Json::array();
                            for (const auto& u : e.users) {
                              Json user;
                              user["nick"] = u.nick;
                              user["state"] = std::string(protocol::toString(u.state));
                              user["rtt_ms"] = optionalNumber(u.rttMs);
                              user["operator"] = (u.flags & protocol::kUserOperator) != 0;
                              user["typing"] = (u.flags & protocol::kUserTyping) != 0;
                              users.push_back(std::move(user));
                            }
                            o["users"] = std::move(users);
                            return o;
                          },
                          [&](const client_event::Typing& e) {
                            Json o = object("typing", now);
                            o["nick"] = e.nick;
                            o["target"] = e.target;
                            o["private"] = e.isPrivate;
                            o["active"] = e.active;
                            return o;
                          },
                          [&](const client_event::Connected&) { return object("connected", now); },
                          [&](const client_event::ConnectionLost& e) {
                            Json o = object("connection_lost", now);
                            o["reason"] = optional(e.reason);
                            return o;
                          },
                          [&](const client_event::Reconnecting& e) {
                            Json o = object("reconnecting", now);
                            o["delay_ms"] = e.delay;
                            o["attempt"] = e.attempt;
                            return o;
                          },
                          [&](const client_event::LocalError& e) {
                            Json o = object("error", now);
                            o["code"] = e.code;
                            o["message"] = e.message;
                            o["context"] = nullptr;
                            o["retry_after_ms"] = 0;
                            o["local"] = true;
                            o["client_id"] = nullptr;
                            return o;
                          },
                          [&](const client_event::Info& e) {
                            Json o = object("info", now);
                            o["text"] = e.text;
                            return o;
                          },
                          [&](const client_event::Sending& e) {
                            Json o = object("sending", now);
                            o.update(outgoingJson(e.message));
                            return o;
                          },
                          [&](const client_event::Unconfirmed& e) {
                            Json o = object("unconfirmed", now);
                            o["will_resend"] = e.willResend;
                            Json list = Json::array();
                            for (const OutgoingMessage& m : e.messages) {
                              list.push_back(outgoingJson(m));
                            }
                            o["messages"] = std::move(list);
                            return o;
                          },
                          [&](const client_event::Finished& e) {
                            Json o = object("finished", now);
                            o["exit_status"] = e.exitStatus;
                            o["reason"] = optional(e.reason);
                            return o;
                          },
                      },
                      event);
  // Strings from the network are valid UTF-8 (the decoder checks), but local ones need not
  // be; replacing bad bytes keeps every line parseable instead of throwing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace udpchat::format
