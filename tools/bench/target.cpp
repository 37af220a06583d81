#include "target.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace udpchat::bench {

bool isLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  const std::string text(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  }
  return false;
}

std::optional<std::string> targetRefusal(std::string_view host, bool givenExplicitly) {
  if (host.empty()) return std::string("no target host");
  if (isLoopbackHost(host) || givenExplicitly) return std::nullopt;
  return "refusing to load " + std::string(host) +
         ": only loopback is a default target; name another host with --host";
}

}  // namespace udpchat::bench
