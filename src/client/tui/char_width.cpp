#include "char_width.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace udpchat::tui {
namespace {

struct WidthRange {
  char32_t first;
  char32_t last;
  std::int8_t width;
};

constexpr WidthRange kRanges[] = {
#include "char_width_table.inc"
};

static_assert(std::is_sorted(std::begin(kRanges), std::end(kRanges),
                             [](const WidthRange& a, const WidthRange& b) {
                               return a.last < b.first;
                             }),
              "the width table must be sorted for the binary search");

}  // namespace

int charWidth(char32_t cp) {
  if (cp > 0x10FFFF) return -1;
  if (cp >= 0x20 && cp < 0x7F) return 1;  // ASCII, the common case, without a search
  const auto* it = std::upper_bound(std::begin(kRanges), std::end(kRanges), cp,
                                    [](char32_t c, const WidthRange& r) { return c < r.first; });
  if (it == std::begin(kRanges)) return 1;
  --it;
  return cp <= it->last ? it->width : 1;
}

char32_t nextCodePoint(std::string_view s, std::size_t& pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(pos);
  std::size_t length = 0;
  char32_t cp = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    ++pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
    minimum = 0x10000;
  } else {
    ++pos;
    return 0xFFFD;
  }
  if (pos + length > s.size()) {
    ++pos;
    return 0xFFFD;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) {
      ++pos;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(pos + i) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not characters.
  if (cp < minimum || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++pos;
    return 0xFFFD;
  }
  pos += length;
  return cp;
}

int displayWidth(std::string_view s) {
  int width = 0;
  for (std::size_t pos = 0; pos < s.size();) {
    const int w = charWidth(nextCodePoint(s, pos));
    width += w < 0 ? 1 : w;
  }
  return width;
}

}  // namespace udpchat::tui
