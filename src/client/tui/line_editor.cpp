#include "line_editor.hpp"

#include <algorithm>
#include <utility>

#include "char_width.hpp"

namespace udpchat::tui {
namespace {

bool isContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

LineEditor::LineEditor(std::size_t historyLimit)
    : historyLimit_(std::max<std::size_t>(historyLimit, 1)) {}

int LineEditor::cursorColumn() const {
  return displayWidth(std::string_view(text_).substr(0, cursor_));
}

// A character together with the combining characters after it moves as one.
std::size_t LineEditor::previousBoundary(std::size_t pos) const {
  while (pos > 0) {
    --pos;
    while (pos > 0 && isContinuationByte(text_[pos])) --pos;
    std::size_t probe = pos;
    if (charWidth(nextCodePoint(text_, probe)) != 0) break;
  }
  return pos;
}

std::size_t LineEditor::nextBoundary(std::size_t pos) const {
  if (pos >= text_.size()) return text_.size();
  nextCodePoint(text_, pos);
  while (pos < text_.size()) {
    std::size_t probe = pos;
    if (charWidth(nextCodePoint(text_, probe)) != 0) break;
    pos = probe;
  }
  return pos;
}

void LineEditor::edited() {
  completing_ = false;
}

void LineEditor::insert(std::string_view utf8) {
  edited();
  text_.insert(cursor_, utf8);
  cursor_ += utf8.size();
}

void LineEditor::left() {
  edited();
  cursor_ = previousBoundary(cursor_);
}

void LineEditor::right() {
  edited();
  cursor_ = nextBoundary(cursor_);
}

void LineEditor::home() {
  edited();
  cursor_ = 0;
}

void LineEditor::end() {
  edited();
  cursor_ = text_.size();
}

void LineEditor::backspace() {
  edited();
  if (cursor_ == 0) return;
  const std::size_t start = previousBoundary(cursor_);
  text_.erase(start, cursor_ - start);
  cursor_ = start;
}

void LineEditor::deleteForward() {
  edited();
  if (cursor_ >= text_.size()) return;
  text_.erase(cursor_, nextBoundary(cursor_) - cursor_);
}

void LineEditor::killToStart() {
  edited();
  text_.erase(0, cursor_);
  cursor_ = 0;
}

void LineEditor::killToEnd() {
  edited();
  text_.erase(cursor_);
}

void LineEditor::killWord() {
  edited();
  std::size_t start = cursor_;
  while (start > 0 && isBlank(text_[start - 1])) --start;
  while (start > 0 && !isBlank(text_[start - 1])) --start;
  text_.erase(start, cursor_ - start);
  cursor_ = start;
}

void LineEditor::historyUp() {
  edited();
  if (historyPos_ == 0) return;
  if (historyPos_ == history_.size()) draft_ = text_;
  --historyPos_;
  text_ = history_[historyPos_];
  cursor_ = text_.size();
}

void LineEditor::historyDown() {
  edited();
  if (historyPos_ >= history_.size()) return;
  ++historyPos_;
  text_ = historyPos_ == history_.size() ? std::exchange(draft_, {}) : history_[historyPos_];
  cursor_ = text_.size();
}

void LineEditor::complete(const Completer& completer, bool forward) {
  if (completing_ && !candidates_.empty()) {
    const std::size_t n = candidates_.size();
    candidate_ = forward ? (candidate_ + 1) % n : (candidate_ + n - 1) % n;
  } else {
    std::size_t start = cursor_;
    while (start > 0 && !isBlank(text_[start - 1])) --start;
    const std::string_view word = std::string_view(text_).substr(start, cursor_ - start);
    const bool atLineStart =
        std::all_of(text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(start), isBlank);
    candidates_ = completer ? completer(word, atLineStart) : std::vector<std::string>{};
    if (candidates_.empty()) return;
    completing_ = true;
    candidate_ = forward ? 0 : candidates_.size() - 1;
    wordStart_ = start;
    wordEnd_ = cursor_;
  }
  const std::string& replacement = candidates_[candidate_];
  text_.replace(wordStart_, wordEnd_ - wordStart_, replacement);
  wordEnd_ = wordStart_ + replacement.size();
  cursor_ = wordEnd_;
}

std::string LineEditor::submit() {
  edited();
  std::string line = std::exchange(text_, {});
  cursor_ = 0;
  draft_.clear();
  const bool blank = std::all_of(line.begin(), line.end(), isBlank);
  if (!blank && (history_.empty() || history_.back() != line)) {
    history_.push_back(line);
    if (history_.size() > historyLimit_) history_.erase(history_.begin());
  }
  historyPos_ = history_.size();
  return line;
}

void LineEditor::setText(std::string text) {
  edited();
  text_ = std::move(text);
  cursor_ = text_.size();
}

}  // namespace udpchat::tui
