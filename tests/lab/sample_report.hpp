// A small chat comparison with its plots, and the page made of it, for the HTML report's tests
// (lab_html_test checks the text; lab_html_browser_test opens it in Chromium).
#pragma once

#include <string>
#include <vector>

#include "lab/html_report.hpp"
#include "lab/lab_plots.hpp"
#include "lab/lab_report.hpp"

namespace udpchat::lab::test {

inline RunResult chatRun(const std::string& transport, double loss, std::vector<double> latencies) {
  RunResult r;
  r.scenario = Scenario::kChat;
  r.transport = transport;
  r.lossPct = loss;
  r.repetition = 1;
  r.connected = true;
  r.sent = latencies.size();
  r.delivered = latencies.size();
  r.inOrder = true;
  for (std::size_t i = 0; i < latencies.size(); ++i) {
    r.arrivals.push_back(Arrival{i, static_cast<std::int64_t>(i) * 200'000, latencies[i]});
  }
  r.latency = summarize(latencies);
  return r;
}

struct Page {
  CompareOptions options;
  std::vector<RunResult> runs;
  std::vector<CellSummary> cells;
  std::vector<PlotFile> plots;
  HtmlReport report;
};

inline Page samplePage() {
  Page p;
  p.options.lossPct = {0, 10};
  p.options.transports = {"tcp", "enet-reliable"};
  p.options.repeat = 1;
  for (double loss : p.options.lossPct) {
    p.runs.push_back(chatRun("tcp", loss, {40, 41, loss > 0 ? 460.0 : 42.0}));
    p.runs.push_back(chatRun("enet-reliable", loss, {40, 41, loss > 0 ? 130.0 : 42.0}));
  }
  p.cells = summarizeCells(p.runs);
  p.plots = makePlots(p.options, p.runs, p.cells);
  p.report.heading = "udpchat-lab: chat";
  p.report.command = "udpchat-lab compare --loss 0,10 --html out";
  p.report.generatedAt = "2026-12-04 12:00:00 UTC";
  p.report.host.cpus = 2;
  p.report.host.kernel = "6.1.0";
  p.report.sections.push_back({p.options, p.cells, p.plots, compareCommand(p.options)});
  p.report.captures.push_back({"captures/chat_tcp_loss10_rep1.pcapng", "chat_tcp_loss10_rep1", true});
  return p;
}

}  // namespace udpchat::lab::test
