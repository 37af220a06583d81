// The command parser on any typed line: it answers a command or an error, the same one twice,
// and a plain line (no leading '/') is sent as typed.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "fuzz_support.hpp"
#include "udpchat/command_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace udpchat;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto first = command::parse(line);
  auto second = command::parse(line);
  UDPCHAT_FUZZ_CHECK(first.ok() == second.ok());
  if (first.ok()) UDPCHAT_FUZZ_CHECK(first.value().index() == second.value().index());
  // Trailing CR and LF are not part of a line (a file written on Windows).
  std::string_view typed = line;
  while (!typed.empty() && (typed.back() == '\r' || typed.back() == '\n')) typed.remove_suffix(1);
  if (!typed.empty() && typed.front() != '/' && first.ok()) {
    const auto* say = std::get_if<command::Say>(&first.value());
    UDPCHAT_FUZZ_CHECK(say != nullptr && say->text == typed);
  }
  return 0;
}
