// Unpredictable numbers from the operating system's secure generator (getrandom(2)), for
// secrets such as resume tokens. Thread affinity: any thread.
#pragma once

#include <cstdint>

namespace udpchat {

// 64 bits from getrandom(2), which blocks only until the kernel's generator is first seeded
// (early boot). Throws std::system_error if the kernel refuses (no getrandom: Linux < 3.17).
std::uint64_t secureRandom64();

}  // namespace udpchat
