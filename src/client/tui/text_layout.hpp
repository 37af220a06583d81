// Styled lines of the message pane and how they wrap at a given width.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "screen.hpp"

namespace udpchat::tui {

struct Span {
  std::string text;  // UTF-8, already sanitized; '\n' breaks the line, '\t' is a few blanks
  Attr attr;
};

// A logical line: a prefix (timestamp, nick) and a body. Rows after the first are indented to
// where the body starts, as long as that is no more than half the width, so a wrapped message
// reads as one block.
struct StyledLine {
  std::vector<Span> spans;
  std::size_t bodyStart = 0;  // index of the first body span
};

using Row = std::vector<Cell>;

// Wraps at the last blank that fits, or mid-word for a word longer than the row; never splits a
// wide character. Each row holds at most `width` columns. A width below 1 gives one empty row.
std::vector<Row> layoutLine(const StyledLine& line, int width);

// layoutLine(line, width).size(), without keeping the rows.
int rowCount(const StyledLine& line, int width);

// Draws `row` at column x of screen row y.
void drawRow(Screen& screen, int x, int y, const Row& row);

}  // namespace udpchat::tui
