// Link configuration: validation, the --gilbert parser, the one-line description, and the
// message that says which privilege is missing (built from facts, so no namespace is touched).
#include "lab/link_config.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <limits>

#include "lab/netns.hpp"

namespace udpchat::lab {
namespace {

TEST(LinkConfig, DefaultsAreValidAndPerfect) {
  EXPECT_EQ(validate(LinkConfig{}), std::nullopt);
  EXPECT_EQ(describe(DirectionConfig{}), "perfect");
}

TEST(LinkConfig, ValidateNamesDirectionAndField) {
  LinkConfig config;
  config.clientToServer.lossPct = 101;
  EXPECT_EQ(validate(config),
            "client to server: loss must be a percentage between 0 and 100, not 101");
  config = {};
  config.serverToClient.delayMs = -1;
  ASSERT_TRUE(validate(config));
  EXPECT_NE(validate(config)->find("server to client: delay"), std::string::npos);
  config = {};
  config.clientToServer.jitterMs = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(validate(config));
  config = {};
  config.clientToServer.queuePackets = 10;
  EXPECT_EQ(validate(config), "client to server: a queue bound needs a rate (rateKbit)");
  config.clientToServer.rateKbit = 1000;
  EXPECT_EQ(validate(config), std::nullopt);
  config = {};
  config.clientToServer.gilbert = GilbertElliott{5, 0, 0, 100};
  EXPECT_TRUE(validate(config));
}

TEST(LinkConfig, SymmetricAndIndexing) {
  DirectionConfig c;
  c.lossPct = 5;
  LinkConfig config = LinkConfig::symmetric(c, 9);
  EXPECT_EQ(config.seed, 9u);
  EXPECT_EQ(config[Direction::kClientToServer], c);
  EXPECT_EQ(config[Direction::kServerToClient], c);
  config[Direction::kServerToClient].lossPct = 0;
  EXPECT_EQ(config.clientToServer.lossPct, 5);
  EXPECT_EQ(to_string(Direction::kClientToServer), "c2s");
  EXPECT_EQ(to_string(Direction::kServerToClient), "s2c");
}

TEST(LinkConfig, ParseGilbert) {
  auto two = parseGilbert("1,25");
  ASSERT_TRUE(two);
  EXPECT_EQ(*two, (GilbertElliott{1, 25, 0, 100}));
  auto four = parseGilbert("0.5, 30, 1, 80");
  ASSERT_TRUE(four);
  EXPECT_EQ(*four, (GilbertElliott{0.5, 30, 1, 80}));
  for (const char* bad : {"", "1", "1,2,3", "a,b", "1,,2,3", "1,25,0,101", "1,0", "1,25,"}) {
    EXPECT_FALSE(parseGilbert(bad)) << bad;
  }
  EXPECT_NE(parseGilbert("x").error().find("p,r[,lossGood,lossBad]"), std::string::npos);
}

TEST(LinkConfig, Describe) {
  DirectionConfig c;
  c.lossPct = 5;
  c.delayMs = 20;
  c.jitterMs = 5;
  c.duplicatePct = 1;
  c.rateKbit = 1000;
  c.queuePackets = 50;
  EXPECT_EQ(describe(c),
            "loss 5 %, delay 20 +- 5 ms, duplicate 1 %, rate 1000 kbit/s, queue 50 packets");
}

TEST(Privileges, ExplainsDisabledUserNamespaces) {
  PrivilegeFacts facts;
  facts.uid = 1000;
  facts.netnsErrno = EPERM;
  facts.userNamespaceErrno = EPERM;
  facts.unprivilegedUsernsClone = 0;
  const std::string message = explainMissingPrivileges(facts);
  EXPECT_NE(message.find("as uid 1000"), std::string::npos) << message;
  EXPECT_NE(message.find("Run as root, or allow unprivileged user namespaces: sysctl -w "
                         "kernel.unprivileged_userns_clone=1"),
            std::string::npos)
      << message;
}

TEST(Privileges, ExplainsEachMissingPiece) {
  PrivilegeFacts facts;
  facts.uid = 1000;
  facts.netnsErrno = EPERM;
  facts.userNamespaceErrno = EPERM;
  facts.maxUserNamespaces = 0;
  EXPECT_NE(explainMissingPrivileges(facts).find("sysctl -w user.max_user_namespaces="),
            std::string::npos);
  facts.maxUserNamespaces = 1000;
  facts.apparmorRestrictUserns = 1;
  EXPECT_NE(explainMissingPrivileges(facts).find("apparmor_restrict_unprivileged_userns=0"),
            std::string::npos);
  facts.apparmorRestrictUserns = 0;
  facts.multiThreaded = true;
  EXPECT_NE(explainMissingPrivileges(facts).find("first thing in main"), std::string::npos);

  PrivilegeFacts tun;
  tun.uid = 1000;
  tun.tunErrno = EACCES;
  EXPECT_NE(explainMissingPrivileges(tun).find("chmod 0666 /dev/net/tun"), std::string::npos);
  tun.tunErrno = ENOENT;
  EXPECT_NE(explainMissingPrivileges(tun).find("modprobe tun"), std::string::npos);

  PrivilegeFacts container;
  container.uid = 0;
  container.netnsErrno = EPERM;
  EXPECT_NE(explainMissingPrivileges(container).find("CAP_SYS_ADMIN"), std::string::npos);
}

}  // namespace
}  // namespace udpchat::lab
