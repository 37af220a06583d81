// udpchat-lab's reports: cells from runs, the JSON document's shape, CSV, the table.
#include "lab/lab_report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace udpchat::lab {
namespace {

RunResult run(const std::string& transport, double loss, unsigned repetition, double p99,
              std::uint64_t delivered = 100) {
  RunResult r;
  r.scenario = Scenario::kChat;
  r.transport = transport;
  r.lossPct = loss;
  r.repetition = repetition;
  r.seed = seedFor(1, repetition);
  r.connected = true;
  r.connectAttempts = 1;
  r.sent = 100;
  r.delivered = delivered;
  r.inOrder = true;
  std::vector<double> samples(static_cast<std::size_t>(delivered), 40.0);
  if (samples.size() >= 2) {
    samples.back() = p99;
    samples[samples.size() - 2] = p99;
  }
  r.latency = summarize(samples);
  for (std::uint64_t i = 0; i < delivered; ++i) {
    r.arrivals.push_back(Arrival{i, static_cast<std::int64_t>(i) * 50'000, samples[i]});
  }
  r.clientToServer.bytes = 20'000;
  r.serverToClient.bytes = 40'000;
  r.clientToServer.retransmissions = 3;
  r.serverToClient.retransmissions = 4;
  return r;
}

std::vector<RunResult> sampleRuns() {
  return {run("tcp", 5, 1, 250),
          run("tcp", 5, 2, 300),
          run("tcp", 5, 3, 280),
          run("enet-reliable", 5, 1, 60),
          run("enet-reliable", 5, 2, 70),
          run("enet-reliable", 5, 3, 65),
          run("enet-unreliable", 5, 1, 41, 90)};
}

CompareOptions options() {
  CompareOptions o;
  o.lossPct = {5};
  o.transports = {"tcp", "enet-reliable", "enet-unreliable"};
  o.repeat = 3;
  return o;
}

TEST(LabReport, CellsTakeMediansOverRepetitions) {
  const auto cells = summarizeCells(sampleRuns());
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].transport, "tcp");
  EXPECT_EQ(cells[0].runs, 3u);
  EXPECT_EQ(cells[0].p99.median, 280);
  EXPECT_EQ(cells[0].p99.min, 250);
  EXPECT_EQ(cells[0].p99.max, 300);
  EXPECT_TRUE(cells[0].everyRunComplete);
  EXPECT_EQ(cells[1].p99.median, 65);
  EXPECT_EQ(cells[2].deliveredPct.median, 90);
  EXPECT_FALSE(cells[2].everyRunComplete);
  EXPECT_EQ(cells[0].retransmissions.median, 7);
}

TEST(LabReport, RunsThatDidNotConnectAreCountedButNotMeasured) {
  std::vector<RunResult> runs = {run("tcp", 20, 1, 500), run("tcp", 20, 2, 900)};
  runs[1].connected = false;
  runs[1].error = "sender could not connect: no answer";
  const auto cells = summarizeCells(runs);
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].runs, 2u);
  EXPECT_EQ(cells[0].completedRuns, 1u);
  EXPECT_EQ(cells[0].p99.median, 500);
  EXPECT_FALSE(cells[0].everyRunComplete);
  ASSERT_EQ(cells[0].failures.size(), 1u);
  EXPECT_EQ(cells[0].failures[0], "rep 2: sender could not connect: no answer");
  const std::string table = formatTable(options(), cells);
  EXPECT_NE(table.find("tcp at 20 %, rep 2: sender could not connect"), std::string::npos);
}

TEST(LabReport, RunsThatEndedEarlyAreListed) {
  std::vector<RunResult> runs = {run("enet-reliable", 10, 1, 200), run("enet-reliable", 10, 2, 50)};
  runs[1].error = "the receiver's connection ended: connection lost";
  runs[1].sent = 122;
  runs[1].delivered = 121;
  const auto cells = summarizeCells(runs);
  EXPECT_EQ(cells[0].completedRuns, 1u);
  EXPECT_EQ(cells[0].p99.median, 200);
  ASSERT_EQ(cells[0].failures.size(), 1u);
  EXPECT_EQ(cells[0].failures[0],
            "rep 2: the receiver's connection ended: connection lost (after 121 of 122 messages "
            "delivered)");
}

