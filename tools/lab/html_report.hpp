// One self-contained HTML page of a comparison (or of the demo's several): the settings, the
// table, every plot inline, the reading, the captures with a Wireshark filter for the losses,
// and the command that reproduces it. No script and nothing fetched: the plots are SVG in
// data: URIs, the style is in the page. Pure: returns text.
#pragma once

#include <string>
#include <vector>

#include "lab/lab_options.hpp"
#include "lab/lab_plots.hpp"
#include "lab/run_result.hpp"

namespace udpchat::lab {

// One scenario's part of the page.
struct HtmlSection {
  CompareOptions options;
  std::vector<CellSummary> cells;
  std::vector<PlotFile> plots;
  std::string command;  // the `udpchat-lab compare ...` that measures this part alone
};

struct HtmlCapture {
  std::string href;   // relative to the page
  std::string label;  // e.g. the run's label
  bool tcp = false;   // TCP's own retransmissions are named by Wireshark's analysis
};

struct HtmlReport {
  std::string heading;      // e.g. "udpchat-lab demo"
  std::string command;      // the exact command that wrote the page
  std::string generatedAt;  // local time, for people
  HostLoad host;
  std::vector<HtmlSection> sections;
  std::vector<HtmlCapture> captures;
};

std::string formatHtml(const HtmlReport& report);

// `text` safe in HTML text and in attribute values.
std::string htmlEscape(std::string_view text);

// The `udpchat-lab compare` command line that runs `options` again: the scenario, the
// transports, the loss rates and every other setting that differs from its default.
std::string compareCommand(const CompareOptions& options);

// argv as a shell would need it typed: words with anything but [A-Za-z0-9_./,:=+-] in single
// quotes.
std::string shellQuote(const std::vector<std::string>& words);

}  // namespace udpchat::lab
