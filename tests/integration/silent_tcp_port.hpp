// A TCP port on loopback where connects get no answer: a listener whose accept queue (backlog
// 0, one connection never accepted) is full, so the kernel drops further SYNs, like a server
// behind a firewall that drops packets. Shared by the binaries and the TCP loopback tests.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "udpchat/unique_fd.hpp"

namespace udpchat::test {

class SilentTcpPort {
 public:
  SilentTcpPort() : listener_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
        ::listen(listener_.get(), 0) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
    }
    port_ = ntohs(sin.sin_port);
    filler_.reset(::socket(AF_INET, SOCK_STREAM, 0));
    if (::connect(filler_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
      ADD_FAILURE() << "cannot fill the accept queue";
    }
  }
  std::uint16_t port() const { return port_; }

 private:
  UniqueFd listener_;
  UniqueFd filler_;
  std::uint16_t port_ = 0;
};

}  // namespace udpchat::test
