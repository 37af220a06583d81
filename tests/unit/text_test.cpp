// Text rules: UTF-8 validation, control characters, terminal sanitising, case folding, nick and
// room name rules.
#include "udpchat/text.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "udpchat/limits.hpp"

namespace udpchat::text {
namespace {

std::string raw(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out += static_cast<char>(b);
  return out;
}

std::string utf8(char32_t cp) {
  std::string s;
  appendUtf8(s, cp);
  return s;
}

// Well-formed UTF-8 byte sequences, transcribed from Table 3-7 of the Unicode Standard.
bool referenceIsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  auto byteIn = [&](std::size_t k, int lo, int hi) {
    if (i + k >= s.size()) return false;
    const int b = static_cast<unsigned char>(s[i + k]);
    return b >= lo && b <= hi;
  };
  while (i < s.size()) {
    const int b0 = static_cast<unsigned char>(s[i]);
    std::size_t length = 0;
    bool ok = false;
    if (b0 <= 0x7F) {
      length = 1;
      ok = true;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = 2;
      ok = byteIn(1, 0x80, 0xBF);
    } else if (b0 == 0xE0) {
      length = 3;
      ok = byteIn(1, 0xA0, 0xBF) && byteIn(2, 0x80, 0xBF);
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
      length = 3;
      ok = byteIn(1, 0x80, 0xBF) && byteIn(2, 0x80, 0xBF);
    } else if (b0 == 0xED) {
      length = 3;
      ok = byteIn(1, 0x80, 0x9F) && byteIn(2, 0x80, 0xBF);
    } else if (b0 == 0xF0) {
      length = 4;
      ok = byteIn(1, 0x90, 0xBF) && byteIn(2, 0x80, 0xBF) && byteIn(3, 0x80, 0xBF);
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
      length = 4;
      ok = byteIn(1, 0x80, 0xBF) && byteIn(2, 0x80, 0xBF) && byteIn(3, 0x80, 0xBF);
    } else if (b0 == 0xF4) {
      length = 4;
      ok = byteIn(1, 0x80, 0x8F) && byteIn(2, 0x80, 0xBF) && byteIn(3, 0x80, 0xBF);
    }
    if (!ok) return false;
    i += length;
  }
  return true;
}

// ---- isValidUtf8 -----------------------------------------------------------------------------

TEST(IsValidUtf8, AcceptsOneToFourByteCharacters) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ASCII ~"));
  EXPECT_TRUE(isValidUtf8(std::string_view("\0", 1)));
  EXPECT_TRUE(isValidUtf8("\u00e9"));      // 2 bytes
  EXPECT_TRUE(isValidUtf8("\u20ac"));      // 3 bytes
  EXPECT_TRUE(isValidUtf8("\U0001F600"));  // 4 bytes
  EXPECT_TRUE(isValidUtf8("a\u00e9\u20ac\U0001F600z"));
}

TEST(IsValidUtf8, AcceptsTheEdgesOfEveryLength) {
  for (char32_t cp :
       {0x00, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF}) {
    EXPECT_TRUE(isValidUtf8(utf8(cp))) << "U+" << std::hex << static_cast<std::uint32_t>(cp);
  }
}

TEST(IsValidUtf8, RejectsOverlongForms) {
  EXPECT_FALSE(isValidUtf8(raw({0xC0, 0x80})));  // U+0000 in 2 bytes
  EXPECT_FALSE(isValidUtf8(raw({0xC0, 0xAF})));  // '/' in 2 bytes
  EXPECT_FALSE(isValidUtf8(raw({0xC1, 0xBF})));  // U+007F in 2 bytes
  EXPECT_FALSE(isValidUtf8(raw({0xE0, 0x80, 0xAF})));
  EXPECT_FALSE(isValidUtf8(raw({0xE0, 0x9F, 0xBF})));  // U+07FF in 3 bytes
  EXPECT_FALSE(isValidUtf8(raw({0xF0, 0x80, 0x80, 0xAF})));
  EXPECT_FALSE(isValidUtf8(raw({0xF0, 0x8F, 0xBF, 0xBF})));  // U+FFFF in 4 bytes
}

