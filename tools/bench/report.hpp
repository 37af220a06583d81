// What one load run measured, and how it is shown: a table for people, JSON for scripts.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "latency_stats.hpp"

namespace udpchat::bench {

struct RunReport {
  std::string server;     // "chat" (udpchat-server) or "reference" (bare ENet rebroadcast)
  std::string transport;  // "enet" or "tcp"

  std::uint64_t deliveredFrameBytes = 0;  // one delivery's frame (client 0's, as sent)
  std::uint64_t clients = 0;
  std::uint64_t clientsIn = 0;      // registered and in their room (reference: connected)
  std::uint64_t clientsFailed = 0;  // never got in (refused, no answer, timed out)
  std::uint64_t clientsLost = 0;    // got in, then lost their connection
  std::map<std::string, std::uint64_t> failureReasons;
  double connectMs = 0;           // first connect started -> last client in (milliseconds)
  LatencySummary connectLatency;  // per client: its connect started -> it was in

  // Messages (fanout and rate). Totals cover the whole run, warm-up and drain included.
  std::uint64_t messagesSent = 0;         // begun and handed to the transport
  std::uint64_t messagesCompleted = 0;    // every member of the room received it
  std::uint64_t messagesIncomplete = 0;   // sent but somebody never got it (by the drain deadline)
  std::uint64_t sendFailures = 0;         // the transport refused the frame
  std::uint64_t expectedDeliveries = 0;   // sum over sent messages of their room's members
  std::uint64_t deliveries = 0;           // first receipts of a message by a member
  std::uint64_t completedDeliveries = 0;  // deliveries belonging to completed messages
  std::uint64_t partialDeliveries = 0;    // deliveries belonging to incomplete messages
  std::uint64_t missingDeliveries = 0;    // receipts the incomplete messages still lacked
  std::uint64_t duplicates = 0;           // repeated receipts: counted for nothing
  std::uint64_t strays = 0;               // receipts of texts the bench did not send
  std::uint64_t serverErrors = 0;         // ErrorReply frames received (e.g. rate_limited)

  // The measured window (after warm-up; fanout, rate and idle).
  double measuredSeconds = 0;
  std::uint64_t windowDeliveries = 0;  // deliveries that happened inside the window
  std::uint64_t windowCompleted = 0;   // messages completed inside the window
  double deliveriesPerSecond = 0;
  double messagesPerSecond = 0;
  double targetMessagesPerSecond = 0;  // rate: clients x rate
  LatencySummary latency;              // messages sent inside the window: send -> last delivery

  // The server process during the window (connect: during the connect phase).
  bool serverMeasured = false;
  double serverCpuSeconds = 0;        // user + system
  double serverCpuPerSecond = 0;      // user + system seconds per second: 1.0 is one whole core
  std::uint64_t serverPeakRssKb = 0;  // VmHWM at the end of the run
  std::uint64_t serverRssKb = 0;      // VmRSS at the end of the run
  double benchCpuPerSecond = 0;       // this process, same window
  // Datagrams the kernel dropped for a full receive buffer, over the sockets' whole lives up
  // to the end of the run: ENet retransmits them after its timeout, which shows as latency.
  std::uint64_t serverUdpDrops = 0;
  std::uint64_t clientUdpDrops = 0;
  // Busy CPU of the whole machine in the same window, less the server's and the bench's: other
  // programs competing for the two cores. Figures taken while this is high are not clean.
  bool otherMeasured = false;
  double otherCpuPerSecond = 0;
};

// Problems with the report's own arithmetic (counts that do not add up, negative or impossible
// values); empty when consistent. Used by the smoke test and printed as warnings.
std::vector<std::string> consistencyProblems(const RunReport& report);

nlohmann::json toJson(const RunReport& report);

// Everything the run was asked to do, for the report's heading and the JSON "config" object.
struct RunDescription {
  std::string workload;
  std::string transport;
  std::string clientStack;  // "proto" or "core"
  std::uint64_t clients = 0;
  std::uint64_t rooms = 1;
  std::uint64_t threads = 1;
  std::uint64_t window = 0;
  double ratePerClient = 0;
  std::uint64_t messageBytes = 0;
  double warmupSeconds = 0;
  double durationSeconds = 0;
  std::string target;  // "spawned udpchat-server" or "HOST:PORT"
  std::string serverCpus;
  std::string benchCpus;
};

// The whole document: {"workload":..,"config":{..},"chat":{..}} and, with a reference run,
// "reference":{..} and "ratio" (chat deliveries/s over reference deliveries/s).
nlohmann::json toJson(const RunDescription& description, const RunReport& chat,
                      const std::optional<RunReport>& reference);

// The same for people: one column per server.
std::string toTable(const RunDescription& description, const RunReport& chat,
                    const std::optional<RunReport>& reference);

}  // namespace udpchat::bench
