// The full-screen client's text handling without a terminal: character widths, the cell grid,
// line wrapping.
#include <gtest/gtest.h>

#include <clocale>
#include <cwchar>
#include <string>

#include "client/tui/char_width.hpp"
#include "client/tui/screen.hpp"
#include "client/tui/text_layout.hpp"

namespace udpchat::tui {
namespace {

std::string rowString(const Row& row) {
  std::string out;
  for (const Cell& c : row) out += c.text;
  return out;
}

int rowColumns(const Row& row) {
  int n = 0;
  for (const Cell& c : row) n += c.width;
  return n;
}

StyledLine plain(std::string prefix, std::string body) {
  StyledLine line;
  line.spans.push_back(Span{std::move(prefix), {}});
  line.bodyStart = 1;
  line.spans.push_back(Span{std::move(body), {}});
  return line;
}

TEST(CharWidth, AsciiWideEmojiCombiningAndControls) {
  EXPECT_EQ(charWidth(U'a'), 1);
  EXPECT_EQ(charWidth(U'é'), 1);
  EXPECT_EQ(charWidth(U'漢'), 2);
  EXPECT_EQ(charWidth(U'ｱ'), 1);           // halfwidth katakana
  EXPECT_EQ(charWidth(U'Ａ'), 2);          // fullwidth A
  EXPECT_EQ(charWidth(U'\U0001F600'), 2);  // grinning face
  EXPECT_EQ(charWidth(U'\u0301'), 0);      // combining acute accent
  EXPECT_EQ(charWidth(U'\u200B'), 0);      // zero width space
  EXPECT_EQ(charWidth(U'\x1b'), -1);
  EXPECT_EQ(charWidth(U'\u009b'), -1);
  EXPECT_EQ(charWidth(0x110000), -1);
  EXPECT_EQ(displayWidth("a漢😀e\u0301"), 6);
}

TEST(CharWidth, InvalidUtf8DecodesToReplacementCharacters) {
  const std::string bad = "a\xff\xc3";
  std::size_t pos = 0;
  EXPECT_EQ(nextCodePoint(bad, pos), U'a');
  EXPECT_EQ(nextCodePoint(bad, pos), U'\uFFFD');
  EXPECT_EQ(nextCodePoint(bad, pos), U'\uFFFD');
  EXPECT_EQ(pos, bad.size());
  const std::string overlong = "\xc0\xaf";  // '/' in two bytes
  pos = 0;
  EXPECT_EQ(nextCodePoint(overlong, pos), U'\uFFFD');
}

// The table stands in for the C library's wcwidth(), which ncursesw and tmux use: they must
// agree wherever the C library offers a UTF-8 locale to compare with.
TEST(CharWidth, TableMatchesTheCLibraryWhereAUtf8LocaleExists) {
  const std::string saved = std::setlocale(LC_CTYPE, nullptr);
  if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) {
    GTEST_SKIP() << "no C.UTF-8 locale to compare with";
  }
  int mismatches = 0;
  for (char32_t c = 0x20; c < 0x40000 && mismatches < 10; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    const int libc = ::wcwidth(static_cast<wchar_t>(c));
    if (libc != charWidth(c)) {
      ++mismatches;
      ADD_FAILURE() << "U+" << std::hex << static_cast<unsigned>(c) << ": table " << std::dec
                    << charWidth(c) << ", wcwidth " << libc;
    }
  }
  std::setlocale(LC_CTYPE, saved.c_str());
}

TEST(Screen, PrintsWideCharactersAcrossTwoCells) {
  Screen s(10, 2);
  const int end = s.print(0, 0, "a漢b", {});
  EXPECT_EQ(end, 4);
  EXPECT_EQ(s.at(1, 0).text, "漢");
  EXPECT_EQ(s.at(1, 0).width, 2);
  EXPECT_EQ(s.at(2, 0).width, 0);
  EXPECT_EQ(s.rowText(0), "a漢b");
}

TEST(Screen, OverwritingHalfAWideCharacterBlanksTheOtherHalf) {
  Screen s(6, 1);
  s.print(0, 0, "漢字", {});
  s.print(1, 0, "x", {});  // the right half of 漢
  EXPECT_EQ(s.rowText(0), " x字");
  s.print(2, 0, "y", {});  // the left half of 字
  EXPECT_EQ(s.rowText(0), " xy");
  EXPECT_EQ(s.at(3, 0).width, 1);
}

TEST(Screen, AWideCharacterThatDoesNotFitIsNotHalfDrawn) {
  Screen s(3, 1);
  EXPECT_EQ(s.print(0, 0, "ab漢", {}), 2);
  EXPECT_EQ(s.rowText(0), "ab");
  s.set(2, 0, Cell{"漢", 2, {}});
  EXPECT_EQ(s.at(2, 0).width, 1);
  EXPECT_EQ(s.rowText(0), "ab");
}

TEST(Screen, ControlCharactersNeverReachTheGrid) {
  Screen s(20, 1);
  s.print(0, 0, "a\x1b[2Jb\x07\xc2\x9b", {});
  for (int x = 0; x < s.width(); ++x) {
    for (unsigned char c : s.at(x, 0).text) {
      EXPECT_FALSE(c < 0x20 || c == 0x7f) << "control byte in cell " << x;
    }
    EXPECT_NE(s.at(x, 0).text, "\xc2\x9b");
  }
  EXPECT_EQ(s.rowText(0), "a\uFFFD[2Jb\uFFFD\uFFFD");
}

TEST(Screen, CombiningCharactersJoinTheCellBefore) {
  Screen s(5, 1);
  EXPECT_EQ(s.print(0, 0, "e\u0301x", {}), 2);
  EXPECT_EQ(s.at(0, 0).text, "e\u0301");
  EXPECT_EQ(s.at(1, 0).text, "x");
}

TEST(Layout, WrapsAtBlanksAndIndentsPastThePrefix) {
  const auto rows = layoutLine(plain("<bob> ", "one two three four"), 14);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rowString(rows[0]), "<bob> one two ");
  EXPECT_EQ(rowString(rows[1]), "      three ");
  EXPECT_EQ(rowString(rows[2]), "      four");
  for (const auto& r : rows) EXPECT_LE(rowColumns(r), 14);
}