TEST(IsValidUtf8, RejectsSurrogates) {
  EXPECT_FALSE(isValidUtf8(raw({0xED, 0xA0, 0x80})));  // U+D800
  EXPECT_FALSE(isValidUtf8(raw({0xED, 0xBF, 0xBF})));  // U+DFFF
  // A surrogate pair encoded as two 3-byte sequences (CESU-8) is not UTF-8 either.
  EXPECT_FALSE(isValidUtf8(raw({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})));
}

TEST(IsValidUtf8, RejectsCodePointsAboveTheMaximum) {
  EXPECT_FALSE(isValidUtf8(raw({0xF4, 0x90, 0x80, 0x80})));  // U+110000
  EXPECT_FALSE(isValidUtf8(raw({0xF5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(isValidUtf8(raw({0xF7, 0xBF, 0xBF, 0xBF})));
  EXPECT_FALSE(isValidUtf8(raw({0xF8, 0x88, 0x80, 0x80, 0x80})));  // old 5-byte form
  EXPECT_FALSE(isValidUtf8(raw({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(isValidUtf8(raw({0xFE})));
  EXPECT_FALSE(isValidUtf8(raw({0xFF})));
}

TEST(IsValidUtf8, RejectsTruncatedSequences) {
  EXPECT_FALSE(isValidUtf8(raw({0xC3})));
  EXPECT_FALSE(isValidUtf8(raw({0xE2, 0x82})));
  EXPECT_FALSE(isValidUtf8(raw({0xF0, 0x9F, 0x98})));
  EXPECT_FALSE(isValidUtf8("ok" + raw({0xF0, 0x9F})));
  EXPECT_FALSE(isValidUtf8(raw({0xE2, 0x82, 0x41})));  // cut short by an ASCII byte
  EXPECT_FALSE(isValidUtf8(raw({0xC3, 0xC3, 0xA9})));  // cut short by another lead byte
}

TEST(IsValidUtf8, RejectsStrayContinuationBytes) {
  EXPECT_FALSE(isValidUtf8(raw({0x80})));
  EXPECT_FALSE(isValidUtf8(raw({0xBF})));
  EXPECT_FALSE(isValidUtf8("a" + raw({0x80}) + "b"));
  EXPECT_FALSE(isValidUtf8(raw({0xC3, 0xA9, 0xA9})));  // one continuation too many
}

TEST(IsValidUtf8, EveryCodePointEncodesValidlyExceptSurrogates) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(isValidUtf8(utf8(cp)), !surrogate)
        << "U+" << std::hex << static_cast<std::uint32_t>(cp);
  }
}

TEST(IsValidUtf8, AgreesWithTheUnicodeTableOnEveryTwoByteString) {
  for (int a = 0; a <= 0xFF; ++a) {
    for (int b = 0; b <= 0xFF; ++b) {
      const std::string s = raw({a, b});
      ASSERT_EQ(isValidUtf8(s), referenceIsValidUtf8(s)) << std::hex << a << " " << b;
    }
  }
}

TEST(IsValidUtf8, AgreesWithTheUnicodeTableOnLongerSequences) {
  // Every lead and second byte, with the later bytes taken from the edges of their ranges.
  const int edges[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (int a = 0xC0; a <= 0xFF; ++a) {
    for (int b = 0; b <= 0xFF; ++b) {
      for (int c : edges) {
        const std::string three = raw({a, b, c});
        ASSERT_EQ(isValidUtf8(three), referenceIsValidUtf8(three))
            << std::hex << a << " " << b << " " << c;
        if (a < 0xF0) continue;
        for (int d : edges) {
          const std::string four = raw({a, b, c, d});
          ASSERT_EQ(isValidUtf8(four), referenceIsValidUtf8(four))
              << std::hex << a << " " << b << " " << c << " " << d;
        }
      }
    }
  }
}

// ---- checkText -------------------------------------------------------------------------------

TEST(CheckText, AcceptsOrdinaryText) {
  for (bool allow : {false, true}) {
    EXPECT_EQ(checkText("", allow), TextProblem::None);
    EXPECT_EQ(checkText("hello, world!", allow), TextProblem::None);
    EXPECT_EQ(checkText("na\u00efve \u65e5\u672c \U0001F389", allow), TextProblem::None);
    EXPECT_EQ(checkText("\u00a0", allow), TextProblem::None);  // U+00A0, just after C1
    EXPECT_EQ(checkText(" ~", allow), TextProblem::None);      // U+0020 and U+007E
  }
}

TEST(CheckText, RefusesEveryC0ControlButNewlineAndTabWhenAllowed) {
  for (int c = 0; c < 0x20; ++c) {
    const std::string s = "a" + std::string(1, static_cast<char>(c)) + "b";
    const bool newlineOrTab = c == '\n' || c == '\t';
    EXPECT_EQ(checkText(s, false), TextProblem::ControlCharacter) << "byte " << c;
    EXPECT_EQ(checkText(s, true), newlineOrTab ? TextProblem::None : TextProblem::ControlCharacter)
        << "byte " << c;
  }
}

TEST(CheckText, NewlineAndTabOnlyWhenAllowed) {
  EXPECT_EQ(checkText("line one\nline two", true), TextProblem::None);
  EXPECT_EQ(checkText("a\tb", true), TextProblem::None);
  EXPECT_EQ(checkText("line one\nline two", false), TextProblem::ControlCharacter);
  EXPECT_EQ(checkText("a\tb", false), TextProblem::ControlCharacter);
  EXPECT_EQ(checkText("a\r\nb", true), TextProblem::ControlCharacter);  // CR is never allowed
}

TEST(CheckText, RefusesEscAndDel) {
  for (bool allow : {false, true}) {
    EXPECT_EQ(checkText("\x1b[31mred", allow), TextProblem::ControlCharacter);
    EXPECT_EQ(checkText("\x1b", allow), TextProblem::ControlCharacter);
    EXPECT_EQ(checkText("a\x7f", allow), TextProblem::ControlCharacter);
  }
}

TEST(CheckText, RefusesEveryC1Control) {
  for (char32_t cp = 0x80; cp <= 0x9F; ++cp) {
    for (bool allow : {false, true}) {
      EXPECT_EQ(checkText("x" + utf8(cp), allow), TextProblem::ControlCharacter)
          << "U+" << std::hex << static_cast<std::uint32_t>(cp);
    }
  }
  // U+009B is CSI: a terminal reads it like ESC [.
  EXPECT_EQ(checkText(raw({0xC2, 0x9B}) + "31m", true), TextProblem::ControlCharacter);
}

TEST(CheckText, RefusesBidirectionalEmbeddingsOverridesAndIsolates) {
  // LRE RLE PDF LRO RLO, LRI RLI FSI PDI: each reorders the text after it on screen.
  for (char32_t cp : {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}) {
    for (bool allow : {false, true}) {
      EXPECT_EQ(checkText("pay " + utf8(cp) + "gnp.exe", allow), TextProblem::ControlCharacter)
          << "U+" << std::hex << static_cast<std::uint32_t>(cp);
    }
  }
  // Their neighbours and the implicit marks (LRM, RLM, ALM) move no text and stay allowed.
  for (char32_t cp : {0x2029, 0x202F, 0x2065, 0x206A, 0x200E, 0x200F, 0x061C}) {
    EXPECT_EQ(checkText("a" + utf8(cp) + "b", false), TextProblem::None)
        << "U+" << std::hex << static_cast<std::uint32_t>(cp);
  }
}

TEST(CheckText, RawC1BytesAreInvalidUtf8) {
  // A lone 0x9B byte is not UTF-8 at all, so it is refused before anything else.
  EXPECT_EQ(checkText(raw({0x9B}) + "31m", true), TextProblem::InvalidUtf8);
}

TEST(CheckText, InvalidUtf8) {
  for (bool allow : {false, true}) {
    EXPECT_EQ(checkText(raw({0xFF}), allow), TextProblem::InvalidUtf8);
    EXPECT_EQ(checkText("ok" + raw({0xC0, 0xAF}), allow), TextProblem::InvalidUtf8);
    EXPECT_EQ(checkText(raw({0xED, 0xA0, 0x80}), allow), TextProblem::InvalidUtf8);
    EXPECT_EQ(checkText(raw({0xE2, 0x82}), allow), TextProblem::InvalidUtf8);
  }
}

// ---- sanitizeForTerminal ---------------------------------------------------------------------

bool containsByte(std::string_view s, int byte) {
  return s.find(static_cast<char>(byte)) != std::string_view::npos;
}

TEST(SanitizeForTerminal, EscapeSequenceBecomesVisibleText) {
  const std::string out = sanitizeForTerminal("\x1b[31mred\x1b[0m", false);
  EXPECT_FALSE(containsByte(out, 0x1B));
  EXPECT_EQ(out, "^[[31mred^[[0m");
}

TEST(SanitizeForTerminal, C1CsiBecomesVisibleText) {
  const std::string out = sanitizeForTerminal(raw({0xC2, 0x9B}) + "31m", true);
  EXPECT_EQ(out.find(raw({0xC2, 0x9B})), std::string::npos);
  EXPECT_EQ(out, "\\x9b31m");
}

TEST(SanitizeForTerminal, BidirectionalControlsAreNamedNotObeyed) {
  const std::string out = sanitizeForTerminal("x" + utf8(0x202E) + "fdp.exe" + utf8(0x2069), true);
  EXPECT_EQ(out, "x<U+202E>fdp.exe<U+2069>");
  EXPECT_EQ(out.find(utf8(0x202E)), std::string::npos);
}

TEST(SanitizeForTerminal, OtherControls) {
  EXPECT_EQ(sanitizeForTerminal(std::string_view("a\0b", 3), false), "a^@b");
  EXPECT_EQ(sanitizeForTerminal("a\x7f", false), "a^?");
  EXPECT_EQ(sanitizeForTerminal("a\rb", true), "a^Mb");
  EXPECT_EQ(sanitizeForTerminal("\x07", true), "^G");
  EXPECT_EQ(sanitizeForTerminal(utf8(0x85), true), "\\x85");
  EXPECT_EQ(sanitizeForTerminal(utf8(0x9F), true), "\\x9f");
}

TEST(SanitizeForTerminal, NewlineAndTabKeptOnlyWhenAsked) {
  EXPECT_EQ(sanitizeForTerminal("a\nb\tc", true), "a\nb\tc");
  EXPECT_EQ(sanitizeForTerminal("a\nb\tc", false), "a^Jb^Ic");
}

TEST(SanitizeForTerminal, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(sanitizeForTerminal("a" + raw({0xFF}) + "b", false), "a\uFFFDb");
  EXPECT_EQ(sanitizeForTerminal(raw({0x9B}), false), "\uFFFD");
  EXPECT_EQ(sanitizeForTerminal(raw({0xC0, 0xAF}), false), "\uFFFD\uFFFD");
  const std::string cut = sanitizeForTerminal("x" + raw({0xE2, 0x82}), false);
  EXPECT_TRUE(isValidUtf8(cut));
  EXPECT_NE(cut.find("\uFFFD"), std::string::npos);
  EXPECT_EQ(cut.substr(0, 1), "x");
}

TEST(SanitizeForTerminal, KeepsPrintableTextAndEmoji) {
  const std::string text = "hi \U0001F389 \u2713 \u65e5\u672c na\u00efve \u00a0~";
  EXPECT_EQ(sanitizeForTerminal(text, false), text);
  EXPECT_EQ(sanitizeForTerminal(text, true), text);
  EXPECT_EQ(sanitizeForTerminal("", true), "");
}

TEST(SanitizeForTerminal, AnyInputBecomesSafeText) {
  // Whatever comes in, what goes out is valid UTF-8 without a control character (but newline
  // and tab when kept). Bytes are drawn mostly from the troublesome ones.
  std::mt19937 rng(0x7E47);
  const int tricky[] = {0x00, 0x07, 0x09, 0x0A, 0x0D, 0x1B, 0x7F, 0x80, 0x9B, 0x9F, 0xC0,
                        0xC2, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, '[',  'a'};
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    const int length = std::uniform_int_distribution<int>(0, 24)(rng);
    for (int k = 0; k < length; ++k) {
      const bool pickTricky = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
      const int b =
          pickTricky
              ? tricky[std::uniform_int_distribution<std::size_t>(0, std::size(tricky) - 1)(rng)]
              : std::uniform_int_distribution<int>(0, 0xFF)(rng);
      s += static_cast<char>(b);
    }
    for (bool keep : {false, true}) {
      const std::string out = sanitizeForTerminal(s, keep);
      ASSERT_EQ(checkText(out, keep), TextProblem::None) << "iteration " << i;
      ASSERT_FALSE(containsByte(out, 0x1B));
    }
  }
}

// ---- foldCase --------------------------------------------------------------------------------

TEST(FoldCase, LowersAsciiLettersOnly) {
  EXPECT_EQ(foldCase("AbC-XyZ_09"), "abc-xyz_09");
  EXPECT_EQ(foldCase("ALICE"), "alice");
  EXPECT_EQ(foldCase(""), "");
  EXPECT_EQ(foldCase("@[`{"), "@[`{");                              // the neighbours of A-Z and a-z
  EXPECT_EQ(foldCase("\u00c4\u00d6\u00dc"), "\u00c4\u00d6\u00dc");  // not ASCII: unchanged
  EXPECT_EQ(foldCase("Zo\u00cb"), "zo\u00cb");
}

TEST(FoldCase, EqualNamesFoldEqual) {
  EXPECT_EQ(foldCase("Bob"), foldCase("bOB"));
  EXPECT_NE(foldCase("bob"), foldCase("bob_"));
}

// ---- nickProblem -----------------------------------------------------------------------------

constexpr std::size_t kMin = kDefaultNickMin;
constexpr std::size_t kMax = kDefaultNickMax;

TEST(NickProblem, DefaultsAreThreeToSixteen) {
  EXPECT_EQ(kMin, 3u);
  EXPECT_EQ(kMax, 16u);
}

TEST(NickProblem, LengthBoundaries) {
  EXPECT_TRUE(nickProblem("", kMin, kMax).has_value());
  EXPECT_TRUE(nickProblem("ab", kMin, kMax).has_value());
  EXPECT_FALSE(nickProblem("abc", kMin, kMax).has_value());
  EXPECT_FALSE(nickProblem(std::string(16, 'x'), kMin, kMax).has_value());
  EXPECT_TRUE(nickProblem(std::string(17, 'x'), kMin, kMax).has_value());
}

TEST(NickProblem, LengthMessageNamesTheBounds) {
  const auto problem = nickProblem("ab", kMin, kMax);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find('3'), std::string::npos) << *problem;
  EXPECT_NE(problem->find("16"), std::string::npos) << *problem;
}

TEST(NickProblem, OtherBounds) {
  EXPECT_FALSE(nickProblem("a", 1, 1).has_value());
  EXPECT_TRUE(nickProblem("ab", 1, 1).has_value());
  EXPECT_FALSE(nickProblem(std::string(32, 'n'), 1, 32).has_value());
}

TEST(NickProblem, AllowedCharacters) {
  EXPECT_FALSE(nickProblem("alice", kMin, kMax).has_value());
  EXPECT_FALSE(nickProblem("Alice_77", kMin, kMax).has_value());
  EXPECT_FALSE(nickProblem("bob-smith", kMin, kMax).has_value());
  EXPECT_FALSE(nickProblem("AZaz09_-", kMin, kMax).has_value());
}

TEST(NickProblem, RefusedCharacters) {
  for (std::string_view nick : {"al ice", "alice!", "bob#", "a.b.c", "a/bc", "al@ce", "tab\tx",
                                "esc\x1bx", "zo\u00eb", "caf\u00e9", "nick\U0001F389"}) {
    const auto problem = nickProblem(nick, 1, 32);
    ASSERT_TRUE(problem.has_value()) << nick;
    EXPECT_FALSE(problem->empty());
  }
}

TEST(NickProblem, MultibyteCharactersCountInBytes) {
  // 16 characters but more than 16 bytes: refused, whatever the reason given.
  EXPECT_TRUE(nickProblem("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9abcdefgh", kMin, kMax)
                  .has_value());
}

// ---- normalizeRoom ---------------------------------------------------------------------------

TEST(NormalizeRoom, StripsHashAndLowercases) {
  EXPECT_EQ(normalizeRoom("#Lobby"), "lobby");
  EXPECT_EQ(normalizeRoom("Lobby"), "lobby");
  EXPECT_EQ(normalizeRoom("lobby"), "lobby");
  EXPECT_EQ(normalizeRoom("#Dev_Team-2"), "dev_team-2");
  EXPECT_EQ(normalizeRoom("a"), "a");
}

TEST(NormalizeRoom, EmptyAndLoneHashAreRefused) {
  EXPECT_EQ(normalizeRoom(""), std::nullopt);
  EXPECT_EQ(normalizeRoom("#"), std::nullopt);
  EXPECT_EQ(normalizeRoom("##lobby"), std::nullopt);  // only one '#' is stripped
}

TEST(NormalizeRoom, InvalidCharactersAreRefused) {
  for (std::string_view room : {"lob by", "lobby!", "lob#by", "caf\u00e9", "a.b", "a/b", "\x1b",
                                "lobby\n", "#\U0001F389"}) {
    EXPECT_EQ(normalizeRoom(room), std::nullopt) << room;
  }
}

TEST(NormalizeRoom, LengthLimitExcludesTheHash) {
  const std::string longest(kMaxRoomBytes, 'R');
  EXPECT_EQ(normalizeRoom(longest), std::string(kMaxRoomBytes, 'r'));
  EXPECT_EQ(normalizeRoom("#" + longest), std::string(kMaxRoomBytes, 'r'));
  EXPECT_EQ(normalizeRoom(longest + "R"), std::nullopt);
  EXPECT_EQ(normalizeRoom("#" + longest + "R"), std::nullopt);
}

// ---- codePoints ------------------------------------------------------------------------------

TEST(CodePoints, CountsCharactersNotBytes) {
  EXPECT_EQ(codePoints(""), 0u);
  EXPECT_EQ(codePoints("abc"), 3u);
  EXPECT_EQ(codePoints("\u00e9"), 1u);
  EXPECT_EQ(codePoints("\u65e5\u672c"), 2u);
  EXPECT_EQ(codePoints("\U0001F389!"), 2u);
}

TEST(Fixed, GivesExactlyTheDecimalsAskedFor) {
  EXPECT_EQ(fixed(2.0, 2), "2.00");
  EXPECT_EQ(fixed(0.125, 1), "0.1");
  EXPECT_EQ(fixed(1234.5678, 0), "1235");
  EXPECT_EQ(fixed(-0.5, 3), "-0.500");
}

}  // namespace
}  // namespace udpchat::text
