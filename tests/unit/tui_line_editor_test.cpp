// The input line's editing keys, history and Tab completion, without a terminal.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client/tui/line_editor.hpp"

namespace udpchat::tui {
namespace {

LineEditor typed(const std::string& text) {
  LineEditor e;
  e.insert(text);
  return e;
}

TEST(LineEditor, InsertsAtTheCursorAndMovesByCharacter) {
  LineEditor e = typed("hllo");
  e.home();
  e.right();
  e.insert("e");
  EXPECT_EQ(e.text(), "hello");
  EXPECT_EQ(e.cursor(), 2u);
  e.end();
  e.insert(" wörld");
  EXPECT_EQ(e.text(), "hello wörld");
  e.left();
  e.left();
  e.left();  // before "rld", then over the two-byte "ö"
  e.left();
  EXPECT_EQ(e.text().substr(e.cursor()), "örld");
}

TEST(LineEditor, CursorColumnCountsDisplayWidth) {
  LineEditor e = typed("漢字😀a");
  EXPECT_EQ(e.cursorColumn(), 7);
  e.left();
  EXPECT_EQ(e.cursorColumn(), 6);
  e.left();
  EXPECT_EQ(e.cursorColumn(), 4);
}

TEST(LineEditor, BackspaceAndDeleteRemoveWholeCharacters) {
  LineEditor e = typed("a漢e\u0301b");
  e.left();       // before b
  e.backspace();  // removes e + combining accent together
  EXPECT_EQ(e.text(), "a漢b");
  e.home();
  e.deleteForward();
  EXPECT_EQ(e.text(), "漢b");
  e.deleteForward();
  EXPECT_EQ(e.text(), "b");
  e.home();
  e.backspace();  // nothing before the cursor
  EXPECT_EQ(e.text(), "b");
}

TEST(LineEditor, KillKeys) {
  LineEditor e = typed("say hello  world");
  e.killWord();  // Ctrl-W
  EXPECT_EQ(e.text(), "say hello  ");
  e.killWord();
  EXPECT_EQ(e.text(), "say ");
  e.insert("again");
  e.left();
  e.left();
  e.killToEnd();  // Ctrl-K
  EXPECT_EQ(e.text(), "say aga");
  e.killToStart();  // Ctrl-U
  EXPECT_EQ(e.text(), "");
  EXPECT_EQ(e.cursor(), 0u);
  LineEditor f = typed("abc def");
  f.left();
  f.left();
  f.killToStart();
  EXPECT_EQ(f.text(), "ef");
}

TEST(LineEditor, HistoryRecallsEarlierLinesAndKeepsTheDraft) {
  LineEditor e;
  e.insert("first");
  EXPECT_EQ(e.submit(), "first");
  e.insert("second");
  e.submit();
  e.insert("second");  // a repeat is not recorded twice
  e.submit();
  e.insert("   ");  // nor a blank line
  e.submit();
  EXPECT_EQ(e.history(), (std::vector<std::string>{"first", "second"}));
  e.insert("draft");
  e.historyUp();
  EXPECT_EQ(e.text(), "second");
  e.historyUp();
  EXPECT_EQ(e.text(), "first");
  e.historyUp();  // stays at the oldest
  EXPECT_EQ(e.text(), "first");
  e.historyDown();
  EXPECT_EQ(e.text(), "second");
  e.historyDown();
  EXPECT_EQ(e.text(), "draft");
  EXPECT_EQ(e.cursor(), 5u);
}

TEST(LineEditor, HistoryKeepsTheNewestEntriesUpToItsLimit) {
  LineEditor e(2);
  for (const char* line : {"a", "b", "c"}) {
    e.insert(line);
    e.submit();
  }
  EXPECT_EQ(e.history(), (std::vector<std::string>{"b", "c"}));
}

TEST(LineEditor, TabCyclesThroughCompletionsAndWrapsAround) {
  LineEditor e = typed("hi bo");
  std::vector<std::string> words;
  bool start = true;
  auto completer = [&](std::string_view word, bool atLineStart) {
    words.emplace_back(word);
    start = atLineStart;
    return std::vector<std::string>{"bob ", "boris "};
  };
  e.complete(completer);
  EXPECT_EQ(e.text(), "hi bob ");
  EXPECT_EQ(words, std::vector<std::string>{"bo"});
  EXPECT_FALSE(start);
  e.complete(completer);
  EXPECT_EQ(e.text(), "hi boris ");
  e.complete(completer);
  EXPECT_EQ(e.text(), "hi bob ");
  e.complete(completer, false);  // Shift-Tab goes back
  EXPECT_EQ(e.text(), "hi boris ");
  EXPECT_EQ(words.size(), 1u);  // cycling does not ask again
  EXPECT_EQ(e.cursor(), e.text().size());
}

TEST(LineEditor, EditingEndsTheCompletionCycle) {
  LineEditor e = typed("bo");
  int asked = 0;
  auto completer = [&](std::string_view, bool) {
    ++asked;
    return std::vector<std::string>{"bob: "};
  };
  e.complete(completer);
  EXPECT_EQ(e.text(), "bob: ");
  e.insert("hi b");
  e.complete(completer);
  EXPECT_EQ(asked, 2);
}

TEST(LineEditor, NoCompletionLeavesTheTextAlone) {
  LineEditor e = typed("zz");
  e.complete([](std::string_view, bool) { return std::vector<std::string>{}; });
  EXPECT_EQ(e.text(), "zz");
}

TEST(LineEditor, CompletesTheWordBeforeTheCursorInTheMiddleOfTheLine) {
  LineEditor e = typed("ask al about it");
  for (int i = 0; i < 9; ++i) e.left();  // after "al"
  e.complete([](std::string_view word, bool) {
    EXPECT_EQ(word, "al");
    return std::vector<std::string>{"alice "};
  });
  EXPECT_EQ(e.text(), "ask alice  about it");
  EXPECT_EQ(e.text().substr(0, e.cursor()), "ask alice ");
}

}  // namespace
}  // namespace udpchat::tui
