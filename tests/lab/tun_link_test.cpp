// The real emulated link: UDP sockets in the client and server namespaces exchange packets
// across the two TUN devices and the pump. Needs root or unprivileged user namespaces; without
// them each test is skipped with the reason, except under CI=true, where it fails.
#include "lab/tun_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "lab/pcapng_writer.hpp"
#include "netns_test_support.hpp"
#include "pcapng_reader.hpp"

namespace udpchat::lab {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr Direction kC2s = Direction::kClientToServer;
constexpr Direction kS2c = Direction::kServerToClient;
constexpr std::uint16_t kPort = 5000;
constexpr milliseconds kPatience{5000};  // far beyond any delay configured here
constexpr std::size_t kBatch = 50;       // packets sent before waiting for the pump to read them

// One UDP socket, created inside a namespace and bound to that side's address.
class Endpoint {
 public:
  Endpoint(const Namespace& ns, const char* address, std::uint16_t port) {
    fd_ = runIn(ns, [&] {
      UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
      const int buffer = 4 << 20;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
      const sockaddr_in addr = socketAddress(address, port);
      if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::system_error(errno, std::generic_category(), "bind");
      }
      return fd;
    });
  }

  static sockaddr_in socketAddress(const char* address, std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &addr.sin_addr);
    return addr;
  }

  // Sends a datagram carrying `seq` (4 bytes, big-endian) padded to `size` bytes.
  void send(const sockaddr_in& to, std::uint32_t seq, std::size_t size = 32) const {
    std::vector<unsigned char> payload(std::max<std::size_t>(size, 4), 0);
    for (int i = 0; i < 4; ++i) payload[static_cast<std::size_t>(i)] = (seq >> (24 - 8 * i)) & 0xFF;
    ASSERT_EQ(::sendto(fd_.get(), payload.data(), payload.size(), 0,
                       reinterpret_cast<const sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(payload.size()));
  }

  // The next datagram's sequence number, waiting up to `timeout`.
  std::optional<std::uint32_t> receive(milliseconds timeout) const {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    unsigned char buffer[2048];
    const ssize_t got = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (got < 4) return std::nullopt;
    return (std::uint32_t{buffer[0]} << 24) | (std::uint32_t{buffer[1]} << 16) |
           (std::uint32_t{buffer[2]} << 8) | buffer[3];
  }

  // Receives until `count` datagrams have arrived in total in `into`, or `timeout` passes
  // without one.
  void receiveUntil(std::vector<std::uint32_t>& into, std::size_t count,
                    milliseconds timeout = kPatience) const {
    while (into.size() < count) {
      const auto seq = receive(timeout);
      if (!seq) return;
      into.push_back(*seq);
    }
  }

  // Whatever is queued right now, without waiting.
  void receiveQueued(std::vector<std::uint32_t>& into) const {
    while (const auto seq = receive(milliseconds(0))) into.push_back(*seq);
  }

 private:
  UniqueFd fd_;
};

struct Sides {
  Endpoint client;
  Endpoint server;
  explicit Sides(const TunLink& link)
      : client(link.clientSide(), kClientAddress, kPort),
        server(link.serverSide(), kServerAddress, kPort) {}
};

const sockaddr_in kToServer = Endpoint::socketAddress(kServerAddress, kPort);
const sockaddr_in kToClient = Endpoint::socketAddress(kClientAddress, kPort);

// Sends sequence numbers 0..count-1 one way, in batches the pump has read before the next
// goes, and returns what the far side received, in order: exactly as many datagrams as the
// link wrote that way.
std::vector<std::uint32_t> stream(const TunLink& link, const Sides& sides, Direction direction,
                                  std::uint32_t count, std::size_t size = 32) {
  const Endpoint& from = direction == kC2s ? sides.client : sides.server;
  const Endpoint& to = direction == kC2s ? sides.server : sides.client;
  const sockaddr_in& address = direction == kC2s ? kToServer : kToClient;
  const std::uint64_t offeredBefore = link.stats()[direction].offered;
  std::vector<std::uint32_t> received;
  for (std::uint32_t seq = 0; seq < count; ++seq) {
    from.send(address, seq, size);
    if ((seq + 1) % kBatch == 0 || seq + 1 == count) {
      EXPECT_TRUE(link.waitForOffered(direction, offeredBefore + seq + 1, kPatience));
      to.receiveQueued(received);
    }
  }
  EXPECT_TRUE(link.waitUntilIdle(kPatience));
  to.receiveUntil(received, link.stats()[direction].written);
  return received;
}

