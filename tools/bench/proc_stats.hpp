// A process's CPU time and memory, from /proc. Parsing is separate from reading so it can be
// tested on fixed text.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace udpchat::bench {

struct CpuTimes {
  double user = 0;    // seconds
  double system = 0;  // seconds
  double total() const { return user + system; }
};

// Fields 14 and 15 (utime, stime) of a /proc/<pid>/stat line, in seconds. The command name in
// field 2 may contain spaces and parentheses, so fields are counted after its last ')'.
std::optional<CpuTimes> parseProcStat(std::string_view statLine, long ticksPerSecond);

// A "Name:   1234 kB" line of /proc/<pid>/status, e.g. field "VmHWM" (peak RSS) or "VmRSS";
// the value in kibibytes.
std::optional<std::uint64_t> parseStatusKb(std::string_view statusText, std::string_view field);

// The whole machine's busy CPU time from the "cpu" line of /proc/stat, in seconds summed over
// all CPUs: user, nice, system, irq, softirq and steal (guest time is already inside user).
std::optional<double> parseMachineBusySeconds(std::string_view procStat, long ticksPerSecond);

// Datagrams the kernel dropped because a socket's receive buffer was full, summed over the
// sockets of /proc/net/udp (text as read) whose inode is in `inodes` (the "drops" column).
std::uint64_t parseUdpDrops(std::string_view procNetUdp, const std::vector<std::uint64_t>& inodes);

std::optional<CpuTimes> readCpuTimes(pid_t pid);
// The inodes of the sockets process `pid` has open (from /proc/<pid>/fd), sorted.
std::vector<std::uint64_t> readSocketInodes(pid_t pid);
// parseUdpDrops() over /proc/net/udp and /proc/net/udp6 for the sockets of `pid`.
std::uint64_t readUdpDrops(pid_t pid);
std::optional<double> readMachineBusySeconds();
std::optional<std::uint64_t> readStatusKb(pid_t pid, std::string_view field);

}  // namespace udpchat::bench
