// udpchat-client --host with several servers (servers sharing one chat): how the list is read.
#include <gtest/gtest.h>

#include "client_runner.hpp"

namespace udpchat::client {
namespace {

TEST(ServerList, OneHostTakesTheDefaultPort) {
  const auto list = parseServerList("192.0.2.7", 7777);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].host, "192.0.2.7");
  EXPECT_EQ((*list)[0].port, 7777);
}

TEST(ServerList, SeveralHostsEachWithAnOptionalPort) {
  const auto list = parseServerList("a.example,b:7778,198.18.0.3", 7777);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].host, "a.example");
  EXPECT_EQ((*list)[0].port, 7777);
  EXPECT_EQ((*list)[1].host, "b");
  EXPECT_EQ((*list)[1].port, 7778);
  EXPECT_EQ((*list)[2].port, 7777);
}

TEST(ServerList, EmptyEntriesAndBadPortsAreRefused) {
  for (const char* bad : {"", ",", "a,", ",a", "a,,b", "a:", "a:0", "a:65536", "a:7x", ":7777"}) {
    EXPECT_FALSE(parseServerList(bad, 7777)) << bad;
  }
}

}  // namespace
}  // namespace udpchat::client