class TunLinkTest : public ::testing::Test {
 protected:
  void SetUp() override { UDPCHAT_REQUIRE_NETNS(); }

  static LinkOptions optionsFor(const DirectionConfig& c2s, const DirectionConfig& s2c,
                                std::uint64_t seed = 1) {
    LinkOptions options;
    options.config.seed = seed;
    options.config.clientToServer = c2s;
    options.config.serverToClient = s2c;
    return options;
  }

  static std::string tempPath(const std::string& name) {
    return ::testing::TempDir() + "udpchat_" + std::to_string(::getpid()) + "_" + name;
  }
};

TEST_F(TunLinkTest, ZeroLossDeliversEveryPingAndReply) {
  TunLink link(optionsFor({}, {}));
  const Sides sides(link);
  for (std::uint32_t seq = 0; seq < 300; ++seq) {
    sides.client.send(kToServer, seq);
    const auto request = sides.server.receive(kPatience);
    ASSERT_EQ(request, seq);
    sides.server.send(kToClient, *request);
    ASSERT_EQ(sides.client.receive(kPatience), seq);
  }
  // The reply can reach the socket before the pump has counted its write.
  ASSERT_TRUE(link.waitUntilIdle(kPatience));
  const LinkStats stats = link.stats();
  for (Direction d : kBothDirections) {
    EXPECT_EQ(stats[d].offered, 300u);
    EXPECT_EQ(stats[d].written, 300u);
    EXPECT_EQ(stats[d].bytesWritten, 300u * (20 + 8 + 32));  // IP + UDP headers + payload
    EXPECT_EQ(stats[d].bytesOffered, stats[d].bytesWritten);
  }
  EXPECT_EQ(stats.ignored, 0u);  // IPv6 is off: the kernel sends nothing of its own
}

TEST_F(TunLinkTest, FullLossOneWayDeliversNothingThatWay) {
  DirectionConfig dead;
  dead.lossPct = 100;
  TunLink link(optionsFor(dead, {}));
  const Sides sides(link);
  EXPECT_TRUE(stream(link, sides, kC2s, 300).empty());
  EXPECT_EQ(link.stats().clientToServer.lost, 300u);
  EXPECT_FALSE(sides.server.receive(milliseconds(20)));
  const auto back = stream(link, sides, kS2c, 300);
  ASSERT_EQ(back.size(), 300u);
  for (std::uint32_t i = 0; i < 300; ++i) EXPECT_EQ(back[i], i);
}

// The live view's keys: the loss changes while the link runs, from the next packet on, both ways.
TEST_F(TunLinkTest, TheLossChangesWhileTheLinkRuns) {
  TunLink link(optionsFor({}, {}));
  const Sides sides(link);
  EXPECT_EQ(stream(link, sides, kC2s, 200).size(), 200u);
  ASSERT_TRUE(link.setLossPct(100));
  EXPECT_TRUE(stream(link, sides, kC2s, 200).empty());
  EXPECT_TRUE(stream(link, sides, kS2c, 200).empty());
  EXPECT_EQ(link.stats().clientToServer.lost, 200u);
  EXPECT_EQ(link.stats().serverToClient.lost, 200u);
  EXPECT_FALSE(link.setLossPct(250));
  ASSERT_TRUE(link.setLossPct(0));
  EXPECT_EQ(stream(link, sides, kS2c, 200).size(), 200u);
}

TEST_F(TunLinkTest, HalfLossLandsNearHalf) {
  DirectionConfig half;
  half.lossPct = 50;
  TunLink link(optionsFor(half, {}, 3));
  const Sides sides(link);
  const std::uint32_t n = 4000;
  const auto received = stream(link, sides, kC2s, n);
  // Exactly the packets the model let through, in order (sigma is 32 packets).
  std::vector<std::uint32_t> expected;
  for (const Decision& d : link.decisions()) {
    if (d.direction == kC2s && d.delivered())
      expected.push_back(static_cast<std::uint32_t>(d.index));
  }
  EXPECT_EQ(received, expected);
  EXPECT_GT(received.size(), n / 2 - 200);
  EXPECT_LT(received.size(), n / 2 + 200);
}

