// How a comparison is shown: a table for people (with a plain-language reading of why the
// numbers differ), one JSON document, or CSV with one line per run. Pure: returns text.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lab/lab_options.hpp"
#include "lab/run_result.hpp"
#include "udpchat/result.hpp"

namespace udpchat::lab {

// The table's content, for the text table and the HTML report alike: the title line, what the
// figures are, the column headings and one row of cells per (loss, transport), with
// `groupStarts[i]` true where row i starts a new loss rate; and one line per run left out.
struct ReportTable {
  std::string title;
  std::string legend;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> groupStarts;
  std::vector<std::string> leftOut;
};
ReportTable reportTable(const CompareOptions& options, const std::vector<CellSummary>& cells);

// A warning when the machine was busier than its cores during the runs, else nullopt.
std::optional<std::string> busyNote(const HostLoad& host);

// The human table: one line per cell (loss rate, then transport), medians over the
// repetitions with the spread of the headline figure, then the reading.
// `host`, when given, adds a warning if the machine was busier than its cores.
std::string formatTable(const CompareOptions& options, const std::vector<CellSummary>& cells,
                        const HostLoad& host = {});

// One JSON document: "settings", "rows" (one per run: transport, loss_pct, repetition, sent,
// delivered, in_order, p50_ms, p95_ms, p99_ms, max_ms and more), "cells" (median, min, max, q1,
// q3 of each figure) and "reading".
nlohmann::json toJson(const CompareOptions& options, const std::vector<RunResult>& runs,
                      const std::vector<CellSummary>& cells, const HostLoad& host = {});

// A header line, then one line per run; the columns of the JSON rows that are numbers or
// words (the scenario's own columns are empty when they do not apply).
std::string toCsv(const std::vector<RunResult>& runs);
// The CSV columns, in order.
const std::vector<std::string>& csvColumns();

// A comparison read back from a `--json` document: its settings, its runs (with each run's
// per-message latencies when it was written with --samples) and the host it ran on. Figures
// that only --samples preserves (CDFs, timelines) are empty otherwise.
struct Comparison {
  CompareOptions options;
  std::vector<RunResult> runs;
  HostLoad host;
};
Result<Comparison, std::string> fromJson(const nlohmann::json& doc);

// Why the numbers differ, in plain language, with the figures of this comparison quoted.
std::string explainResults(const CompareOptions& options, const std::vector<CellSummary>& cells);

}  // namespace udpchat::lab
