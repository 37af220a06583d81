#include "lab/run_result.hpp"

#include <cstdio>

#include <sys/utsname.h>

#include <fstream>
#include <functional>

namespace udpchat::lab {

double readLoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = 0;
  in >> load;
  return in ? load : 0;
}

HostLoad describeHost() {
  HostLoad host;
  utsname name{};
  if (::uname(&name) == 0) host.kernel = name.release;
  std::ifstream cc("/proc/sys/net/ipv4/tcp_congestion_control");
  std::getline(cc, host.tcpCongestionControl);
  return host;
}

double RunResult::deliveredPct() const {
  return sent == 0 ? 0 : 100.0 * static_cast<double>(delivered) / static_cast<double>(sent);
}

std::vector<CellSummary> summarizeCells(const std::vector<RunResult>& runs) {
  std::vector<CellSummary> cells;
  std::vector<std::vector<const RunResult*>> members;
  for (const RunResult& r : runs) {
    std::size_t i = 0;
    while (i < cells.size() &&
           !(cells[i].scenario == r.scenario && cells[i].transport == r.transport &&
             cells[i].lossPct == r.lossPct)) {
      ++i;
    }
    if (i == cells.size()) {
      CellSummary c;
      c.scenario = r.scenario;
      c.transport = r.transport;
      c.lossPct = r.lossPct;
      cells.push_back(c);
      members.emplace_back();
    }
    members[i].push_back(&r);
  }
  for (std::size_t i = 0; i < cells.size(); ++i) {
    CellSummary& c = cells[i];
    std::vector<const RunResult*> ok;
    for (const RunResult* r : members[i]) {
      ++c.runs;
      if (r->connected && r->error.empty() && r->linkMaxLateMs > kLinkLateBoundMs) {
        char why[160];
        std::snprintf(why, sizeof why,
                      "rep %u: its link fell %.1f ms behind (more than %.0f ms), so its latencies "
                      "are not the link's; run it again with fewer --jobs",
                      r->repetition, r->linkMaxLateMs, kLinkLateBoundMs);
        c.failures.push_back(why);
      } else if (r->connected && r->error.empty()) {
        ++c.completedRuns;
        ok.push_back(r);
      } else {
        c.failures.push_back("rep " + std::to_string(r->repetition) + ": " +
                             (r->error.empty() ? "did not connect" : r->error) +
                             (r->connected ? " (after " + std::to_string(r->delivered) + " of " +
                                                 std::to_string(r->sent) + " messages delivered)"
                                           : ""));
      }
    }
    const auto spread = [&](const std::function<double(const RunResult&)>& of) {
      std::vector<double> values;
      for (const RunResult* r : ok) values.push_back(of(*r));
      return spreadOf(std::move(values));
    };
    c.everyRunComplete = c.completedRuns == c.runs;
    c.everyRunInOrder = c.completedRuns > 0;  // of the runs that completed (failures are listed)
    for (const RunResult* r : ok) {
      c.everyRunComplete = c.everyRunComplete && r->delivered == r->sent;
      c.everyRunInOrder = c.everyRunInOrder && r->inOrder;
    }
    c.deliveredPct = spread([](const RunResult& r) { return r.deliveredPct(); });
    c.p50 = spread([](const RunResult& r) { return r.latency.p50; });
    c.p95 = spread([](const RunResult& r) { return r.latency.p95; });
    c.p99 = spread([](const RunResult& r) { return r.latency.p99; });
    c.max = spread([](const RunResult& r) { return r.latency.max; });
    c.bytesClientToServer =
        spread([](const RunResult& r) { return static_cast<double>(r.clientToServer.bytes); });
    c.bytesServerToClient =
        spread([](const RunResult& r) { return static_cast<double>(r.serverToClient.bytes); });
    c.retransmissions = spread([](const RunResult& r) {
      return static_cast<double>(r.clientToServer.retransmissions +
                                 r.serverToClient.retransmissions);
    });
    if (c.scenario == Scenario::kHol) {
      c.quietP99 = spread([](const RunResult& r) { return r.hol ? r.hol->chatOutside.p99 : 0; });
      c.bulkMs = spread([](const RunResult& r) { return r.hol ? r.hol->durationMs : 0; });
    }
    if (c.scenario == Scenario::kPresence) {
      c.pongPct = spread([](const RunResult& r) { return r.deliveredPct(); });
      c.stalenessP50 =
          spread([](const RunResult& r) { return r.presence ? r.presence->stalenessMs.p50 : 0; });
      c.stalenessP95 =
          spread([](const RunResult& r) { return r.presence ? r.presence->stalenessMs.p95 : 0; });
      c.stalenessMax =
          spread([](const RunResult& r) { return r.presence ? r.presence->stalenessMs.max : 0; });
      std::vector<double> losses;
      for (const RunResult* r : ok) {
        if (r->presence && r->presence->serverLossPct)
          losses.push_back(*r->presence->serverLossPct);
      }
      c.serverLossPct = spreadOf(std::move(losses));
    }
  }
  return cells;
}

}  // namespace udpchat::lab
