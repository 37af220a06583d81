// The full-screen client's colours and the small text helpers its model and drawing share.
// Private to the tui model.
#pragma once

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>

#include "screen.hpp"
#include "udpchat/text.hpp"
#include "udpchat/time.hpp"

namespace udpchat::tui::style {

inline constexpr Attr kTime{.dim = true};
inline constexpr Attr kBar{.fg = 15, .bg = 4};
inline constexpr Attr kBarDim{.fg = 14, .bg = 4};
inline constexpr Attr kBarActivity{.fg = 15, .bg = 4, .bold = true};
inline constexpr Attr kBarHighlight{.fg = 11, .bg = 4, .bold = true};
inline constexpr Attr kBarAlert{.fg = 15, .bg = 1, .bold = true};
inline constexpr Attr kError{.fg = 9, .bold = true};
inline constexpr Attr kEvent{.fg = 6};
inline constexpr Attr kMention{.bold = true, .reverse = true};
inline constexpr Attr kMarker{.fg = 0, .bg = 3, .bold = true};
inline constexpr Attr kSeparator{.fg = 4};
inline constexpr Attr kPrompt{.bold = true};
inline constexpr Attr kDeleted{.dim = true};

// Colours that read on dark and light backgrounds alike; red is kept for errors.
inline constexpr std::int8_t kNickColours[] = {2, 3, 4, 5, 6, 10, 11, 12, 13, 14};

// FNV-1a over the folded nick: a nick has the same colour in every window and every run.
inline Attr nickAttr(std::string_view nick, bool self) {
  std::uint32_t h = 2166136261u;
  for (char c : text::foldCase(nick)) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  Attr a;
  a.fg = kNickColours[h % std::size(kNickColours)];
  a.bold = self;
  return a;
}

// A name, reason or topic from the network: one line, nothing a terminal could interpret.
inline std::string safe(std::string_view s) {
  return text::sanitizeForTerminal(s, false);
}
// Message text: newlines and tabs survive (the layout handles them), nothing else does.
inline std::string safeText(std::string_view s) {
  return text::sanitizeForTerminal(s, true);
}

inline bool sameName(std::string_view a, std::string_view b) {
  return text::foldCase(a) == text::foldCase(b);
}

inline std::string durationText(Millis ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buffer;
}

}  // namespace udpchat::tui::style
