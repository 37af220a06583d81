// The lab's SVG plots: well-formed XML, the axes, ticks, legend and series expected.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "lab/lab_plots.hpp"
#include "lab/svg_chart.hpp"
#include "xml_check.hpp"

namespace udpchat::lab {
namespace {

using test::parseXml;
using test::XmlElement;

std::unique_ptr<XmlElement> parsed(const std::string& svg) {
  auto root = parseXml(svg);
  EXPECT_TRUE(root) << (root ? "" : root.error());
  return root ? std::move(root.value()) : std::make_unique<XmlElement>();
}

std::vector<std::string> seriesNames(const XmlElement& root) {
  std::vector<std::string> names;
  for (const XmlElement* g : root.findAll("g")) {
    if (g->attribute("class") == "series") names.push_back(g->attribute("data-name"));
  }
  return names;
}

std::set<std::string> textsIn(const XmlElement& root, const std::string& groupClass) {
  std::set<std::string> texts;
  for (const XmlElement* g : root.findAll("g")) {
    if (g->attribute("class") != groupClass) continue;
    for (const XmlElement* t : g->findAll("text")) texts.insert(t->text);
  }
  return texts;
}

TEST(SvgChart, XmlCheckerRefusesBrokenDocuments) {
  for (const char* bad : {"<a>", "<a></b>", "<a x=1/>", "<a x=\"1\" x=\"2\"/>", "<a>&nbsp;</a>",
                          "<a>x & y</a>", "<a/><b/>", "<a x=\"<\"/>"}) {
    EXPECT_FALSE(parseXml(bad)) << bad;
  }
  EXPECT_TRUE(parseXml("<?xml version=\"1.0\"?>\n<a x='1'><b>&amp;&lt;</b></a>"));
}

TEST(SvgChart, NiceTicks) {
  EXPECT_EQ(niceTicks(0, 100, false), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  const std::vector<double> fractions = niceTicks(0, 1, false, 5);
  ASSERT_EQ(fractions.size(), 6u);
  for (std::size_t i = 0; i < fractions.size(); ++i) EXPECT_NEAR(fractions[i], 0.2 * i, 1e-9);
  EXPECT_EQ(niceTicks(20, 200, true), (std::vector<double>{20, 50, 100, 200}));
  EXPECT_EQ(niceTicks(1, 10000, true), (std::vector<double>{1, 10, 100, 1000, 10000}));
  EXPECT_TRUE(niceTicks(5, 5, false).empty());
  EXPECT_EQ(tickLabel(20), "20");
  EXPECT_EQ(tickLabel(0.5), "0.5");
  EXPECT_EQ(tickLabel(250000), "2e+05");
}

TEST(SvgChart, EscapesText) {
  EXPECT_EQ(xmlEscape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  Chart chart;
  chart.title = "p99 <loss> & \"jitter\"";
  chart.x.label = "x & y";
  chart.series.push_back(ChartSeries{
      "a<b", "#000000", "", Marker::kCircle, SeriesKind::kLine, {{1, 1, {}, {}}, {2, 2, {}, {}}}});
  const auto root = parsed(renderSvg(chart));
  EXPECT_EQ(root->findAll("title").at(0)->text, "p99 <loss> & \"jitter\"");
  EXPECT_EQ(seriesNames(*root), (std::vector<std::string>{"a<b"}));
}

TEST(SvgChart, LinesMarkersAndErrorBars) {
  Chart chart;
  chart.title = "t";
  chart.x.categories = {"0 %", "5 %", "10 %"};
  ChartSeries s = seriesStyle("tcp");
  s.points = {{0, 40, 39, 41}, {1, 280, 250, 300}, {2, 600, 500, 900}};
  chart.series.push_back(s);
  chart.y.log = true;
  const auto root = parsed(renderSvg(chart));
  EXPECT_EQ(root->name, "svg");
  EXPECT_EQ(root->attribute("xmlns"), "http://www.w3.org/2000/svg");
  EXPECT_EQ(root->attribute("viewBox"), "0 0 1280 720");
  const std::set<std::string> xTicks = textsIn(*root, "ticks");
  for (const char* label : {"0 %", "5 %", "10 %", "20", "50", "100", "200", "500", "1000"}) {
    EXPECT_TRUE(xTicks.count(label)) << label;
  }
  int errorBars = 0;
  int circles = 0;
  for (const XmlElement* g : root->findAll("g")) {
    if (g->attribute("class") != "series") continue;
    for (const XmlElement* p : g->findAll("path")) errorBars += p->attribute("class") == "errorbar";
    circles += static_cast<int>(g->findAll("circle").size());
  }
  EXPECT_EQ(errorBars, 3);
  EXPECT_EQ(circles, 3);
}

RunResult fakeRun(const std::string& transport, double loss, unsigned repetition,
                  std::vector<double> latencies, std::uint64_t sent) {
  RunResult r;
  r.transport = transport;
  r.lossPct = loss;
  r.repetition = repetition;
  r.connected = true;
  r.sent = sent;
  r.delivered = latencies.size();
  for (std::size_t i = 0; i < latencies.size(); ++i) {
    r.arrivals.push_back(Arrival{i, static_cast<std::int64_t>(i) * 50'000, latencies[i]});
  }
  r.latency = summarize(latencies);
  return r;
}

TEST(LabPlots, OneFigurePerQuestionWithEveryTransport) {
  CompareOptions o;
  o.lossPct = {0, 5};
  o.transports = {"tcp", "enet-reliable", "enet-unsequenced"};
  o.repeat = 2;
  std::vector<RunResult> runs;
  for (double loss : o.lossPct) {
    for (unsigned rep = 1; rep <= 2; ++rep) {
      runs.push_back(fakeRun("tcp", loss, rep, {40, 41, loss > 0 ? 290.0 : 42.0}, 3));
      runs.push_back(fakeRun("enet-reliable", loss, rep, {40, 41, loss > 0 ? 90.0 : 42.0}, 3));
      runs.push_back(fakeRun("enet-unsequenced", loss, rep, {40, 41}, 3));
    }
  }
  const auto files = makePlots(o, runs, summarizeCells(runs));
  std::vector<std::string> names;
  for (const PlotFile& f : files) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"chat-p99-vs-loss.svg", "chat-p50-vs-loss.svg",
                                             "chat-delivered-vs-loss.svg", "chat-cdf-loss0.svg",
                                             "chat-cdf-loss5.svg"}));
  for (const PlotFile& f : files) {
    SCOPED_TRACE(f.name);
    const auto root = parsed(f.svg);
    EXPECT_EQ(seriesNames(*root),
              (std::vector<std::string>{"tcp", "enet-reliable", "enet-unsequenced"}));
    const std::set<std::string> legend = textsIn(*root, "legend");
    EXPECT_TRUE(legend.count("tcp") && legend.count("enet-reliable"));
    EXPECT_FALSE(root->findAll("text").empty());
  }
  // The p99 figure: x categories are the loss rates; TCP's line has its two points with bars.
  const auto p99 = parsed(files[0].svg);
  const std::set<std::string> ticks = textsIn(*p99, "ticks");
  EXPECT_TRUE(ticks.count("0 %") && ticks.count("5 %"));
  for (const XmlElement* g : p99->findAll("g")) {
    if (g->attribute("data-name") != "tcp") continue;
    EXPECT_EQ(g->findAll("circle").size(), 2u);
  }
  // The CDF at 5 %: enet-unsequenced delivered 2 of 3, so its curve levels off at 2/3.
  const auto cdf = parsed(files[4].svg);
  for (const XmlElement* g : cdf->findAll("g")) {
    if (g->attribute("data-name") != "enet-unsequenced") continue;
    ASSERT_EQ(g->findAll("path").size(), 1u);
    EXPECT_FALSE(g->findAll("path")[0]->attribute("d").empty());
  }
}

TEST(LabPlots, TransportsKeepTheirStyleInEveryFigure) {
  std::set<std::string> colours;
  for (const TransportSpec& t : knownTransports()) colours.insert(seriesStyle(t.name).colour);
  EXPECT_EQ(colours.size(), knownTransports().size());
  EXPECT_EQ(seriesStyle("tcp").colour, std::string(kOkabeIto[0]));
  EXPECT_NE(seriesStyle("tcp").marker, seriesStyle("enet-reliable").marker);
  EXPECT_NE(seriesStyle("enet-unreliable").dash, seriesStyle("enet-reliable").dash);
}

TEST(LabPlots, HeadOfLineTimelineMarksTheBulk) {
  CompareOptions o;
  o.scenario = Scenario::kHol;
  o.lossPct = {2};
  o.transports = {"tcp", "enet-reliable"};
  o.repeat = 1;
  std::vector<RunResult> runs = {fakeRun("tcp", 2, 1, {40, 300, 45}, 3),
                                 fakeRun("enet-reliable", 2, 1, {40, 41, 40}, 3)};
  for (RunResult& r : runs) {
    r.scenario = Scenario::kHol;
    r.hol = HolResult{};
    r.hol->startMs = 50;
    r.hol->durationMs = 100;
  }
  const auto files = makePlots(o, runs, summarizeCells(runs));
  const auto timeline = std::find_if(files.begin(), files.end(), [](const PlotFile& f) {
    return f.name == "hol-timeline-loss2.svg";
  });
  ASSERT_NE(timeline, files.end());
  const auto root = parsed(timeline->svg);
  int spans = 0;
  for (const XmlElement* r : root->findAll("rect")) spans += r->attribute("class") == "span";
  EXPECT_EQ(spans, 2);
  EXPECT_EQ(seriesNames(*root), (std::vector<std::string>{"tcp", "enet-reliable"}));
}

}  // namespace
}  // namespace udpchat::lab
