#include "lab/lab_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

#include "udpchat/text.hpp"

namespace udpchat::lab {
namespace {

using nlohmann::json;
using text::fixed;

// `v` to a multiple of `unit` (1, 0.1, 0.001...), as the nearest double to the decimal.
double rounded(double v, double unit = 0.001) {
  const double scale = std::round(1.0 / unit);
  return std::round(v * scale) / scale;
}

// A latency figure, or null when nothing was delivered to measure.
json ms(const Distribution& d, double value) {
  return d.count == 0 ? json(nullptr) : json(rounded(value));
}

// Milliseconds for the table: one decimal below 100, none above.
std::string msText(double v) {
  return fixed(v, v < 100 ? 1 : 0);
}

std::string spreadText(const Spread& s, const std::function<std::string(double)>& format) {
  if (s.count == 0) return "-";
  std::string text = format(s.median);
  if (s.count > 1 && s.max > s.min) text += " (" + format(s.min) + "-" + format(s.max) + ")";
  return text;
}

json spreadJson(const Spread& s, double unit = 0.001) {
  if (s.count == 0) return nullptr;
  return json{{"median", rounded(s.median, unit)}, {"min", rounded(s.min, unit)},
              {"max", rounded(s.max, unit)},       {"q1", rounded(s.q1, unit)},
              {"q3", rounded(s.q3, unit)},         {"count", s.count}};
}

json rowJson(const RunResult& r, bool samples) {
  json row = {
      {"scenario", to_string(r.scenario)},
      {"transport", r.transport},
      {"loss_pct", r.lossPct},
      {"repetition", r.repetition},
      {"seed", r.seed},
      {"connected", r.connected},
      {"error", r.error},
      {"connect_attempts", r.connectAttempts},
      {"connect_ms", rounded(r.connectMs)},
      {"sent", r.sent},
      {"delivered", r.delivered},
      {"delivered_pct", rounded(r.deliveredPct())},
      {"duplicates", r.duplicates},
      {"late", r.late},
      {"in_order", r.inOrder},
      {"min_ms", ms(r.latency, r.latency.min)},
      {"p50_ms", ms(r.latency, r.latency.p50)},
      {"p95_ms", ms(r.latency, r.latency.p95)},
      {"p99_ms", ms(r.latency, r.latency.p99)},
      {"max_ms", ms(r.latency, r.latency.max)},
      {"mean_ms", ms(r.latency, r.latency.mean)},
      {"bytes_c2s", r.clientToServer.bytes},
      {"bytes_s2c", r.serverToClient.bytes},
      {"packets_c2s", r.clientToServer.packets},
      {"packets_s2c", r.serverToClient.packets},
      {"dropped_c2s", r.clientToServer.dropped},
      {"dropped_s2c", r.serverToClient.dropped},
      {"retransmissions_c2s", r.clientToServer.retransmissions},
      {"retransmissions_s2c", r.serverToClient.retransmissions},
      {"tcp_info_retransmissions",
       r.tcpInfoRetransmissions ? json(*r.tcpInfoRetransmissions) : json(nullptr)},
      {"server_errors", r.serverErrors},
      {"link_max_late_ms", rounded(r.linkMaxLateMs)},
      {"seconds", rounded(r.seconds)},
  };
  // ENet's own timing of each client's connection (sampled every 100 ms; null over TCP).
  for (const auto& [prefix, timing] :
       {std::pair{"sender_enet", &r.senderEnet}, std::pair{"receiver_enet", &r.receiverEnet}}) {
    const Distribution& rtt = timing->roundTripMs;
    const Distribution& rto = timing->retransmitTimeoutMs;
    row[std::string(prefix) + "_rtt_p50_ms"] = ms(rtt, rtt.p50);
    row[std::string(prefix) + "_rtt_max_ms"] = ms(rtt, rtt.max);
    row[std::string(prefix) + "_rto_p50_ms"] = ms(rto, rto.p50);
    row[std::string(prefix) + "_rto_max_ms"] = ms(rto, rto.max);
    row[std::string(prefix) + "_timing_samples"] = rtt.count;
  }
  const bool hol = r.hol.has_value();
  const HolResult h = r.hol.value_or(HolResult{});
  row["bulk_bytes"] = hol ? json(h.bytes) : json(nullptr);
  row["bulk_frames"] = hol ? json(h.frames) : json(nullptr);
  row["bulk_delivered"] = hol ? json(h.framesDelivered) : json(nullptr);
  row["bulk_in_order"] = hol ? json(h.inOrder) : json(nullptr);
  row["bulk_start_ms"] = hol ? json(rounded(h.startMs)) : json(nullptr);
  row["bulk_ms"] = hol && h.durationMs > 0 ? json(rounded(h.durationMs)) : json(nullptr);
  row["during_count"] = hol ? json(h.chatDuring.count) : json(nullptr);
  row["during_p50_ms"] = hol ? ms(h.chatDuring, h.chatDuring.p50) : json(nullptr);
  row["during_p99_ms"] = hol ? ms(h.chatDuring, h.chatDuring.p99) : json(nullptr);
  row["during_max_ms"] = hol ? ms(h.chatDuring, h.chatDuring.max) : json(nullptr);
  row["outside_count"] = hol ? json(h.chatOutside.count) : json(nullptr);
  row["outside_p50_ms"] = hol ? ms(h.chatOutside, h.chatOutside.p50) : json(nullptr);
  row["outside_p99_ms"] = hol ? ms(h.chatOutside, h.chatOutside.p99) : json(nullptr);
  row["outside_max_ms"] = hol ? ms(h.chatOutside, h.chatOutside.max) : json(nullptr);
  const bool presence = r.presence.has_value();
  const PresenceResult p = r.presence.value_or(PresenceResult{});
  row["ping_interval_ms"] = presence ? json(p.pingIntervalMs) : json(nullptr);
  row["pings_sent"] = presence ? json(p.pingsSent) : json(nullptr);
  row["pongs"] = presence ? json(p.pongs) : json(nullptr);
  row["server_ping_loss_pct"] =
      presence && p.serverLossPct ? json(rounded(*p.serverLossPct, 0.1)) : json(nullptr);
  row["staleness_p50_ms"] = presence ? ms(p.stalenessMs, p.stalenessMs.p50) : json(nullptr);
  row["staleness_p95_ms"] = presence ? ms(p.stalenessMs, p.stalenessMs.p95) : json(nullptr);
  row["staleness_max_ms"] = presence ? ms(p.stalenessMs, p.stalenessMs.max) : json(nullptr);
  row["staleness_samples"] = presence ? json(p.stalenessMs.count) : json(nullptr);
  row["whois_sent"] = presence ? json(p.whoisSent) : json(nullptr);
  if (samples) {
    json list = json::array();
    json seqs = json::array();
    json sent = json::array();
    for (const Arrival& a : r.arrivals) {
      list.push_back(rounded(a.latencyMs));
      seqs.push_back(a.seq);
      sent.push_back(rounded(static_cast<double>(a.sentUs - r.measureStartUs) / 1000.0));
    }
    row["latencies_ms"] = std::move(list);
    row["latency_seqs"] = std::move(seqs);
    row["latency_sent_ms"] = std::move(sent);
  }
  return row;
}

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void separator() { rows_.emplace_back(); }
  std::string str(std::size_t leftAligned) const {
    std::vector<std::size_t> widths;
    for (const auto& row : rows_) {
      widths.resize(std::max(widths.size(), row.size()), 0);
      for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows_) {
      std::string line;
      for (std::size_t i = 0; i < row.size(); ++i) {
        const std::size_t pad = widths[i] - row[i].size();
        if (i > 0) line += "  ";
        if (i < leftAligned) {
          line += row[i] + std::string(i + 1 < row.size() ? pad : 0, ' ');
        } else {
          line += std::string(pad, ' ') + row[i];
        }
      }
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::vector<double> lossesOf(const std::vector<CellSummary>& cells) {
  std::vector<double> out;
  for (const CellSummary& c : cells) {
    if (std::find(out.begin(), out.end(), c.lossPct) == out.end()) out.push_back(c.lossPct);
  }
  std::sort(out.begin(), out.end());
  return out;
}

const CellSummary* cellOf(const std::vector<CellSummary>& cells, std::string_view transport,
                          double loss) {
  for (const CellSummary& c : cells) {
    if (c.transport == transport && c.lossPct == loss && c.completedRuns > 0) return &c;
  }
  return nullptr;
}

// Wraps `text` at `width` columns; blank lines separate paragraphs.
std::string wrap(const std::string& text, std::size_t width = 96) {
  std::string out;
  std::istringstream paragraphs(text);
  std::string paragraph;
  std::string line;
  const auto flush = [&] {
    if (!line.empty()) out += line + "\n";
    line.clear();
  };
  for (std::string raw; std::getline(paragraphs, raw);) {
    if (raw.empty()) {
      flush();
      out += "\n";
      continue;
    }
    std::istringstream words(raw);
    for (std::string word; words >> word;) {
      if (!line.empty() && line.size() + 1 + word.size() > width) flush();
      line += (line.empty() ? "" : " ") + word;
    }
  }
  flush();
  return out;
}

std::string title(const CompareOptions& o) {
  std::string t;
  const std::string link = "delay " + formatPercent(o.delayMs) + " ms" +
                           (o.jitterMs > 0 ? " +- " + formatPercent(o.jitterMs) + " ms" : "") +
                           " each way";
  switch (o.scenario) {
    case Scenario::kChat:
      t = "chat: " + std::to_string(o.messages) + " messages of " + std::to_string(o.messageBytes) +
          " bytes at " + formatPercent(o.rate) + "/s, ";
      break;
    case Scenario::kHol:
      t = "head-of-line: " + std::to_string(o.messages) + " chat messages at " +
          formatPercent(o.rate) + "/s beside " + std::to_string(o.bulkBytes) +
          " bytes of bulk (window " +
          (o.bulkWindowBytes == 0 ? std::string("unlimited")
                                  : std::to_string(o.bulkWindowBytes) + " bytes") +
          "), ";
      break;
    case Scenario::kPresence:
      t = "presence: " + formatPercent(o.durationS) + " s of pings (" +
          (o.pingIntervalMs == 0 ? std::string("the server's interval")
                                 : "every " + std::to_string(o.pingIntervalMs) + " ms") +
          "), ";
      break;
  }
  return t + link + ", " + std::to_string(o.repeat) + " repetition" + (o.repeat == 1 ? "" : "s") +
         " per cell, seed " + std::to_string(o.seed);
}

}  // namespace

ReportTable reportTable(const CompareOptions& o, const std::vector<CellSummary>& cells) {
  const auto kb = [](double v) { return fixed(v / 1000, v < 10'000 ? 1 : 0); };
  const auto count = [](double v) { return fixed(v, 0); };
  const auto pct = [](double v) { return fixed(v, 1); };
  ReportTable t;
  t.title = title(o);
  t.legend = o.scenario == Scenario::kPresence
                 ? "medians over the repetitions, (min-max) where they differ; RTT = ping sent "
                   "to pong received; stale = the server's last-heard age of the sender"
                 : "medians over the repetitions, (min-max) where they differ; latency = sent "
                   "by the sender to received by the receiver, through the server";
  if (o.scenario == Scenario::kPresence) {
    t.header = {"loss",    "transport", "runs",      "pings answered %", "server lost %",
                "RTT p50", "RTT p99",   "stale p50", "stale p95",        "stale max ms",
                "kB c2s",  "kB s2c",    "retrans"};
  } else {
    t.header = {"loss",     "transport",
                "runs",     "delivered %",
                "in order", "p50 ms",
                "p95 ms",   o.scenario == Scenario::kHol ? "p99 ms during bulk" : "p99 ms",
                "max ms"};
    if (o.scenario == Scenario::kHol) {
      t.header.push_back("p99 ms without");
      t.header.push_back("bulk s");
    }
    for (const char* h : {"kB c2s", "kB s2c", "retrans"}) t.header.emplace_back(h);
  }
  double previousLoss = -1;
  for (double loss : lossesOf(cells)) {
    for (const TransportSpec& spec : knownTransports()) {
      for (const CellSummary& c : cells) {
        if (c.transport != spec.name || c.lossPct != loss) continue;
        t.groupStarts.push_back(previousLoss >= 0 && previousLoss != loss);
        previousLoss = loss;
        std::vector<std::string> row = {
            formatPercent(loss) + " %", c.transport,
            std::to_string(c.completedRuns) + "/" + std::to_string(c.runs)};
        if (o.scenario == Scenario::kPresence) {
          row.push_back(spreadText(c.pongPct, pct));
          row.push_back(spreadText(c.serverLossPct, pct));
          row.push_back(spreadText(c.p50, msText));
          row.push_back(spreadText(c.p99, msText));
          row.push_back(spreadText(c.stalenessP50, msText));
          row.push_back(spreadText(c.stalenessP95, msText));
          row.push_back(spreadText(c.stalenessMax, msText));
        } else {
          row.push_back(spreadText(c.deliveredPct, pct));
          row.push_back(c.completedRuns == 0 ? "-" : c.everyRunInOrder ? "all" : "not all");
          row.push_back(spreadText(c.p50, msText));
          row.push_back(spreadText(c.p95, msText));
          row.push_back(spreadText(c.p99, msText));
          row.push_back(spreadText(c.max, msText));
          if (o.scenario == Scenario::kHol) {
            row.push_back(spreadText(c.quietP99, msText));
            row.push_back(spreadText(c.bulkMs, [](double v) { return fixed(v / 1000, 2); }));
          }
        }
        row.push_back(spreadText(c.bytesClientToServer, kb));
        row.push_back(spreadText(c.bytesServerToClient, kb));
        row.push_back(spreadText(c.retransmissions, count));
        t.rows.push_back(std::move(row));
      }
    }
  }
  for (const CellSummary& c : cells) {
    for (const std::string& f : c.failures) {
      t.leftOut.push_back(c.transport + " at " + formatPercent(c.lossPct) + " %, " + f);
    }
  }
  return t;
}

std::optional<std::string> busyNote(const HostLoad& host) {
  if (host.cpus == 0 || std::max(host.loadBefore, host.loadAfter) <= host.cpus) return std::nullopt;
  return "the machine was busy (load average " + fixed(std::max(host.loadBefore, host.loadAfter), 1) +
         " on " + std::to_string(host.cpus) +
         " CPUs); latencies include scheduling delays of the emulator, the server and the clients.";
}

std::string formatTable(const CompareOptions& o, const std::vector<CellSummary>& cells,
                        const HostLoad& host) {
  const ReportTable t = reportTable(o, cells);
  std::string out = t.title + "\n" + t.legend + "\n\n";
  TextTable table(t.header);
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    if (t.groupStarts[i]) table.separator();
    table.add(t.rows[i]);
  }
  out += table.str(2);
  if (!t.leftOut.empty()) {
    out += "\nruns left out of the figures above (they failed, ended early or their link fell "
           "behind):\n";
    for (const std::string& line : t.leftOut) out += "  " + line + "\n";
  }
  if (auto note = busyNote(host)) out += "\nnote: " + *note + "\n";
  out += "\n" + explainResults(o, cells);
  return out;
}

std::string explainResults(const CompareOptions& o, const std::vector<CellSummary>& cells) {
  std::string facts;
  const std::vector<double> losses = lossesOf(cells);
  if (o.scenario == Scenario::kPresence) {
    std::string list;
    for (double loss : losses) {
      const CellSummary* tcp = cellOf(cells, "tcp", loss);
      const CellSummary* enet = cellOf(cells, "enet-reliable", loss);
      if (!enet) enet = cellOf(cells, "enet-unreliable", loss);
      if (!enet) enet = cellOf(cells, "enet-unsequenced", loss);
      if (!tcp || !enet || tcp->stalenessMax.count == 0 || enet->stalenessMax.count == 0) continue;
      list += (list.empty() ? "" : "; ") + formatPercent(loss) + " %: TCP " +
              msText(tcp->stalenessMax.median) + " ms, ENet " + msText(enet->stalenessMax.median) +
              " ms";
    }
    if (!list.empty()) {
      facts +=
          "Longest the server went without hearing from the sender (median of the runs' "
          "maxima): " +
          list + ".\n\n";
    }
  } else {
    std::string list;
    for (double loss : losses) {
      if (loss == 0) continue;
      const CellSummary* tcp = cellOf(cells, "tcp", loss);
      const CellSummary* enet = cellOf(cells, "enet-reliable", loss);
      if (!tcp || !enet || tcp->p99.count == 0 || enet->p99.count == 0) continue;
      list += (list.empty() ? "" : "; ") + formatPercent(loss) + " %: " + msText(tcp->p99.median) +
              " vs " + msText(enet->p99.median) + " ms";
      if (enet->p99.median > 0) list += " (" + fixed(tcp->p99.median / enet->p99.median, 1) + "x)";
    }
    if (!list.empty()) {
      facts += std::string(o.scenario == Scenario::kHol ? "Chat p99 during the bulk transfer"
                                                        : "Chat p99") +
               ", TCP vs ENet reliable: " + list + ".\n\n";
    }
    std::string unreliable;
    for (double loss : losses) {
      if (loss == 0) continue;
      for (std::string_view name : {"enet-unreliable", "enet-unsequenced"}) {
        const CellSummary* c = cellOf(cells, name, loss);
        if (!c) continue;
        unreliable += (unreliable.empty() ? "" : "; ") + std::string(name) + " at " +
                      formatPercent(loss) + " %: " + fixed(c->deliveredPct.median, 1) + " %";
      }
    }
    if (!unreliable.empty()) {
      facts += "Delivered by the unreliable modes (expected about (1 - loss)^2, two crossings): " +
               unreliable + ".\n\n";
    }
  }
  std::string why =
      "Why they differ. Every chat message crosses the emulated link twice, sender to server "
      "and server to receiver, so at p % loss each way about 1 - (1 - p)^2 of the messages "
      "meet a loss.\n\n"
      "TCP repairs a loss by retransmitting. Linux finds a lost segment when a later one is "
      "acknowledged (SACK and RACK: about a round trip after the next message) or, when nothing "
      "follows, by a tail-loss probe or the retransmission timeout (RTO), which is never below "
      "200 ms however short the round trip (RTO = SRTT + max(4 RTTVAR, 200 ms)) and doubles "
      "when the retransmission is lost too. Meanwhile the receiving kernel holds back every "
      "byte behind the missing one: messages that arrived intact wait for it (head-of-line "
      "blocking), so one loss delays a burst of messages.\n\n"
      "ENet retransmits a reliable command after its own estimate of the round trip plus four "
      "times its variation (tens of milliseconds on this link, with no 200 ms floor), and each "
      "channel is ordered on its own: a loss holds back only later messages of the same "
      "channel. ENet has tails of its own at high loss: a command whose retransmission is lost "
      "too waits another timeout, and ENet doubles it each time (on a 40 ms round trip about "
      "52, then 104, then 208 ms) unless acknowledgements of other messages show the link is "
      "alive, when udpchat puts it back to 52 ms; the messages behind a late one on its channel "
      "wait for it. The unreliable (sequenced) and unsequenced channels never wait: a "
      "lost message is gone, the others keep the link's own latency; sequenced drops a message "
      "that would arrive after a newer one, unsequenced delivers it anyway.\n";
  if (o.scenario == Scenario::kHol) {
    why +=
        "\nHead-of-line: over TCP the chat and the bulk transfer share one byte stream, so a "
        "chat message waits behind every bulk byte written before it, and behind every lost "
        "bulk segment. Over ENet the bulk rides its own reliable channel (kChannelBulk): its "
        "losses do not hold up channel 0. ENet's send window is shared by all channels of a "
        "peer, though, so the sender keeps at most --bulk-window bytes of bulk unacknowledged "
        "end to end; with --bulk-window 0 the whole transfer is queued at once and ENet's chat "
        "waits behind it too.\n";
  }
  if (o.scenario == Scenario::kPresence) {
    why +=
        "\nPresence: the server's view of a user is the time it last heard from them (what "
        "/whois shows and what marks a user lagging after 5 s). Over ENet a lost ping is not "
        "resent: the view waits for the next ping, a whole interval later. Over TCP the lost "
        "ping is retransmitted after the RTO (and, when other traffic shares the stream, waits "
        "behind it), so a slow heartbeat can look fresher over TCP while a busy stream makes "
        "it staler.\n";
  }
  return wrap(facts + why);
}

json toJson(const CompareOptions& o, const std::vector<RunResult>& runs,
            const std::vector<CellSummary>& cells, const HostLoad& host) {
  json settings = {
      {"scenario", to_string(o.scenario)},
      {"transports", o.transports},
      {"loss_pct", o.lossPct},
      {"delay_ms", o.delayMs},
      {"jitter_ms", o.jitterMs},
      {"duplicate_pct", o.duplicatePct},
      {"reorder_pct", o.reorderPct},
      {"rate_kbit", o.rateKbit},
      {"queue_packets", o.queuePackets},
      {"messages", o.messages},
      {"rate", o.rate},
      {"message_bytes", o.messageBytes},
      {"warmup", o.warmup},
      {"repeat", o.repeat},
      {"seed", o.seed},
      {"connect_attempts", o.connectAttempts},
      {"attempt_timeout_ms", o.attemptTimeoutMs},
  };
  if (o.gilbert) {
    settings["gilbert"] = {{"p", o.gilbert->p},
                           {"r", o.gilbert->r},
                           {"loss_good", o.gilbert->lossGood},
                           {"loss_bad", o.gilbert->lossBad}};
  }
  if (o.scenario == Scenario::kHol) {
    settings["bulk_bytes"] = o.bulkBytes;
    settings["bulk_frame_bytes"] = o.bulkFrameBytes;
    settings["bulk_window_bytes"] = o.bulkWindowBytes;
    settings["bulk_after_messages"] = o.bulkStartMessage();
  }
  if (o.scenario == Scenario::kPresence) {
    settings["ping_interval_ms"] = o.pingIntervalMs;
    settings["duration_s"] = o.durationS;
    settings["whois_interval_ms"] = o.whoisIntervalMs;
  }
  json rows = json::array();
  for (const RunResult& r : runs) rows.push_back(rowJson(r, o.samples));
  json cellList = json::array();
  for (const CellSummary& c : cells) {
    json cell = {
        {"scenario", to_string(c.scenario)},
        {"transport", c.transport},
        {"loss_pct", c.lossPct},
        {"runs", c.runs},
        {"completed_runs", c.completedRuns},
        {"failures", c.failures},
        {"every_run_complete", c.everyRunComplete},
        {"every_run_in_order", c.everyRunInOrder},
        {"delivered_pct", spreadJson(c.deliveredPct)},
        {"p50_ms", spreadJson(c.p50)},
        {"p95_ms", spreadJson(c.p95)},
        {"p99_ms", spreadJson(c.p99)},
        {"max_ms", spreadJson(c.max)},
        {"bytes_c2s", spreadJson(c.bytesClientToServer, 1)},
        {"bytes_s2c", spreadJson(c.bytesServerToClient, 1)},
        {"retransmissions", spreadJson(c.retransmissions, 1)},
    };
    if (c.scenario == Scenario::kHol) {
      cell["outside_p99_ms"] = spreadJson(c.quietP99);
      cell["bulk_ms"] = spreadJson(c.bulkMs);
    }
    if (c.scenario == Scenario::kPresence) {
      cell["pongs_pct"] = spreadJson(c.pongPct);
      cell["server_ping_loss_pct"] = spreadJson(c.serverLossPct);
      cell["staleness_p50_ms"] = spreadJson(c.stalenessP50);
      cell["staleness_p95_ms"] = spreadJson(c.stalenessP95);
      cell["staleness_max_ms"] = spreadJson(c.stalenessMax);
    }
    cellList.push_back(std::move(cell));
  }
  return json{{"tool", "udpchat-lab compare"},
              {"format", 1},
              {"settings", std::move(settings)},
              {"host",
               {{"load_average_before", host.loadBefore},
                {"load_average_after", host.loadAfter},
                {"cpus", host.cpus},
                {"kernel", host.kernel},
                {"tcp_congestion_control", host.tcpCongestionControl}}},
              {"rows", std::move(rows)},
              {"cells", std::move(cellList)},
              {"reading", explainResults(o, cells)}};
}

namespace {

double number(const json& row, const char* key) {
  const auto it = row.find(key);
  return it == row.end() || !it->is_number() ? 0.0 : it->get<double>();
}

std::uint64_t count(const json& row, const char* key) {
  const auto it = row.find(key);
  return it == row.end() || !it->is_number() ? 0 : it->get<std::uint64_t>();
}

Distribution distributionOf(const json& row, std::uint64_t n, const char* min, const char* p50,
                            const char* p95, const char* p99, const char* max, const char* mean) {
  Distribution d;
  d.count = static_cast<std::size_t>(n);
  if (n == 0) return d;
  d.min = min ? number(row, min) : number(row, p50);
  d.p50 = number(row, p50);
  d.p95 = p95 ? number(row, p95) : number(row, p99);
  d.p99 = number(row, p99);
  d.max = number(row, max);
  d.mean = mean ? number(row, mean) : d.p50;
  return d;
}

RunResult runFromJson(const json& row) {
  RunResult r;
  r.scenario = parseScenario(row.value("scenario", "chat")).value_or(Scenario::kChat);
  r.transport = row.value("transport", "");
  r.lossPct = number(row, "loss_pct");
  r.repetition = static_cast<unsigned>(count(row, "repetition"));
  r.seed = count(row, "seed");
  r.connected = row.value("connected", false);
  r.error = row.value("error", "");
  r.connectAttempts = static_cast<unsigned>(count(row, "connect_attempts"));
  r.connectMs = number(row, "connect_ms");
  r.sent = count(row, "sent");
  r.delivered = count(row, "delivered");
  r.duplicates = count(row, "duplicates");
  r.late = count(row, "late");
  r.inOrder = row.value("in_order", true);
  r.latency =
      distributionOf(row, r.scenario == Scenario::kHol ? count(row, "during_count") : r.delivered,
                     "min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms");
  r.clientToServer = {count(row, "packets_c2s"), count(row, "bytes_c2s"), count(row, "dropped_c2s"),
                      count(row, "retransmissions_c2s")};
  r.serverToClient = {count(row, "packets_s2c"), count(row, "bytes_s2c"), count(row, "dropped_s2c"),
                      count(row, "retransmissions_s2c")};
  if (row.contains("tcp_info_retransmissions") && row["tcp_info_retransmissions"].is_number()) {
    r.tcpInfoRetransmissions = row["tcp_info_retransmissions"].get<std::uint64_t>();
  }
  r.serverErrors = count(row, "server_errors");
  r.linkMaxLateMs = number(row, "link_max_late_ms");
  for (const auto& [prefix, timing] :
       {std::pair{"sender_enet", &r.senderEnet}, std::pair{"receiver_enet", &r.receiverEnet}}) {
    const std::size_t n = count(row, (std::string(prefix) + "_timing_samples").c_str());
    if (n == 0) continue;
    timing->roundTripMs.count = n;
    timing->roundTripMs.p50 = number(row, (std::string(prefix) + "_rtt_p50_ms").c_str());
    timing->roundTripMs.max = number(row, (std::string(prefix) + "_rtt_max_ms").c_str());
    timing->retransmitTimeoutMs.count = n;
    timing->retransmitTimeoutMs.p50 = number(row, (std::string(prefix) + "_rto_p50_ms").c_str());
    timing->retransmitTimeoutMs.max = number(row, (std::string(prefix) + "_rto_max_ms").c_str());
  }
  r.seconds = number(row, "seconds");
  if (row.contains("latencies_ms") && row["latencies_ms"].is_array()) {
    const json& latencies = row["latencies_ms"];
    const json seqs = row.value("latency_seqs", json::array());
    const json sent = row.value("latency_sent_ms", json::array());
    for (std::size_t i = 0; i < latencies.size(); ++i) {
      Arrival a;
      a.latencyMs = latencies[i].get<double>();
      a.seq = i < seqs.size() ? seqs[i].get<std::uint64_t>() : i;
      a.sentUs = i < sent.size() ? static_cast<std::int64_t>(sent[i].get<double>() * 1000) : 0;
      r.arrivals.push_back(a);
    }
  }
  if (r.scenario == Scenario::kHol && row.contains("bulk_frames") &&
      !row["bulk_frames"].is_null()) {
    HolResult h;
    h.bytes = count(row, "bulk_bytes");
    h.frames = count(row, "bulk_frames");
    h.framesDelivered = count(row, "bulk_delivered");
    h.inOrder = row.value("bulk_in_order", true);
    h.startMs = number(row, "bulk_start_ms");
    h.durationMs = number(row, "bulk_ms");
    h.chatDuring = r.latency;
    h.chatOutside = distributionOf(row, count(row, "outside_count"), nullptr, "outside_p50_ms",
                                   nullptr, "outside_p99_ms", "outside_max_ms", nullptr);
    r.hol = h;
  }
  if (r.scenario == Scenario::kPresence && row.contains("pings_sent") &&
      !row["pings_sent"].is_null()) {
    PresenceResult p;
    p.pingIntervalMs = number(row, "ping_interval_ms");
    p.pingsSent = count(row, "pings_sent");
    p.pongs = count(row, "pongs");
    if (row.contains("server_ping_loss_pct") && row["server_ping_loss_pct"].is_number()) {
      p.serverLossPct = row["server_ping_loss_pct"].get<double>();
    }
    p.rttMs = r.latency;
    p.stalenessMs =
        distributionOf(row, count(row, "staleness_samples"), nullptr, "staleness_p50_ms",
                       "staleness_p95_ms", "staleness_max_ms", "staleness_max_ms", nullptr);
    p.whoisSent = count(row, "whois_sent");
    r.presence = p;
  }
  return r;
}

}  // namespace

Result<Comparison, std::string> fromJson(const json& doc) {
  if (!doc.is_object() || !doc.contains("settings") || !doc.contains("rows") ||
      !doc["rows"].is_array()) {
    return fail(std::string("not a udpchat-lab compare --json document (no settings or rows)"));
  }
  try {
    Comparison c;
    const json& s = doc["settings"];
    CompareOptions& o = c.options;
    const auto scenario = parseScenario(s.value("scenario", "chat"));
    if (!scenario) return fail("unknown scenario \"" + s.value("scenario", "") + "\"");
    o.scenario = *scenario;
    o.transports = s.value("transports", o.transports);
    o.lossPct = s.value("loss_pct", o.lossPct);
    o.delayMs = s.value("delay_ms", o.delayMs);
    o.jitterMs = s.value("jitter_ms", o.jitterMs);
    o.duplicatePct = s.value("duplicate_pct", o.duplicatePct);
    o.reorderPct = s.value("reorder_pct", o.reorderPct);
    o.rateKbit = s.value("rate_kbit", o.rateKbit);
    o.queuePackets = s.value("queue_packets", o.queuePackets);
    o.messages = s.value("messages", o.messages);
    o.rate = s.value("rate", o.rate);
    o.messageBytes = s.value("message_bytes", o.messageBytes);
    o.warmup = s.value("warmup", o.warmup);
    o.repeat = s.value("repeat", o.repeat);
    o.seed = s.value("seed", o.seed);
    o.connectAttempts = s.value("connect_attempts", o.connectAttempts);
    o.attemptTimeoutMs = s.value("attempt_timeout_ms", o.attemptTimeoutMs);
    if (s.contains("gilbert")) {
      const json& g = s["gilbert"];
      o.gilbert = GilbertElliott{g.value("p", 0.0), g.value("r", 100.0), g.value("loss_good", 0.0),
                                 g.value("loss_bad", 100.0)};
    }
    o.bulkBytes = s.value("bulk_bytes", o.bulkBytes);
    o.bulkFrameBytes = s.value("bulk_frame_bytes", o.bulkFrameBytes);
    o.bulkWindowBytes = s.value("bulk_window_bytes", o.bulkWindowBytes);
    if (s.contains("bulk_after_messages"))
      o.bulkAfter = s["bulk_after_messages"].get<std::uint64_t>();
    o.pingIntervalMs = s.value("ping_interval_ms", o.pingIntervalMs);
    o.durationS = s.value("duration_s", o.durationS);
    o.whoisIntervalMs = s.value("whois_interval_ms", o.whoisIntervalMs);
    if (doc.contains("host") && doc["host"].is_object()) {
      const json& h = doc["host"];
      c.host.loadBefore = h.value("load_average_before", 0.0);
      c.host.loadAfter = h.value("load_average_after", 0.0);
      c.host.cpus = h.value("cpus", 0u);
      c.host.kernel = h.value("kernel", "");
      c.host.tcpCongestionControl = h.value("tcp_congestion_control", "");
    }
    for (const json& row : doc["rows"]) c.runs.push_back(runFromJson(row));
    return c;
  } catch (const json::exception& e) {
    return fail(std::string("malformed document: ") + e.what());
  }
}

const std::vector<std::string>& csvColumns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> names;
    const json row = rowJson(RunResult{}, false);
    // nlohmann::json sorts keys; list the identifying ones first, the rest alphabetically.
    const std::vector<std::string> first = {
        "scenario",  "transport", "loss_pct", "repetition", "seed",   "connected", "sent",
        "delivered", "in_order",  "p50_ms",   "p95_ms",     "p99_ms", "max_ms"};
    names = first;
    for (const auto& [key, value] : row.items()) {
      if (std::find(first.begin(), first.end(), key) == first.end()) names.push_back(key);
    }
    return names;
  }();
  return columns;
}

std::string toCsv(const std::vector<RunResult>& runs) {
  const auto& columns = csvColumns();
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i];
  out += "\n";
  for (const RunResult& r : runs) {
    const json row = rowJson(r, false);
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) out += ",";
      const json& v = row.at(columns[i]);
      if (v.is_null()) continue;
      if (v.is_string()) {
        std::string s = v.get<std::string>();
        if (s.find_first_of(",\"\n") != std::string::npos) {
          std::string quoted = "\"";
          for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
          s = quoted + "\"";
        }
        out += s;
      } else if (v.is_number_float()) {
        char text[32];
        std::snprintf(text, sizeof text, "%.10g", v.get<double>());
        out += text;
      } else {
        out += v.dump();
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace udpchat::lab
