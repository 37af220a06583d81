// A grid of terminal cells: what the full-screen client wants on the terminal, built without
// one. The model draws into a Screen; the ncurses frontend only copies it to the terminal, and
// tests read it back as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace udpchat::tui {

// Colours are the 16 ANSI colours (0..15); -1 is the terminal's default.
struct Attr {
  std::int8_t fg = -1;
  std::int8_t bg = -1;
  bool bold = false;
  bool dim = false;
  bool reverse = false;
  bool underline = false;
  bool operator==(const Attr&) const = default;
};

// One column of the terminal. A wide character takes its cell (width 2) and the next one, which
// is left empty with width 0. `text` is one printable character, possibly followed by combining
// ones, in UTF-8: never a control character.
struct Cell {
  std::string text = " ";
  std::uint8_t width = 1;
  Attr attr;
  bool operator==(const Cell&) const = default;
};

class Screen {
 public:
  Screen(int width = 80, int height = 24);

  int width() const { return width_; }
  int height() const { return height_; }
  // Clears the grid to blanks at the new size.
  void resize(int width, int height);
  void clear();

  const Cell& at(int x, int y) const { return cells_[index(x, y)]; }
  // Places one cell, keeping wide characters whole: overwriting half of one blanks the other
  // half. A wide cell that would not fit before the right edge becomes a blank. Out of range:
  // no-op.
  void set(int x, int y, const Cell& cell);
  // Writes `text` from column x, not past column `endX` (exclusive; -1: the right edge), and
  // returns the column after the last cell written. Control and non-printable characters are
  // shown as U+FFFD; combining characters join the cell before them.
  int print(int x, int y, std::string_view text, Attr attr, int endX = -1);
  // Blanks columns [x, endX) of row y with `attr`.
  void fill(int y, Attr attr, int x = 0, int endX = -1);

  // Where the terminal's cursor goes; hidden when cursorVisible is false.
  void setCursor(int x, int y);
  void hideCursor() { cursorVisible_ = false; }
  int cursorX() const { return cursorX_; }
  int cursorY() const { return cursorY_; }
  bool cursorVisible() const { return cursorVisible_; }

  // Row y as the terminal would show it (the text of each cell, continuation halves skipped),
  // trailing blanks removed. For tests and debugging.
  std::string rowText(int y) const;
  // Every row joined with '\n'.
  std::string text() const;

 private:
  std::size_t index(int x, int y) const {
    return static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) +
           static_cast<std::size_t>(x);
  }

  int width_ = 0;
  int height_ = 0;
  std::vector<Cell> cells_;
  int cursorX_ = 0;
  int cursorY_ = 0;
  bool cursorVisible_ = false;
};

}  // namespace udpchat::tui
