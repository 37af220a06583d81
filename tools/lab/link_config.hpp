// What the emulated link does to packets, per direction. Plain data with a validator and a
// parser for the one compound flag; no sockets, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "udpchat/result.hpp"

namespace udpchat::lab {

// The two directions of the link. The client side is 198.18.0.1, the server side 198.18.1.1.
enum class Direction : std::uint8_t { kClientToServer = 0, kServerToClient = 1 };

inline constexpr Direction kBothDirections[] = {Direction::kClientToServer,
                                                Direction::kServerToClient};

// "c2s" or "s2c", as in the decision log.
std::string_view to_string(Direction direction);

// Bursty loss: a two-state (good, bad) Markov chain stepped once per packet, then the packet is
// lost with the loss probability of the state it is in. Every field is a percentage (0..100).
// The long-run loss is (r * lossGood + p * lossBad) / (p + r); with lossGood 0 and lossBad 100
// (the simple Gilbert model) losses come in bursts of mean length 100 / r packets.
// netem's `loss gemodel p r 1-h 1-k` is {p, r, lossGood = 1-k, lossBad = 1-h} here (note the
// order: netem lists the bad state first).
struct GilbertElliott {
  double p = 0;          // percent per packet: good -> bad
  double r = 100;        // percent per packet: bad -> good
  double lossGood = 0;   // percent: loss while good (1 - k)
  double lossBad = 100;  // percent: loss while bad (1 - h)

  bool operator==(const GilbertElliott&) const = default;
};

// One direction of the link. Stages, in the order a packet meets them: the bottleneck queue
// (rate limit, drop-tail), loss on the wire (independent and bursty), propagation delay with
// jitter, explicit reordering, duplication. The defaults are a perfect wire.
struct DirectionConfig {
  double lossPct = 0;                     // percent, independent per packet
  std::optional<GilbertElliott> gilbert;  // bursty loss, on top of lossPct
  double delayMs = 0;                     // milliseconds, one way
  double jitterMs = 0;                    // milliseconds: delay varies uniformly by +-jitterMs
  // By default a packet never leaves before the one offered before it in the same direction
  // (jitter only stretches gaps). True lets jitter reorder packets, as netem does.
  bool jitterReorders = false;
  double reorderPct = 0;         // percent of packets held back by reorderDelayMs
  double reorderDelayMs = 10;    // milliseconds added to a reordered packet; later ones pass it
  double duplicatePct = 0;       // percent of packets delivered twice
  std::uint64_t rateKbit = 0;    // kbit/s (1000 bit/s) at the bottleneck; 0 = no limit
  std::size_t queuePackets = 0;  // bottleneck queue bound in packets (0 = none); needs rateKbit
  std::size_t queueBytes = 0;    // bottleneck queue bound in bytes (0 = none); needs rateKbit

  bool operator==(const DirectionConfig&) const = default;
};

struct LinkConfig {
  std::uint64_t seed = 1;  // the run seed; each direction derives its own generator from it
  DirectionConfig clientToServer;
  DirectionConfig serverToClient;

  // The same settings both ways.
  static LinkConfig symmetric(const DirectionConfig& both, std::uint64_t seed);

  DirectionConfig& operator[](Direction direction);
  const DirectionConfig& operator[](Direction direction) const;

  bool operator==(const LinkConfig&) const = default;
};

// What is wrong with `config` (the first problem found, naming the direction and field), or
// nullopt when it is usable. Percentages must lie in 0..100, times must be finite and >= 0, and
// a queue bound needs a rate.
std::optional<std::string> validate(const LinkConfig& config);

// Parses the --gilbert flag: "p,r,lossGood,lossBad" or "p,r" (then lossGood 0, lossBad 100),
// every value in percent. The error says what was expected.
Result<GilbertElliott, std::string> parseGilbert(std::string_view text);

// One line for people: "loss 5 %, delay 20 +- 5 ms, ..."; "perfect" when nothing is set.
std::string describe(const DirectionConfig& config);

}  // namespace udpchat::lab
