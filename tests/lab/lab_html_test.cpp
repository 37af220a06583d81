// The demo's plan and the HTML report: one page with every plot inline, the table, the reading,
// the captures and the command, and nothing it would have to fetch.
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>

#include "lab/demo_plan.hpp"
#include "lab/html_report.hpp"
#include "lab/lab_plots.hpp"
#include "lab/lab_report.hpp"
#include "sample_report.hpp"

namespace udpchat::lab {
namespace {

using test::Page;
using test::chatRun;
using test::samplePage;


std::size_t occurrences(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(LabHtml, EveryPlotIsInlineAndDecodesToItsSvg) {
  const Page p = samplePage();
  ASSERT_GE(p.plots.size(), 4u);
  const std::string html = formatHtml(p.report);
  const std::string prefix = "src=\"data:image/svg+xml;base64,";
  EXPECT_EQ(occurrences(html, "<img "), p.plots.size());
  std::size_t at = 0;
  for (const PlotFile& plot : p.plots) {
    at = html.find(prefix, at);
    ASSERT_NE(at, std::string::npos) << plot.name;
    at += prefix.size();
    const std::size_t end = html.find('"', at);
    const std::string encoded = html.substr(at, end - at);
    std::string decoded(encoded.size(), '\0');
    std::size_t length = 0;
    ASSERT_EQ(sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                                encoded.data(), encoded.size(), nullptr, &length, nullptr,
                                sodium_base64_VARIANT_ORIGINAL),
              0);
    decoded.resize(length);
    EXPECT_EQ(decoded, plot.svg) << plot.name;
    EXPECT_NE(html.find(htmlEscape(plot.title)), std::string::npos) << plot.name;
  }
}

TEST(LabHtml, ThePageFetchesNothingAndRunsNoScript) {
  const std::string html = formatHtml(samplePage().report);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
}

TEST(LabHtml, TheTableHasEveryCellAndTheReadingIsThere) {
  const Page p = samplePage();
  const std::string html = formatHtml(p.report);
  const ReportTable t = reportTable(p.options, p.cells);
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(occurrences(html, "<tr"), t.rows.size() + 1);  // and the heading row
  for (const std::string& h : t.header) {
    EXPECT_NE(html.find(">" + htmlEscape(h) + "</th>"), std::string::npos) << h;
  }
  for (const auto& row : t.rows) {
    for (const std::string& cell : row) {
      EXPECT_NE(html.find(">" + htmlEscape(cell) + "</td>"), std::string::npos) << cell;
    }
  }
  EXPECT_EQ(occurrences(html, "<tr class=\"group\">"), 1u) << "one line between 0 % and 10 %";
  // The reading's first sentence, escaped as text.
  const std::string reading = explainResults(p.options, p.cells);
  const std::string first = reading.substr(0, reading.find_first_of(".\n"));
  ASSERT_FALSE(first.empty());
  EXPECT_NE(html.find(htmlEscape(first)), std::string::npos);
}

TEST(LabHtml, CapturesComeWithTheFilterForTheLossesAndTheCommandsToRepeatIt) {
  const Page p = samplePage();
  const std::string html = formatHtml(p.report);
  EXPECT_NE(html.find("<a href=\"captures/chat_tcp_loss10_rep1.pcapng\">"), std::string::npos);
  EXPECT_NE(html.find("frame.comment contains &quot;dropped&quot;"), std::string::npos);
  EXPECT_NE(html.find(">udpchat-lab compare --loss 0,10 --html out</pre>"), std::string::npos);
  EXPECT_NE(html.find(htmlEscape(compareCommand(p.options))), std::string::npos);
}

TEST(LabHtml, TextFromRunsIsEscaped) {
  Page p = samplePage();
  RunResult failed = chatRun("tcp", 10, {40});
  failed.repetition = 2;
  failed.error = "<img src=x onerror=alert(1)> & more";
  p.runs.push_back(failed);
  p.report.sections[0].cells = summarizeCells(p.runs);
  const std::string html = formatHtml(p.report);
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt; &amp; more"), std::string::npos);
  EXPECT_EQ(htmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

TEST(LabHtml, CompareCommandNamesWhatDiffersFromTheDefaults) {
  CompareOptions o;
  EXPECT_EQ(compareCommand(o),
            "udpchat-lab compare --scenario chat --transports "
            "tcp,enet-reliable,enet-unreliable,enet-unsequenced --loss 0,1,2,5,10,20");
  o.scenario = Scenario::kHol;
  o.transports = {"tcp", "enet-reliable"};
  o.lossPct = {2.5};
  o.rate = 5;
  o.bulkBytes = 500'000;
  o.bulkAfter = 15;
  o.repeat = 1;
  o.seed = 9;
  o.durationS = 5;  // presence only: left out
  EXPECT_EQ(compareCommand(o),
            "udpchat-lab compare --scenario hol --transports tcp,enet-reliable --loss 2.5 "
            "--rate 5 --bulk-bytes 500000 --bulk-after 15 --repeat 1 --seed 9");
}

TEST(LabHtml, ShellQuoteQuotesWhatAShellWouldSplitOrExpand) {
  EXPECT_EQ(shellQuote({"udpchat-lab", "compare", "--loss", "0,5"}), "udpchat-lab compare --loss 0,5");
  EXPECT_EQ(shellQuote({"--html", "my plots"}), "--html 'my plots'");
  EXPECT_EQ(shellQuote({"it's", "$HOME", ""}), "'it'\\''s' '$HOME' ''");
}

TEST(LabDemo, ThePlanIsValidAndShowsEachLesson) {
  const std::vector<CompareOptions> plan = demoPlan(7);
  ASSERT_EQ(plan.size(), 3u);
  std::size_t runs = 0, captures = 0;
  for (const CompareOptions& part : plan) {
    EXPECT_EQ(validate(part), std::nullopt) << to_string(part.scenario);
    EXPECT_EQ(part.delayMs, 20);
    EXPECT_EQ(part.seed, 7u);
    runs += part.lossPct.size() * part.transports.size() * part.repeat;
    for (const std::string& t : part.transports) {
      for (double loss : part.lossPct) captures += demoKeepsCapture(part, t, loss) ? 1 : 0;
    }
  }
  EXPECT_EQ(plan[0].scenario, Scenario::kChat);
  EXPECT_EQ(plan[0].lossPct, (std::vector<double>{0, 5, 10}));
  EXPECT_EQ(plan[0].transports, (std::vector<std::string>{"tcp", "enet-reliable"}));
  EXPECT_EQ(plan[1].scenario, Scenario::kHol);
  EXPECT_EQ(plan[2].scenario, Scenario::kPresence);
  EXPECT_EQ(runs, 10u);
  EXPECT_EQ(captures, 2u) << "one capture per transport";
  // Every run's own measurement fits well inside the 90 s the demo has, all at once.
  for (const CompareOptions& part : plan) EXPECT_LE(part.measuredSeconds(), 40.0);
}

}  // namespace
}  // namespace udpchat::lab