TEST(LabReport, JsonRowsCarryTheRequiredFields) {
  const auto runs = sampleRuns();
  const auto doc = toJson(options(), runs, summarizeCells(runs));
  ASSERT_TRUE(doc.contains("rows"));
  ASSERT_EQ(doc["rows"].size(), runs.size());
  for (const auto& row : doc["rows"]) {
    for (const char* key : {"transport", "loss_pct", "repetition", "sent", "delivered", "in_order",
                            "p50_ms", "p95_ms", "p99_ms", "max_ms", "bytes_c2s", "bytes_s2c",
                            "retransmissions_c2s", "retransmissions_s2c", "connected", "seed"}) {
      EXPECT_TRUE(row.contains(key)) << key;
    }
    EXPECT_TRUE(row["transport"].is_string());
    EXPECT_TRUE(row["loss_pct"].is_number());
    EXPECT_TRUE(row["repetition"].is_number_unsigned());
    EXPECT_TRUE(row["in_order"].is_boolean());
    EXPECT_LE(row["delivered"].get<std::uint64_t>(), row["sent"].get<std::uint64_t>());
    EXPECT_LE(row["p50_ms"].get<double>(), row["p95_ms"].get<double>());
    EXPECT_LE(row["p95_ms"].get<double>(), row["p99_ms"].get<double>());
    EXPECT_LE(row["p99_ms"].get<double>(), row["max_ms"].get<double>());
    EXPECT_FALSE(row.contains("latencies_ms"));  // only with --samples
  }
  EXPECT_EQ(doc["rows"][0]["p99_ms"], 250);
  EXPECT_EQ(doc["cells"].size(), 3u);
  EXPECT_EQ(doc["cells"][0]["p99_ms"]["median"], 280);
  EXPECT_EQ(doc["settings"]["loss_pct"], nlohmann::json::array({5}));
  EXPECT_TRUE(doc["reading"].is_string());
}

TEST(LabReport, JsonLatenciesAreNullWhenNothingArrived) {
  RunResult r = run("enet-unsequenced", 100, 1, 40, 1);
  r.delivered = 0;
  r.arrivals.clear();
  r.latency = summarize({});
  const auto doc = toJson(options(), {r}, summarizeCells({r}));
  EXPECT_TRUE(doc["rows"][0]["p99_ms"].is_null());
  EXPECT_EQ(doc["rows"][0]["delivered"], 0);
}

TEST(LabReport, JsonSamplesOnRequest) {
  CompareOptions o = options();
  o.samples = true;
  const auto runs = sampleRuns();
  const auto doc = toJson(o, runs, summarizeCells(runs));
  EXPECT_EQ(doc["rows"][0]["latencies_ms"].size(), 100u);
  EXPECT_EQ(doc["rows"][6]["latencies_ms"].size(), 90u);
}

TEST(LabReport, ScenarioColumnsAreNullWhereTheyDoNotApply) {
  RunResult hol = run("tcp", 0, 1, 50);
  hol.scenario = Scenario::kHol;
  hol.hol = HolResult{};
  hol.hol->bytes = 1'000'000;
  hol.hol->frames = 250;
  hol.hol->framesDelivered = 250;
  hol.hol->durationMs = 1500;
  const auto doc = toJson(options(), {hol, run("tcp", 0, 1, 50)}, {});
  EXPECT_EQ(doc["rows"][0]["bulk_frames"], 250);
  EXPECT_EQ(doc["rows"][0]["bulk_ms"], 1500);
  EXPECT_TRUE(doc["rows"][1]["bulk_frames"].is_null());
  EXPECT_TRUE(doc["rows"][1]["pings_sent"].is_null());
}

TEST(LabReport, CsvHasAHeaderAndOneLinePerRun) {
  const auto runs = sampleRuns();
  const std::string csv = toCsv(runs);
  std::istringstream lines(csv);
  std::string header;
  std::getline(lines, header);
  EXPECT_TRUE(header.starts_with(
      "scenario,transport,loss_pct,repetition,seed,connected,sent,delivered,in_order,p50_ms,"
      "p95_ms,p99_ms,max_ms,"));
  const auto columns = std::count(header.begin(), header.end(), ',') + 1;
  EXPECT_EQ(static_cast<std::size_t>(columns), csvColumns().size());
  std::size_t rows = 0;
  for (std::string line; std::getline(lines, line);) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ',') + 1, columns) << line;
  }
  EXPECT_EQ(rows, runs.size());
  EXPECT_NE(csv.find("\nchat,tcp,5,1,"), std::string::npos);
}

