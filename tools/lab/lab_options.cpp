#include "lab/lab_options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "udpchat/limits.hpp"

namespace udpchat::lab {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> splitCommas(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    out.push_back(trim(text.substr(start, comma - start)));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

std::string_view to_string(Scenario scenario) {
  switch (scenario) {
    case Scenario::kChat:
      return "chat";
    case Scenario::kPresence:
      return "presence";
    case Scenario::kHol:
      return "hol";
  }
  return "chat";
}

std::optional<Scenario> parseScenario(std::string_view text) {
  for (Scenario s : {Scenario::kChat, Scenario::kPresence, Scenario::kHol}) {
    if (text == to_string(s)) return s;
  }
  if (text == "head-of-line") return Scenario::kHol;
  return std::nullopt;
}

const std::vector<TransportSpec>& knownTransports() {
  static const std::vector<TransportSpec> all = {
      {"tcp", true, kChannelReliable, true, true},
      {"enet-reliable", false, kChannelReliable, true, true},
      {"enet-unreliable", false, kChannelLabUnreliable, false, true},
      {"enet-unsequenced", false, kChannelLabUnsequenced, false, false},
  };
  return all;
}

std::optional<TransportSpec> findTransport(std::string_view name) {
  for (const TransportSpec& t : knownTransports()) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

std::uint64_t CompareOptions::bulkStartMessage() const {
  return bulkAfter ? std::min(*bulkAfter, messages) : messages / 4;
}

std::size_t CompareOptions::bulkFrameSize(std::uint64_t index) const {
  const std::uint64_t before = index * bulkFrameBytes;
  if (before >= bulkBytes) return 0;
  return std::max<std::size_t>(40, std::min<std::uint64_t>(bulkFrameBytes, bulkBytes - before));
}

std::uint64_t CompareOptions::bulkFrameCount() const {
  return bulkFrameBytes == 0 ? 0 : (bulkBytes + bulkFrameBytes - 1) / bulkFrameBytes;
}

double CompareOptions::measuredSeconds() const {
  if (scenario == Scenario::kPresence) return durationS;
  return rate > 0 ? static_cast<double>(messages) / rate : 0;
}

std::optional<std::string> validate(const CompareOptions& o) {
  if (o.transports.empty()) return "no transport to compare";
  for (const std::string& t : o.transports) {
    if (!findTransport(t)) return "unknown transport \"" + t + "\"";
  }
  if (o.lossPct.empty()) return "no loss rate to measure";
  for (double loss : o.lossPct) {
    if (!(loss >= 0 && loss <= 100)) return "loss rates are percentages from 0 to 100";
  }
  if (o.repeat < 1) return "--repeat must be at least 1";
  if (!(o.rate > 0) || o.rate > 10'000) return "--rate must be above 0 and at most 10000";
  if (o.scenario != Scenario::kPresence && o.messages < 1) return "--messages must be at least 1";
  if (o.messageBytes < 40 || o.messageBytes > kMaxTextBytes) {
    return "--size must be from 40 to " + std::to_string(kMaxTextBytes) + " bytes";
  }
  if (o.bulkFrameBytes < 40 || o.bulkFrameBytes > kMaxTextBytes) {
    return "--bulk-frame must be from 40 to " + std::to_string(kMaxTextBytes) + " bytes";
  }
  if (o.bulkWindowBytes != 0 && o.bulkWindowBytes < o.bulkFrameBytes) {
    return "--bulk-window must hold at least one bulk message (--bulk-frame), or be 0";
  }
  if (o.pingIntervalMs != 0 && o.pingIntervalMs < 100) {
    return "--ping-interval must be at least 100 ms (the server takes 10 pings a second)";
  }
  if (o.scenario == Scenario::kPresence && !(o.durationS > 0)) {
    return "--duration must be above 0";
  }
  if (o.whoisIntervalMs < 10) return "--whois-interval must be at least 10 ms";
  if (o.connectAttempts < 1) return "--connect-attempts must be at least 1";
  if (o.attemptTimeoutMs < 100) return "--attempt-timeout must be at least 100 ms";
  if (!(o.delayMs >= 0) || !(o.jitterMs >= 0)) return "--delay and --jitter must be >= 0";
  for (double l : o.lossPct) {
    if (auto problem = lab::validate(linkFor(o, l, 1))) return *problem;
  }
  return std::nullopt;
}

Result<std::vector<double>, std::string> parseNumberList(std::string_view text) {
  std::vector<double> out;
  for (std::string_view item : splitCommas(text)) {
    double value = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc{} || ptr != item.data() + item.size() ||
        !std::isfinite(value) || value < 0) {
      return fail("expected non-negative numbers separated by commas, got \"" + std::string(text) +
                  "\"");
    }
    out.push_back(value);
  }
  return out;
}

Result<std::vector<std::string>, std::string> parseTransportList(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view item : splitCommas(text)) {
    if (!findTransport(item)) {
      std::string known;
      for (const TransportSpec& t : knownTransports()) {
        known += (known.empty() ? "" : ", ") + std::string(t.name);
      }
      return fail("unknown transport \"" + std::string(item) + "\" (known: " + known + ")");
    }
    if (std::find(out.begin(), out.end(), item) != out.end()) {
      return fail("transport \"" + std::string(item) + "\" listed twice");
    }
    out.emplace_back(item);
  }
  return out;
}

std::uint64_t seedFor(std::uint64_t base, unsigned repetition) {
  return splitmix64(base ^ splitmix64(repetition));
}

LinkConfig linkFor(const CompareOptions& o, double lossPct, std::uint64_t seed) {
  DirectionConfig each;
  each.lossPct = lossPct;
  each.gilbert = o.gilbert;
  each.delayMs = o.delayMs;
  each.jitterMs = o.jitterMs;
  each.duplicatePct = o.duplicatePct;
  each.reorderPct = o.reorderPct;
  each.rateKbit = o.rateKbit;
  each.queuePackets = o.queuePackets;
  return LinkConfig::symmetric(each, seed);
}

std::string formatPercent(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string runLabel(Scenario scenario, std::string_view transport, double lossPct,
                     unsigned repetition) {
  return std::string(to_string(scenario)) + "_" + std::string(transport) + "_loss" +
         formatPercent(lossPct) + "_rep" + std::to_string(repetition);
}

}  // namespace udpchat::lab
