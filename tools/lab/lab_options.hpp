// What `udpchat-lab compare` is asked to do: the scenario, the transports, the link settings of
// every cell, the traffic, the repetitions and their seeds, and where the output goes. Plain
// data plus the parsers and rules that are worth testing on their own. No sockets, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lab/link_config.hpp"
#include "udpchat/result.hpp"
#include "udpchat/time.hpp"

namespace udpchat::lab {

enum class Scenario : std::uint8_t {
  kChat,      // N chat messages at rate R, sender -> server -> receiver
  kPresence,  // presence pings at the client's rate; the server's view as the receiver sees it
  kHol,       // the chat beside a bulk transfer on the same connection (head-of-line)
};

// "chat", "presence", "hol".
std::string_view to_string(Scenario scenario);
std::optional<Scenario> parseScenario(std::string_view text);

// How one compared transport carries the chat. Bulk data (head-of-line scenario) always goes on
// kChannelBulk: over ENet a reliable channel with its own ordering, over TCP the one stream.
struct TransportSpec {
  std::string_view name;  // "tcp", "enet-reliable", "enet-unreliable", "enet-unsequenced"
  bool tcp = false;       // false: ENet
  std::uint8_t chatChannel = 0;
  bool reliable = true;   // every chat message must arrive
  bool sequenced = true;  // never delivered after a newer one
};

// The four transports, in the order reports list them.
const std::vector<TransportSpec>& knownTransports();
std::optional<TransportSpec> findTransport(std::string_view name);

enum class OutputFormat : std::uint8_t { kTable, kJson, kCsv };

struct CompareOptions {
  Scenario scenario = Scenario::kChat;
  std::vector<std::string> transports = {"tcp", "enet-reliable", "enet-unreliable",
                                         "enet-unsequenced"};

  // The link, per direction (both directions get the same settings).
  std::vector<double> lossPct = {0, 1, 2, 5, 10, 20};  // percent, one cell each
  double delayMs = 20;                                 // milliseconds, one way
  double jitterMs = 0;                                 // milliseconds, +- around the delay
  double duplicatePct = 0;
  double reorderPct = 0;
  std::optional<GilbertElliott> gilbert;  // bursty loss on top of lossPct
  std::uint64_t rateKbit = 0;             // kbit/s bottleneck; 0 = none
  std::size_t queuePackets = 0;           // drop-tail bound of the bottleneck queue

  // Traffic.
  std::uint64_t messages = 200;            // measured chat messages per run
  double rate = 10;                        // chat messages per second
  std::size_t messageBytes = 100;          // bytes of chat text
  std::uint64_t warmup = 20;               // unmeasured messages first, at the same rate
  std::size_t bulkBytes = 1'000'000;       // head-of-line: the transfer, bytes of text
  std::size_t bulkFrameBytes = 4000;       // text bytes per bulk message (at most kMaxTextBytes)
  std::size_t bulkWindowBytes = 32768;     // bulk bytes sent but not yet received; 0 = no limit
  std::optional<std::uint64_t> bulkAfter;  // chat messages sent before the bulk starts
  Millis pingIntervalMs = 0;               // presence: 0 = the server's (Welcome)
  double durationS = 30;                   // presence: seconds of pinging
  Millis whoisIntervalMs = 100;            // presence: the receiver's WhoisRequest interval

  unsigned repeat = 3;
  std::uint64_t seed = 1;

  // Connecting under loss: each attempt may take this long, then a fresh one starts.
  Millis attemptTimeoutMs = 10'000;
  unsigned connectAttempts = 4;
  double drainLimitS = 60;  // reliable transports: longest wait for the last message

  OutputFormat format = OutputFormat::kTable;
  bool samples = false;      // JSON: each run's per-message latencies too
  std::string plotDir;       // empty: no plots
  std::string pcapDir;       // empty: no captures kept
  std::string serverBinary;  // udpchat-server to run in the server namespace
  bool quiet = false;        // no progress lines on stderr
  unsigned jobs = 0;         // runs at once; 0: defaultJobs(cores) (run_queue.hpp)

  // The chat messages sent before the bulk starts: bulkAfter, or a quarter of `messages`.
  std::uint64_t bulkStartMessage() const;
  // Bytes of bulk message number `index` (from 0) and how many there are: bulkFrameBytes each,
  // the last one shorter (but at least 40 bytes, the probe's header).
  std::size_t bulkFrameSize(std::uint64_t index) const;
  std::uint64_t bulkFrameCount() const;
  // Length of one run's measurement, seconds (without connecting and draining).
  double measuredSeconds() const;
};

// What is wrong with `options` (the first problem found), or nullopt.
std::optional<std::string> validate(const CompareOptions& options);

// "0,1,2,5,10,20" -> {0, 1, 2, 5, 10, 20}: finite, non-negative, comma-separated.
Result<std::vector<double>, std::string> parseNumberList(std::string_view text);
// "tcp,enet-reliable" -> names, each a known transport, no repeats.
Result<std::vector<std::string>, std::string> parseTransportList(std::string_view text);

// The seed of repetition `repetition` (counted from 1): splitmix64 of the base seed and the
// repetition. Every transport and loss rate in one repetition shares it, so within a
// repetition the emulator draws the same numbers for the same packet index everywhere (and the
// packets lost at 5 % are a subset of those lost at 10 %).
std::uint64_t seedFor(std::uint64_t base, unsigned repetition);

// The link of one cell: the options' settings with `lossPct`, the same both ways.
LinkConfig linkFor(const CompareOptions& options, double lossPct, std::uint64_t seed);

// A name for files of one run: "chat_tcp_loss5_rep1" (loss written without a trailing ".0";
// 2.5 % is "loss2.5"); repetitions count from 1.
std::string runLabel(Scenario scenario, std::string_view transport, double lossPct,
                     unsigned repetition);

// A percentage for people and file names: 5 -> "5", 2.5 -> "2.5", 0.25 -> "0.25".
std::string formatPercent(double value);

}  // namespace udpchat::lab
