// udpchat-client --discover: finds the servers on the LAN by broadcasting a discovery probe
// (docs/PROTOCOL.md section 12) and listing the answers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "udpchat/discovery.hpp"
#include "udpchat/time.hpp"
#include "udpchat/unique_fd.hpp"

namespace udpchat::client {

inline constexpr Millis kDiscoverWaitMs = 1000;

struct DiscoverOptions {
  std::uint16_t port = 0;  // the servers' UDP port
  bool json = false;
  Millis wait = kDiscoverWaitMs;  // how long answers are collected
};

// A server that answered a probe.
struct FoundServer {
  discovery::Answer answer;
  std::uint32_t address = 0;  // IPv4, host order, where the answer came from
  std::string host() const;   // that address as text, e.g. "192.168.1.20"
};

// One broadcast UDP socket that sends probes and collects the answers, without blocking: the
// caller polls fd() (or waits on it in its own event loop) and calls readAnswers() when it is
// readable. Used by --discover and by the desktop client's server list.
// Thread affinity: one thread.
class DiscoveryProbe {
 public:
  DiscoveryProbe();  // opens the socket; on failure fd() is -1 and error() says why
  int fd() const { return fd_.get(); }
  const std::string& error() const { return error_; }

  // Sends a new probe (a fresh nonce) to every broadcast address, and to this machine, on
  // `port`. Answers to earlier probes are ignored from now on. False, with error() set, if no
  // target took it.
  bool send(std::uint16_t port);
  // Where send() probes instead (IPv4, host order); empty, the default: every broadcast address
  // and this machine.
  void setTargets(std::vector<std::uint32_t> targets) { targets_ = std::move(targets); }
  // Reads every answer waiting on the socket, without blocking, into found(). Returns true if
  // found() changed.
  bool readAnswers();
  // Answers to the latest probe, sorted by name, then address; one entry per server.
  const std::vector<FoundServer>& found() const { return found_; }
  void clear() { found_.clear(); }

 private:
  UniqueFd fd_;
  std::string error_;
  std::uint32_t nonce_ = 0;
  std::vector<std::uint32_t> targets_;
  std::vector<FoundServer> found_;
};

// Prints one line (or JSON object) per server that answered within options.wait; 0 if any did,
// else says so on `err` and returns kExitCannotConnect.
int runDiscovery(const DiscoverOptions& options, std::FILE* out, std::FILE* err);

}  // namespace udpchat::client
