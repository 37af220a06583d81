#include "window.hpp"

#include <algorithm>
#include <utility>

#include "udpchat/text.hpp"

namespace udpchat::tui {

Window::Window(WindowKind kind, std::string name, std::size_t maxLines)
    : kind_(kind), name_(std::move(name)), maxLines_(std::max<std::size_t>(maxLines, 1)) {}

void Window::add(StyledLine line, Activity level, bool seen, protocol::MessageId id,
                 protocol::ClientId pending) {
  lines_.push_back(Kept{std::move(line), id, pending});
  if (!following()) {
    // Keep the same line at the bottom of the view: the person is reading back.
    ++bottomLine_;
    ++newBelow_;
  }
  if (lines_.size() > maxLines_) {
    lines_.pop_front();
    if (bottomLine_ >= lines_.size()) {
      bottomLine_ = lines_.size() - 1;
      bottomSkip_ = 0;
    }
  }
  if (!seen) {
    if (level >= Activity::Messages) ++unread_;
    activity_ = std::max(activity_, level);
  }
}

bool Window::replaceBody(protocol::MessageId id, std::vector<Span> body) {
  if (id == 0) return false;
  for (Kept& k : lines_) {
    if (k.id != id) continue;
    k.line.spans.resize(std::min(k.line.bodyStart, k.line.spans.size()));
    for (Span& s : body) k.line.spans.push_back(std::move(s));
    return true;
  }
  return false;
}

bool Window::settle(protocol::ClientId pending, StyledLine line, protocol::MessageId id) {
  if (pending == 0) return false;
  for (Kept& k : lines_) {
    if (k.pending != pending) continue;
    k = Kept{std::move(line), id, 0};
    return true;
  }
  return false;
}

bool Window::markFailed(protocol::ClientId pending, Span note) {
  if (pending == 0) return false;
  for (Kept& k : lines_) {
    if (k.pending != pending) continue;
    k.pending = 0;
    k.line.spans.push_back(std::move(note));
    return true;
  }
  return false;
}

void Window::clearLines() {
  lines_.clear();
  scrollToBottom();
}

void Window::markRead() {
  unread_ = 0;
  activity_ = Activity::None;
}

void Window::scrollUp(int rows, int width, int pageRows) {
  if (lines_.empty() || rows <= 0) return;
  bottomSkip_ += rows;
  while (true) {
    const int r = rowCount(fromNewest(bottomLine_), width);
    if (bottomSkip_ < r) break;
    if (bottomLine_ + 1 >= lines_.size()) {
      bottomSkip_ = r - 1;
      break;
    }
    bottomSkip_ -= r;
    ++bottomLine_;
  }
  // Do not scroll past the point where the oldest line is at the top of the pane.
  int above = rowCount(fromNewest(bottomLine_), width) - bottomSkip_;
  for (std::size_t i = bottomLine_ + 1; i < lines_.size() && above < pageRows; ++i) {
    above += rowCount(fromNewest(i), width);
  }
  if (above >= pageRows) return;
  int target = pageRows - 1;  // the bottom row, counted from the top of the oldest line
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    const int r = rowCount(lines_[i].line, width);
    if (target < r) {
      bottomLine_ = lines_.size() - 1 - i;
      bottomSkip_ = r - 1 - target;
      if (following()) newBelow_ = 0;
      return;
    }
    target -= r;
  }
  scrollToBottom();  // everything fits on one page
}

void Window::scrollDown(int rows, int width) {
  if (rows <= 0) return;
  bottomSkip_ -= rows;
  while (bottomSkip_ < 0) {
    if (bottomLine_ == 0) {
      bottomSkip_ = 0;
      break;
    }
    --bottomLine_;
    bottomSkip_ += rowCount(fromNewest(bottomLine_), width);
  }
  if (following()) newBelow_ = 0;
}

void Window::scrollToBottom() {
  bottomLine_ = 0;
  bottomSkip_ = 0;
  newBelow_ = 0;
}

std::vector<Row> Window::visibleRows(int width, int height) const {
  std::vector<Row> out;
  if (height <= 0 || lines_.empty()) return out;
  std::size_t i = std::min(bottomLine_, lines_.size() - 1);
  std::vector<Row> rows = layoutLine(fromNewest(i), width);
  // After a resize the line may have fewer rows than the remembered offset.
  const int skip = std::min(bottomSkip_, static_cast<int>(rows.size()) - 1);
  rows.resize(rows.size() - static_cast<std::size_t>(skip));
  std::vector<Row> reversed;  // newest row first
  while (true) {
    for (auto it = rows.rbegin(); it != rows.rend() && static_cast<int>(reversed.size()) < height;
         ++it) {
      reversed.push_back(std::move(*it));
    }
    if (static_cast<int>(reversed.size()) >= height || i + 1 >= lines_.size()) break;
    ++i;
    rows = layoutLine(fromNewest(i), width);
  }
  out.assign(std::make_move_iterator(reversed.rbegin()), std::make_move_iterator(reversed.rend()));
  return out;
}

void Window::sortNicks() {
  std::sort(nicks_.begin(), nicks_.end(), [](const NickEntry& a, const NickEntry& b) {
    if (a.isOperator != b.isOperator) return a.isOperator;
    return text::foldCase(a.nick) < text::foldCase(b.nick);
  });
}

void Window::setNicks(std::vector<NickEntry> nicks) {
  nicks_ = std::move(nicks);
  sortNicks();
}

NickEntry* Window::findNick(std::string_view nick) {
  const std::string folded = text::foldCase(nick);
  for (NickEntry& e : nicks_) {
    if (text::foldCase(e.nick) == folded) return &e;
  }
  return nullptr;
}

void Window::addNick(const std::string& nick) {
  if (findNick(nick) != nullptr) return;
  nicks_.push_back(NickEntry{nick});
  sortNicks();
}

bool Window::removeNick(std::string_view nick) {
  const std::string folded = text::foldCase(nick);
  return std::erase_if(nicks_,
                       [&](const NickEntry& e) { return text::foldCase(e.nick) == folded; }) > 0;
}

bool Window::renameNick(std::string_view oldNick, const std::string& newNick) {
  NickEntry* e = findNick(oldNick);
  if (e == nullptr) return false;
  e->nick = newNick;
  sortNicks();
  return true;
}

}  // namespace udpchat::tui
