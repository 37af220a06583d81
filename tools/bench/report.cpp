#include "report.hpp"

#include <cmath>
#include <sstream>

#include "udpchat/text.hpp"

namespace udpchat::bench {
namespace {

using text::fixed;

double ms(Nanos ns) {
  return toMillis(ns);
}

double round3(double v) {
  return std::round(v * 1000.0) / 1000.0;
}

// 1234567 -> "1 234 567": thin groups keep large counts readable in a table.
std::string grouped(std::uint64_t v) {
  std::string digits = std::to_string(v);
  std::string out;
  const std::size_t n = digits.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0 && (n - i) % 3 == 0) out += ' ';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::vector<std::string> consistencyProblems(const RunReport& r) {
  std::vector<std::string> problems;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) problems.push_back(what);
  };
  check(r.clientsIn + r.clientsFailed <= r.clients, "clients in + failed exceed clients");
  check(r.clientsLost <= r.clientsIn, "more clients lost than were in");
  check(r.messagesSent == r.messagesCompleted + r.messagesIncomplete,
        "messages sent != completed + incomplete");
  check(r.deliveries == r.completedDeliveries + r.partialDeliveries,
        "deliveries != deliveries of completed + of incomplete messages");
  check(r.expectedDeliveries == r.completedDeliveries + r.partialDeliveries + r.missingDeliveries,
        "expected deliveries != received + missing");
  check(r.messagesIncomplete != 0 || r.missingDeliveries == 0,
        "deliveries missing although every message completed");
  check(r.windowDeliveries <= r.deliveries, "window deliveries exceed all deliveries");
  check(r.windowCompleted <= r.messagesCompleted, "window completions exceed all completions");
  check(r.latency.count <= r.messagesCompleted, "more latency samples than completed messages");
  check(r.latency.p50 >= 0 && r.latency.p50 <= r.latency.p99 && r.latency.p99 <= r.latency.max,
        "latency percentiles out of order or negative");
  check(r.connectLatency.p50 >= 0 && r.connectLatency.p50 <= r.connectLatency.p99 &&
            r.connectLatency.p99 <= r.connectLatency.max,
        "connect percentiles out of order or negative");
  check(r.connectLatency.count <= r.clientsIn, "more connect samples than clients in");
  check(ms(r.connectLatency.max) <= r.connectMs + 1.0,
        "a client took longer than the whole connect");
  check(r.connectMs >= 0 && r.measuredSeconds >= 0 && r.deliveriesPerSecond >= 0 &&
            r.messagesPerSecond >= 0 && r.serverCpuSeconds >= 0 && r.serverCpuPerSecond >= 0 &&
            r.benchCpuPerSecond >= 0,
        "a negative time, rate or CPU figure");
  return problems;
}

