// Drives one load against one server: N simulated clients spread over worker threads, each
// thread waiting on its clients' sockets with epoll. Phases: connect (every client connects and
// registers), run (warm-up, then the measured window), drain (no new messages; the ones in
// flight may complete), and for servers the bench did not start, quit.
//
// Thread affinity: runLoad() is called from one thread and returns when every worker has
// stopped. Every phase has a deadline, so a run always ends by itself.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "report.hpp"
#include "udpchat/time.hpp"

namespace udpchat::bench {

enum class Workload { Fanout, Rate, Connect, Idle };
std::string_view toString(Workload workload);

struct LoadConfig {
  Workload workload = Workload::Fanout;
  bool reference = false;  // clients speak raw frames to the rebroadcast server
  // The chat clients: "proto" (ProtocolSimClient, lean) or "core" (udpchat-client's ClientCore).
  std::string clientStack = "proto";
  // Reference only: send the chat texts unpadded (the echo is then shorter than a ChatEvent).
  bool referenceSameText = false;
  std::string transport = "enet";  // for makeClientTransport(); the reference always uses enet
  std::size_t clients = 100;
  std::size_t threads = 2;
  std::size_t rooms = 1;          // client i joins room i % rooms
  std::size_t window = 64;        // fanout: messages in flight at once
  double ratePerClient = 10;      // rate: messages per second per client
  std::size_t messageBytes = 32;  // chat text length, bytes
  double warmupSeconds = 1;
  double durationSeconds = 5;
  double connectTimeoutSeconds = 30;  // the whole connect phase
  double drainTimeoutSeconds = 5;
  std::size_t connectWindow = 0;  // connects in progress at once; 0: all at once
  Millis serviceInterval = 10;    // every client is serviced at least this often (milliseconds)
  std::uint64_t maxMessages = 10'000'000;  // stop sending after this many in one run
  std::string nickPrefix = "bench";
  std::string roomPrefix = "bench";  // rooms "bench" (one room) or "bench0", "bench1", ...
  bool quitAtEnd = false;            // leave politely (a server the bench did not start)
  std::string label;                 // the report's name; empty: "chat" or "reference"
  bool progress = true;              // progress lines on stderr
};

struct LoadTarget {
  std::string host;
  std::uint16_t port = 0;
  pid_t serverPid = -1;  // -1: the server's CPU and memory are not measured
  // Servers sharing one chat: client i goes to spread[i % size] (empty: all to host:port), and
  // the CPU of these processes counts as the server's too (the other servers, NATS).
  std::vector<std::pair<std::string, std::uint16_t>> spread;
  std::vector<pid_t> alsoMeasured;
};

// Runs the load and returns what it measured. Throws std::runtime_error before any traffic when
// the transport is not available (e.g. "tcp" before it is built).
RunReport runLoad(const LoadConfig& config, const LoadTarget& target);

}  // namespace udpchat::bench
