#include "lab/html_report.hpp"

#include <sodium.h>

#include "lab/lab_report.hpp"
#include "lab/svg_chart.hpp"
#include "udpchat/text.hpp"

namespace udpchat::lab {
namespace {

using text::fixed;

// Readable from the back of a classroom: large type, high contrast, the tables in a monospace
// face so figures line up, and plots as wide as the page allows.
constexpr const char* kStyle = R"(
body { font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 17px; line-height: 1.45;
       color: #111; background: #fff; max-width: 1200px; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; }
h2 { font-size: 1.45em; margin-top: 2em; border-bottom: 2px solid #2a5599; }
h3 { font-size: 1.15em; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 0.92em; }
pre.command { background: #f2f4f8; border-left: 4px solid #2a5599; padding: 0.6em 0.8em;
              white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; margin: 0.8em 0; font-family: "DejaVu Sans Mono", monospace;
        font-size: 0.88em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.55em; text-align: right; }
th { background: #e8ecf4; }
td.name, th.name { text-align: left; }
tr.group td { border-top: 3px solid #555; }
p.legend, p.note { color: #444; }
p.warning { background: #fff4d6; border-left: 4px solid #c80; padding: 0.4em 0.8em; }
div.reading { background: #f7f7f2; border-left: 4px solid #6a6; padding: 0.2em 1em; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { color: #333; font-size: 0.95em; }
dl.settings dt { font-weight: bold; float: left; clear: left; width: 13em; }
dl.settings dd { margin-left: 13.5em; }
)";

// Wireshark's display filter for the packets the link dropped (their pcapng comment).
constexpr std::string_view kLossFilter = "frame.comment contains \"dropped\"";

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL sodium writes
  return out;
}

// Paragraphs of plain text (blank lines between them) as <p> elements, lines kept.
std::string paragraphs(std::string_view text) {
  std::string out, current;
  const auto flush = [&] {
    if (!current.empty()) out += "<p>" + current + "</p>\n";
    current.clear();
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line.find_first_not_of(' ') == std::string_view::npos) {
      flush();
    } else {
      if (!current.empty()) current += "<br>\n";
      current += htmlEscape(line);
    }
    start = end + 1;
  }
  flush();
  return out;
}

std::string tableHtml(const ReportTable& t) {
  std::string out = "<table>\n<thead><tr>";
  for (std::size_t i = 0; i < t.header.size(); ++i) {
    out += std::string(i < 2 ? "<th class=\"name\">" : "<th>") + htmlEscape(t.header[i]) + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    out += t.groupStarts[r] ? "<tr class=\"group\">" : "<tr>";
    for (std::size_t i = 0; i < t.rows[r].size(); ++i) {
      out += std::string(i < 2 ? "<td class=\"name\">" : "<td>") + htmlEscape(t.rows[r][i]) +
             "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string sectionHtml(const HtmlSection& s, const HostLoad& host) {
  const ReportTable t = reportTable(s.options, s.cells);
  std::string out = "<section>\n<h2>" + htmlEscape(t.title) + "</h2>\n";
  out += "<p class=\"legend\">" + htmlEscape(t.legend) + "</p>\n";
  out += tableHtml(t);
  if (!t.leftOut.empty()) {
    out += "<p class=\"warning\">Runs left out of the figures above (they failed, ended early or "
           "their link fell behind):</p>\n<ul>\n";
    for (const std::string& line : t.leftOut) out += "<li>" + htmlEscape(line) + "</li>\n";
    out += "</ul>\n";
  }
  if (auto note = busyNote(host)) out += "<p class=\"warning\">Note: " + htmlEscape(*note) + "</p>\n";
  out += "<h3>What it means</h3>\n<div class=\"reading\">\n" +
         paragraphs(explainResults(s.options, s.cells)) + "</div>\n";
  for (const PlotFile& plot : s.plots) {
    out += "<figure>\n<img alt=\"" + htmlEscape(plot.title) + "\" src=\"data:image/svg+xml;base64," +
           base64(plot.svg) + "\">\n<figcaption>" + htmlEscape(plot.title) + " (" +
           htmlEscape(plot.name) + ")</figcaption>\n</figure>\n";
  }
  if (!s.command.empty()) {
    out += "<p>This part alone:</p>\n<pre class=\"command\">" + htmlEscape(s.command) + "</pre>\n";
  }
  return out + "</section>\n";
}

}  // namespace

std::string htmlEscape(std::string_view text) {
  return escapeMarkup(text, "&#39;");  // &apos; is not HTML 4's
}

std::string shellQuote(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += ' ';
    const bool plain = !w.empty() && w.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                                         "opqrstuvwxyz0123456789_./,:=+-") ==
                                         std::string::npos;
    if (plain) {
      out += w;
      continue;
    }
    out += '\'';
    for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::string compareCommand(const CompareOptions& o) {
  const CompareOptions d;  // the defaults
  std::vector<std::string> w = {"udpchat-lab", "compare", "--scenario",
                                std::string(to_string(o.scenario))};
  std::string list;
  for (const std::string& t : o.transports) list += (list.empty() ? "" : ",") + t;
  w.insert(w.end(), {"--transports", list});
  list.clear();
  for (double l : o.lossPct) list += (list.empty() ? "" : ",") + formatPercent(l);
  w.insert(w.end(), {"--loss", list});
  const auto number = [&](const char* flag, double value, double byDefault) {
    if (value != byDefault) w.insert(w.end(), {flag, formatPercent(value)});
  };
  const auto count = [&](const char* flag, std::uint64_t value, std::uint64_t byDefault) {
    if (value != byDefault) w.insert(w.end(), {flag, std::to_string(value)});
  };
  number("--delay", o.delayMs, d.delayMs);
  number("--jitter", o.jitterMs, d.jitterMs);
  number("--duplicate", o.duplicatePct, d.duplicatePct);
  number("--reorder", o.reorderPct, d.reorderPct);
  if (o.gilbert) {
    w.insert(w.end(), {"--gilbert", formatPercent(o.gilbert->p) + "," + formatPercent(o.gilbert->r) +
                                        "," + formatPercent(o.gilbert->lossGood) + "," +
                                        formatPercent(o.gilbert->lossBad)});
  }
  count("--rate-kbit", o.rateKbit, d.rateKbit);
  count("--queue-packets", o.queuePackets, d.queuePackets);
  if (o.scenario != Scenario::kPresence) {
    count("--messages", o.messages, d.messages);
    number("--rate", o.rate, d.rate);
    count("--size", o.messageBytes, d.messageBytes);
    count("--warmup", o.warmup, d.warmup);
  }
  if (o.scenario == Scenario::kHol) {
    count("--bulk-bytes", o.bulkBytes, d.bulkBytes);
    count("--bulk-frame", o.bulkFrameBytes, d.bulkFrameBytes);
    count("--bulk-window", o.bulkWindowBytes, d.bulkWindowBytes);
    if (o.bulkAfter) count("--bulk-after", *o.bulkAfter, ~std::uint64_t{0});
  }
  if (o.scenario == Scenario::kPresence) {
    count("--ping-interval", static_cast<std::uint64_t>(o.pingIntervalMs),
          static_cast<std::uint64_t>(d.pingIntervalMs));
    number("--duration", o.durationS, d.durationS);
    count("--whois-interval", static_cast<std::uint64_t>(o.whoisIntervalMs),
          static_cast<std::uint64_t>(d.whoisIntervalMs));
  }
  count("--repeat", o.repeat, d.repeat);
  count("--seed", o.seed, d.seed);
  return shellQuote(w);
}

std::string formatHtml(const HtmlReport& r) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + htmlEscape(r.heading) + "</title>\n<style>" + kStyle + "</style>\n";
  out += "</head>\n<body>\n<h1>" + htmlEscape(r.heading) + "</h1>\n";
  out += "<p class=\"legend\">TCP and ENet carrying the real udpchat server and clients over one "
         "seeded, emulated lossy link; every figure below was measured in this run.</p>\n";
  out += "<dl class=\"settings\">\n";
  if (!r.generatedAt.empty()) out += "<dt>Measured</dt><dd>" + htmlEscape(r.generatedAt) + "</dd>\n";
  if (!r.host.kernel.empty()) out += "<dt>Kernel</dt><dd>" + htmlEscape(r.host.kernel) + "</dd>\n";
  if (!r.host.tcpCongestionControl.empty()) {
    out += "<dt>TCP congestion control</dt><dd>" + htmlEscape(r.host.tcpCongestionControl) +
           "</dd>\n";
  }
  if (r.host.cpus > 0) {
    out += "<dt>Machine</dt><dd>" + std::to_string(r.host.cpus) + " CPUs, load average " +
           fixed(r.host.loadBefore, 2) + " before and " + fixed(r.host.loadAfter, 2) +
           " after</dd>\n";
  }
  out += "</dl>\n<p>To measure it again:</p>\n<pre class=\"command\">" + htmlEscape(r.command) +
         "</pre>\n";
  for (const HtmlSection& s : r.sections) out += sectionHtml(s, r.host);
  if (!r.captures.empty()) {
    out += "<section>\n<h2>Captures</h2>\n<p>Every packet the emulated link carried, as pcapng: "
           "client to server is outbound, server to client inbound, and a comment on each packet "
           "says what the link did to it. In Wireshark the filter</p>\n"
           "<pre class=\"command\">" + htmlEscape(kLossFilter) + "</pre>\n"
           "<p>shows the packets the link lost; in a TCP capture "
           "<code>tcp.analysis.retransmission</code> shows what TCP sent again.</p>\n<ul>\n";
    for (const HtmlCapture& c : r.captures) {
      out += "<li><a href=\"" + htmlEscape(c.href) + "\">" + htmlEscape(c.label) + "</a>" +
             (c.tcp ? " (TCP)" : " (ENet)") + "</li>\n";
    }
    out += "</ul>\n</section>\n";
  }
  return out + "</body>\n</html>\n";
}

}  // namespace udpchat::lab
