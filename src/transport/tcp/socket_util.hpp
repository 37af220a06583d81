// Small RAII and helpers for plain sockets, shared by the TCP server and client transports.
// Private to the transport layer.
#pragma once

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "udpchat/unique_fd.hpp"

namespace udpchat::tcp {

using udpchat::UniqueFd;  // include/udpchat/unique_fd.hpp

// strerror(err) starting lowercase, to follow "cannot listen on ADDRESS: " in messages.
inline std::string errnoText(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// An IPv4 address for `host` (a dotted quad or a name) and `port`, or nullopt. Names are
// resolved with getaddrinfo, which may block (as ENet's enet_address_set_host does).
inline std::optional<sockaddr_in> resolveIpv4(const std::string& host, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &sin.sin_addr) == 1) return sin;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  sin.sin_addr = reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr;
  ::freeaddrinfo(found);
  return sin;
}

// "ADDRESS:PORT".
inline std::string formatAddress(const sockaddr_in& sin) {
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(sin.sin_port));
}

// Small frames leave at once: a chat line or a presence ping must not wait for Nagle's
// algorithm to coalesce it with the next one (up to an RTT, or 40 ms with delayed ACKs).
inline void setNoDelay(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

// Makes the next close() send RST and free the socket at once instead of trying to deliver
// what the kernel still holds: for peers we give up on (they do not read, or broke the rules).
inline void setAbortiveClose(int fd) {
  const linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

}  // namespace udpchat::tcp
