#include "screen.hpp"

#include <algorithm>

#include "char_width.hpp"
#include "udpchat/text.hpp"

namespace udpchat::tui {

Screen::Screen(int width, int height) {
  resize(width, height);
}

void Screen::resize(int width, int height) {
  width_ = std::max(width, 0);
  height_ = std::max(height, 0);
  cells_.assign(static_cast<std::size_t>(width_) * static_cast<std::size_t>(height_), Cell{});
  cursorX_ = cursorY_ = 0;
  cursorVisible_ = false;
}

void Screen::clear() {
  std::fill(cells_.begin(), cells_.end(), Cell{});
  cursorVisible_ = false;
}

void Screen::set(int x, int y, const Cell& cell) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  Cell placed = cell;
  if (placed.width == 2 && x + 1 >= width_) placed = Cell{" ", 1, cell.attr};
  // Breaking a wide character in half would leave the terminal and the grid disagreeing about
  // the columns after it, so the other half becomes a blank.
  Cell& here = cells_[index(x, y)];
  if (here.width == 0 && x > 0) {
    Cell& head = cells_[index(x - 1, y)];
    head = Cell{" ", 1, head.attr};
  }
  if (here.width == 2 && x + 1 < width_) {
    Cell& tail = cells_[index(x + 1, y)];
    tail = Cell{" ", 1, here.attr};
  }
  here = placed;
  if (placed.width == 2) {
    Cell& tail = cells_[index(x + 1, y)];
    if (tail.width == 2 && x + 2 < width_) {
      Cell& after = cells_[index(x + 2, y)];
      after = Cell{" ", 1, after.attr};
    }
    tail = Cell{"", 0, placed.attr};
  }
}

int Screen::print(int x, int y, std::string_view text, Attr attr, int endX) {
  if (endX < 0 || endX > width_) endX = width_;
  if (y < 0 || y >= height_) return x;
  int lastX = -1;  // the cell a combining character would join
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    char32_t cp = nextCodePoint(text, pos);
    int w = charWidth(cp);
    if (w == 0 && lastX >= 0) {
      Cell& base = cells_[index(lastX, y)];
      base.text.append(text.substr(start, pos - start));
      continue;
    }
    std::string glyph(text.substr(start, pos - start));
    if (w <= 0 || cp == 0xFFFD) {
      cp = 0xFFFD;
      w = 1;
      glyph.clear();
      text::appendUtf8(glyph, cp);
    }
    if (x + w > endX) break;
    set(x, y, Cell{glyph, static_cast<std::uint8_t>(w), attr});
    lastX = x;
    x += w;
  }
  return x;
}

void Screen::fill(int y, Attr attr, int x, int endX) {
  if (endX < 0 || endX > width_) endX = width_;
  for (int i = std::max(x, 0); i < endX; ++i) set(i, y, Cell{" ", 1, attr});
}

void Screen::setCursor(int x, int y) {
  cursorX_ = std::clamp(x, 0, std::max(width_ - 1, 0));
  cursorY_ = std::clamp(y, 0, std::max(height_ - 1, 0));
  cursorVisible_ = true;
}

std::string Screen::rowText(int y) const {
  std::string out;
  if (y < 0 || y >= height_) return out;
  for (int x = 0; x < width_; ++x) out += at(x, y).text;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string Screen::text() const {
  std::string out;
  for (int y = 0; y < height_; ++y) {
    if (y > 0) out += '\n';
    out += rowText(y);
  }
  return out;
}

}  // namespace udpchat::tui
