#include "lab/link_config.hpp"

#include <charconv>
#include <cmath>
#include <sstream>
#include <vector>

namespace udpchat::lab {
namespace {

std::optional<std::string> checkPercent(std::string_view where, std::string_view field,
                                        double value) {
  if (std::isfinite(value) && value >= 0 && value <= 100) return std::nullopt;
  std::ostringstream out;
  out << where << ": " << field << " must be a percentage between 0 and 100, not " << value;
  return out.str();
}

std::optional<std::string> checkMillis(std::string_view where, std::string_view field,
                                       double value) {
  // An hour is far beyond any link worth emulating and keeps microsecond arithmetic exact.
  if (std::isfinite(value) && value >= 0 && value <= 3'600'000) return std::nullopt;
  std::ostringstream out;
  out << where << ": " << field << " must be between 0 and 3600000 ms, not " << value;
  return out.str();
}

std::optional<std::string> validateDirection(std::string_view where, const DirectionConfig& c) {
  for (auto [field, value] : {std::pair<std::string_view, double>{"loss", c.lossPct},
                              {"reorder", c.reorderPct},
                              {"duplicate", c.duplicatePct}}) {
    if (auto error = checkPercent(where, field, value)) return error;
  }
  for (auto [field, value] : {std::pair<std::string_view, double>{"delay", c.delayMs},
                              {"jitter", c.jitterMs},
                              {"reorder delay", c.reorderDelayMs}}) {
    if (auto error = checkMillis(where, field, value)) return error;
  }
  if (c.gilbert) {
    const GilbertElliott& g = *c.gilbert;
    for (auto [field, value] : {std::pair<std::string_view, double>{"gilbert p", g.p},
                                {"gilbert r", g.r},
                                {"gilbert lossGood", g.lossGood},
                                {"gilbert lossBad", g.lossBad}}) {
      if (auto error = checkPercent(where, field, value)) return error;
    }
    if (g.r == 0 && g.p > 0) {
      return std::string(where) + ": gilbert r is 0, so the bad state would never end";
    }
  }
  if (c.rateKbit == 0 && (c.queuePackets != 0 || c.queueBytes != 0)) {
    return std::string(where) + ": a queue bound needs a rate (rateKbit)";
  }
  if (c.rateKbit > 100'000'000) {
    return std::string(where) + ": rate above 100 Gbit/s is not a bottleneck";
  }
  return std::nullopt;
}

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

std::string_view to_string(Direction direction) {
  return direction == Direction::kClientToServer ? "c2s" : "s2c";
}

LinkConfig LinkConfig::symmetric(const DirectionConfig& both, std::uint64_t seed) {
  LinkConfig config;
  config.seed = seed;
  config.clientToServer = both;
  config.serverToClient = both;
  return config;
}

DirectionConfig& LinkConfig::operator[](Direction direction) {
  return direction == Direction::kClientToServer ? clientToServer : serverToClient;
}

const DirectionConfig& LinkConfig::operator[](Direction direction) const {
  return direction == Direction::kClientToServer ? clientToServer : serverToClient;
}

std::optional<std::string> validate(const LinkConfig& config) {
  if (auto error = validateDirection("client to server", config.clientToServer)) return error;
  return validateDirection("server to client", config.serverToClient);
}

Result<GilbertElliott, std::string> parseGilbert(std::string_view text) {
  const std::string expected =
      "--gilbert wants p,r[,lossGood,lossBad] in percent (for example 1,25 or 1,25,0,100), not \"" +
      std::string(text) + "\"";
  std::vector<double> values;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string_view part = text.substr(start, comma - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    double value = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || error != std::errc() || end != part.data() + part.size()) {
      return fail(expected);
    }
    values.push_back(value);
    start = comma + 1;
  }
  if (values.size() != 2 && values.size() != 4) return fail(expected);
  GilbertElliott g;
  g.p = values[0];
  g.r = values[1];
  if (values.size() == 4) {
    g.lossGood = values[2];
    g.lossBad = values[3];
  }
  DirectionConfig probe;
  probe.gilbert = g;
  if (auto error = validateDirection("--gilbert", probe)) return fail(*error);
  return g;
}

std::string describe(const DirectionConfig& c) {
  std::vector<std::string> parts;
  if (c.lossPct > 0) parts.push_back("loss " + number(c.lossPct) + " %");
  if (c.gilbert) {
    const GilbertElliott& g = *c.gilbert;
    parts.push_back("gilbert p " + number(g.p) + " % r " + number(g.r) + " % loss good " +
                    number(g.lossGood) + " % bad " + number(g.lossBad) + " %");
  }
  if (c.delayMs > 0 || c.jitterMs > 0) {
    std::string delay = "delay " + number(c.delayMs);
    if (c.jitterMs > 0) delay += " +- " + number(c.jitterMs);
    delay += " ms";
    if (c.jitterMs > 0 && c.jitterReorders) delay += " (may reorder)";
    parts.push_back(delay);
  }
  if (c.reorderPct > 0) {
    parts.push_back("reorder " + number(c.reorderPct) + " % by " + number(c.reorderDelayMs) +
                    " ms");
  }
  if (c.duplicatePct > 0) parts.push_back("duplicate " + number(c.duplicatePct) + " %");
  if (c.rateKbit > 0) {
    std::string rate = "rate " + std::to_string(c.rateKbit) + " kbit/s";
    if (c.queuePackets > 0) rate += ", queue " + std::to_string(c.queuePackets) + " packets";
    if (c.queueBytes > 0) rate += ", queue " + std::to_string(c.queueBytes) + " bytes";
    parts.push_back(rate);
  }
  if (parts.empty()) return "perfect";
  std::string out = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) out += ", " + parts[i];
  return out;
}

}  // namespace udpchat::lab