TEST_F(TunLinkTest, ConfiguredDelayShowsInRoundTripTime) {
  DirectionConfig twenty;
  twenty.delayMs = 20;
  TunLink link(optionsFor(twenty, twenty));
  const Sides sides(link);
  std::vector<double> rtts;
  for (std::uint32_t seq = 0; seq < 8; ++seq) {
    const auto sent = SteadyClock::now();
    sides.client.send(kToServer, seq);
    ASSERT_EQ(sides.server.receive(kPatience), seq);
    sides.server.send(kToClient, seq);
    ASSERT_EQ(sides.client.receive(kPatience), seq);
    rtts.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - sent).count());
  }
  std::sort(rtts.begin(), rtts.end());
  EXPECT_GE(rtts.front(), 40.0);
  EXPECT_LT(rtts[rtts.size() / 2], 50.0) << "median RTT, expected 40 ms and a little";
}

// What a run decided, without the arrival times that differ from run to run.
struct Verdict {
  std::uint64_t index;
  std::uint32_t size;
  Fate fate;
  bool reordered;
  bool duplicated;
  std::optional<Micros> delay;  // departure - arrival
  bool operator==(const Verdict&) const = default;
};

std::vector<Verdict> verdicts(const std::vector<Decision>& log) {
  std::vector<Verdict> out;
  for (const Decision& d : log) {
    std::optional<Micros> delay;
    if (d.departure) delay = *d.departure - d.arrival;
    out.push_back({d.index, d.size, d.fate, d.reordered, d.duplicate.has_value(), delay});
  }
  return out;
}

TEST_F(TunLinkTest, SameSeedGivesIdenticalDecisionLog) {
  DirectionConfig c;
  c.lossPct = 30;
  c.duplicatePct = 10;
  c.reorderPct = 10;
  c.reorderDelayMs = 2;
  c.delayMs = 1;
  auto run = [&](std::uint64_t seed, std::vector<std::uint32_t>& received) {
    TunLink link(optionsFor(c, {}, seed));
    const Sides sides(link);
    received = stream(link, sides, kC2s, 500);
    return verdicts(link.decisions());
  };
  std::vector<std::uint32_t> firstReceived;
  std::vector<std::uint32_t> secondReceived;
  std::vector<std::uint32_t> otherReceived;
  const auto first = run(7, firstReceived);
  const auto second = run(7, secondReceived);
  const auto other = run(8, otherReceived);
  ASSERT_EQ(first.size(), 500u);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other);
  std::multiset<std::uint32_t> a(firstReceived.begin(), firstReceived.end());
  std::multiset<std::uint32_t> b(secondReceived.begin(), secondReceived.end());
  EXPECT_EQ(a, b);
}

// What `udpchat-lab compare --jobs` relies on: links running side by side share nothing that
// changes their decisions.
TEST_F(TunLinkTest, FourLinksAtOnceDecideAsOneAloneWithTheSameSeed) {
  DirectionConfig c;
  c.lossPct = 30;
  c.duplicatePct = 10;
  c.delayMs = 1;
  auto run = [&] {
    TunLink link(optionsFor(c, {}, 7));
    const Sides sides(link);
    stream(link, sides, kC2s, 300);
    return verdicts(link.decisions());
  };
  const auto alone = run();
  ASSERT_EQ(alone.size(), 300u);
  std::vector<decltype(run())> together(4);
  std::vector<std::thread> threads;
  for (auto& result : together) threads.emplace_back([&] { result = run(); });
  for (std::thread& t : threads) t.join();
  for (const auto& result : together) EXPECT_EQ(result, alone);
}

