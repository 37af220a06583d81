#include "tui_model.hpp"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "char_width.hpp"
#include "tui_style.hpp"
#include "udpchat/command_parser.hpp"
#include "udpchat/event_format.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/text.hpp"

namespace udpchat::tui {

using namespace style;

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

bool isNickChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Splits `text` into spans, marking every whole-word occurrence of `nick`.
std::vector<Span> mentionSpans(const std::string& text, std::string_view nick, Attr base,
                               bool& mentioned) {
  std::vector<Span> out;
  mentioned = false;
  if (nick.empty()) {
    out.push_back(Span{text, base});
    return out;
  }
  const std::string folded = text::foldCase(text);
  const std::string needle = text::foldCase(nick);
  std::size_t from = 0;
  std::size_t plain = 0;
  while (true) {
    const std::size_t at = folded.find(needle, from);
    if (at == std::string::npos) break;
    const std::size_t end = at + needle.size();
    const bool startOk = at == 0 || !isNickChar(text[at - 1]);
    const bool endOk = end == text.size() || !isNickChar(text[end]);
    if (startOk && endOk) {
      mentioned = true;
      if (at > plain) out.push_back(Span{text.substr(plain, at - plain), base});
      Attr m = kMention;
      m.fg = base.fg;
      out.push_back(Span{text.substr(at, needle.size()), m});
      plain = end;
    }
    from = end;
  }
  if (plain < text.size() || out.empty()) out.push_back(Span{text.substr(plain), base});
  return out;
}

std::string reasonSuffix(std::string_view reason) {
  return reason.empty() ? std::string() : " (" + safe(reason) + ")";
}

// Commands of the full-screen client itself, handled before anything reaches the core.
struct LocalCommandInfo {
  std::string_view name;
  std::string_view syntax;
  std::string_view description;
};
constexpr LocalCommandInfo kLocalCommands[] = {
    {"window", "/window N|next|prev|close", "Switch to window N (Alt-1..9 too), or close this one"},
    {"query", "/query nick [text]", "Open a private conversation window"},
    {"clear", "/clear", "Empty this window's scrollback"},
    {"mouse", "/mouse on|off", "Mouse wheel scrolling (off: the terminal selects text)"},
};

constexpr std::string_view kKeysHelp =
    "keys: Alt-1..9 or Ctrl-N/Ctrl-P switch windows; PgUp/PgDn and the mouse wheel scroll; "
    "Tab completes nicks and commands; Up/Down recall input; Home/End, Ctrl-A/E/U/K/W, "
    "Left/Right edit; Ctrl-L redraws; Ctrl-C quits";

}  // namespace

std::string localClockText(Millis unixMs) {
  const time_t seconds = static_cast<time_t>(unixMs / 1000);
  struct tm parts {};
  if (localtime_r(&seconds, &parts) == nullptr) return "--:--";
  char buffer[16];
  const std::size_t n = strftime(buffer, sizeof buffer, "%H:%M", &parts);
  return std::string(buffer, n);
}

// Builds one line: "HH:MM " then a prefix (the part wrapped rows are indented past), then
// the body.
struct TuiModel::LineBuilder {
  StyledLine line;
  LineBuilder(const ClockText& clock, Millis ts) {
    line.spans.push_back(Span{clock(ts) + " ", kTime});
    line.bodyStart = line.spans.size();
  }
  LineBuilder& prefix(std::string text, Attr attr) {
    line.spans.push_back(Span{std::move(text), attr});
    line.bodyStart = line.spans.size();
    return *this;
  }
  LineBuilder& body(std::string text, Attr attr = {}) {
    line.spans.push_back(Span{std::move(text), attr});
    return *this;
  }
  LineBuilder& body(std::vector<Span> spans) {
    for (Span& s : spans) line.spans.push_back(std::move(s));
    return *this;
  }
  StyledLine done() { return std::move(line); }
};

TuiModel::TuiModel(ClockText clock, int width, int height)
    : clock_(std::move(clock)), width_(width), height_(height) {
  windows_.push_back(std::make_unique<Window>(WindowKind::Status, "status"));
}

void TuiModel::resize(int width, int height) {
  width_ = std::max(width, 1);
  height_ = std::max(height, 1);
}

