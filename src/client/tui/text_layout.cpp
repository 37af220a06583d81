#include "text_layout.hpp"

#include <algorithm>

#include "char_width.hpp"
#include "udpchat/text.hpp"

namespace udpchat::tui {
namespace {

constexpr int kTabColumns = 4;

struct Glyph {
  Cell cell;
  bool blank = false;
  bool newline = false;
  bool body = false;
};

// Splits the spans into printable cells; combining characters join the glyph before them.
std::vector<Glyph> glyphs(const StyledLine& line) {
  std::vector<Glyph> out;
  for (std::size_t i = 0; i < line.spans.size(); ++i) {
    const Span& span = line.spans[i];
    const bool body = i >= line.bodyStart;
    for (std::size_t pos = 0; pos < span.text.size();) {
      const std::size_t start = pos;
      const char32_t cp = nextCodePoint(span.text, pos);
      if (cp == '\n') {
        out.push_back(Glyph{Cell{" ", 1, span.attr}, false, true, body});
        continue;
      }
      if (cp == '\t') {
        for (int t = 0; t < kTabColumns; ++t) {
          out.push_back(Glyph{Cell{" ", 1, span.attr}, true, false, body});
        }
        continue;
      }
      const int w = charWidth(cp);
      if (w == 0 && !out.empty() && !out.back().newline) {
        out.back().cell.text.append(span.text.substr(start, pos - start));
        continue;
      }
      if (w <= 0 || cp == 0xFFFD) {
        std::string replacement;
        text::appendUtf8(replacement, 0xFFFD);
        out.push_back(Glyph{Cell{replacement, 1, span.attr}, false, false, body});
        continue;
      }
      out.push_back(Glyph{Cell{std::string(span.text.substr(start, pos - start)),
                               static_cast<std::uint8_t>(w), span.attr},
                          cp == ' ', false, body});
    }
  }
  return out;
}

}  // namespace

std::vector<Row> layoutLine(const StyledLine& line, int width) {
  std::vector<Row> rows;
  if (width < 1) {
    rows.emplace_back();
    return rows;
  }
  std::vector<Glyph> all = glyphs(line);
  int prefixWidth = 0;
  for (const Glyph& g : all) {
    if (!g.body) prefixWidth += g.cell.width;
  }
  const int indent = prefixWidth * 2 <= width ? prefixWidth : 0;

  Row row;
  int col = 0;
  bool wrapped = false;     // the current row continues the one before it
  std::size_t breakAt = 0;  // cells of `row` up to and including the last body blank; 0: none

  auto newRow = [&] {
    rows.push_back(std::move(row));
    row.assign(static_cast<std::size_t>(indent), Cell{});
    col = indent;
    breakAt = 0;
  };

  for (Glyph& g : all) {
    if (g.newline) {
      newRow();
      wrapped = false;
      continue;
    }
    if (g.cell.width > width) g.cell = Cell{"?", 1, g.cell.attr};
    if (col + g.cell.width > width) {
      // Move the word being written to the next row when a blank before it allows. The carried
      // cells started after a blank past the indent, so they fit the indented row.
      Row carry;
      if (!g.blank && breakAt > 0 && breakAt < row.size()) {
        carry.assign(row.begin() + static_cast<std::ptrdiff_t>(breakAt), row.end());
        row.resize(breakAt);
      }
      newRow();
      wrapped = true;
      for (Cell& c : carry) {
        col += c.width;
        row.push_back(std::move(c));
      }
      if (col + g.cell.width > width) newRow();
    }
    // A blank at the start of a wrapped row would look like a stray indent.
    if (g.blank && wrapped && col == indent && row.size() == static_cast<std::size_t>(indent)) {
      continue;
    }
    row.push_back(g.cell);
    col += g.cell.width;
    if (g.blank && g.body) breakAt = row.size();
  }
  rows.push_back(std::move(row));
  return rows;
}

int rowCount(const StyledLine& line, int width) {
  return static_cast<int>(layoutLine(line, width).size());
}

void drawRow(Screen& screen, int x, int y, const Row& row) {
  for (const Cell& c : row) {
    if (c.width == 0) continue;
    screen.set(x, y, c);
    x += c.width;
  }
}

}  // namespace udpchat::tui
