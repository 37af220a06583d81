// The figures of a comparison, as SVG documents (svg_chart.hpp): latency against loss per
// transport (median over the repetitions, bars from the minimum to the maximum), a latency CDF
// per loss rate, and per scenario the figure that shows its point (presence: the staleness of
// the server's view; head-of-line: chat latency over time with the bulk transfer marked). Pure.
#pragma once

#include <string>
#include <vector>

#include "lab/lab_options.hpp"
#include "lab/run_result.hpp"
#include "lab/svg_chart.hpp"

namespace udpchat::lab {

struct PlotFile {
  std::string name;  // file name, e.g. "chat-p99-vs-loss.svg"
  std::string title;
  std::string svg;
};

std::vector<PlotFile> makePlots(const CompareOptions& options, const std::vector<RunResult>& runs,
                                const std::vector<CellSummary>& cells);

// The colour, marker and dash pattern of a transport in every figure.
ChartSeries seriesStyle(std::string_view transport);

}  // namespace udpchat::lab