Layout TuiModel::layout() const {
  Layout l;
  l.width = width_;
  l.height = height_;
  if (width_ < kMinWidth || height_ < kMinHeight) {
    l.tooSmall = true;
    return l;
  }
  l.titleY = 0;
  l.paneY = 1;
  l.paneHeight = height_ - 3;
  l.statusY = height_ - 2;
  l.inputY = height_ - 1;
  l.paneWidth = width_;
  if (active().kind() == WindowKind::Room && width_ >= kNickListMinWidth) {
    l.nickList = true;
    l.listWidth = width_ >= 100 ? 26 : 20;
    l.listX = width_ - l.listWidth;
    l.paneWidth = l.listX - 1;
  }
  return l;
}

// ---- windows ---------------------------------------------------------------------------------

Window* TuiModel::find(WindowKind kind, std::string_view name) {
  for (auto& w : windows_) {
    if (w->kind() == kind && sameName(w->name(), name)) return w.get();
  }
  return nullptr;
}

Window& TuiModel::ensure(WindowKind kind, const std::string& name) {
  if (Window* w = find(kind, name)) return *w;
  windows_.push_back(std::make_unique<Window>(kind, name));
  return *windows_.back();
}

std::size_t TuiModel::indexOf(const Window& w) const {
  for (std::size_t i = 0; i < windows_.size(); ++i) {
    if (windows_[i].get() == &w) return i;
  }
  return 0;
}

void TuiModel::activate(std::size_t index) {
  if (index >= windows_.size()) return;
  active_ = index;
  active().markRead();
}

void TuiModel::removeWindow(std::size_t index) {
  if (index == 0 || index >= windows_.size()) return;
  windows_.erase(windows_.begin() + static_cast<std::ptrdiff_t>(index));
  if (active_ == index) {
    activate(index - 1);
  } else if (active_ > index) {
    --active_;
  }
}

void TuiModel::add(Window& w, StyledLine line, Activity level, protocol::MessageId id,
                   protocol::ClientId pending) {
  w.add(std::move(line), level, &w == &active(), id, pending);
}

void TuiModel::addGlobal(StyledLine line, Activity level) {
  if (active_ != 0) add(active(), line, level);
  add(status(), std::move(line), level);
}

// ---- events ----------------------------------------------------------------------------------

