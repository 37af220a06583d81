#include "report.hpp"

#include <gtest/gtest.h>

namespace udpchat::bench {
namespace {

// A fanout of 10 messages to 4 members, all complete.
RunReport consistentReport() {
  RunReport r;
  r.server = "chat";
  r.transport = "enet";
  r.clients = 4;
  r.clientsIn = 4;
  r.connectMs = 12.0;
  r.connectLatency = {4, 5'000'000, 11'000'000, 11'500'000, 6'000'000};
  r.messagesSent = 10;
  r.messagesCompleted = 10;
  r.expectedDeliveries = 40;
  r.deliveries = 40;
  r.completedDeliveries = 40;
  r.measuredSeconds = 1.0;
  r.windowDeliveries = 36;
  r.windowCompleted = 9;
  r.deliveriesPerSecond = 36;
  r.messagesPerSecond = 9;
  r.latency = {9, 400'000, 900'000, 900'000, 500'000};
  return r;
}

TEST(ConsistencyProblems, AConsistentReportHasNone) {
  EXPECT_TRUE(consistencyProblems(consistentReport()).empty());
}

TEST(ConsistencyProblems, IncompleteMessagesMustAccountForEveryExpectedDelivery) {
  RunReport r = consistentReport();
  r.messagesCompleted = 9;
  r.messagesIncomplete = 1;
  r.completedDeliveries = 36;
  r.partialDeliveries = 3;
  r.missingDeliveries = 1;
  r.deliveries = 39;
  EXPECT_TRUE(consistencyProblems(r).empty());
  r.missingDeliveries = 2;  // 36 + 3 + 2 != 40
  EXPECT_EQ(consistencyProblems(r).size(), 1u);
}

TEST(ConsistencyProblems, EachBrokenSumIsNamed) {
  RunReport r = consistentReport();
  r.messagesCompleted = 11;  // more than sent
  EXPECT_FALSE(consistencyProblems(r).empty());

  r = consistentReport();
  r.deliveries = 41;  // one delivery belongs to no message
  EXPECT_FALSE(consistencyProblems(r).empty());

  r = consistentReport();
  r.windowCompleted = 11;
  EXPECT_FALSE(consistencyProblems(r).empty());

  r = consistentReport();
  r.latency.p99 = r.latency.max + 1;
  EXPECT_FALSE(consistencyProblems(r).empty());

  r = consistentReport();
  r.clientsFailed = 1;  // 4 in + 1 failed of 4 clients
  EXPECT_FALSE(consistencyProblems(r).empty());

  r = consistentReport();
  r.serverCpuPerSecond = -0.1;
  EXPECT_FALSE(consistencyProblems(r).empty());

  r = consistentReport();
  r.connectLatency.max = 20'000'000;  // one client slower than all of them together
  r.connectLatency.p99 = 20'000'000;
  EXPECT_FALSE(consistencyProblems(r).empty());
}

TEST(ReportJson, CarriesTheFiguresInMillisecondsAndPerSecond) {
  const nlohmann::json j = toJson(consistentReport());
  EXPECT_EQ(j["deliveries_per_s"], 36.0);
  EXPECT_EQ(j["p99_ms"], 0.9);
  EXPECT_EQ(j["p50_ms"], 0.4);
  EXPECT_EQ(j["messages_sent"], 10);
  EXPECT_EQ(j["clients_in"], 4);
  EXPECT_EQ(j["connect_ms"], 12.0);
}

TEST(ReportJson, AReferenceRunAddsItsReportAndTheRatio) {
  RunDescription d;
  d.workload = "fanout";
  RunReport chat = consistentReport();
  RunReport ref = consistentReport();
  ref.server = "reference";
  ref.deliveriesPerSecond = 48;
  const nlohmann::json j = toJson(d, chat, ref);
  EXPECT_EQ(j["workload"], "fanout");
  EXPECT_EQ(j["chat"]["deliveries_per_s"], 36.0);
  EXPECT_EQ(j["reference"]["deliveries_per_s"], 48.0);
  EXPECT_DOUBLE_EQ(j["ratio"].get<double>(), 0.75);
  EXPECT_FALSE(toJson(d, chat, std::nullopt).contains("ratio"));
}

TEST(ReportTable, ShowsBothColumnsAndTheRatio) {
  RunDescription d;
  d.workload = "fanout";
  d.clients = 4;
  RunReport ref = consistentReport();
  ref.server = "reference";
  ref.deliveriesPerSecond = 48;
  const std::string table = toTable(d, consistentReport(), ref);
  EXPECT_NE(table.find("chat (enet)"), std::string::npos);
  EXPECT_NE(table.find("reference (enet)"), std::string::npos);
  EXPECT_NE(table.find("ratio chat/reference deliveries/s: 0.750"), std::string::npos);
  EXPECT_NE(table.find("latency p99 ms"), std::string::npos);
}

}  // namespace
}  // namespace udpchat::bench
