// The small rules of the bench's command line: where it may send load, CPU lists, the server's
// listening line, and the texts its messages carry.
#include <gtest/gtest.h>

#include "cpu_list.hpp"
#include "message_text.hpp"
#include "server_process.hpp"
#include "target.hpp"

namespace udpchat::bench {
namespace {

TEST(Target, LoopbackAddressesAreLoopback) {
  EXPECT_TRUE(isLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(isLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(isLoopbackHost("127.255.255.254"));
  EXPECT_TRUE(isLoopbackHost("::1"));
  EXPECT_TRUE(isLoopbackHost("localhost"));
}

TEST(Target, EverythingElseIsNot) {
  EXPECT_FALSE(isLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(isLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(isLoopbackHost("192.168.1.10"));
  EXPECT_FALSE(isLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(isLoopbackHost("::"));
  EXPECT_FALSE(isLoopbackHost("example.org"));
  EXPECT_FALSE(isLoopbackHost("localhost.example.org"));
  EXPECT_FALSE(isLoopbackHost("127.0.0.1.example.org"));
  EXPECT_FALSE(isLoopbackHost(""));
}

TEST(Target, OtherHostsOnlyWhenNamedExplicitly) {
  EXPECT_FALSE(targetRefusal("127.0.0.1", false));
  EXPECT_FALSE(targetRefusal("127.0.0.1", true));
  const auto refusal = targetRefusal("192.168.1.10", false);
  ASSERT_TRUE(refusal);
  EXPECT_NE(refusal->find("--host"), std::string::npos);
  EXPECT_FALSE(targetRefusal("192.168.1.10", true));
  EXPECT_TRUE(targetRefusal("", true));
}

TEST(CpuList, ParsesSinglesRangesAndLists) {
  EXPECT_EQ(parseCpuList("1"), (std::vector<int>{1}));
  EXPECT_EQ(parseCpuList("0-1"), (std::vector<int>{0, 1}));
  EXPECT_EQ(parseCpuList("3,0-1,1"), (std::vector<int>{0, 1, 3}));
}

TEST(CpuList, RejectsWhatTasksetWouldReject) {
  EXPECT_FALSE(parseCpuList(""));
  EXPECT_FALSE(parseCpuList("a"));
  EXPECT_FALSE(parseCpuList("1-"));
  EXPECT_FALSE(parseCpuList("2-1"));
  EXPECT_FALSE(parseCpuList("1,,2"));
  EXPECT_FALSE(parseCpuList("-1"));
  EXPECT_FALSE(parseCpuList("1024"));
}

TEST(ListeningLine, ThePortOfTheServersLine) {
  EXPECT_EQ(parseListeningPort("udpchat-server listening on 127.0.0.1:40123 (UDP, ENet)"), 40123);
  EXPECT_EQ(parseListeningPort("udpchat-bench reference server listening on 0.0.0.0:7777"), 7777);
  EXPECT_EQ(parseListeningPort("listening on [::1]:9000 (TCP)"), 9000);
}

TEST(ListeningLine, OtherLinesHaveNoPort) {
  EXPECT_FALSE(parseListeningPort("udpchat-server: cannot listen on 0.0.0.0:7777: in use x"));
  EXPECT_FALSE(parseListeningPort("hello"));
  EXPECT_FALSE(parseListeningPort("listening on 127.0.0.1"));
  EXPECT_FALSE(parseListeningPort("listening on 127.0.0.1:0"));
  EXPECT_FALSE(parseListeningPort("listening on 127.0.0.1:70000"));
  EXPECT_FALSE(parseListeningPort("listening on 127.0.0.1:12ab"));
}

TEST(MessageText, CarriesItsSequenceNumberAndHasTheAskedLength) {
  const std::string text = messageText(1234, 32);
  EXPECT_EQ(text.size(), 32u);
  EXPECT_EQ(text.substr(0, 5), "1234 ");
  EXPECT_EQ(parseMessageSeq(text), 1234u);
}

TEST(MessageText, ANumberLongerThanTheLengthIsKeptWhole) {
  EXPECT_EQ(messageText(123456789, 8), "123456789");
  EXPECT_EQ(parseMessageSeq(messageText(123456789, 8)), 123456789u);
  EXPECT_EQ(messageText(12345678, 9), "12345678 ");
}

TEST(MessageText, TextsTheBenchDidNotWriteHaveNoNumber) {
  EXPECT_FALSE(parseMessageSeq(""));
  EXPECT_FALSE(parseMessageSeq("hello 12"));
  EXPECT_FALSE(parseMessageSeq("12x"));
  EXPECT_FALSE(parseMessageSeq("-3 x"));
  EXPECT_FALSE(parseMessageSeq("99999999999999999999999 x"));  // beyond 64 bits
  EXPECT_EQ(parseMessageSeq("0"), 0u);
}

}  // namespace
}  // namespace udpchat::bench