void TuiModel::event(const ClientEvent& event, const ChatStatus& st, Millis now) {
  const std::string& me = st.nick();
  auto line = [&](Millis ts = 0) { return LineBuilder(clock_, ts != 0 ? ts : now); };
  auto eventLine = [&](std::string marker, std::string text) {
    return line().prefix(std::move(marker) + " ", kEvent).body(std::move(text)).done();
  };
  auto roomsWith = [&](std::string_view nick) {
    std::vector<Window*> out;
    for (auto& w : windows_) {
      if (w->kind() == WindowKind::Room && w->findNick(nick) != nullptr) out.push_back(w.get());
    }
    return out;
  };

  std::visit(
      Overloaded{
          [&](const client_event::Welcome& w) {
            serverName_ = safe(w.server.serverName);
            lastWhoRefresh_ = now;  // the joins bring fresh nick lists
            lossReason_.clear();
            retryAttempt_ = 0;
            std::string text = std::string(w.reconnected ? "reconnected to " : "connected to ") +
                               serverName_ + " as " + safe(w.server.nick);
            addGlobal(eventLine("--", text), Activity::Events);
            if (!w.server.motd.empty()) {
              add(status(), line().prefix("-- ", kEvent).body(safeText(w.server.motd)).done(),
                  Activity::Events);
            }
            if (!w.reconnected) focusOnJoin_ = w.room;
          },
          [&](const protocol::ErrorReply& e) {
            std::string text =
                "error " + std::string(protocol::toString(e.code)) + ": " + safe(e.message);
            if (!e.context.empty() && e.message.find(e.context) == std::string::npos) {
              text += " (" + safe(e.context) + ")";
            }
            add(active(), line().prefix("! ", kError).body(text, kError).done(),
                Activity::Messages);
            if (e.clientId != 0) {
              const Span note{"  (not sent: " + std::string(protocol::toString(e.code)) + ")",
                              kError};
              for (auto& w : windows_) {
                if (w->markFailed(e.clientId, note)) break;
              }
            }
          },
          [&](const client_event::Sending& e) {
            // Shown at once, dimmed, until the server's echo takes its place.
            const OutgoingMessage& m = e.message;
            Window& w = ensure(m.isPrivate ? WindowKind::Private : WindowKind::Room, m.target);
            const Attr pending{.dim = true};
            LineBuilder b = line();
            if (m.action) {
              b.prefix(" * " + safe(me) + " ", pending);
            } else {
              b.prefix("<" + safe(me) + "> ", pending);
            }
            if (!m.subject.empty()) b.body("[" + safe(m.subject) + "] ", pending);
            b.body(safeText(m.text), pending);
            b.body("  (sending)", kTime);
            add(w, b.done(), Activity::None, 0, m.clientId);
          },
          [&](const client_event::Unconfirmed& u) {
            std::string text = std::to_string(u.messages.size()) +
                               (u.messages.size() == 1 ? " message" : " messages") +
                               " not confirmed by the server" +
                               (u.willResend ? "; sending again after reconnecting"
                                             : "; they may not have arrived");
            addGlobal(eventLine("!", text), Activity::Events);
            if (u.willResend) return;
            const Span note{"  (not confirmed)", kError};
            for (const OutgoingMessage& m : u.messages) {
              for (auto& w : windows_) {
                if (w->markFailed(m.clientId, note)) break;
              }
            }
          },
          [&](const protocol::ChatEvent& c) {
            Window& w = ensure(WindowKind::Room, c.room);
            const bool self = sameName(c.from, me);
            const bool history = (c.flags & protocol::kFlagHistory) != 0;
            bool mentioned = false;
            std::vector<Span> body = mentionSpans(safeText(c.text), self ? "" : me, {}, mentioned);
            LineBuilder b = line(static_cast<Millis>(c.ts));
            if (history) b.line.spans.front().attr.dim = true;
            if (c.flags & protocol::kFlagAction) {
              b.prefix(" * ", kEvent).prefix(safe(c.from) + " ", nickAttr(c.from, self));
            } else {
              b.prefix("<", {}).prefix(safe(c.from), nickAttr(c.from, self)).prefix("> ", {});
            }
            if (!c.subject.empty()) b.body("[" + safe(c.subject) + "] ", {.bold = true});
            b.body(std::move(body));
            if (self || isOperator_) b.body(" #" + std::to_string(c.id), kTime);
            Activity level = Activity::Messages;
            if (self) level = Activity::None;
            if (mentioned) level = Activity::Highlight;
            if (history) level = Activity::Events;
            StyledLine shown = b.done();
            if (self && w.settle(c.clientId, shown, c.id)) return;
            add(w, std::move(shown), level, c.id);
          },
          [&](const protocol::PrivateEvent& p) {
            const bool self = sameName(p.from, me);
            Window& w = ensure(WindowKind::Private, self ? p.to : p.from);
            LineBuilder b = line(static_cast<Millis>(p.ts));
            if (p.flags & protocol::kFlagAction) {
              b.prefix(" * ", kEvent).prefix(safe(p.from) + " ", nickAttr(p.from, self));
            } else {
              b.prefix("<", {}).prefix(safe(p.from), nickAttr(p.from, self)).prefix("> ", {});
            }
            if (!p.subject.empty()) b.body("[" + safe(p.subject) + "] ", {.bold = true});
            bool mentioned = false;
            b.body(mentionSpans(safeText(p.text), self ? "" : me, {}, mentioned));
            StyledLine shown = b.done();
            if (self && w.settle(p.clientId, shown, p.id)) return;
            add(w, std::move(shown), self ? Activity::None : Activity::Highlight, p.id);
          },
          [&](const protocol::JoinEvent& j) {
            Window& w = ensure(WindowKind::Room, j.room);
            w.addNick(j.nick);
            add(w, eventLine("-->", safe(j.nick) + " joined #" + safe(j.room)), Activity::Events);
            if (sameName(j.nick, me) && sameName(j.room, focusOnJoin_)) {
              focusOnJoin_.clear();
              activate(indexOf(w));
            }
          },
          [&](const protocol::PartEvent& p) {
            Window* w = find(WindowKind::Room, p.room);
            if (sameName(p.nick, me)) {
              add(status(), eventLine("<--", "you left #" + safe(p.room) + reasonSuffix(p.reason)),
                  Activity::Events);
              if (w != nullptr) removeWindow(indexOf(*w));
              return;
            }
            if (w == nullptr) return;
            w->removeNick(p.nick);
            add(*w, eventLine("<--", safe(p.nick) + " left" + reasonSuffix(p.reason)),
                Activity::Events);
          },
          [&](const protocol::QuitEvent& q) {
            Window* w = find(WindowKind::Room, q.room);
            if (w == nullptr) return;
            w->removeNick(q.nick);
            add(*w, eventLine("<--", safe(q.nick) + " quit" + reasonSuffix(q.reason)),
                Activity::Events);
          },
          [&](const protocol::NickEvent& n) {
            const std::string text = safe(n.oldNick) + " is now known as " + safe(n.newNick);
            const bool self = sameName(n.newNick, me) || sameName(n.oldNick, me);
            for (Window* w : roomsWith(n.oldNick)) {
              w->renameNick(n.oldNick, n.newNick);
              add(*w, eventLine("--", text), Activity::Events);
            }
            if (Window* p = find(WindowKind::Private, n.oldNick)) {
              if (find(WindowKind::Private, n.newNick) == nullptr) p->rename(n.newNick);
              add(*p, eventLine("--", text), Activity::Events);
            }
            if (self) add(status(), eventLine("--", text), Activity::Events);
          },
          [&](const protocol::TopicEvent& t) {
            Window& w = ensure(WindowKind::Room, t.room);
            w.setTopic(safe(t.topic));
            if (!t.topic.empty()) {
              std::string by = t.setBy.empty() ? std::string() : " (set by " + safe(t.setBy) + ")";
              add(w, eventLine("--", "topic: " + safe(t.topic) + by), Activity::Events);
            } else if (!t.setBy.empty()) {
              add(w, eventLine("--", safe(t.setBy) + " cleared the topic"), Activity::Events);
            }
          },
          [&](const protocol::DeletedEvent& d) {
            Window* w = find(WindowKind::Room, d.room);
            if (w == nullptr) return;
            std::vector<Span> body{Span{"(message deleted by " + safe(d.by) + ")", kDeleted}};
            if (!w->replaceBody(d.id, body)) {
              add(*w,
                  eventLine("--", "message " + std::to_string(d.id) + " deleted by " + safe(d.by)),
                  Activity::Events);
            }
          },
          [&](const protocol::KickEvent& k) {
            const std::string text =
                safe(k.nick) + " was kicked by " + safe(k.by) + reasonSuffix(k.reason);
            Window* w = k.room.empty() ? nullptr : find(WindowKind::Room, k.room);
            if (w != nullptr) {
              w->removeNick(k.nick);
              add(*w, eventLine("<--", text), Activity::Messages);
            }
            if (w == nullptr || sameName(k.nick, me))
              addGlobal(eventLine("<--", text), Activity::Messages);
          },
          [&](const protocol::WhoisReply& w) {
            std::string text = safe(w.nick) + ": " + std::string(protocol::toString(w.state));
            if (!w.awayMessage.empty()) text += " (" + safe(w.awayMessage) + ")";
            if (w.flags & protocol::kUserOperator) text += ", operator";
            if (w.flags & protocol::kUserTyping) text += ", typing";
            text += "\nrooms:";
            if (w.rooms.empty()) text += " none";
            for (const auto& r : w.rooms) text += " #" + safe(r);
            text += "\nround trip ";
            text += w.rttMs == 0 ? std::string("not measured") : std::to_string(w.rttMs) + " ms";
            char loss[32];
            std::snprintf(loss, sizeof loss, "%.1f %%", w.pingLossPermille / 10.0);
            text += ", ping loss " + std::string(loss) + ", idle " +
                    durationText(static_cast<Millis>(w.idleMs));
            add(active(), line().prefix("-- ", kEvent).body(text).done(), Activity::Messages);
          },
          [&](const protocol::PresenceEvent& p) {
            if (sameName(p.nick, me)) {
              if (p.state != protocol::PresenceState::Lagging) {
                away_ = p.state == protocol::PresenceState::Away;
              }
            }
            for (Window* w : roomsWith(p.nick)) {
              NickEntry* e = w->findNick(p.nick);
              const protocol::PresenceState before = e->state;
              e->state = p.state;
              // Going away and coming back are worth a line; lag comes and goes, so the nick
              // list shows it instead.
              if (p.state == protocol::PresenceState::Away) {
                add(*w,
                    eventLine("--", safe(p.nick) + " is away" +
                                        (p.awayMessage.empty() ? "" : ": " + safe(p.awayMessage))),
                    Activity::Events);
              } else if (before == protocol::PresenceState::Away &&
                         p.state == protocol::PresenceState::Active) {
                add(*w, eventLine("--", safe(p.nick) + " is back"), Activity::Events);
              }
            }
          },
          [&](const protocol::AwayReply& a) {
            Window* w = find(WindowKind::Private, a.nick);
            Window& target = w != nullptr ? *w : active();
            add(target,
                eventLine("--", safe(a.nick) + " is away" +
                                    (a.message.empty() ? "" : ": " + safe(a.message))),
                Activity::Events);
          },
          [&](const protocol::BanListReply& b) {
            addGlobal(eventLine("--", format::banListText(b)), Activity::Events);
          },
          [&](const protocol::HistoryEnd& h) {
            add(ensure(WindowKind::Room, h.room), eventLine("--", format::historyEndText(h)),
                Activity::Events);
          },
          [&](const protocol::NoticeEvent& n) {
            if (n.kind == protocol::NoticeKind::OperGranted) isOperator_ = true;
            addGlobal(line().prefix("-- notice: ", kEvent).body(safeText(n.text)).done(),
                      Activity::Messages);
          },
          [&](const client_event::WhoList& list) {
            Window& w = ensure(WindowKind::Room, list.room);
            std::vector<NickEntry> nicks;
            for (const auto& u : list.users) {
              nicks.push_back(
                  NickEntry{u.nick, u.state, u.rttMs, (u.flags & protocol::kUserOperator) != 0});
            }
            w.setNicks(std::move(nicks));
            auto it = whoRequested_.find(list.room);
            if (it == whoRequested_.end() || it->second <= 0) return;
            --it->second;
            std::string text =
                std::to_string(list.users.size()) + (list.users.size() == 1 ? " user:" : " users:");
            for (const NickEntry& e : w.nicks()) {
              text += ' ';
              if (e.isOperator) text += '@';
              text += safe(e.nick);
              if (e.state != protocol::PresenceState::Active) {
                text += "(" + std::string(protocol::toString(e.state)) + ")";
              }
            }
            add(w, eventLine("--", text), Activity::Events);
          },
          [&](const client_event::Typing&) {},  // drawn from ChatStatus::typingIn
          [&](const client_event::Connected&) {
            add(status(), eventLine("--", "connected; registering"), Activity::None);
          },
          [&](const client_event::ConnectionLost& c) {
            lossReason_ = safe(c.reason.empty() ? std::string("connection lost") : c.reason);
            addGlobal(
                line().prefix("! ", kError).body("connection lost: " + lossReason_, kError).done(),
                Activity::Events);
          },
          [&](const client_event::Reconnecting& r) {
            retryAttempt_ = r.attempt;
            retryAt_ = now + r.delay;
            add(status(),
                eventLine("--", "reconnecting in " + durationText(r.delay) + " (attempt " +
                                    std::to_string(r.attempt) + ")"),
                Activity::None);
          },
          [&](const client_event::LocalError& e) {
            std::string text = e.code == "usage" ? safe(e.message)
                                                 : "error " + safe(e.code) + ": " + safe(e.message);
            add(active(), line().prefix("! ", kError).body(text, kError).done(),
                Activity::Messages);
          },
          [&](const client_event::Info& i) {
            add(active(), line().prefix("-- ", kEvent).body(safeText(i.text), Attr{}).done(),
                Activity::Messages);
          },
          [&](const client_event::Finished& f) {
            std::string text = f.exitStatus == kExitOk
                                   ? std::string("bye")
                                   : safe(f.reason.empty() ? std::string("finished") : f.reason);
            addGlobal(eventLine("--", text), Activity::Messages);
          },
      },
      event);
}

