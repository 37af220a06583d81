// What one lab run measured, and a cell's repetitions summarised. Plain data; no sockets.
// docs/LAB.md ("What the figures mean") defines every field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lab/delivery_tracker.hpp"
#include "lab/lab_options.hpp"
#include "lab/sample_stats.hpp"

namespace udpchat::lab {

// One direction of the emulated link during the run (connecting included).
struct WireCounts {
  std::uint64_t packets = 0;          // copies written to the far side (LinkStats::written)
  std::uint64_t bytes = 0;            // their bytes, whole IP packets (LinkStats::bytesWritten)
  std::uint64_t dropped = 0;          // lost on the link (any reason)
  std::uint64_t retransmissions = 0;  // TCP segments / ENet reliable commands sent again
};

struct HolResult {
  std::uint64_t bytes = 0;            // bulk text bytes sent
  std::uint64_t frames = 0;           // bulk messages sent
  std::uint64_t framesDelivered = 0;  // distinct bulk messages the receiver got
  bool inOrder = true;
  double startMs = 0;     // bulk start, from the first measured chat message's send time
  double durationMs = 0;  // bulk start to the receiver's last bulk message (0 if incomplete)
  // Chat messages sent while the bulk was under way (from its start to its last byte at the
  // receiver), and the others.
  Distribution chatDuring;
  Distribution chatOutside;
};

struct PresenceResult {
  double pingIntervalMs = 0;
  std::uint64_t pingsSent = 0;
  std::uint64_t pongs = 0;  // answers the sender received (a round trip)
  // Pings the server never received, percent, from its own count (WhoisReply.pingLossPermille
  // at the end of the run); nullopt when the final WhoisReply did not come.
  std::optional<double> serverLossPct;
  Distribution rttMs;        // ping sent -> pong received, by the sender's clock
  Distribution stalenessMs;  // WhoisReply.lastHeardMs samples taken by the receiver
  std::uint64_t whoisSent = 0;
};

// ENet's own timing of one client's connection over a run, sampled every 100 ms (ms): its
// smoothed round trip, and the retransmission timeout a reliable command sent at that moment
// would get (round trip + 4 x its variation). Empty over TCP.
struct EnetTiming {
  Distribution roundTripMs;
  Distribution retransmitTimeoutMs;
};

struct RunResult {
  Scenario scenario = Scenario::kChat;
  std::string transport;
  double lossPct = 0;
  unsigned repetition = 1;  // from 1
  std::uint64_t seed = 0;

  bool connected = false;        // both clients registered
  std::string error;             // why the run failed; empty when it did not
  unsigned connectAttempts = 0;  // of the client that needed the most
  double connectMs = 0;          // the slower client: first attempt -> Welcome

  // The measured stream: chat messages (chat, hol) or pings (presence: sent = pings, delivered
  // = pongs, latency = ping round trip).
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t late = 0;  // delivered after a newer message
  bool inOrder = true;
  Distribution latency;           // milliseconds
  std::vector<Arrival> arrivals;  // first copies, arrival order (plots, --samples)
  // When the first measured message was due, on the shared clock (microseconds): the origin
  // of the head-of-line timeline and of the JSON samples' send times.
  std::int64_t measureStartUs = 0;

  std::optional<HolResult> hol;
  std::optional<PresenceResult> presence;

  WireCounts clientToServer;
  WireCounts serverToClient;
  // tcpi_total_retrans of the two clients' sockets (client -> server only); TCP runs only.
  std::optional<std::uint64_t> tcpInfoRetransmissions;
  std::uint64_t serverErrors = 0;  // ErrorReply frames the clients received (should be 0)
  // The emulator's worst lateness writing a packet past its departure time, both directions
  // (milliseconds): its accuracy during the run. Large values mean a busy machine.
  double linkMaxLateMs = 0;
  EnetTiming senderEnet;    // the sender's peer (to the server)
  EnetTiming receiverEnet;  // the receiver's
  double seconds = 0;  // the whole run, wall clock

  double deliveredPct() const;
};

// The machine the comparison ran on: a busy machine adds scheduling delay to every figure.
struct HostLoad {
  double loadBefore = 0;  // 1-minute load average when the comparison started
  double loadAfter = 0;   // and when it ended
  unsigned cpus = 0;
  std::string kernel;                // uname release: TCP's behaviour depends on it
  std::string tcpCongestionControl;  // net.ipv4.tcp_congestion_control (namespaces inherit it)
};

// Reads /proc/loadavg's first field; 0 when it cannot.
double readLoadAverage();
// The kernel release and the congestion control, for HostLoad ("" when unknown).
HostLoad describeHost();

// One cell: a scenario, transport and loss rate over its repetitions.
// How late the link's pump may release a packet before a run's latencies no longer measure the
// link asked for: a run whose link fell further behind (linkMaxLateMs; a machine too busy, too
// many --jobs) is left out of the figures and listed with the reason. 20 ms is the whole one-way
// delay of the default link; an idle machine stays within about 0.2 ms, and a virtual machine
// whose host takes the core away for a moment within about 12 ms (docs/LAB.md).
inline constexpr double kLinkLateBoundMs = 20.0;

struct CellSummary {
  Scenario scenario = Scenario::kChat;
  std::string transport;
  double lossPct = 0;
  unsigned runs = 0;
  unsigned completedRuns = 0;  // connected and finished without an error; the spreads cover these
  std::vector<std::string> failures;  // one line per other run: "rep 5: <error>"
  bool everyRunComplete = true;       // every run completed and delivered everything
  bool everyRunInOrder = true;        // every completed run was in order
  Spread deliveredPct;
  Spread p50;
  Spread p95;
  Spread p99;
  Spread max;
  Spread bytesClientToServer;
  Spread bytesServerToClient;
  Spread retransmissions;  // both directions
  // hol
  Spread quietP99;  // chat outside the bulk
  Spread bulkMs;    // transfer time
  // presence
  Spread pongPct;
  Spread stalenessP50;
  Spread stalenessP95;
  Spread stalenessMax;
  Spread serverLossPct;
};

// Groups runs by (scenario, transport, loss) in the order the cells first appear; figures of
// runs that did not connect or ended early (an error) are left out of the spreads
// (completedRuns says how many count) and listed in `failures`.
std::vector<CellSummary> summarizeCells(const std::vector<RunResult>& runs);

}  // namespace udpchat::lab
