#include "cpu_list.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>

namespace udpchat::bench {
namespace {

constexpr int kMaxCpu = 1023;

std::optional<int> parseCpu(std::string_view s) {
  int value = -1;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value < 0 || value > kMaxCpu) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<std::vector<int>> parseCpuList(std::string_view text) {
  std::vector<int> cpus;
  if (text.empty()) return std::nullopt;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const auto dash = item.find('-');
    if (dash == std::string_view::npos) {
      auto cpu = parseCpu(item);
      if (!cpu) return std::nullopt;
      cpus.push_back(*cpu);
    } else {
      auto first = parseCpu(item.substr(0, dash));
      auto last = parseCpu(item.substr(dash + 1));
      if (!first || !last || *first > *last) return std::nullopt;
      for (int cpu = *first; cpu <= *last; ++cpu) cpus.push_back(cpu);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

bool pinCurrentThread(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

}  // namespace udpchat::bench
