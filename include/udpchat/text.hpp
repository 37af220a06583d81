// Text rules shared by the server (what it accepts) and clients (what they print).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace udpchat::text {

bool isValidUtf8(std::string_view s);

enum class TextProblem { None, InvalidUtf8, ControlCharacter };

// Checks UTF-8 validity and control characters: C0 (below U+0020), DEL and C1 (U+0080..U+009F)
// are refused, except newline and tab when allowNewlineTab. Those are what terminals interpret
// as escape sequences. The bidirectional embedding, override and isolate controls (U+202A..U+202E,
// U+2066..U+2069) count as control characters too: they make a line display as something else.
TextProblem checkText(std::string_view s, bool allowNewlineTab);

// Makes any byte string safe to print on a terminal: control characters become U+FFFD-free
// visible forms ("^[" for ESC, "\x9b" style for C1, "<U+202E>" for a bidirectional control),
// invalid UTF-8 becomes U+FFFD. Newline and
// tab are kept only when keepNewlineTab.
std::string sanitizeForTerminal(std::string_view s, bool keepNewlineTab);

// ASCII case folding; nicks and room names are compared through it.
std::string foldCase(std::string_view s);
// `s` cut to at most `maxBytes` without splitting a UTF-8 sequence.
std::string truncateUtf8(std::string s, std::size_t maxBytes);
// foldCase(a) == foldCase(b), without building either.
bool equalFolded(std::string_view a, std::string_view b);

// nullopt when valid, else the rule the nick breaks (for people).
std::optional<std::string> nickProblem(std::string_view nick, std::size_t minLength,
                                       std::size_t maxLength);

// Room names: an optional leading '#', then 1..32 letters, digits, '_' or '-'. Returns the
// canonical form (no '#', lowercase) or nullopt.
std::optional<std::string> normalizeRoom(std::string_view room);

// Appends the UTF-8 form of a code point (precondition: at most U+10FFFF).
void appendUtf8(std::string& out, char32_t cp);

// Number of code points in valid UTF-8.
std::size_t codePoints(std::string_view s);

// `v` with exactly `decimals` digits after the point ("%.*f"), as the bench and the lab print
// their figures.
std::string fixed(double v, int decimals);

}  // namespace udpchat::text
