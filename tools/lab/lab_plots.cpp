#include "lab/lab_plots.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>

namespace udpchat::lab {
namespace {

// The settings of a figure, one line; `pooled`: the repetitions' samples are taken together.
std::string settingsLine(const CompareOptions& o, bool pooled = false) {
  const std::string runs = o.repeat == 1 ? "1 run"
                           : pooled      ? std::to_string(o.repeat) + " runs pooled"
                                         : "median of " + std::to_string(o.repeat) + " runs";
  char text[256];
  if (o.scenario == Scenario::kPresence) {
    std::snprintf(text, sizeof text, "delay %s ms each way%s, %s s of pings, %s",
                  formatPercent(o.delayMs).c_str(),
                  o.jitterMs > 0 ? (" \u00b1 " + formatPercent(o.jitterMs) + " ms").c_str() : "",
                  formatPercent(o.durationS).c_str(), runs.c_str());
  } else {
    std::snprintf(text, sizeof text, "delay %s ms each way%s, %llu messages at %s/s%s, %s",
                  formatPercent(o.delayMs).c_str(),
                  o.jitterMs > 0 ? (" \u00b1 " + formatPercent(o.jitterMs) + " ms").c_str() : "",
                  static_cast<unsigned long long>(o.messages), formatPercent(o.rate).c_str(),
                  o.scenario == Scenario::kHol
                      ? (", " + std::to_string(o.bulkBytes / 1000) + " kB bulk").c_str()
                      : "",
                  runs.c_str());
  }
  return text;
}

std::vector<double> lossesOf(const std::vector<CellSummary>& cells) {
  std::vector<double> losses;
  for (const CellSummary& c : cells) {
    if (std::find(losses.begin(), losses.end(), c.lossPct) == losses.end()) {
      losses.push_back(c.lossPct);
    }
  }
  std::sort(losses.begin(), losses.end());
  return losses;
}

std::vector<std::string> transportsOf(const std::vector<CellSummary>& cells) {
  std::vector<std::string> names;
  for (const TransportSpec& t : knownTransports()) {
    for (const CellSummary& c : cells) {
      if (c.transport == t.name) {
        names.emplace_back(t.name);
        break;
      }
    }
  }
  return names;
}

// Whether a log scale reads better: the values span more than a factor of ten.
bool wantsLog(const std::vector<ChartSeries>& series) {
  double low = 0;
  double high = 0;
  bool any = false;
  for (const ChartSeries& s : series) {
    for (const ChartPoint& p : s.points) {
      if (p.y <= 0) continue;
      low = any ? std::min(low, p.low.value_or(p.y)) : p.low.value_or(p.y);
      high = any ? std::max(high, p.high.value_or(p.y)) : p.high.value_or(p.y);
      any = true;
    }
  }
  return any && low > 0 && high / low > 10;
}

// One figure against loss: `pick` chooses the cell's spread to plot.
PlotFile againstLoss(const CompareOptions& o, const std::vector<CellSummary>& cells,
                     const std::string& name, const std::string& title, const std::string& yLabel,
                     const std::function<const Spread*(const CellSummary&)>& pick,
                     const std::string& note) {
  Chart chart;
  chart.title = title;
  chart.subtitle = settingsLine(o) + "; bars: min to max";
  chart.x.label = "packet loss, each direction";
  const std::vector<double> losses = lossesOf(cells);
  for (double l : losses) chart.x.categories.push_back(formatPercent(l) + " %");
  chart.y.label = yLabel;
  const std::vector<std::string> transports = transportsOf(cells);
  for (std::size_t t = 0; t < transports.size(); ++t) {
    const std::string& transport = transports[t];
    ChartSeries s = seriesStyle(transport);
    // Each transport a little to the side of the category, so error bars do not overlap.
    const double dodge =
        (static_cast<double>(t) - static_cast<double>(transports.size() - 1) / 2.0) * 0.07;
    for (std::size_t i = 0; i < losses.size(); ++i) {
      for (const CellSummary& c : cells) {
        if (c.transport != transport || c.lossPct != losses[i] || c.completedRuns == 0) continue;
        const Spread* v = pick(c);
        if (v == nullptr || v->count == 0) continue;
        ChartPoint p;
        p.x = static_cast<double>(i) + dodge;
        p.y = v->median;
        if (v->count > 1) {
          p.low = v->min;
          p.high = v->max;
        }
        s.points.push_back(p);
      }
    }
    chart.series.push_back(std::move(s));
  }
  chart.y.log = wantsLog(chart.series);
  chart.note = note;
  return PlotFile{name, title, renderSvg(chart)};
}

// A CDF of one loss rate: share of the messages sent that arrived within x ms, every repetition
// pooled, so a transport that loses messages levels off below 1.
PlotFile cdfAt(const CompareOptions& o, const std::vector<RunResult>& runs, double loss,
               const std::vector<std::string>& transports) {
  const std::string what = o.scenario == Scenario::kPresence ? "ping round trip" : "chat latency";
  Chart chart;
  chart.title = "CDF of " + what + " at " + formatPercent(loss) + " % loss each way";
  chart.subtitle = settingsLine(o, true);
  chart.x.label = o.scenario == Scenario::kPresence
                      ? "ping round trip (ms)"
                      : "latency sender \u2192 server \u2192 receiver (ms)";
  chart.x.log = true;
  chart.y.label = "share of messages delivered within x";
  chart.y.min = 0;
  chart.y.max = 1;
  double highest = 0;
  for (const std::string& transport : transports) {
    std::vector<double> samples;
    std::uint64_t sent = 0;
    for (const RunResult& r : runs) {
      if (r.transport != transport || r.lossPct != loss || !r.connected) continue;
      sent += r.sent;
      for (const Arrival& a : r.arrivals) samples.push_back(a.latencyMs);
    }
    ChartSeries s = seriesStyle(transport);
    s.kind = SeriesKind::kStep;
    if (sent == 0 || samples.empty()) {
      chart.series.push_back(std::move(s));
      continue;
    }
    std::sort(samples.begin(), samples.end());
    highest = std::max(highest, samples.back());
    s.points.push_back(ChartPoint{samples.front(), 0, {}, {}});
    for (std::size_t i = 0; i < samples.size(); ++i) {
      s.points.push_back(
          ChartPoint{samples[i], static_cast<double>(i + 1) / static_cast<double>(sent), {}, {}});
    }
    chart.series.push_back(std::move(s));
  }
  // Carry every curve to the right edge, so a plateau below 1 (lost messages) is visible.
  for (ChartSeries& s : chart.series) {
    if (!s.points.empty()) s.points.push_back(ChartPoint{highest, s.points.back().y, {}, {}});
  }
  chart.note = "A curve that ends below 1 lost messages; a long tail is retransmission delay.";
  return PlotFile{std::string(to_string(o.scenario)) + "-cdf-loss" + formatPercent(loss) + ".svg",
                  chart.title, renderSvg(chart)};
}

// Head-of-line: each chat message's latency against when it was sent, the first repetition of
// each transport, with the bulk transfer's time marked.
PlotFile holTimeline(const CompareOptions& o, const std::vector<RunResult>& runs, double loss,
                     const std::vector<std::string>& transports) {
  Chart chart;
  chart.title = "Chat beside a " + std::to_string(o.bulkBytes / 1000) + " kB transfer, " +
                formatPercent(loss) + " % loss";
  chart.subtitle = settingsLine(o) + "; first run of each";
  chart.x.label = "time the chat message was sent (s)";
  chart.y.label = "chat latency (ms)";
  chart.y.log = true;
  for (const std::string& transport : transports) {
    const RunResult* first = nullptr;
    for (const RunResult& r : runs) {
      if (r.transport == transport && r.lossPct == loss && r.connected) {
        if (first == nullptr || r.repetition < first->repetition) first = &r;
      }
    }
    ChartSeries s = seriesStyle(transport);
    s.kind = SeriesKind::kScatter;
    if (first == nullptr) {
      chart.series.push_back(std::move(s));
      continue;
    }
    const std::int64_t origin = first->measureStartUs;
    std::vector<Arrival> bySend = first->arrivals;
    std::sort(bySend.begin(), bySend.end(),
              [](const Arrival& a, const Arrival& b) { return a.sentUs < b.sentUs; });
    for (const Arrival& a : bySend) {
      s.points.push_back(
          ChartPoint{static_cast<double>(a.sentUs - origin) / 1e6, a.latencyMs, {}, {}});
    }
    if (first->hol) {
      const double start = first->hol->startMs / 1000.0;
      const double end = first->hol->durationMs > 0 ? start + first->hol->durationMs / 1000.0
                                                    : o.measuredSeconds();
      chart.spans.push_back(ChartSpan{start, end, s.colour, "bulk: " + transport});
    }
    chart.series.push_back(std::move(s));
  }
  chart.note = "Each dot is one chat message; the bars at the top mark the bulk transfer.";
  return PlotFile{"hol-timeline-loss" + formatPercent(loss) + ".svg", chart.title,
                  renderSvg(chart)};
}

}  // namespace

ChartSeries seriesStyle(std::string_view transport) {
  static const Marker markers[] = {Marker::kCircle, Marker::kSquare, Marker::kTriangle,
                                   Marker::kDiamond};
  static const char* dashes[] = {"", "10,5", "3,4", "12,4,3,4"};
  ChartSeries s;
  s.name = std::string(transport);
  const auto& all = knownTransports();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].name == transport) {
      s.colour = std::string(kOkabeIto[i]);
      s.marker = markers[i];
      s.dash = dashes[i];
    }
  }
  return s;
}