TEST(LabReport, CsvQuotesTextWithCommas) {
  RunResult r = run("tcp", 20, 1, 50);
  r.connected = false;
  r.error = "connect attempt 4: no answer, gave up";
  const std::string csv = toCsv({r});
  EXPECT_NE(csv.find("\"connect attempt 4: no answer, gave up\""), std::string::npos);
}

TEST(LabReport, TableListsEveryCellAndTheReading) {
  const auto runs = sampleRuns();
  const std::string table = formatTable(options(), summarizeCells(runs));
  EXPECT_NE(table.find("chat: 200 messages"), std::string::npos);
  for (const char* name : {"tcp", "enet-reliable", "enet-unreliable"}) {
    EXPECT_NE(table.find(name), std::string::npos) << name;
  }
  EXPECT_NE(table.find("280 (250-300)"), std::string::npos);  // median (min-max) of TCP's p99
  EXPECT_NE(table.find("5 %: 280 vs 65.0 ms (4.3x)"), std::string::npos);
  EXPECT_NE(table.find("200 ms"), std::string::npos);  // the reading explains TCP's RTO floor
}

TEST(LabReport, EnetTimingIsInTheRowsAndNullOverTcp) {
  CompareOptions o = options();
  RunResult enet = run("enet-reliable", 5, 1, 94);
  enet.senderEnet = {summarize({100, 41, 40, 40}), summarize({100, 53, 52, 52})};
  enet.receiverEnet = {summarize({40, 42}), summarize({52, 60})};
  const RunResult tcp = run("tcp", 5, 1, 300);
  const std::vector<RunResult> runs = {tcp, enet};
  const auto doc = toJson(o, runs, summarizeCells(runs));
  const auto& rows = doc["rows"];
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0]["sender_enet_rtt_p50_ms"].is_null());
  EXPECT_EQ(rows[0]["sender_enet_timing_samples"], 0);
  EXPECT_EQ(rows[1]["sender_enet_rtt_p50_ms"], 40.0);
  EXPECT_EQ(rows[1]["sender_enet_rtt_max_ms"], 100.0);
  EXPECT_EQ(rows[1]["sender_enet_rto_p50_ms"], 52.0);
  EXPECT_EQ(rows[1]["receiver_enet_rto_max_ms"], 60.0);
  EXPECT_EQ(rows[1]["receiver_enet_timing_samples"], 2);
  const auto back = fromJson(doc);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->runs[1].senderEnet.retransmitTimeoutMs.p50, 52.0);
  EXPECT_EQ(back->runs[1].receiverEnet.roundTripMs.max, 42.0);
  EXPECT_EQ(back->runs[0].senderEnet.roundTripMs.count, 0u);
}

TEST(LabReport, JsonReadsBackIntoTheSameReport) {
  CompareOptions o = options();
  o.samples = true;
  std::vector<RunResult> runs = sampleRuns();
  runs[2].error = "sender could not connect: no answer";
  runs[2].connected = false;
  RunResult hol = run("tcp", 5, 1, 120);
  hol.scenario = Scenario::kHol;
  hol.hol = HolResult{1'000'000, 250, 250, true, 500, 1500, hol.latency, summarize({40, 41})};
  RunResult presence = run("enet-reliable", 5, 1, 45);
  presence.scenario = Scenario::kPresence;
  presence.presence =
      PresenceResult{1000, 30, 29, 3.3, presence.latency, summarize({10, 990}), 300};
  runs.push_back(hol);
  runs.push_back(presence);
  HostLoad host;
  host.cpus = 2;
  host.kernel = "6.1";
  const auto doc = toJson(o, runs, summarizeCells(runs), host);
  const auto back = fromJson(doc);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->runs.size(), runs.size());
  EXPECT_EQ(back->options.lossPct, o.lossPct);
  EXPECT_EQ(back->options.transports, o.transports);
  EXPECT_EQ(back->runs[0].arrivals.size(), 100u);
  EXPECT_EQ(back->runs[0].arrivals[3].sentUs, 150'000);
  EXPECT_EQ(back->host.kernel, "6.1");
  CompareOptions again = back->options;
  again.samples = true;
  EXPECT_EQ(toJson(again, back->runs, summarizeCells(back->runs), back->host), doc);
  EXPECT_FALSE(fromJson(nlohmann::json::object()));
  EXPECT_FALSE(fromJson(nlohmann::json{{"settings", {{"scenario", "bulk"}}}, {"rows", {}}}));
}

}  // namespace
}  // namespace udpchat::lab
