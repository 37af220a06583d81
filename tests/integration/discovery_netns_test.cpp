// LAN discovery between two network namespaces joined by a veth pair (198.18.10.0/24): the real
// udpchat-server in one, udpchat-client --discover in the other, probing by broadcast. Needs
// root (or unprivileged user namespaces) and iproute2's ip; skipped with the reason without
// them, failed under CI=true.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lab/netns.hpp"
#include "lab/netns_test_support.hpp"
#include "subprocess.hpp"

namespace udpchat::test {
namespace {

using namespace std::chrono_literals;
using Stream = Subprocess::Stream;

const char* const kServerBin = UDPCHAT_SERVER_BIN;
const char* const kClientBin = UDPCHAT_CLIENT_BIN;
const char* const kIpBin = UDPCHAT_IP_BIN;
constexpr auto kStep = 5s;

// Runs `ip` with `args` and expects it to succeed.
void ip(std::vector<std::string> args) {
  Subprocess p(kIpBin, args);
  p.drain(after(kStep));
  const auto status = p.wait(after(kStep));
  std::string command = "ip";
  for (const auto& a : args) command += " " + a;
  ASSERT_EQ(status, 0) << command << ": " << ::testing::PrintToString(p.seen(Stream::Stderr));
}

class DiscoveryAcrossALan : public ::testing::Test {
 protected:
  void SetUp() override {
    UDPCHAT_REQUIRE_NETNS();
    const std::string tag = std::to_string(::getpid());
    server_.emplace(lab::Namespace::create("udpchat-disc-s" + tag, true));
    client_.emplace(lab::Namespace::create("udpchat-disc-c" + tag, true));
    if (!server_->published() || !client_->published()) {
      GTEST_SKIP() << "the namespaces could not be published for ip netns exec";
    }
    ASSERT_NO_FATAL_FAILURE(ip({"link", "add", "uds", "netns", server_->name(), "type", "veth",
                                "peer", "name", "udc", "netns", client_->name()}));
    ASSERT_NO_FATAL_FAILURE(ip({"-n", server_->name(), "addr", "add", "198.18.10.1/24",
                                "broadcast", "198.18.10.255", "dev", "uds"}));
    ASSERT_NO_FATAL_FAILURE(ip({"-n", client_->name(), "addr", "add", "198.18.10.2/24",
                                "broadcast", "198.18.10.255", "dev", "udc"}));
    ASSERT_NO_FATAL_FAILURE(ip({"-n", server_->name(), "link", "set", "uds", "up"}));
    ASSERT_NO_FATAL_FAILURE(ip({"-n", client_->name(), "link", "set", "udc", "up"}));
  }

  // udpchat-server in the server namespace, on every address; returns once it listens.
  std::unique_ptr<Subprocess> startServer(std::vector<std::string> extra) {
    std::vector<std::string> args = {"netns",  "exec",      server_->name(), kServerBin,
                                     "--host", "0.0.0.0",   "--port",        "7777",
                                     "--server-name",       "Lab 3 \u2615",
                                     "--no-store"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<Subprocess>(kIpBin, args);
    EXPECT_TRUE(p->waitForLine(Stream::Stdout, "(TCP)", after(kStep)))
        << "the server did not start: " << ::testing::PrintToString(p->seen(Stream::Stderr));
    return p;
  }

  // udpchat-client --discover --json in the client namespace: its exit status and output.
  std::pair<std::optional<int>, std::unique_ptr<Subprocess>> discover() {
    auto p = std::make_unique<Subprocess>(
        kIpBin, std::vector<std::string>{"netns", "exec", client_->name(), kClientBin,
                                         "--discover", "--json", "--port", "7777"});
    p->drain(after(kStep));
    auto status = p->wait(after(kStep));
    return {status, std::move(p)};
  }

  std::optional<lab::Namespace> server_;
  std::optional<lab::Namespace> client_;
};

TEST_F(DiscoveryAcrossALan, AServerInOneNamespaceIsFoundFromTheOther) {
  auto server = startServer({});
  auto [status, client] = discover();
  ASSERT_EQ(status, 0) << ::testing::PrintToString(client->seen(Stream::Stderr));
  const auto& lines = client->seen(Stream::Stdout);
  ASSERT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j.at("type"), "server");
  EXPECT_EQ(j.at("name"), "Lab 3 \u2615");
  EXPECT_EQ(j.at("host"), "198.18.10.1");
  EXPECT_EQ(j.at("port"), 7777);
  EXPECT_EQ(j.at("users"), 0);
  EXPECT_EQ(j.at("full"), false);
  EXPECT_EQ(j.at("compatible"), true);
}

TEST_F(DiscoveryAcrossALan, WithNoDiscoveryTheServerIsNotFound) {
  auto server = startServer({"--no-discovery"});
  auto [status, client] = discover();
  EXPECT_EQ(status, 2);
  EXPECT_TRUE(client->seen(Stream::Stdout).empty());
  ASSERT_FALSE(client->seen(Stream::Stderr).empty());
  const auto j = nlohmann::json::parse(client->seen(Stream::Stderr).back());
  EXPECT_EQ(j.at("code"), "no_servers");
  EXPECT_NE(j.at("message").get<std::string>().find("no udpchat server answered"),
            std::string::npos);
}

}  // namespace
}  // namespace udpchat::test