// ---- keys ------------------------------------------------------------------------------------

std::vector<Action> TuiModel::key(const Key& key, const ChatStatus& st, Millis now) {
  std::vector<Action> actions;
  const Layout l = layout();
  const int page = std::max(1, l.paneHeight - 2);
  const std::string before = editor_.text();
  using Code = Key::Code;
  switch (key.code) {
    case Code::Char: {
      if (key.ch < 0x20 || charWidth(key.ch) < 0) break;  // never a control character
      std::string utf8;
      text::appendUtf8(utf8, key.ch);
      editor_.insert(utf8);
      break;
    }
    case Code::Enter:
      return submit(st, now);
    case Code::Tab:
    case Code::BackTab:
      editor_.complete(
          [&](std::string_view word, bool atStart) { return completions(word, atStart, st); },
          key.code == Code::Tab);
      break;
    case Code::Backspace:
      editor_.backspace();
      break;
    case Code::Delete:
      editor_.deleteForward();
      break;
    case Code::Left:
      editor_.left();
      break;
    case Code::Right:
      editor_.right();
      break;
    case Code::Home:
      editor_.home();
      break;
    case Code::End:
      editor_.end();
      break;
    case Code::Up:
      editor_.historyUp();
      break;
    case Code::Down:
      editor_.historyDown();
      break;
    case Code::PageUp:
      active().scrollUp(page, l.paneWidth, l.paneHeight - 1);
      break;
    case Code::PageDown:
      active().scrollDown(page, l.paneWidth);
      break;
    case Code::WheelUp:
      active().scrollUp(kWheelRows, l.paneWidth, l.paneHeight - 1);
      break;
    case Code::WheelDown:
      active().scrollDown(kWheelRows, l.paneWidth);
      break;
    case Code::Alt:
      if (key.ch >= '1' && key.ch <= '9') activate(static_cast<std::size_t>(key.ch - '1'));
      if (key.ch == '0') activate(9);
      break;
    case Code::Ctrl:
      switch (key.ch) {
        case 'a':
          editor_.home();
          break;
        case 'e':
          editor_.end();
          break;
        case 'b':
          editor_.left();
          break;
        case 'f':
          editor_.right();
          break;
        case 'd':
          editor_.deleteForward();
          break;
        case 'h':
          editor_.backspace();
          break;
        case 'u':
          editor_.killToStart();
          break;
        case 'k':
          editor_.killToEnd();
          break;
        case 'w':
          editor_.killWord();
          break;
        case 'n':
          activate((active_ + 1) % windows_.size());
          break;
        case 'p':
          activate((active_ + windows_.size() - 1) % windows_.size());
          break;
        case 'l':
          actions.push_back(action::Redraw{});
          break;
        case 'c':
          actions.push_back(action::Quit{""});
          break;
        default:
          break;
      }
      break;
    case Code::Escape:
      break;
  }
  if (editor_.text() != before) typingAction(st, actions);
  return actions;
}