nlohmann::json toJson(const RunReport& r) {
  nlohmann::json j;
  j["server"] = r.server;
  j["transport"] = r.transport;
  j["clients"] = r.clients;
  j["delivered_frame_bytes"] = r.deliveredFrameBytes;
  j["clients_in"] = r.clientsIn;
  j["clients_failed"] = r.clientsFailed;
  j["clients_lost"] = r.clientsLost;
  j["failure_reasons"] = r.failureReasons;
  j["connect_ms"] = round3(r.connectMs);
  j["connect_p50_ms"] = round3(ms(r.connectLatency.p50));
  j["connect_p99_ms"] = round3(ms(r.connectLatency.p99));
  j["connect_max_ms"] = round3(ms(r.connectLatency.max));
  j["messages_sent"] = r.messagesSent;
  j["messages_completed"] = r.messagesCompleted;
  j["messages_incomplete"] = r.messagesIncomplete;
  j["send_failures"] = r.sendFailures;
  j["expected_deliveries"] = r.expectedDeliveries;
  j["deliveries"] = r.deliveries;
  j["completed_deliveries"] = r.completedDeliveries;
  j["partial_deliveries"] = r.partialDeliveries;
  j["missing_deliveries"] = r.missingDeliveries;
  j["duplicates"] = r.duplicates;
  j["strays"] = r.strays;
  j["server_errors"] = r.serverErrors;
  j["measured_s"] = round3(r.measuredSeconds);
  j["window_deliveries"] = r.windowDeliveries;
  j["window_completed"] = r.windowCompleted;
  j["deliveries_per_s"] = std::round(r.deliveriesPerSecond);
  j["messages_per_s"] = round3(r.messagesPerSecond);
  j["target_messages_per_s"] = round3(r.targetMessagesPerSecond);
  j["latency_samples"] = r.latency.count;
  j["p50_ms"] = round3(ms(r.latency.p50));
  j["p99_ms"] = round3(ms(r.latency.p99));
  j["max_ms"] = round3(ms(r.latency.max));
  j["mean_ms"] = round3(ms(r.latency.mean));
  j["server_measured"] = r.serverMeasured;
  j["server_cpu_s"] = round3(r.serverCpuSeconds);
  j["server_cpu_per_s"] = round3(r.serverCpuPerSecond);
  j["server_peak_rss_kb"] = r.serverPeakRssKb;
  j["server_rss_kb"] = r.serverRssKb;
  j["bench_cpu_per_s"] = round3(r.benchCpuPerSecond);
  j["server_udp_drops"] = r.serverUdpDrops;
  j["client_udp_drops"] = r.clientUdpDrops;
  if (r.otherMeasured) j["other_cpu_per_s"] = round3(r.otherCpuPerSecond);
  return j;
}

nlohmann::json toJson(const RunDescription& d, const RunReport& chat,
                      const std::optional<RunReport>& reference) {
  nlohmann::json j;
  j["workload"] = d.workload;
  j["config"] = {{"transport", d.transport},
                 {"client", d.clientStack},
                 {"clients", d.clients},
                 {"rooms", d.rooms},
                 {"threads", d.threads},
                 {"window", d.window},
                 {"rate_per_client", d.ratePerClient},
                 {"message_bytes", d.messageBytes},
                 {"warmup_s", d.warmupSeconds},
                 {"duration_s", d.durationSeconds},
                 {"target", d.target},
                 {"server_cpus", d.serverCpus},
                 {"bench_cpus", d.benchCpus}};
  j["chat"] = toJson(chat);
  if (reference) {
    j["reference"] = toJson(*reference);
    j["ratio"] = reference->deliveriesPerSecond > 0
                     ? round3(chat.deliveriesPerSecond / reference->deliveriesPerSecond)
                     : 0.0;
  }
  return j;
}

