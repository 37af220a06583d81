#include "udpchat/secure_random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <system_error>

namespace udpchat {

std::uint64_t secureRandom64() {
  unsigned char bytes[8];
  std::size_t have = 0;
  while (have < sizeof bytes) {
    const ssize_t got = getrandom(bytes + have, sizeof bytes - have, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    have += static_cast<std::size_t>(got);
  }
  std::uint64_t value = 0;
  for (unsigned char b : bytes) value = (value << 8) | b;
  return value;
}

}  // namespace udpchat