std::vector<PlotFile> makePlots(const CompareOptions& o, const std::vector<RunResult>& runs,
                                const std::vector<CellSummary>& cells) {
  std::vector<PlotFile> files;
  const std::string scenario(to_string(o.scenario));
  const bool presence = o.scenario == Scenario::kPresence;
  const std::string what = presence ? "Ping round trip" : "Chat latency";
  const std::string yUnit = presence ? "ping round trip (ms)" : "latency (ms)";
  const std::string unreliableNote =
      presence ? "Round trips of the pings that were answered."
               : "Percentiles of the messages delivered; unreliable modes drop the rest.";
  files.push_back(againstLoss(
      o, cells, scenario + "-p99-vs-loss.svg",
      what + (o.scenario == Scenario::kHol ? " during the bulk transfer" : "") +
          ", 99th percentile",
      "p99 " + yUnit, [](const CellSummary& c) { return &c.p99; }, unreliableNote));
  files.push_back(againstLoss(
      o, cells, scenario + "-p50-vs-loss.svg",
      what + (o.scenario == Scenario::kHol ? " during the bulk transfer" : "") + ", median",
      "p50 " + yUnit, [](const CellSummary& c) { return &c.p50; }, unreliableNote));
  if (!presence) {
    files.push_back(againstLoss(
        o, cells, scenario + "-delivered-vs-loss.svg", "Chat messages delivered",
        "delivered (% of sent)", [](const CellSummary& c) { return &c.deliveredPct; },
        "Every message crosses the link twice: sender to server to "
        "receiver."));
  }
  if (presence) {
    files.push_back(againstLoss(
        o, cells, "presence-staleness-vs-loss.svg",
        "How stale the server's view of the sender gets", "longest silence seen (ms)",
        [](const CellSummary& c) { return &c.stalenessMax; },
        "WhoisReply.lastHeardMs polled by the receiver; the maximum of each run."));
  }
  const std::vector<std::string> transports = transportsOf(cells);
  // Per-message figures need every message's latency: a report read back from JSON written
  // without --samples has none.
  const bool samples =
      std::any_of(runs.begin(), runs.end(), [](const RunResult& r) { return !r.arrivals.empty(); });
  if (!samples) return files;
  for (double loss : lossesOf(cells)) files.push_back(cdfAt(o, runs, loss, transports));
  if (o.scenario == Scenario::kHol) {
    for (double loss : lossesOf(cells)) files.push_back(holTimeline(o, runs, loss, transports));
  }
  return files;
}

}  // namespace udpchat::lab
