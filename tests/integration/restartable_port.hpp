// Ports for servers a test stops and starts again on the same port (gtest and QtTest alike).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <random>


namespace udpchat::test {

// A port for a server a test stops and starts again on the same port. An ephemeral one (port 0)
// may be handed to another socket while the server is down (tests run side by side), so this
// one is below the kernel's ephemeral range (32768 and up, Linux's default), random, and free
// for UDP and TCP when picked.
inline std::uint16_t restartablePort() {
  std::mt19937 pick(std::random_device{}());
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto port = static_cast<std::uint16_t>(std::uniform_int_distribution<int>(20000, 29999)(pick));
    bool free = true;
    for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
      const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) free = false;
      if (fd >= 0) ::close(fd);
    }
    if (free) return port;
  }
  // Practically never: then an ephemeral port, and a restart may find it taken.
  std::fprintf(stderr, "restartablePort: no free port between 20000 and 29999\n");
  return 0;
}

}  // namespace udpchat::test
