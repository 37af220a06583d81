// udpchat-client --discover: finds the servers on the LAN by broadcasting a discovery probe
// (docs/PROTOCOL.md section 12) and listing the answers.
#pragma once

#include <cstdint>
#include <cstdio>

#include "udpchat/time.hpp"

namespace udpchat::client {

inline constexpr Millis kDiscoverWaitMs = 1000;

struct DiscoverOptions {
  std::uint16_t port = 0;  // the servers' UDP port
  bool json = false;
  Millis wait = kDiscoverWaitMs;  // how long answers are collected
};

// Prints one line (or JSON object) per server that answered within options.wait; 0 if any did,
// else says so on `err` and returns kExitCannotConnect.
int runDiscovery(const DiscoverOptions& options, std::FILE* out, std::FILE* err);

}  // namespace udpchat::client
