// TuiModel's drawing: the title bar, the message pane, the nick list, the status bar and the
// input line, into a Screen.
#include <algorithm>
#include <string>

#include "char_width.hpp"
#include "tui_model.hpp"
#include "tui_style.hpp"

namespace udpchat::tui {

using namespace style;

// ---- drawing ---------------------------------------------------------------------------------

void TuiModel::render(Screen& screen, const ChatStatus& st, Millis now) const {
  if (screen.width() != width_ || screen.height() != height_) screen.resize(width_, height_);
  screen.clear();
  const Layout l = layout();
  if (l.tooSmall) {
    screen.print(0, 0, "window too small", {});
    screen.hideCursor();
    return;
  }
  renderTitle(screen, l);
  renderPane(screen, l);
  if (l.nickList) renderNickList(screen, l, st);
  renderStatus(screen, l, st, now);
  renderInput(screen, l);
}

void TuiModel::renderTitle(Screen& screen, const Layout& l) const {
  screen.fill(l.titleY, kBar);
  const Window& w = active();
  std::string title;
  switch (w.kind()) {
    case WindowKind::Status:
      title = "udpchat";
      if (!serverName_.empty()) title += " - " + serverName_;
      if (!serverAddress_.empty()) title += " (" + serverAddress_ + ")";
      break;
    case WindowKind::Room:
      title = "#" + safe(w.name());
      if (!w.topic().empty()) title += ": " + w.topic();
      break;
    case WindowKind::Private:
      title = "private conversation with " + safe(w.name());
      break;
  }
  screen.print(1, l.titleY, title, kBar, l.width - 1);
}

void TuiModel::renderPane(Screen& screen, const Layout& l) const {
  const Window& w = active();
  const bool marker = !w.following();
  const int rows = marker ? l.paneHeight - 1 : l.paneHeight;
  const std::vector<Row> visible = w.visibleRows(l.paneWidth, rows);
  for (std::size_t i = 0; i < visible.size(); ++i) {
    drawRow(screen, 0, l.paneY + static_cast<int>(i), visible[i]);
  }
  if (marker) {
    const int y = l.paneY + l.paneHeight - 1;
    std::string text = "-- more below: " + std::to_string(w.linesBelow()) + " lines";
    if (w.newBelow() > 0) text += ", " + std::to_string(w.newBelow()) + " new";
    text += " (PgDn) --";
    screen.fill(y, kMarker, 0, l.paneWidth);
    screen.print(0, y, text, kMarker, l.paneWidth);
  }
}

void TuiModel::renderNickList(Screen& screen, const Layout& l, const ChatStatus& st) const {
  const Window& w = active();
  for (int y = l.paneY; y < l.paneY + l.paneHeight; ++y) {
    screen.print(l.listX - 1, y, "\u2502", kSeparator);
  }
  const std::vector<std::string> typing = st.typingIn(w.name(), false);
  const auto isTyping = [&](const std::string& nick) {
    return std::any_of(typing.begin(), typing.end(),
                       [&](const std::string& t) { return sameName(t, nick); });
  };
  std::string header =
      std::to_string(w.nicks().size()) + (w.nicks().size() == 1 ? " user" : " users");
  screen.print(l.listX + 1, l.paneY, header, {.bold = true}, l.width);
  const int slots = l.paneHeight - 1;
  const int count = static_cast<int>(w.nicks().size());
  for (int i = 0; i < count && i < slots; ++i) {
    const int y = l.paneY + 1 + i;
    if (i == slots - 1 && count > slots) {
      screen.print(l.listX + 1, y, "+" + std::to_string(count - slots + 1) + " more", kTime,
                   l.width);
      break;
    }
    const NickEntry& e = w.nicks()[static_cast<std::size_t>(i)];
    const bool self = sameName(e.nick, st.nick());
    // Right-aligned: what the person is doing, then the round-trip time.
    std::string tag;
    Attr tagAttr = kTime;
    if (self ? false : isTyping(e.nick)) {
      tag = "typing";
      tagAttr = {.fg = 2};
    } else if (e.state == protocol::PresenceState::Away) {
      tag = "away";
    } else if (e.state == protocol::PresenceState::Lagging) {
      tag = "lag";
      tagAttr = {.fg = 9};
    }
    const std::uint32_t rtt = self ? static_cast<std::uint32_t>(st.rttMs()) : e.rttMs;
    std::string right = tag;
    if (rtt != 0) right += (right.empty() ? "" : " ") + std::to_string(rtt) + "ms";
    const int rightWidth = displayWidth(right);
    const int rightX = l.width - rightWidth;
    screen.print(l.listX, y, e.isOperator ? "@" : " ", {.bold = true});
    Attr attr = nickAttr(e.nick, self);
    attr.dim = e.state == protocol::PresenceState::Away;
    screen.print(l.listX + 1, y, safe(e.nick), attr, std::max(l.listX + 1, rightX - 1));
    if (!tag.empty()) screen.print(rightX, y, tag, tagAttr, l.width);
    if (rtt != 0) {
      const std::string ms = std::to_string(rtt) + "ms";
      screen.print(l.width - displayWidth(ms), y, ms, kTime, l.width);
    }
  }
}

std::string TuiModel::typingText(const ChatStatus& st) const {
  const Window& w = active();
  std::vector<std::string> names;
  if (w.kind() == WindowKind::Room) {
    names = st.typingIn(w.name(), false);
  } else if (w.kind() == WindowKind::Private) {
    for (const auto& n : st.typingIn(st.nick(), true)) {
      if (sameName(n, w.name())) names.push_back(n);
    }
  }
  std::string out;
  if (names.size() == 1) {
    out = safe(names[0]) + " is typing";
  } else if (names.size() == 2) {
    out = safe(names[0]) + " and " + safe(names[1]) + " are typing";
  } else if (names.size() > 2) {
    out = std::to_string(names.size()) + " people are typing";
  }
  // Someone typing to us privately matters wherever we are.
  for (const auto& n : st.typingIn(st.nick(), true)) {
    if (w.kind() == WindowKind::Private && sameName(n, w.name())) continue;
    out += (out.empty() ? "" : "; ") + safe(n) + " is typing to you";
  }
  return out;
}

void TuiModel::renderStatus(Screen& screen, const Layout& l, const ChatStatus& st,
                            Millis now) const {
  screen.fill(l.statusY, kBar);
  int x = 0;
  auto put = [&](const std::string& s, Attr a) { x = screen.print(x, l.statusY, s, a); };
  put("[" + clock_(now) + "] [", kBar);
  put(safe(st.nick().empty() ? std::string("?") : st.nick()), kBarActivity);
  if (away_) put(" (away)", kBar);
  put("] [" + std::to_string(active_ + 1) + ":" + (active().kind() == WindowKind::Room ? "#" : "") +
          safe(active().name()) + "] ",
      kBar);

  std::string connection;
  Attr connectionAttr = kBar;
  switch (st.state()) {
    case ConnectionState::Idle:
    case ConnectionState::Connecting:
      connection = retryAttempt_ > 0 ? "reconnecting" : "connecting";
      connectionAttr = kBarAlert;
      break;
    case ConnectionState::Registering:
      connection = "registering";
      connectionAttr = kBarAlert;
      break;
    case ConnectionState::Registered:
      connection = "connected";
      if (st.rttMs() > 0) connection += " " + std::to_string(st.rttMs()) + " ms";
      break;
    case ConnectionState::WaitingRetry: {
      connection = "disconnected";
      if (!lossReason_.empty()) connection += " (" + lossReason_ + ")";
      const Millis left = std::max<Millis>(retryAt_ - now, 0);
      connection += ", retry " + std::to_string(retryAttempt_) + " in " + durationText(left);
      connectionAttr = kBarAlert;
      break;
    }
    case ConnectionState::Closing:
      connection = "closing";
      break;
    case ConnectionState::Finished:
      connection = "finished";
      connectionAttr = kBarAlert;
      break;
  }
  put("[", kBar);
  put(std::string(st.transportName()) + ": ", kBar);
  put(connection, connectionAttr);
  put("] ", kBar);

  bool first = true;
  for (std::size_t i = 0; i < windows_.size(); ++i) {
    const Window& w = *windows_[i];
    if (i == active_ || w.activity() == Activity::None) continue;
    put(first ? "[Act: " : " ", kBar);
    first = false;
    std::string entry =
        std::to_string(i + 1) + ":" + (w.kind() == WindowKind::Room ? "#" : "") + safe(w.name());
    if (w.unread() > 0) entry += "(" + std::to_string(w.unread()) + ")";
    Attr a = kBarDim;
    if (w.activity() == Activity::Messages) a = kBarActivity;
    if (w.activity() == Activity::Highlight) a = kBarHighlight;
    put(entry, a);
  }
  if (!first) put("] ", kBar);
  const std::string typing = typingText(st);
  if (!typing.empty()) put(typing, kBarActivity);
}

void TuiModel::renderInput(Screen& screen, const Layout& l) const {
  const Window& w = active();
  std::string prompt;
  switch (w.kind()) {
    case WindowKind::Status:
      prompt = "[status] ";
      break;
    case WindowKind::Room:
      prompt = "[#" + safe(w.name()) + "] ";
      break;
    case WindowKind::Private:
      prompt = "[" + safe(w.name()) + "] ";
      break;
  }
  // A prompt wider than half the screen is cut so the text keeps room.
  const int promptEnd = screen.print(0, l.inputY, prompt, kPrompt, l.width / 2);
  const int avail = l.width - promptEnd;
  if (avail <= 1) {
    screen.setCursor(l.width - 1, l.inputY);
    return;
  }
  // Scroll the text sideways so the cursor stays on screen, one column kept for it at the end.
  const std::string& text = editor_.text();
  const int cursorCol = editor_.cursorColumn();
  const int start = std::max(0, cursorCol - (avail - 1));
  int col = 0;
  int x = promptEnd;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t begin = pos;
    nextCodePoint(text, pos);
    while (pos < text.size()) {  // combining characters stay with their base
      std::size_t probe = pos;
      if (charWidth(nextCodePoint(text, probe)) != 0) break;
      pos = probe;
    }
    const std::string_view glyph = std::string_view(text).substr(begin, pos - begin);
    const int glyphWidth = std::max(displayWidth(glyph), 1);
    if (col >= start) {
      if (x + glyphWidth > l.width) break;
      x = screen.print(x, l.inputY, glyph, {});
    } else if (col + glyphWidth > start) {
      // Half of a wide character scrolled off the left edge: its visible half is a blank.
      x = screen.print(x, l.inputY,
                       std::string(static_cast<std::size_t>(col + glyphWidth - start), ' '), {});
    }
    col += glyphWidth;
  }
  screen.setCursor(promptEnd + cursorCol - start, l.inputY);
}

}  // namespace udpchat::tui
