// udpchat-linkemu-demo: brings the emulated link up for trying it by hand. Without a command it
// sends UDP probes from the client side to an echo on the server side and reports what came
// back; with `-- COMMAND...` it runs that command in the client namespace (and, with
// --server-command, another in the server namespace) while the link runs.
//
//   udpchat-linkemu-demo --loss 5 --delay 20 --jitter 5 --seed 1 --pcap /tmp/link.pcapng
//   udpchat-linkemu-demo --delay 20 -- ping -c 5 198.18.1.1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "lab/link_config.hpp"
#include "lab/netns.hpp"
#include "lab/tun_link.hpp"

namespace lab = udpchat::lab;

namespace {

constexpr std::uint16_t kEchoPort = 9000;
constexpr std::size_t kProbeBytes = 16;  // sequence number, send time: 8 bytes each, big-endian

std::atomic<bool> stopRequested{false};
extern "C" void onStop(int) {
  stopRequested.store(true);
}

void installStop() {
  struct sigaction action {};
  action.sa_handler = onStop;
  action.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the program at once
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

lab::UniqueFd udpSocket(const char* address, std::uint16_t port) {
  lab::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &addr.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::system_error(errno, std::generic_category(), std::string("bind ") + address);
  }
  return fd;
}

void put64(unsigned char* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<unsigned char>(v);
}

std::uint64_t get64(const unsigned char* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

struct ProbeResult {
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;    // distinct probes echoed
  std::uint64_t duplicates = 0;  // echoes of a probe already seen
  std::uint64_t outOfOrder = 0;  // echoes arriving after a later probe's echo
  std::vector<double> rttMs;     // one per distinct probe answered
};

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1));
  return values[rank];
}