std::string toTable(const RunDescription& d, const RunReport& chat,
                    const std::optional<RunReport>& reference) {
  std::vector<const RunReport*> columns{&chat};
  if (reference) columns.push_back(&*reference);

  std::ostringstream out;
  out << "udpchat-bench " << d.workload << ": " << d.clients << " clients in " << d.rooms
      << (d.rooms == 1 ? " room" : " rooms") << ", transport " << d.transport << ", "
      << d.clientStack << " clients, " << d.threads << (d.threads == 1 ? " thread" : " threads");
  if (d.workload == "fanout") out << ", window " << d.window;
  if (d.workload == "rate") out << ", " << fixed(d.ratePerClient, 2) << " msg/s per client";
  if (d.workload == "fanout" || d.workload == "rate")
    out << ", " << d.messageBytes << "-byte texts";
  if (d.workload != "connect") {
    out << ", " << fixed(d.warmupSeconds, 1) << " s warm-up + " << fixed(d.durationSeconds, 1)
        << " s";
  }
  out << "\ntarget: " << d.target;
  if (!d.serverCpus.empty()) out << ", server on CPU " << d.serverCpus;
  if (!d.benchCpus.empty()) out << ", bench on CPU " << d.benchCpus;
  out << "\n\n";

  using Row = std::pair<std::string, std::vector<std::string>>;
  std::vector<Row> rows;
  auto add = [&](std::string label, auto cell) {
    std::vector<std::string> cells;
    for (const RunReport* r : columns) cells.push_back(cell(*r));
    rows.emplace_back(std::move(label), std::move(cells));
  };
  const bool messages = d.workload == "fanout" || d.workload == "rate";
  add("", [](const RunReport& r) { return r.server + " (" + r.transport + ")"; });
  add("clients in / failed / lost", [](const RunReport& r) {
    return std::to_string(r.clientsIn) + " / " + std::to_string(r.clientsFailed) + " / " +
           std::to_string(r.clientsLost);
  });
  add("connect time (all in), ms", [](const RunReport& r) { return fixed(r.connectMs, 1); });
  add("per-client connect p50/p99, ms", [](const RunReport& r) {
    return fixed(ms(r.connectLatency.p50), 2) + " / " + fixed(ms(r.connectLatency.p99), 2);
  });
  if (messages) {
    add("bytes per delivered frame",
        [](const RunReport& r) { return std::to_string(r.deliveredFrameBytes); });
    add("messages sent", [](const RunReport& r) { return grouped(r.messagesSent); });
    add("messages completed", [](const RunReport& r) { return grouped(r.messagesCompleted); });
    add("messages incomplete", [](const RunReport& r) { return grouped(r.messagesIncomplete); });
    add("deliveries", [](const RunReport& r) { return grouped(r.deliveries); });
    add("deliveries/s", [](const RunReport& r) {
      return grouped(static_cast<std::uint64_t>(std::llround(r.deliveriesPerSecond)));
    });
    add("completed messages/s", [](const RunReport& r) { return fixed(r.messagesPerSecond, 1); });
    if (d.workload == "rate") {
      add("target messages/s",
          [](const RunReport& r) { return fixed(r.targetMessagesPerSecond, 1); });
    }
    add("latency p50 ms", [](const RunReport& r) { return fixed(ms(r.latency.p50), 3); });
    add("latency p99 ms", [](const RunReport& r) { return fixed(ms(r.latency.p99), 3); });
    add("latency max ms", [](const RunReport& r) { return fixed(ms(r.latency.max), 3); });
    add("duplicates / strays / server errors", [](const RunReport& r) {
      return std::to_string(r.duplicates) + " / " + std::to_string(r.strays) + " / " +
             std::to_string(r.serverErrors);
    });
  }
  add("server CPU, s/s (1.0 = a core)", [](const RunReport& r) {
    return r.serverMeasured ? fixed(r.serverCpuPerSecond, 3) : std::string("n/a");
  });
  add("server peak RSS, MB", [](const RunReport& r) {
    return r.serverMeasured ? fixed(static_cast<double>(r.serverPeakRssKb) / 1024.0, 1)
                            : std::string("n/a");
  });
  add("bench CPU, s/s", [](const RunReport& r) { return fixed(r.benchCpuPerSecond, 3); });
  add("UDP drops: server / clients", [](const RunReport& r) {
    return grouped(r.serverUdpDrops) + " / " + grouped(r.clientUdpDrops);
  });
  add("other programs' CPU, s/s", [](const RunReport& r) {
    return r.otherMeasured ? fixed(r.otherCpuPerSecond, 3) : std::string("n/a");
  });

  std::size_t labelWidth = 0;
  std::vector<std::size_t> widths(columns.size(), 0);
  for (const auto& [label, cells] : rows) {
    labelWidth = std::max(labelWidth, label.size());
    for (std::size_t i = 0; i < cells.size(); ++i) widths[i] = std::max(widths[i], cells[i].size());
  }
  for (const auto& [label, cells] : rows) {
    out << label << std::string(labelWidth - label.size() + 2, ' ');
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out << std::string(widths[i] - cells[i].size() + (i == 0 ? 0 : 3), ' ') << cells[i];
    }
    out << "\n";
  }
  if (reference && reference->deliveriesPerSecond > 0) {
    out << "\nratio " << chat.server << "/" << reference->server << " deliveries/s: "
        << fixed(chat.deliveriesPerSecond / reference->deliveriesPerSecond, 3) << "\n";
  }
  for (const RunReport* r : columns) {
    for (const auto& [reason, count] : r->failureReasons) {
      out << r->server << ": " << count << " clients: " << reason << "\n";
    }
  }
  return out.str();
}

}  // namespace udpchat::bench
