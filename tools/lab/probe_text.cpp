#include "lab/probe_text.hpp"

#include <algorithm>
#include <charconv>

namespace udpchat::lab {
namespace {

constexpr std::string_view kPrefix = "lab ";

// Reads decimal digits up to the next space or the end; advances `text` past them.
template <class T>
std::optional<T> number(std::string_view& text) {
  const std::size_t end = std::min(text.find(' '), text.size());
  if (end == 0) return std::nullopt;
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, value);
  if (ec != std::errc{} || ptr != text.data() + end) return std::nullopt;
  text.remove_prefix(end);
  return value;
}

}  // namespace

std::string_view to_string(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kChat:
      return "chat";
    case ProbeKind::kWarmup:
      return "warm";
    case ProbeKind::kBulk:
      return "bulk";
  }
  return "chat";
}

std::string formatProbe(const Probe& probe, std::size_t bytes) {
  std::string text(kPrefix);
  text += to_string(probe.kind);
  text += ' ';
  text += std::to_string(probe.seq);
  text += ' ';
  text += std::to_string(probe.sentUs);
  if (text.size() + 1 < bytes) {
    text += ' ';
    text.append(bytes - text.size(), '.');
  }
  return text;
}

std::optional<Probe> parseProbe(std::string_view text) {
  if (!text.starts_with(kPrefix)) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  Probe probe;
  bool known = false;
  for (ProbeKind kind : {ProbeKind::kChat, ProbeKind::kWarmup, ProbeKind::kBulk}) {
    const std::string_view name = to_string(kind);
    if (text.starts_with(name) && text.size() > name.size() && text[name.size()] == ' ') {
      probe.kind = kind;
      text.remove_prefix(name.size() + 1);
      known = true;
      break;
    }
  }
  if (!known) return std::nullopt;
  const auto seq = number<std::uint64_t>(text);
  if (!seq || !text.starts_with(' ')) return std::nullopt;
  text.remove_prefix(1);
  const auto sent = number<std::int64_t>(text);
  if (!sent || *sent < 0) return std::nullopt;
  if (!text.empty()) {
    if (text.front() != ' ') return std::nullopt;
    text.remove_prefix(1);
    if (text.find_first_not_of('.') != std::string_view::npos) return std::nullopt;
  }
  probe.seq = *seq;
  probe.sentUs = *sent;
  return probe;
}

}  // namespace udpchat::lab
