// How many terminal columns a character takes, from a table rather than the C library, so the
// screen model gives the same layout whatever locale the machine (or a test) has.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace udpchat::tui {

// -1: not printable (controls, surrogates, unassigned code points); 0: combines with the
// character before it; 1 or 2 columns otherwise. Matches glibc 2.36's wcwidth() in C.UTF-8.
int charWidth(char32_t cp);

// Decodes the code point starting at s[pos] and advances pos past it. Invalid UTF-8 yields
// U+FFFD and advances one byte, so every byte string decodes to something printable.
char32_t nextCodePoint(std::string_view s, std::size_t& pos);

// Columns `s` takes on one line: non-printable code points count as one (they are shown as
// U+FFFD), combining ones as zero.
int displayWidth(std::string_view s);

}  // namespace udpchat::tui