TEST_F(TunLinkTest, DuplicatesArriveTwice) {
  DirectionConfig c;
  c.duplicatePct = 25;
  TunLink link(optionsFor(c, {}, 4));
  const Sides sides(link);
  const auto received = stream(link, sides, kC2s, 1000);
  std::map<std::uint32_t, int> copies;
  for (std::uint32_t seq : received) ++copies[seq];
  long duplicated = 0;
  for (const Decision& d : link.decisions()) {
    const int expected = d.duplicate ? 2 : 1;
    duplicated += d.duplicate.has_value();
    EXPECT_EQ(copies[static_cast<std::uint32_t>(d.index)], expected) << d.index;
  }
  EXPECT_EQ(received.size(), 1000u + static_cast<std::size_t>(duplicated));
  EXPECT_GT(duplicated, 180);
  EXPECT_LT(duplicated, 320);
}

TEST_F(TunLinkTest, ReorderingArrivesInThePredictedOrder) {
  DirectionConfig c;
  c.reorderPct = 20;
  c.reorderDelayMs = 3;
  TunLink link(optionsFor(c, {}, 5));
  const Sides sides(link);
  const auto received = stream(link, sides, kC2s, 1000);
  // Copies leave in order of departure time, ties in the order they were decided.
  std::vector<std::pair<Micros, std::uint64_t>> departures;
  for (const Decision& d : link.decisions()) departures.emplace_back(*d.departure, d.index);
  std::stable_sort(departures.begin(), departures.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::uint32_t> predicted;
  for (const auto& [when, index] : departures)
    predicted.push_back(static_cast<std::uint32_t>(index));
  EXPECT_EQ(received, predicted);
  int late = 0;
  std::uint32_t highest = 0;
  for (std::uint32_t seq : received) {
    late += seq < highest;
    highest = std::max(highest, seq);
  }
  EXPECT_GT(late, 20) << "reordering was not observable";
  EXPECT_LE(late, static_cast<int>(link.stats().clientToServer.reordered));
}

TEST_F(TunLinkTest, RateLimitShapesAndDropsAtTheQueueBound) {
  DirectionConfig c;
  c.rateKbit = 1000;  // 1 Mbit/s: a 125-byte packet takes 1 ms
  c.queuePackets = 10;
  TunLink link(optionsFor(c, {}));
  const Sides sides(link);
  // 97 bytes of payload + 8 UDP + 20 IP = 125 bytes, sent back to back.
  const auto received = stream(link, sides, kC2s, 100, 97);
  const LinkStats stats = link.stats();
  EXPECT_GT(stats.clientToServer.queueFull, 0u);
  EXPECT_EQ(received.size(), stats.clientToServer.written);
  std::vector<Micros> departures;
  for (const Decision& d : link.decisions()) {
    EXPECT_EQ(d.size, 125u);
    if (d.delivered()) departures.push_back(*d.departure);
  }
  for (std::size_t i = 1; i < departures.size(); ++i) {
    EXPECT_GE(departures[i] - departures[i - 1], 1000) << i;
  }
}

TEST_F(TunLinkTest, PcapAndLogRecordEverything) {
  DirectionConfig c;
  c.lossPct = 20;
  c.duplicatePct = 10;
  c.delayMs = 1;
  LinkOptions options = optionsFor(c, c, 9);
  options.pcapPath = tempPath("link.pcapng");
  options.logPath = tempPath("link.log");
  LinkStats stats;
  std::vector<Decision> decisions;
  {
    TunLink link(options);
    const Sides sides(link);
    stream(link, sides, kC2s, 300);
    stream(link, sides, kS2c, 300);
    stats = link.stats();
    decisions = link.decisions();
  }  // the destructor finishes both files

  const auto parsed = test::parsePcapng(test::readBinaryFile(options.pcapPath));
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->interfaces.size(), 1u);
  EXPECT_EQ(parsed->interfaces[0].linktype, 101);
  std::size_t records = 0;
  std::map<std::string, std::size_t> byVerdict;
  for (Direction d : kBothDirections) {
    records += stats[d].offered + stats[d].duplicated;
  }
  ASSERT_EQ(parsed->packets.size(), records);
  for (const auto& packet : parsed->packets) {
    byVerdict[packet.comment.substr(0, packet.comment.find(';'))]++;
    ASSERT_GE(packet.data.size(), 20u);
    EXPECT_EQ(std::to_integer<int>(packet.data[0]) >> 4, 4);
    char source[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, packet.data.data() + 12, source, sizeof source);
    ASSERT_TRUE(packet.flags);
    const bool outbound = *packet.flags == kEpbOutbound;
    EXPECT_EQ(std::string(source), outbound ? kClientAddress : kServerAddress);
  }
  EXPECT_EQ(byVerdict["dropped: loss"], stats.clientToServer.lost + stats.serverToClient.lost);
  EXPECT_EQ(byVerdict["duplicate"],
            stats.clientToServer.duplicated + stats.serverToClient.duplicated);
  EXPECT_EQ(byVerdict["delivered"] + byVerdict["duplicate"],
            stats.clientToServer.written + stats.serverToClient.written);

  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap = pcap_open_offline(options.pcapPath.c_str(), error);
  ASSERT_NE(pcap, nullptr) << error;
  EXPECT_EQ(pcap_datalink(pcap), DLT_RAW);
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  std::size_t libpcapCount = 0;
  while (pcap_next_ex(pcap, &header, &data) == 1) ++libpcapCount;
  pcap_close(pcap);
  EXPECT_EQ(libpcapCount, records);

  std::ifstream log(options.logPath);
  std::vector<std::string> lines;
  for (std::string line; std::getline(log, line);) {
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), decisions.size());
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i], formatDecision(decisions[i]));
  std::remove(options.pcapPath.c_str());
  std::remove(options.logPath.c_str());
}