TEST(Layout, BreaksAWordLongerThanTheRow) {
  const auto rows = layoutLine(plain("> ", "abcdefghij"), 6);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rowString(rows[0]), "> abcd");
  EXPECT_EQ(rowString(rows[1]), "  efgh");
  EXPECT_EQ(rowString(rows[2]), "  ij");
}

TEST(Layout, NeverSplitsAWideCharacter) {
  // 7 columns: "> " then 漢字 (4 columns) leaves one column, too narrow for 漢.
  const auto rows = layoutLine(plain("> ", "漢字漢字"), 7);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rowString(rows[0]), "> 漢字");
  EXPECT_EQ(rowColumns(rows[0]), 6);
  EXPECT_EQ(rowString(rows[1]), "  漢字");
  const auto emoji = layoutLine(plain("", "ab😀😀😀"), 5);
  ASSERT_EQ(emoji.size(), 2u);
  EXPECT_EQ(rowString(emoji[0]), "ab😀");
  EXPECT_EQ(rowString(emoji[1]), "😀😀");
  for (const auto& r : emoji) EXPECT_LE(rowColumns(r), 5);
}

TEST(Layout, NewlinesInTheBodyStartIndentedRows) {
  const auto rows = layoutLine(plain("<bob> ", "first\nsecond"), 40);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rowString(rows[0]), "<bob> first");
  EXPECT_EQ(rowString(rows[1]), "      second");
}

TEST(Layout, APrefixWiderThanHalfTheRowIsNotUsedAsIndent) {
  const auto rows = layoutLine(plain("<a-long-nick> ", "one two"), 20);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rowString(rows[1]), "two");
}

TEST(Layout, EveryRowFitsAtEveryWidth) {
  const StyledLine line =
      plain("12:00 <carol> ", "mixed 漢字 text 😀 with e\u0301 and a verylongwordwithoutblanks");
  for (int width = 1; width <= 60; ++width) {
    for (const Row& r : layoutLine(line, width)) EXPECT_LE(rowColumns(r), width) << width;
  }
}

}  // namespace
}  // namespace udpchat::tui
