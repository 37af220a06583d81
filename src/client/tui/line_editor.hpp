// The input line: editing keys, history and Tab completion. Knows nothing of the terminal or of
// chat; the model supplies completion candidates.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace udpchat::tui {

class LineEditor {
 public:
  // Completions for `word` (the text from the start of the word to the cursor); `atLineStart`
  // when the word is the line's first. Returned in the order Tab cycles through them, each the
  // full replacement for the word, suffix (": ", " ") included.
  using Completer =
      std::function<std::vector<std::string>(std::string_view word, bool atLineStart)>;

  explicit LineEditor(std::size_t historyLimit = 500);

  const std::string& text() const { return text_; }
  std::size_t cursor() const { return cursor_; }  // byte offset, on a character boundary
  // Columns from the start of the text to the cursor.
  int cursorColumn() const;

  void insert(std::string_view utf8);  // printable text only; the caller filters control keys
  void left();
  void right();
  void home();
  void end();
  void backspace();
  void deleteForward();
  void killToStart();  // Ctrl-U
  void killToEnd();    // Ctrl-K
  void killWord();     // Ctrl-W: the blanks before the cursor and the word before them
  void historyUp();
  void historyDown();
  // Tab: the first press replaces the word before the cursor with the first candidate; presses
  // that follow cycle through the rest (backwards with `forward` false) and wrap around. Any
  // other editing ends the cycle.
  void complete(const Completer& completer, bool forward = true);

  // Enter: returns the line, records it in the history (unless blank or a repeat of the last
  // entry) and empties the editor.
  std::string submit();
  // Replaces the whole text, cursor at the end (e.g. to restore a line).
  void setText(std::string text);

  const std::vector<std::string>& history() const { return history_; }

 private:
  void edited();  // ends completion and history browsing state that editing invalidates
  std::size_t previousBoundary(std::size_t pos) const;
  std::size_t nextBoundary(std::size_t pos) const;

  std::string text_;
  std::size_t cursor_ = 0;

  std::vector<std::string> history_;
  std::size_t historyLimit_;
  std::size_t historyPos_ = 0;  // == history_.size(): editing the draft
  std::string draft_;

  bool completing_ = false;
  std::vector<std::string> candidates_;
  std::size_t candidate_ = 0;
  std::size_t wordStart_ = 0;  // byte offset where the completed word starts
  std::size_t wordEnd_ = 0;    // end of the text the current candidate inserted
};

}  // namespace udpchat::tui
