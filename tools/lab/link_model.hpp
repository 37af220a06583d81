// The emulated link's brain: given a packet's size and arrival time it decides, per direction,
// whether the packet is dropped and when each copy leaves. No sockets, no clock: the caller
// passes the time in, so the same seed and the same packet sequence give the same decisions.
#pragma once

#include <cstdint>
#include <deque>
#include <iosfwd>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lab/link_config.hpp"

namespace udpchat::lab {

// Microseconds on the emulator's clock (the real link counts from its start).
using Micros = std::int64_t;

enum class Fate : std::uint8_t {
  kDelivered,  // at least one copy leaves (see Decision::departure)
  kLost,       // independent loss (DirectionConfig::lossPct)
  kBurstLost,  // Gilbert-Elliott loss
  kQueueFull,  // the bottleneck queue was at its bound (drop-tail)
};

// "delivered", "dropped:loss", "dropped:burst", "dropped:queue".
std::string_view to_string(Fate fate);

// One packet's fate: one line of the decision log.
struct Decision {
  std::uint64_t index = 0;  // per direction, counting from 0 in the order packets were offered
  Direction direction = Direction::kClientToServer;
  std::uint32_t size = 0;  // bytes: the whole IP packet
  Micros arrival = 0;      // when it reached the link
  Fate fate = Fate::kDelivered;
  bool reordered = false;           // held back reorderDelayMs; later packets may pass it
  std::optional<Micros> departure;  // when the copy leaves; set iff fate is kDelivered
  std::optional<Micros> duplicate;  // when the second copy leaves, if duplicated

  bool delivered() const { return fate == Fate::kDelivered; }
  bool operator==(const Decision&) const = default;
};

// The log line for one decision, without newline:
//   index direction bytes arrival_us fate departure_us duplicate_us reordered
// with "-" for an absent field, e.g. "17 c2s 84 1204 delivered 21204 - -".
std::string formatDecision(const Decision& decision);
// "# ..." column header line, then one formatDecision line per decision.
void writeLog(std::ostream& out, std::span<const Decision> decisions);

// The seed of one direction's generator, derived from the run seed (splitmix64 of the seed
// with the direction mixed in), so the two directions draw independent sequences.
std::uint64_t directionSeed(std::uint64_t runSeed, Direction direction);

// One direction. Each offered packet consumes exactly seven numbers from this direction's
// std::mt19937_64, whatever happens to it, in a fixed order (Gilbert-Elliott step, Gilbert-
// Elliott loss, independent loss, jitter, reorder, duplicate, jitter of the duplicate). So a
// packet's random draws depend only on the seed and its index: changing one parameter never
// shifts another's decisions, and with one seed the packets lost at 5 % are a subset of those
// lost at 10 %.
class DirectionModel {
 public:
  // Precondition: validate() accepts the configuration.
  DirectionModel(Direction direction, const DirectionConfig& config, std::uint64_t runSeed);

  // Decides the next packet. Precondition: `arrival` is not earlier than the previous one.
  Decision offer(std::uint32_t sizeBytes, Micros arrival);

  // Changes the independent loss from the next packet on (percent; 0 to 100). The draws stay
  // what they were, so packet k is lost at the new rate exactly when it would have been with
  // that rate from the start.
  void setLossPct(double lossPct) { config_.lossPct = lossPct; }
  double lossPct() const { return config_.lossPct; }

  // Packets offered so far.
  std::uint64_t offered() const { return next_; }
  // Whether the Gilbert-Elliott chain is in its bad state (after the last packet).
  bool inBadState() const { return bad_; }

 private:
  struct Queued {
    std::int64_t finishNs;  // when its last bit leaves the bottleneck, nanoseconds
    std::uint32_t size;     // bytes
  };

  double uniform();  // [0, 1) with 53 random bits, the same on every standard library
  Micros jitterOffset(double u) const;

  Direction direction_;
  DirectionConfig config_;
  std::mt19937_64 rng_;
  std::uint64_t next_ = 0;
  bool bad_ = false;
  std::optional<Micros> lastDeparture_;  // of the last packet later ones may not pass
  std::int64_t busyUntilNs_ = 0;         // the bottleneck is sending until then
  std::deque<Queued> queue_;             // packets not yet through the bottleneck
  std::size_t queuedBytes_ = 0;
};

// Both directions and the log of every decision, in the order they were made.
class LinkModel {
 public:
  // Precondition: validate(config) is nullopt.
  explicit LinkModel(const LinkConfig& config);

  // Decides a packet and appends the decision to the log. The reference stays valid until the
  // next offer.
  const Decision& offer(Direction direction, std::uint32_t sizeBytes, Micros arrival);

  const std::vector<Decision>& log() const { return log_; }
  // The configuration the link started with and the loss it has now.
  const LinkConfig& config() const { return config_; }
  // Both directions' independent loss from their next packet on; false (and nothing changes)
  // outside 0 to 100. The live view's keys use it while the link runs.
  bool setLossPct(double lossPct);

 private:
  LinkConfig config_;
  DirectionModel clientToServer_;
  DirectionModel serverToClient_;
  std::vector<Decision> log_;
};

}  // namespace udpchat::lab
