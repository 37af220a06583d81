#include "udpchat/text.hpp"

#include <cctype>
#include <cstdint>
#include <cstdio>

#include "udpchat/limits.hpp"

namespace udpchat::text {
namespace {

// Decodes one code point at s[i]; returns its length in bytes, or 0 when the sequence is not
// well-formed UTF-8 (overlong forms, surrogates and values above U+10FFFF included).
std::size_t decodeOne(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t length = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

// The explicit bidirectional embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO and
// LRI, RLI, FSI, PDI): they reorder what follows them on screen, so a line can display as
// something other than its bytes. The implicit marks (LRM, RLM, ALM) move no text and stay
// allowed: people who write right-to-left scripts type them.
bool isBidiControl(char32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool isControl(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || isBidiControl(cp);
}

bool isNickChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

bool isValidUtf8(std::string_view s) {
  char32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = decodeOne(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

TextProblem checkText(std::string_view s, bool allowNewlineTab) {
  char32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = decodeOne(s, i, cp);
    if (n == 0) return TextProblem::InvalidUtf8;
    if (isControl(cp) && !(allowNewlineTab && (cp == '\n' || cp == '\t'))) {
      return TextProblem::ControlCharacter;
    }
    i += n;
  }
  return TextProblem::None;
}

std::string sanitizeForTerminal(std::string_view s, bool keepNewlineTab) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  char32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = decodeOne(s, i, cp);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
      continue;
    }
    if (!isControl(cp) || (keepNewlineTab && (cp == '\n' || cp == '\t'))) {
      out.append(s.substr(i, n));
    } else if (cp < 0x20 || cp == 0x7F) {
      out += '^';
      out += static_cast<char>(cp == 0x7F ? '?' : cp + 0x40);  // caret notation, e.g. ^[
    } else if (cp <= 0xFF) {
      out += "\\x";
      out += kHex[cp >> 4];
      out += kHex[cp & 0xF];
    } else {
      out += "<U+";  // a bidirectional control, named instead of obeyed
      for (int shift = 12; shift >= 0; shift -= 4) {
        out += static_cast<char>(std::toupper(kHex[(cp >> shift) & 0xF]));
      }
      out += '>';
    }
    i += n;
  }
  return out;
}

std::string foldCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string truncateUtf8(std::string s, std::size_t maxBytes) {
  if (s.size() <= maxBytes) return s;
  std::size_t end = maxBytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

bool equalFolded(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string> nickProblem(std::string_view nick, std::size_t minLength,
                                       std::size_t maxLength) {
  if (nick.size() < minLength || nick.size() > maxLength) {
    return "a nick is " + std::to_string(minLength) + " to " + std::to_string(maxLength) +
           " characters long";
  }
  for (char c : nick) {
    if (!isNickChar(c)) return std::string("a nick may hold only letters, digits, '_' and '-'");
  }
  return std::nullopt;
}

std::optional<std::string> normalizeRoom(std::string_view room) {
  if (!room.empty() && room.front() == '#') room.remove_prefix(1);
  if (room.empty() || room.size() > kMaxRoomBytes) return std::nullopt;
  for (char c : room) {
    if (!isNickChar(c)) return std::nullopt;
  }
  return foldCase(room);
}

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
    return;
  }
  // Lead byte marker and payload bits for 2, 3 and 4 byte forms.
  const int length = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  static constexpr unsigned char kLead[] = {0, 0, 0xC0, 0xE0, 0xF0};
  out += static_cast<char>(kLead[length] | (cp >> (6 * (length - 1))));
  for (int shift = 6 * (length - 2); shift >= 0; shift -= 6) {
    out += static_cast<char>(0x80 | ((cp >> shift) & 0x3F));
  }
}

std::size_t codePoints(std::string_view s) {
  std::size_t count = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::string fixed(double v, int decimals) {
  char out[64];
  std::snprintf(out, sizeof out, "%.*f", decimals, v);
  return out;
}

}  // namespace udpchat::text
