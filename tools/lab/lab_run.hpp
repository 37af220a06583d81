// One lab run: a fresh emulated link, the real udpchat-server in the server namespace
// (198.18.1.1, --lab-channels, flood control lifted), and two LabClients in the client
// namespace, a sender and a receiver, each its own connection and its own thread. Both threads
// live in this process, so the sender's timestamps and the receiver's share one clock and
// end-to-end latency (sender -> server -> receiver) is exact.
//
// What each scenario does is described in docs/LAB.md ("Scenarios"). Needs the privileges of
// acquireNetnsPrivileges().
#pragma once

#include <optional>
#include <string>

#include "lab/lab_options.hpp"
#include "lab/netns.hpp"
#include "lab/run_result.hpp"
#include "lab/unique_fd.hpp"

namespace udpchat::lab {

inline constexpr std::uint16_t kLabPort = 7777;

// The server's command line for a run.
std::vector<std::string> serverCommand(const CompareOptions& options);

// The lab's udpchat-server (serverCommand) in a namespace; stopped (SIGTERM, then SIGKILL) by
// stop() or the destructor.
class LabServer {
 public:
  LabServer() = default;
  ~LabServer();
  LabServer(const LabServer&) = delete;
  LabServer& operator=(const LabServer&) = delete;

  // Starts it in `ns` and waits (at most 5 s) until it has printed both listening lines; the
  // reason when it did not, with what it printed.
  std::optional<std::string> start(const Namespace& ns, const CompareOptions& options);
  void stop();

 private:
  std::optional<ChildProcess> process_;
  UniqueFd output_;  // its stdout and stderr
  std::string text_;
};

// Runs `options.scenario` once over `transport` at `lossPct` each way with the seed of
// `repetition` (from 1). The link's capture goes to `pcapPath` (required: retransmissions are
// counted from it). A run that fails (cannot connect, the server does not start) comes back
// with connected = false and the reason in `error`; throws only when the link itself cannot
// be made (std::system_error, std::invalid_argument).
RunResult runOnce(const CompareOptions& options, const TransportSpec& transport, double lossPct,
                  unsigned repetition, const std::string& pcapPath);

}  // namespace udpchat::lab