std::vector<Action> TuiModel::tick(const ChatStatus& st, Millis now) {
  std::vector<Action> actions;
  const Window& w = active();
  if (st.state() != ConnectionState::Registered || w.kind() != WindowKind::Room) return actions;
  if (now - lastWhoRefresh_ < kWhoRefreshMs) return actions;
  lastWhoRefresh_ = now;
  const auto& rooms = st.rooms();
  if (std::find(rooms.begin(), rooms.end(), w.name()) == rooms.end()) return actions;
  actions.push_back(action::Input{"/who #" + w.name()});
  return actions;
}

void TuiModel::typingAction(const ChatStatus& st, std::vector<Action>& actions) const {
  const std::string& t = editor_.text();
  // A command is not a message being typed; "//text" is.
  if (t.empty() || (t.front() == '/' && !t.starts_with("//"))) return;
  if (st.state() != ConnectionState::Registered) return;
  const Window& w = active();
  if (w.kind() == WindowKind::Room) actions.push_back(action::Typing{w.name(), false});
  if (w.kind() == WindowKind::Private) actions.push_back(action::Typing{w.name(), true});
}

std::vector<std::string> TuiModel::completions(std::string_view word, bool atLineStart,
                                               const ChatStatus& st) const {
  std::vector<std::string> names;
  std::string suffix = " ";
  const std::string folded = text::foldCase(word);
  auto matches = [&](std::string_view candidate) {
    return text::foldCase(candidate).starts_with(folded);
  };
  if (word.starts_with('/')) {
    if (!atLineStart) return {};
    const std::string_view help = command::helpText();
    for (std::size_t start = 0; start < help.size();) {
      std::size_t end = help.find('\n', start);
      if (end == std::string_view::npos) end = help.size();
      const std::string_view row = help.substr(start, end - start);
      if (row.starts_with('/')) names.emplace_back(row.substr(0, row.find(' ')));
      start = end + 1;
    }
    for (const auto& c : kLocalCommands) names.push_back("/" + std::string(c.name));
  } else if (word.starts_with('#')) {
    for (const auto& r : st.rooms()) names.push_back("#" + r);
  } else {
    if (word.empty()) return {};
    if (atLineStart) suffix = ": ";
    const Window& w = active();
    if (w.kind() == WindowKind::Private) names.push_back(w.name());
    for (const auto& win : windows_) {
      // The room on screen first; in the status window every room's nicks.
      if (win.get() != &w && w.kind() != WindowKind::Status) continue;
      for (const NickEntry& e : win->nicks()) {
        if (!sameName(e.nick, st.nick())) names.push_back(e.nick);
      }
    }
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return text::foldCase(a) < text::foldCase(b);
  });
  names.erase(
      std::unique(names.begin(), names.end(),
                  [](const std::string& a, const std::string& b) { return sameName(a, b); }),
      names.end());
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (matches(n)) out.push_back(n + suffix);
  }
  return out;
}

