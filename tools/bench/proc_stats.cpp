#include "proc_stats.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace udpchat::bench {
namespace {

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::uint64_t> parseUnsigned(std::string_view s) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end == s.data()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<CpuTimes> parseProcStat(std::string_view statLine, long ticksPerSecond) {
  const auto close = statLine.rfind(')');
  if (close == std::string_view::npos || ticksPerSecond <= 0) return std::nullopt;
  std::string_view rest = statLine.substr(close + 1);
  // After ')': field 3 (state) is the first; utime and stime are fields 14 and 15.
  int field = 2;
  std::optional<std::uint64_t> utime, stime;
  while (!rest.empty()) {
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = rest.find(' ');
    const std::string_view token = rest.substr(0, end);
    ++field;
    if (field == 14) utime = parseUnsigned(token);
    if (field == 15) {
      stime = parseUnsigned(token);
      break;
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  if (!utime || !stime) return std::nullopt;
  const auto ticks = static_cast<double>(ticksPerSecond);
  return CpuTimes{static_cast<double>(*utime) / ticks, static_cast<double>(*stime) / ticks};
}

std::optional<std::uint64_t> parseStatusKb(std::string_view statusText, std::string_view field) {
  std::size_t pos = 0;
  while (pos < statusText.size()) {
    const auto eol = statusText.find('\n', pos);
    std::string_view line =
        statusText.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? statusText.size() : eol + 1;
    if (line.size() <= field.size() || line.substr(0, field.size()) != field ||
        line[field.size()] != ':') {
      continue;
    }
    line.remove_prefix(field.size() + 1);
    const auto digits = line.find_first_not_of(" \t");
    if (digits == std::string_view::npos) return std::nullopt;
    line.remove_prefix(digits);
    const auto value = parseUnsigned(line);
    if (!value) return std::nullopt;
    const auto unitAt = line.find_first_not_of(" \t", line.find_first_not_of("0123456789"));
    if (unitAt == std::string_view::npos || line.substr(unitAt, 2) != "kB") return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::optional<double> parseMachineBusySeconds(std::string_view procStat, long ticksPerSecond) {
  if (procStat.substr(0, 4) != "cpu " || ticksPerSecond <= 0) return std::nullopt;
  std::string_view rest = procStat.substr(4, procStat.find('\n') - 4);
  // user nice system idle iowait irq softirq steal ...
  std::uint64_t busy = 0;
  for (int field = 0; field < 8; ++field) {
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(start);
    const auto end = rest.find(' ');
    const auto value = parseUnsigned(rest.substr(0, end));
    if (!value) return std::nullopt;
    if (field != 3 && field != 4) busy += *value;  // not idle, not iowait
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  return static_cast<double>(busy) / static_cast<double>(ticksPerSecond);
}

std::optional<double> readMachineBusySeconds() {
  const auto text = slurp("/proc/stat");
  if (!text) return std::nullopt;
  return parseMachineBusySeconds(*text, ::sysconf(_SC_CLK_TCK));
}

std::uint64_t parseUdpDrops(std::string_view procNetUdp, const std::vector<std::uint64_t>& inodes) {
  std::uint64_t drops = 0;
  std::size_t pos = procNetUdp.find('\n');  // the heading
  while (pos != std::string_view::npos && pos + 1 < procNetUdp.size()) {
    const auto eol = procNetUdp.find('\n', pos + 1);
    std::string_view line = procNetUdp.substr(
        pos + 1, eol == std::string_view::npos ? std::string_view::npos : eol - pos - 1);
    pos = eol;
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    std::vector<std::string_view> fields;
    while (!line.empty()) {
      const auto start = line.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      line.remove_prefix(start);
      const auto end = line.find(' ');
      fields.push_back(line.substr(0, end));
      line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    }
    if (fields.size() < 13) continue;
    const auto inode = parseUnsigned(fields[9]);
    const auto lineDrops = parseUnsigned(fields.back());
    if (!inode || !lineDrops) continue;
    if (std::binary_search(inodes.begin(), inodes.end(), *inode)) drops += *lineDrops;
  }
  return drops;
}

std::vector<std::uint64_t> readSocketInodes(pid_t pid) {
  std::vector<std::uint64_t> inodes;
  std::error_code ec;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code linkError;
    const std::string target = std::filesystem::read_symlink(entry.path(), linkError).string();
    constexpr std::string_view kPrefix = "socket:[";
    if (linkError || target.rfind(kPrefix, 0) != 0 || target.back() != ']') continue;
    if (auto inode = parseUnsigned(std::string_view(target).substr(kPrefix.size()))) {
      inodes.push_back(*inode);
    }
  }
  std::sort(inodes.begin(), inodes.end());
  return inodes;
}

std::uint64_t readUdpDrops(pid_t pid) {
  const auto inodes = readSocketInodes(pid);
  std::uint64_t drops = 0;
  for (const char* table : {"/proc/net/udp", "/proc/net/udp6"}) {
    if (const auto text = slurp(table)) drops += parseUdpDrops(*text, inodes);
  }
  return drops;
}

std::optional<CpuTimes> readCpuTimes(pid_t pid) {
  const auto text = slurp("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  return parseProcStat(*text, ::sysconf(_SC_CLK_TCK));
}

std::optional<std::uint64_t> readStatusKb(pid_t pid, std::string_view field) {
  const auto text = slurp("/proc/" + std::to_string(pid) + "/status");
  if (!text) return std::nullopt;
  return parseStatusKb(*text, field);
}

}  // namespace udpchat::bench
