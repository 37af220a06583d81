// CPU lists as taskset takes them ("1", "0-1", "0,2-3"), for pinning the server and the bench.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace udpchat::bench {

// The CPUs named, ascending and without repeats; nullopt when the text is not a CPU list or
// names a CPU above 1023.
std::optional<std::vector<int>> parseCpuList(std::string_view text);

// Restricts the calling thread (and the threads and processes it creates afterwards) to `cpus`.
// Returns false (errno set) when the kernel refuses.
bool pinCurrentThread(const std::vector<int>& cpus);

}  // namespace udpchat::bench
