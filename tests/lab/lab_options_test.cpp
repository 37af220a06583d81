// udpchat-lab's options: list parsing, the transports, seeds, validation, file labels.
#include "lab/lab_options.hpp"

#include <gtest/gtest.h>

#include <set>

#include "udpchat/limits.hpp"

namespace udpchat::lab {
namespace {

TEST(LabOptions, ParsesLossLists) {
  const auto list = parseNumberList("0,1,2,5,10,20");
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, (std::vector<double>{0, 1, 2, 5, 10, 20}));
  EXPECT_EQ(*parseNumberList(" 2.5 , 7 "), (std::vector<double>{2.5, 7}));
  for (const char* bad : {"", "1,,2", "1,x", "-1", "1;2", "nan", "inf", "5%"}) {
    EXPECT_FALSE(parseNumberList(bad)) << bad;
  }
}

TEST(LabOptions, ParsesTransportLists) {
  const auto list = parseTransportList("tcp,enet-unsequenced");
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, (std::vector<std::string>{"tcp", "enet-unsequenced"}));
  EXPECT_FALSE(parseTransportList("tcp,quic"));
  EXPECT_NE(parseTransportList("udp").error().find("known: tcp, enet-reliable"), std::string::npos);
  EXPECT_FALSE(parseTransportList("tcp,tcp"));
}

TEST(LabOptions, TransportsUseTheLabChannels) {
  ASSERT_EQ(knownTransports().size(), 4u);
  EXPECT_TRUE(findTransport("tcp")->tcp);
  EXPECT_EQ(findTransport("enet-reliable")->chatChannel, kChannelReliable);
  EXPECT_TRUE(findTransport("enet-reliable")->reliable);
  EXPECT_EQ(findTransport("enet-unreliable")->chatChannel, kChannelLabUnreliable);
  EXPECT_FALSE(findTransport("enet-unreliable")->reliable);
  EXPECT_TRUE(findTransport("enet-unreliable")->sequenced);
  EXPECT_EQ(findTransport("enet-unsequenced")->chatChannel, kChannelLabUnsequenced);
  EXPECT_FALSE(findTransport("enet-unsequenced")->sequenced);
  EXPECT_FALSE(findTransport("enet"));
}

TEST(LabOptions, ScenariosByName) {
  EXPECT_EQ(parseScenario("chat"), Scenario::kChat);
  EXPECT_EQ(parseScenario("presence"), Scenario::kPresence);
  EXPECT_EQ(parseScenario("hol"), Scenario::kHol);
  EXPECT_EQ(parseScenario("head-of-line"), Scenario::kHol);
  EXPECT_FALSE(parseScenario("bulk"));
}

TEST(LabOptions, SeedsAreStableAndDifferPerRepetition) {
  EXPECT_EQ(seedFor(1, 1), seedFor(1, 1));
  std::set<std::uint64_t> seeds;
  for (unsigned rep = 1; rep <= 100; ++rep) seeds.insert(seedFor(1, rep));
  EXPECT_EQ(seeds.size(), 100u);
  EXPECT_NE(seedFor(1, 1), seedFor(2, 1));
}

TEST(LabOptions, LinkOfACellIsSymmetric) {
  CompareOptions o;
  o.delayMs = 20;
  o.jitterMs = 3;
  const LinkConfig link = linkFor(o, 5, 42);
  EXPECT_EQ(link.seed, 42u);
  EXPECT_EQ(link.clientToServer, link.serverToClient);
  EXPECT_EQ(link.clientToServer.lossPct, 5);
  EXPECT_EQ(link.clientToServer.delayMs, 20);
  EXPECT_EQ(link.clientToServer.jitterMs, 3);
  EXPECT_FALSE(link.clientToServer.jitterReorders);
}

TEST(LabOptions, ValidateNamesTheProblem) {
  CompareOptions o;
  EXPECT_FALSE(validate(o));
  o.lossPct = {150};
  EXPECT_NE(validate(o)->find("0 to 100"), std::string::npos);
  o = CompareOptions{};
  o.repeat = 0;
  EXPECT_TRUE(validate(o));
  o = CompareOptions{};
  o.bulkWindowBytes = 100;
  EXPECT_NE(validate(o)->find("--bulk-window"), std::string::npos);
  o = CompareOptions{};
  o.pingIntervalMs = 50;
  EXPECT_NE(validate(o)->find("--ping-interval"), std::string::npos);
  o = CompareOptions{};
  o.messageBytes = kMaxTextBytes + 1;
  EXPECT_TRUE(validate(o));
  o = CompareOptions{};
  o.queuePackets = 10;  // a queue bound without a rate: the link refuses it
  EXPECT_TRUE(validate(o));
}

TEST(LabOptions, BulkFramesCoverTheTransfer) {
  CompareOptions o;
  o.bulkBytes = 10'010;
  o.bulkFrameBytes = 4000;
  EXPECT_EQ(o.bulkFrameCount(), 3u);
  EXPECT_EQ(o.bulkFrameSize(0), 4000u);
  EXPECT_EQ(o.bulkFrameSize(1), 4000u);
  EXPECT_EQ(o.bulkFrameSize(2), 2010u);
  EXPECT_EQ(o.bulkFrameSize(3), 0u);
  o.bulkBytes = 8001;  // the last frame still holds a whole header
  EXPECT_EQ(o.bulkFrameSize(2), 40u);
  o.bulkBytes = 1'000'000;
  EXPECT_EQ(o.bulkFrameCount(), 250u);
}

TEST(LabOptions, BulkStartsAfterAQuarterByDefault) {
  CompareOptions o;
  o.messages = 200;
  EXPECT_EQ(o.bulkStartMessage(), 50u);
  o.bulkAfter = 10;
  EXPECT_EQ(o.bulkStartMessage(), 10u);
  o.bulkAfter = 1000;
  EXPECT_EQ(o.bulkStartMessage(), 200u);
}

TEST(LabOptions, LabelsForFiles) {
  EXPECT_EQ(runLabel(Scenario::kChat, "tcp", 5, 1), "chat_tcp_loss5_rep1");
  EXPECT_EQ(runLabel(Scenario::kHol, "enet-reliable", 2.5, 3), "hol_enet-reliable_loss2.5_rep3");
  EXPECT_EQ(formatPercent(0), "0");
  EXPECT_EQ(formatPercent(0.25), "0.25");
  EXPECT_EQ(formatPercent(20), "20");
}

}  // namespace
}  // namespace udpchat::lab
