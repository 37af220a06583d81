#include "lab/link_model.hpp"

#include <algorithm>
#include <cmath>
#include <ostream>

namespace udpchat::lab {
namespace {

constexpr double kPercent = 0.01;

Micros millisToMicros(double ms) {
  return static_cast<Micros>(std::llround(ms * 1000.0));
}

std::string optionalTime(const std::optional<Micros>& t) {
  return t ? std::to_string(*t) : std::string("-");
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

std::string_view to_string(Fate fate) {
  switch (fate) {
    case Fate::kDelivered:
      return "delivered";
    case Fate::kLost:
      return "dropped:loss";
    case Fate::kBurstLost:
      return "dropped:burst";
    case Fate::kQueueFull:
      return "dropped:queue";
  }
  return "?";
}

std::string formatDecision(const Decision& d) {
  std::string line = std::to_string(d.index);
  line += ' ';
  line += to_string(d.direction);
  line += ' ' + std::to_string(d.size) + ' ' + std::to_string(d.arrival) + ' ';
  line += to_string(d.fate);
  line += ' ' + optionalTime(d.departure) + ' ' + optionalTime(d.duplicate) + ' ';
  line += d.reordered ? "reordered" : "-";
  return line;
}

void writeLog(std::ostream& out, std::span<const Decision> decisions) {
  out << "# index direction bytes arrival_us fate departure_us duplicate_us reordered\n";
  for (const Decision& d : decisions) out << formatDecision(d) << '\n';
}

std::uint64_t directionSeed(std::uint64_t runSeed, Direction direction) {
  return splitmix64(splitmix64(runSeed) ^ (static_cast<std::uint64_t>(direction) + 1));
}

DirectionModel::DirectionModel(Direction direction, const DirectionConfig& config,
                               std::uint64_t runSeed)
    : direction_(direction), config_(config), rng_(directionSeed(runSeed, direction)) {}

double DirectionModel::uniform() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

Micros DirectionModel::jitterOffset(double u) const {
  return millisToMicros((2.0 * u - 1.0) * config_.jitterMs);
}

Decision DirectionModel::offer(std::uint32_t sizeBytes, Micros arrival) {
  // The seven draws, always taken, always in this order.
  const double geStep = uniform();
  const double geLoss = uniform();
  const double loss = uniform();
  const double jitter = uniform();
  const double reorder = uniform();
  const double duplicate = uniform();
  const double duplicateJitter = uniform();

  Decision d;
  d.index = next_++;
  d.direction = direction_;
  d.size = sizeBytes;
  d.arrival = arrival;

  // The Gilbert-Elliott chain advances with every packet, whatever else happens to it.
  bool burstLost = false;
  if (config_.gilbert) {
    const GilbertElliott& g = *config_.gilbert;
    if (bad_) {
      if (geStep < g.r * kPercent) bad_ = false;
    } else if (geStep < g.p * kPercent) {
      bad_ = true;
    }
    burstLost = geLoss < (bad_ ? g.lossBad : g.lossGood) * kPercent;
  }

  // Bottleneck: a FIFO drained at rateKbit. Packets whose last bit has left are gone; the one
  // being sent still counts against the bound.
  Micros leftBottleneck = arrival;
  if (config_.rateKbit > 0) {
    const std::int64_t arrivalNs = arrival * 1000;
    while (!queue_.empty() && queue_.front().finishNs <= arrivalNs) {
      queuedBytes_ -= queue_.front().size;
      queue_.pop_front();
    }
    const bool fullPackets = config_.queuePackets > 0 && queue_.size() >= config_.queuePackets;
    const bool fullBytes = config_.queueBytes > 0 && queuedBytes_ + sizeBytes > config_.queueBytes;
    if (fullPackets || fullBytes) {
      d.fate = Fate::kQueueFull;
      return d;
    }
    // bits * 1e9 / (kbit * 1e3) nanoseconds, rounded up.
    const std::int64_t sendNs = static_cast<std::int64_t>(
        (std::uint64_t{sizeBytes} * 8 * 1'000'000 + config_.rateKbit - 1) / config_.rateKbit);
    const std::int64_t finishNs = std::max(arrivalNs, busyUntilNs_) + sendNs;
    busyUntilNs_ = finishNs;
    queue_.push_back(Queued{finishNs, sizeBytes});
    queuedBytes_ += sizeBytes;
    leftBottleneck = (finishNs + 999) / 1000;
  }

  // Loss on the wire, after the bottleneck: a lost packet still used its share of the rate.
  if (loss < config_.lossPct * kPercent) {
    d.fate = Fate::kLost;
    return d;
  }
  if (burstLost) {
    d.fate = Fate::kBurstLost;
    return d;
  }

  const Micros delay = millisToMicros(config_.delayMs);
  auto propagate = [&](double u) {
    return leftBottleneck + std::max<Micros>(0, delay + jitterOffset(u));
  };
  Micros departure = propagate(jitter);
  if (!config_.jitterReorders && lastDeparture_) departure = std::max(departure, *lastDeparture_);
  if (reorder < config_.reorderPct * kPercent) {
    d.reordered = true;
    departure += millisToMicros(config_.reorderDelayMs);
  } else {
    lastDeparture_ = std::max(departure, lastDeparture_.value_or(departure));
  }
  d.departure = departure;

  // The copy is made on the wire, after the bottleneck, and never leaves before the original.
  if (duplicate < config_.duplicatePct * kPercent) {
    const Micros copy = std::max(departure, propagate(duplicateJitter));
    d.duplicate = copy;
    if (!d.reordered) lastDeparture_ = std::max(copy, *lastDeparture_);
  }
  return d;
}

LinkModel::LinkModel(const LinkConfig& config)
    : config_(config),
      clientToServer_(Direction::kClientToServer, config.clientToServer, config.seed),
      serverToClient_(Direction::kServerToClient, config.serverToClient, config.seed) {}

bool LinkModel::setLossPct(double lossPct) {
  if (!(lossPct >= 0 && lossPct <= 100)) return false;  // NaN fails both
  clientToServer_.setLossPct(lossPct);
  serverToClient_.setLossPct(lossPct);
  config_.clientToServer.lossPct = lossPct;
  config_.serverToClient.lossPct = lossPct;
  return true;
}

const Decision& LinkModel::offer(Direction direction, std::uint32_t sizeBytes, Micros arrival) {
  DirectionModel& model =
      direction == Direction::kClientToServer ? clientToServer_ : serverToClient_;
  log_.push_back(model.offer(sizeBytes, arrival));
  return log_.back();
}

}  // namespace udpchat::lab