ProbeResult probe(const lab::TunLink& link, int count, int intervalMs, int waitMs) {
  lab::UniqueFd server =
      lab::runIn(link.serverSide(), [] { return udpSocket(lab::kServerAddress, kEchoPort); });
  lab::UniqueFd client =
      lab::runIn(link.clientSide(), [] { return udpSocket(lab::kClientAddress, 0); });
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(kEchoPort);
  ::inet_pton(AF_INET, lab::kServerAddress, &to.sin_addr);

  std::atomic<bool> done{false};
  std::thread echo([&] {
    unsigned char buffer[2048];
    while (!done.load()) {
      pollfd p{server.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      sockaddr_in from{};
      socklen_t fromLength = sizeof from;
      const ssize_t got = ::recvfrom(server.get(), buffer, sizeof buffer, 0,
                                     reinterpret_cast<sockaddr*>(&from), &fromLength);
      if (got > 0) {
        ::sendto(server.get(), buffer, static_cast<std::size_t>(got), 0,
                 reinterpret_cast<const sockaddr*>(&from), fromLength);
      }
    }
  });

  ProbeResult result;
  std::map<std::uint64_t, bool> seen;
  std::uint64_t highest = 0;
  bool any = false;
  auto receive = [&](lab::Micros until) {
    while (!stopRequested.load()) {
      const lab::Micros left = until - link.now();
      pollfd p{client.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<lab::Micros>(0, (left + 999) / 1000))) <= 0) {
        if (link.now() >= until) return;
        continue;
      }
      unsigned char buffer[2048];
      const ssize_t got = ::recv(client.get(), buffer, sizeof buffer, 0);
      if (got < static_cast<ssize_t>(kProbeBytes)) continue;
      const std::uint64_t seq = get64(buffer);
      const auto sentAt = static_cast<lab::Micros>(get64(buffer + 8));
      if (seen[seq]) {
        ++result.duplicates;
        continue;
      }
      seen[seq] = true;
      ++result.answered;
      result.rttMs.push_back(static_cast<double>(link.now() - sentAt) / 1000.0);
      if (any && seq < highest) ++result.outOfOrder;
      highest = std::max(highest, seq);
      any = true;
    }
  };

  for (int i = 0; i < count && !stopRequested.load(); ++i) {
    unsigned char probeBytes[kProbeBytes];
    put64(probeBytes, static_cast<std::uint64_t>(i));
    put64(probeBytes + 8, static_cast<std::uint64_t>(link.now()));
    ::sendto(client.get(), probeBytes, sizeof probeBytes, 0, reinterpret_cast<const sockaddr*>(&to),
             sizeof to);
    ++result.sent;
    receive(link.now() + intervalMs * 1000);
  }
  const lab::Micros deadline = link.now() + static_cast<lab::Micros>(waitMs) * 1000;
  while (result.answered < result.sent && link.now() < deadline && !stopRequested.load()) {
    receive(std::min(deadline, link.now() + 10'000));
  }
  done.store(true);
  echo.join();
  return result;
}

void printStats(const lab::LinkStats& stats) {
  std::printf("%-4s %8s %8s %8s %8s %8s %8s %8s\n", "dir", "offered", "written", "lost", "burst",
              "queue", "dup", "reorder");
  for (lab::Direction d : lab::kBothDirections) {
    const lab::DirectionStats& s = stats[d];
    std::printf("%-4s %8llu %8llu %8llu %8llu %8llu %8llu %8llu %6lld us\n",
                std::string(lab::to_string(d)).c_str(), (unsigned long long)s.offered,
                (unsigned long long)s.written, (unsigned long long)s.lost,
                (unsigned long long)s.burstLost, (unsigned long long)s.queueFull,
                (unsigned long long)s.duplicated, (unsigned long long)s.reordered,
                (long long)s.maxLateUs);
  }
}

nlohmann::json statsJson(const lab::LinkStats& stats) {
  nlohmann::json out;
  for (lab::Direction d : lab::kBothDirections) {
    const lab::DirectionStats& s = stats[d];
    out[std::string(lab::to_string(d))] = {{"offered", s.offered},
                                           {"written", s.written},
                                           {"lost", s.lost},
                                           {"burst_lost", s.burstLost},
                                           {"queue_full", s.queueFull},
                                           {"duplicated", s.duplicated},
                                           {"reordered", s.reordered},
                                           {"write_errors", s.writeErrors},
                                           {"bytes_offered", s.bytesOffered},
                                           {"bytes_written", s.bytesWritten},
                                           {"max_late_us", s.maxLateUs}};
  }
  out["ignored_non_ipv4"] = stats.ignored;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // First, while the process has one thread: a user namespace can only be entered then.
  const auto privileges = lab::acquireNetnsPrivileges();

  CLI::App app{
      "Brings up the udpchat emulated link (198.18.0.1 <-> 198.18.1.1) between two "
      "network namespaces and probes it, or runs a command across it."};
  lab::DirectionConfig both;
  lab::LinkOptions options;
  std::string gilbert;
  int count = 100;
  int intervalMs = 10;
  bool json = false;
  std::string serverCommand;
  std::vector<std::string> command;
  app.add_option("--loss", both.lossPct, "independent loss per direction, percent")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--gilbert", gilbert,
                 "bursty loss p,r[,lossGood,lossBad] in percent (Gilbert-Elliott)");
  app.add_option("--delay", both.delayMs, "one-way delay per direction, ms")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--jitter", both.jitterMs, "delay varies by +- this, ms")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--jitter-reorders", both.jitterReorders, "let jitter reorder packets");
  app.add_option("--reorder", both.reorderPct, "percent of packets held back")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--reorder-delay", both.reorderDelayMs, "how long they are held back, ms")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duplicate", both.duplicatePct, "percent of packets delivered twice")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--rate", both.rateKbit, "bottleneck rate, kbit/s (0: none)");
  app.add_option("--queue", both.queuePackets, "bottleneck queue bound, packets");
  app.add_option("--queue-bytes", both.queueBytes, "bottleneck queue bound, bytes");
  app.add_option("--seed", options.config.seed, "run seed");
  app.add_option("--pcap", options.pcapPath, "write what crossed the link as pcapng");
  app.add_option("--log", options.logPath, "write the decision log");
  app.add_option("--count", count, "UDP probes to send (without a command)")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--interval", intervalMs, "ms between probes")->check(CLI::Range(0, 60'000));
  app.add_option("--server-command", serverCommand,
                 "shell command to run in the server namespace while the link runs");
  app.add_flag("--json", json, "print the result as JSON");
  app.add_option("command", command, "command to run in the client namespace (after --)");
  app.positionals_at_end();
  CLI11_PARSE(app, argc, argv);

  if (!privileges) {
    std::cerr << "udpchat-linkemu-demo: " << privileges.error() << "\n";
    return 2;
  }
  if (!gilbert.empty()) {
    auto parsed = lab::parseGilbert(gilbert);
    if (!parsed) {
      std::cerr << "udpchat-linkemu-demo: " << parsed.error() << "\n";
      return 2;
    }
    both.gilbert = *parsed;
  }
  options.config = lab::LinkConfig::symmetric(both, options.config.seed);
  if (auto error = lab::validate(options.config)) {
    std::cerr << "udpchat-linkemu-demo: " << *error << "\n";
    return 2;
  }

  installStop();
  try {
    lab::TunLink link(options);
    const std::string linkLine = std::string("link: client ") + lab::kClientAddress +
                                 " <-> server " + lab::kServerAddress + ", " + lab::describe(both) +
                                 " each way, seed " + std::to_string(options.config.seed) + " (" +
                                 std::string(lab::to_string(*privileges)) + ")";
    if (!json) {
      std::cout << linkLine << "\n";
      if (link.clientSide().published()) {
        std::cout << "namespaces: " << link.clientSide().name() << ", " << link.serverSide().name()
                  << " (ip netns exec NAME ...)\n";
      }
      std::cout << std::flush;
    }
    std::optional<lab::ChildProcess> server;
    if (!serverCommand.empty()) {
      server = lab::spawnIn(link.serverSide(), {"/bin/sh", "-c", serverCommand});
    }
    int exitStatus = 0;
    if (!command.empty()) {
      lab::ChildProcess child = lab::spawnIn(link.clientSide(), command);
      std::optional<int> status;
      while (!status && !stopRequested.load()) status = child.wait(std::chrono::milliseconds(100));
      if (!status) {
        child.signal(SIGINT);
        status = child.wait(std::chrono::milliseconds(1000));
      }
      exitStatus = status.value_or(130);
    }
    if (server) {
      server->signal(SIGINT);
      server->wait(std::chrono::milliseconds(1000));
    }
    const auto& c = options.config.clientToServer;
    const int waitMs = static_cast<int>(2 * (c.delayMs + c.jitterMs + c.reorderDelayMs)) + 500;
    const ProbeResult probes =
        command.empty() ? probe(link, count, intervalMs, waitMs) : ProbeResult{};
    link.stop();
    const lab::LinkStats stats = link.stats();

    if (json) {
      nlohmann::json out{
          {"link", linkLine}, {"seed", options.config.seed}, {"stats", statsJson(stats)}};
      if (command.empty()) {
        out["probes"] = {{"sent", probes.sent},
                         {"answered", probes.answered},
                         {"duplicates", probes.duplicates},
                         {"out_of_order", probes.outOfOrder},
                         {"rtt_min_ms", percentile(probes.rttMs, 0)},
                         {"rtt_p50_ms", percentile(probes.rttMs, 50)},
                         {"rtt_p95_ms", percentile(probes.rttMs, 95)},
                         {"rtt_max_ms", percentile(probes.rttMs, 100)}};
      } else {
        out["exit_status"] = exitStatus;
      }
      std::cout << out.dump(2) << "\n";
    } else {
      if (command.empty()) {
        std::printf(
            "probes: %llu sent, %llu answered (%.1f %%), %llu duplicate, %llu out of "
            "order\n",
            (unsigned long long)probes.sent, (unsigned long long)probes.answered,
            probes.sent
                ? 100.0 * static_cast<double>(probes.answered) / static_cast<double>(probes.sent)
                : 0.0,
            (unsigned long long)probes.duplicates, (unsigned long long)probes.outOfOrder);
        std::printf("rtt ms: min %.2f  p50 %.2f  p95 %.2f  max %.2f\n", percentile(probes.rttMs, 0),
                    percentile(probes.rttMs, 50), percentile(probes.rttMs, 95),
                    percentile(probes.rttMs, 100));
      }
      printStats(stats);
      if (!options.pcapPath.empty()) std::printf("pcapng: %s\n", options.pcapPath.c_str());
      if (!options.logPath.empty()) std::printf("decision log: %s\n", options.logPath.c_str());
    }
    return exitStatus;
  } catch (const std::exception& e) {
    std::cerr << "udpchat-linkemu-demo: " << e.what() << "\n";
    return 1;
  }
}