TEST_F(TunLinkTest, SpawnedProgramRunsInsideTheNamespace) {
  TunLink link(LinkOptions{});
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd readEnd(out[0]);
  UniqueFd writeEnd(out[1]);
  ChildStdio stdio;
  stdio.out = writeEnd.get();
  ChildProcess child = spawnIn(link.clientSide(), {"cat", "/proc/net/dev"}, stdio);
  writeEnd.reset();
  std::string text;
  char buffer[4096];
  for (ssize_t got; (got = ::read(readEnd.get(), buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(got));
  }
  EXPECT_EQ(child.wait(kPatience), 0);
  EXPECT_NE(text.find(kClientDevice), std::string::npos) << text;
  EXPECT_EQ(text.find(kServerDevice), std::string::npos) << text;
  EXPECT_THROW(spawnIn(link.serverSide(), {"/nonexistent/program"}), std::system_error);
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

TEST_F(TunLinkTest, DestructorDeletesTheNamespaces) {
  std::vector<std::string> names;
  {
    TunLink link(LinkOptions{});
    if (!link.clientSide().published()) GTEST_SKIP() << "namespaces are named only as root";
    names = {link.clientSide().name(), link.serverSide().name()};
    for (const auto& name : names) EXPECT_TRUE(exists("/run/netns/" + name)) << name;
  }
  for (const auto& name : names) EXPECT_FALSE(exists("/run/netns/" + name)) << name;
}

TEST_F(TunLinkTest, SigintDeletesTheNamespaces) {
  // A child process makes a link and dies of SIGINT; its named namespaces must be gone.
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(report[0]);
    std::string text;
    try {
      TunLink link(LinkOptions{});
      text = link.clientSide().published()
                 ? "names " + link.clientSide().name() + " " + link.serverSide().name()
                 : "unnamed";
      [[maybe_unused]] auto written = ::write(report[1], text.data(), text.size());
      ::close(report[1]);
      ::raise(SIGINT);
    } catch (const std::exception& e) {
      text = std::string("error ") + e.what();
      [[maybe_unused]] auto written = ::write(report[1], text.data(), text.size());
    }
    ::_exit(3);
  }
  ::close(report[1]);
  std::string text;
  char buffer[256];
  for (ssize_t got; (got = ::read(report[0], buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(report[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  if (text == "unnamed") GTEST_SKIP() << "namespaces are named only as root";
  ASSERT_EQ(text.rfind("names ", 0), 0u) << text;
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child should die of SIGINT";
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  std::istringstream names(text.substr(6));
  int checked = 0;
  for (std::string name; names >> name; ++checked) {
    EXPECT_FALSE(exists("/run/netns/" + name)) << name;
  }
  EXPECT_EQ(checked, 2);
}

}  // namespace
}  // namespace udpchat::lab