// ---- submitting a line -----------------------------------------------------------------------

std::vector<Action> TuiModel::submit(const ChatStatus& st, Millis now) {
  std::vector<Action> actions;
  const std::string text = editor_.submit();
  active().scrollToBottom();
  if (std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t'; })) {
    return actions;
  }
  if (localCommand(text, st, now, actions)) return actions;

  Window& w = active();
  auto parsed = command::parse(text);
  if (!parsed) {
    actions.push_back(action::Input{text});  // the core explains the syntax error
    return actions;
  }
  const command::Command& cmd = parsed.value();

  if (w.kind() == WindowKind::Private) {
    if (const auto* say = std::get_if<command::Say>(&cmd)) {
      // "/msg nick [subject] text" would read a leading "[...]" of the text as a subject; an
      // empty subject in front keeps it text.
      const std::string guard = say->text.starts_with('[') ? "[] " : "";
      actions.push_back(action::Input{"/msg " + w.name() + " " + guard + say->text});
      return actions;
    }
    if (std::holds_alternative<command::Me>(cmd)) {
      add(w,
          LineBuilder(clock_, now)
              .prefix("! ", kError)
              .body("/me works in room windows only", kError)
              .done(),
          Activity::None);
      return actions;
    }
  }

  if (const auto* join = std::get_if<command::Join>(&cmd)) {
    // A room already open is only a window switch; the core follows when a line needs it.
    if (auto room = text::normalizeRoom(join->room)) {
      if (Window* existing = find(WindowKind::Room, *room)) {
        activate(indexOf(*existing));
        return actions;
      }
      focusOnJoin_ = *room;
    }
    actions.push_back(action::Input{text});
    return actions;
  }

  if (w.kind() == WindowKind::Room) {
    // Lines that act on "the current room" go to this window's room: the core is told to
    // switch first when its current room is another one.
    const bool roomDependent =
        std::holds_alternative<command::Say>(cmd) || std::holds_alternative<command::Me>(cmd) ||
        std::holds_alternative<command::Topic>(cmd) ||
        std::holds_alternative<command::Delete>(cmd) ||
        (std::holds_alternative<command::Part>(cmd) && std::get<command::Part>(cmd).room.empty()) ||
        (std::holds_alternative<command::Who>(cmd) && std::get<command::Who>(cmd).room.empty());
    if (roomDependent && !sameName(st.currentRoom(), w.name())) {
      actions.push_back(action::Input{"/join #" + w.name()});
    }
  }
  if (const auto* who = std::get_if<command::Who>(&cmd)) {
    std::string room = who->room.empty()
                           ? (w.kind() == WindowKind::Room ? w.name() : st.currentRoom())
                           : text::normalizeRoom(who->room).value_or("");
    if (!room.empty()) ++whoRequested_[room];
  }
  if (const auto* help = std::get_if<command::Help>(&cmd); help != nullptr && help->topic.empty()) {
    showHelp("", now);
    return actions;
  }
  actions.push_back(action::Input{text});
  return actions;
}

