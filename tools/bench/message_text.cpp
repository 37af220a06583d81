#include "message_text.hpp"

#include <charconv>

namespace udpchat::bench {

std::string messageText(std::uint64_t seq, std::size_t bytes) {
  std::string text = std::to_string(seq);
  if (text.size() < bytes) {
    text += ' ';
    text.resize(bytes, 'x');
  }
  return text;
}

std::optional<std::uint64_t> parseMessageSeq(std::string_view text) {
  std::uint64_t seq = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (ec != std::errc{} || end == text.data()) return std::nullopt;
  if (end != text.data() + text.size() && *end != ' ') return std::nullopt;
  return seq;
}

}  // namespace udpchat::bench