bool TuiModel::localCommand(std::string_view line, const ChatStatus&, Millis now,
                            std::vector<Action>& actions) {
  if (!line.starts_with('/') || line.starts_with("//")) return false;
  std::string_view rest = line.substr(1);
  const std::size_t nameEnd = std::min(rest.find(' '), rest.size());
  const std::string name = text::foldCase(rest.substr(0, nameEnd));
  std::string_view args = rest.substr(nameEnd);
  while (args.starts_with(' ')) args.remove_prefix(1);
  while (args.ends_with(' ')) args.remove_suffix(1);

  auto problem = [&](std::string message) {
    add(active(),
        LineBuilder(clock_, now).prefix("! ", kError).body(std::move(message), kError).done(),
        Activity::None);
  };

  if (name == "window" || name == "win") {
    if (args == "next") {
      activate((active_ + 1) % windows_.size());
    } else if (args == "prev") {
      activate((active_ + windows_.size() - 1) % windows_.size());
    } else if (args == "close") {
      Window& w = active();
      if (w.kind() == WindowKind::Status) {
        problem("the status window stays open");
      } else if (w.kind() == WindowKind::Room) {
        actions.push_back(action::Input{"/part #" + w.name()});  // closed when the part arrives
      } else {
        removeWindow(active_);
      }
    } else {
      std::size_t n = 0;
      bool digits = !args.empty();
      for (char c : args) {
        if (c < '0' || c > '9' || n > 1000) {
          digits = false;
          break;
        }
        n = n * 10 + static_cast<std::size_t>(c - '0');
      }
      if (!digits) {
        problem("usage: /window N|next|prev|close");
      } else if (n == 0 || n > windows_.size()) {
        problem("no window " + std::string(args) + "; there are " +
                std::to_string(windows_.size()));
      } else {
        activate(n - 1);
      }
    }
    return true;
  }
  if (name == "query") {
    const std::size_t space = std::min(args.find(' '), args.size());
    const std::string nick(args.substr(0, space));
    if (nick.empty() || text::nickProblem(nick, 1, kMaxNickBytes)) {
      problem("usage: /query nick [text]");
      return true;
    }
    activate(indexOf(ensure(WindowKind::Private, nick)));
    std::string_view message = args.substr(space);
    while (message.starts_with(' ')) message.remove_prefix(1);
    if (!message.empty()) {
      const std::string guard = message.starts_with('[') ? "[] " : "";
      actions.push_back(action::Input{"/msg " + nick + " " + guard + std::string(message)});
    }
    return true;
  }
  if (name == "clear") {
    active().clearLines();
    return true;
  }
  if (name == "mouse") {
    if (args != "on" && args != "off") {
      problem("usage: /mouse on|off");
      return true;
    }
    mouse_ = args == "on";
    actions.push_back(action::Mouse{mouse_});
    return true;
  }
  if (name == "help") {
    std::string_view topic = args;
    if (topic.starts_with('/')) topic.remove_prefix(1);
    for (const auto& c : kLocalCommands) {
      if (text::foldCase(topic) == c.name) {
        showHelp(topic, now);
        return true;
      }
    }
  }
  return false;
}

void TuiModel::showHelp(std::string_view topic, Millis now) {
  std::string text;
  if (topic.empty()) {
    text = std::string(command::helpText());
    std::size_t width = 0;
    for (const auto& c : kLocalCommands) width = std::max(width, c.syntax.size());
    text += "\nfull-screen client:";
    for (const auto& c : kLocalCommands) {
      text += "\n" + std::string(c.syntax) + std::string(width + 2 - c.syntax.size(), ' ') +
              std::string(c.description);
    }
    text +=
        "\nIn a private window plain lines go to that person; in a room window, to that room.\n";
    text += kKeysHelp;
  } else {
    for (const auto& c : kLocalCommands) {
      if (text::foldCase(topic) == c.name) {
        text = std::string(c.syntax) + "  " + std::string(c.description);
      }
    }
  }
  add(active(), LineBuilder(clock_, now).prefix("-- ", kEvent).body(text).done(), Activity::None);
}

}  // namespace udpchat::tui
