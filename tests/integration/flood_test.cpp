// Floods and junk at the real udpchat-server, with real clients chatting through them: every
// message they send must arrive, the server must keep answering new clients, and its memory
// must stay bounded. Label "flood" (docs/SECURITY.md, "Floods"); each test prints its figures.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <random>
#include <thread>

#include "binaries_support.hpp"
#include "udpchat/protocol.hpp"

namespace udpchat::test {
namespace {

using Clock = std::chrono::steady_clock;
using Datagram = std::vector<std::uint8_t>;

std::size_t statusField(pid_t pid, const std::string& field) {  // kB fields of /proc/<pid>/status
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == field + ":") {
      std::size_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  ADD_FAILURE() << "no " << field << " for pid " << pid;
  return 0;
}
std::size_t rss(pid_t pid) { return statusField(pid, "VmRSS"); }

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer a freed block waits in a quarantine (256 MB by default) before it can
// be reused, so a server that frees everything still grows by what the flood allocated: the
// memory bounds below would measure the sanitizer. The servers these tests start get a small
// quarantine instead; use-after-free is still caught for the blocks it holds, and leaks are
// still LeakSanitizer's at exit. ASan reads its options when a process starts, so this only
// reaches the children.
const bool kSmallQuarantineForChildren = [] {
  const char* given = std::getenv("ASAN_OPTIONS");
  std::string options = given ? given : "";
  if (!options.empty()) options += ':';
  options += "quarantine_size_mb=4:thread_local_quarantine_size_kb=256";
  return ::setenv("ASAN_OPTIONS", options.c_str(), 1) == 0;
}();
#endif
std::size_t openDescriptors(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++n;
  }
  return n;
}

sockaddr_in loopbackAt(std::uint16_t port, std::uint32_t host = INADDR_LOOPBACK) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(host);
  return a;
}

int udpSocket() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  EXPECT_GE(fd, 0);
  const sockaddr_in any = loopbackAt(0);
  EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&any), sizeof any), 0);
  return fd;
}
std::uint16_t portOf(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// Sends `datagrams` to `to` with sendmmsg, in batches; a full socket buffer drops the rest of a
// batch (that is what a flood does to itself).
void sendAll(int fd, const sockaddr_in& to, std::vector<Datagram>& datagrams) {
  constexpr std::size_t kBatch = 64;
  std::array<mmsghdr, kBatch> headers{};
  std::array<iovec, kBatch> iov{};
  for (std::size_t first = 0; first < datagrams.size(); first += kBatch) {
    const std::size_t n = std::min(kBatch, datagrams.size() - first);
    for (std::size_t i = 0; i < n; ++i) {
      iov[i].iov_base = datagrams[first + i].data();
      iov[i].iov_len = datagrams[first + i].size();
      headers[i] = {};
      headers[i].msg_hdr.msg_iov = &iov[i];
      headers[i].msg_hdr.msg_iovlen = 1;
      headers[i].msg_hdr.msg_name = const_cast<sockaddr_in*>(&to);
      headers[i].msg_hdr.msg_namelen = sizeof to;
    }
    ::sendmmsg(fd, headers.data(), static_cast<unsigned>(n), 0);
  }
}

// ---- the junk -----------------------------------------------------------------------------

// ENet 1.3's fixed command sizes, by command number (1 to 12).
constexpr std::array<std::size_t, 13> kEnetCommandBytes = {0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24};

class Junk {
 public:
  explicit Junk(std::uint64_t seed) : rng_(seed) {}

  Datagram randomBytes() {
    Datagram d(below(1400) + 1);
    for (auto& b : d) b = byte();
    return d;
  }

  // A header ENet parses (peer id 0xFFF or a low one, any session bits, sometimes a sent time)
  // followed by one to four commands of their proper sizes with random contents.
  Datagram enetShaped() {
    Datagram d;
    const std::uint16_t peer = below(2) == 0 ? 0x0FFF : static_cast<std::uint16_t>(below(8));
    const bool sentTime = below(2) == 0;
    const std::uint16_t field =
        static_cast<std::uint16_t>(peer | (below(4) << 12) | (sentTime ? 0x8000 : 0));
    put16(d, field);
    if (sentTime) put16(d, static_cast<std::uint16_t>(below(65536)));
    for (std::uint32_t c = 0, n = below(4) + 1; c < n; ++c) {
      const std::uint32_t command = below(12) + 1;
      const std::size_t at = d.size();
      d.resize(at + kEnetCommandBytes[command]);
      for (std::size_t i = at; i < d.size(); ++i) d[i] = byte();
      d[at] = static_cast<std::uint8_t>(command | (below(4) << 6));  // ack / unsequenced flags
      if (command >= 6 && command != 10 && command != 11) {  // a data length, small or not
        const std::size_t offset = command == 6 ? 4 : 6;
        const std::uint16_t length = below(4) == 0 ? static_cast<std::uint16_t>(below(65536))
                                                   : static_cast<std::uint16_t>(below(64));
        d[at + offset] = static_cast<std::uint8_t>(length >> 8);
        d[at + offset + 1] = static_cast<std::uint8_t>(length);
        for (std::uint32_t i = 0; i < std::min<std::uint32_t>(length, 64); ++i) d.push_back(byte());
      }
    }
    return d;
  }

  // A real datagram with one to four edits: bytes flipped, set to 0 or 0xFF, fields set to
  // extreme values, cut short or grown.
  Datagram mutate(const Datagram& real) {
    Datagram d = real;
    for (std::uint32_t e = 0, n = below(4) + 1; e < n && !d.empty(); ++e) {
      const std::size_t at = below(static_cast<std::uint32_t>(d.size()));
      switch (below(6)) {
        case 0: d[at] ^= static_cast<std::uint8_t>(1u << below(8)); break;
        case 1: d[at] = below(2) == 0 ? 0x00 : 0xFF; break;
        case 2: for (std::size_t i = at; i < std::min(d.size(), at + 4); ++i) d[i] = 0xFF; break;
        case 3: d.resize(at + 1); break;
        case 4: for (std::uint32_t i = 0, k = below(32) + 1; i < k; ++i) d.push_back(byte()); break;
        default: d[at] = byte(); break;
      }
    }
    return d;
  }

 private:
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }
  std::uint8_t byte() { return static_cast<std::uint8_t>(rng_()); }
  static void put16(Datagram& d, std::uint16_t v) {
    d.push_back(static_cast<std::uint8_t>(v >> 8));
    d.push_back(static_cast<std::uint8_t>(v));
  }
  std::mt19937_64 rng_;  // reproducible junk: the seed is printed with the figures
};

// Stands between one client and the server, forwarding both ways, and keeps the datagrams the
// client sent: mutations of them, sent from the relay's own socket, reach the server as that
// client's peer would send them.
class Relay {
 public:
  explicit Relay(std::uint16_t serverPort) : fd_(udpSocket()), server_(loopbackAt(serverPort)) {}
  ~Relay() { ::close(fd_); }
  std::uint16_t port() const { return portOf(fd_); }
  int fd() const { return fd_; }
  const sockaddr_in& server() const { return server_; }

  // Forwards whatever has arrived, without waiting.
  void pump() {
    std::array<std::uint8_t, 2048> buffer{};
    for (int i = 0; i < 256; ++i) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t got = ::recvfrom(fd_, buffer.data(), buffer.size(), 0,
                                     reinterpret_cast<sockaddr*>(&from), &len);
      if (got < 0) return;
      const bool fromServer = from.sin_port == server_.sin_port;
      if (!fromServer) {
        client_ = from;
        haveClient_ = true;
        std::lock_guard lock(mutex_);
        if (seen_.size() < 512) seen_.emplace_back(buffer.begin(), buffer.begin() + got);
      }
      if (fromServer && !haveClient_) continue;
      const sockaddr_in& to = fromServer ? client_ : server_;
      ::sendto(fd_, buffer.data(), static_cast<std::size_t>(got), 0,
               reinterpret_cast<const sockaddr*>(&to), sizeof to);
    }
  }
  std::vector<Datagram> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  int fd_;
  sockaddr_in server_;
  sockaddr_in client_{};
  bool haveClient_ = false;
  mutable std::mutex mutex_;
  std::vector<Datagram> seen_;
};

// Alice writes, Bob answers, each waiting for the other's line: every message must arrive.
struct Conversation {
  Subprocess& alice;
  Subprocess& bob;
  int exchanges = 0;
  ::testing::AssertionResult exchange() {
    const std::string a = "a" + std::to_string(exchanges), b = "b" + std::to_string(exchanges);
    if (!alice.write(a + "\n")) return ::testing::AssertionFailure() << "alice's stdin closed";
    if (!waitForEvent(bob, {{"type", "message"}, {"from", "alice"}, {"text", a}})) {
      return ::testing::AssertionFailure() << "bob never got " << a;
    }
    if (!bob.write(b + "\n")) return ::testing::AssertionFailure() << "bob's stdin closed";
    if (!waitForEvent(alice, {{"type", "message"}, {"from", "bob"}, {"text", b}})) {
      return ::testing::AssertionFailure() << "alice never got " << b;
    }
    ++exchanges;
    return ::testing::AssertionSuccess();
  }
};

// A chat fast enough for the conversation: the defaults' 5 a second would refuse it.
const std::vector<std::string> kChatty = {"--rate", "10000", "--rate-burst", "10000"};

TEST(UdpFlood, AMillionMalformedDatagramsWhileTwoClientsChat) {
  ServerProcess server(kChatty);
  const pid_t pid = server.proc().pid();
  auto alice = startClient(server.port(), "alice");
  auto bob = startClient(server.port(), "bob");
  waitUntilInLobby(*alice, "alice");
  waitUntilInLobby(*bob, "bob");

  // Carol, the attacker, goes through the relay so that her real datagrams can be mutated and
  // sent as hers. The relay is pumped by a thread of its own until the flood starts, then by
  // the flood.
  Relay relay(server.port());
  auto carol = startClient(relay.port(), "carol");
  std::atomic<bool> pumping{true};
  std::thread pump([&] {
    while (pumping) {
      pollfd p{relay.fd(), POLLIN, 0};
      ::poll(&p, 1, 10);
      relay.pump();
    }
  });
  const bool carolIn =
      waitForEvent(*carol, {{"type", "welcome"}, {"nick", "carol"}}).has_value() &&
      carol->write("carol's real message, to be mangled\n") &&
      waitForEvent(*alice, {{"type", "message"}, {"from", "carol"}}).has_value();
  pumping = false;
  pump.join();
  ASSERT_TRUE(carolIn) << "carol never got in and said something through the relay";
  ASSERT_FALSE(relay.seen().empty());

  Conversation talk{*alice, *bob};
  ASSERT_TRUE(talk.exchange());
  const std::size_t rssBefore = rss(pid);

  constexpr std::size_t kTotal = 1'000'000, kRound = 3 * 1024;
  constexpr std::uint64_t kSeed = 20261204;
  std::atomic<bool> flooding{true};
  std::atomic<std::size_t> sent{0};
  const auto began = Clock::now();
  std::thread flood([&] {
    Junk junk(kSeed);
    const int direct = udpSocket();
    const sockaddr_in to = loopbackAt(server.port());
    const std::vector<Datagram> real = relay.seen();
    std::vector<Datagram> random, shaped, mutated;
    while (sent < kTotal) {
      random.clear();
      shaped.clear();
      mutated.clear();
      for (std::size_t i = 0; i < kRound / 3; ++i) {
        random.push_back(junk.randomBytes());
        shaped.push_back(junk.enetShaped());
        mutated.push_back(junk.mutate(real[i % real.size()]));
      }
      sendAll(direct, to, random);
      sendAll(direct, to, shaped);
      sendAll(relay.fd(), relay.server(), mutated);  // as carol's peer
      relay.pump();
      sent += kRound;
    }
    ::close(direct);
    flooding = false;
  });
  int duringFlood = 0;
  while (flooding) {
    const auto ok = talk.exchange();
    if (!ok) {
      flooding = false;  // stop early: the failure below says why
      flood.join();
      FAIL() << ok.message() << " (exchange " << talk.exchanges << ", during the flood)";
    }
    ++duringFlood;
  }
  flood.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - began).count();
  const std::size_t rssDuring = rss(pid);

  for (int i = 0; i < 10; ++i) ASSERT_TRUE(talk.exchange()) << "after the flood";
  auto dave = startClient(server.port(), "dave");
  waitUntilInLobby(*dave, "dave");
  EXPECT_FALSE(server.proc().wait(after(0ms))) << "the server exited";
  const std::size_t rssAfter = rss(pid);
  EXPECT_LT(rssAfter, rssBefore + 64u * 1024 * 1024)
      << "before " << rssBefore << ", after " << rssAfter;

  std::cout << "udp flood: " << sent << " datagrams (seed " << kSeed << ") in " << seconds
            << " s, " << static_cast<std::uint64_t>(static_cast<double>(sent) / seconds)
            << "/s; " << duringFlood << " alice-bob exchanges during it, all delivered; server RSS "
            << rssBefore / 1024 << " kB before, " << rssDuring / 1024 << " kB at the end, "
            << rssAfter / 1024 << " kB after" << std::endl;
  RecordProperty("exchanges_during_flood", duringFlood);
}

// ---- TCP ------------------------------------------------------------------------------------

int tcpConnect(std::uint16_t port, std::uint32_t from = INADDR_LOOPBACK) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr_in source = loopbackAt(0, from);
  const sockaddr_in to = loopbackAt(port);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0 ||
      ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until the server closes the connection or the deadline passes; true if it closed.
bool closedByServer(int fd, Deadline deadline) {
  std::array<char, 4096> buffer{};
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) continue;
    const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (got <= 0) return true;  // FIN or reset
  }
  return false;
}

TEST(TcpFlood, HundredsOfHalfRecordsFromManyAddressesStallWhileOthersChat) {
  // --limit-loopback: the per-address limits apply, so the 320 stalls come from 80 addresses,
  // four each, the most unregistered sessions an address may hold.
  std::vector<std::string> args = kChatty;
  args.insert(args.end(), {"--limit-loopback", "--max-clients", "400"});
  ServerProcess server(args);
  const pid_t pid = server.proc().pid();
  auto alice = startClient(server.port(), "alice", {"--json"}, "tcp");
  auto bob = startClient(server.port(), "bob");
  waitUntilInLobby(*alice, "alice");
  waitUntilInLobby(*bob, "bob");
  Conversation talk{*alice, *bob};
  ASSERT_TRUE(talk.exchange());
  const std::size_t rssBefore = rss(pid);

  std::vector<int> stalls;
  const std::uint8_t half[] = {0x00, 0x20, 0x00, 0x01, 0x02};  // a record of 32 bytes, 3 sent
  for (std::uint32_t a = 0; a < 80; ++a) {
    for (int i = 0; i < 4; ++i) {
      const int fd = tcpConnect(server.port(), 0x7F010000 + a + 2);  // 127.1.0.2 ...
      ASSERT_GE(fd, 0) << "connect " << stalls.size();
      ASSERT_EQ(::send(fd, half, sizeof half, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof half));
      stalls.push_back(fd);
    }
  }
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(talk.exchange()) << "with 320 stalled records";
  auto carol = startClient(server.port(), "carol", {"--json"}, "tcp");
  waitUntilInLobby(*carol, "carol");

  // Each stall is closed at the registration deadline (10 s), none of them later.
  const auto began = Clock::now();
  std::size_t closed = 0;
  for (int fd : stalls) {
    closed += closedByServer(fd, after(15s)) ? 1 : 0;
    ::close(fd);
  }
  const double waited = std::chrono::duration<double>(Clock::now() - began).count();
  EXPECT_EQ(closed, stalls.size());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(talk.exchange()) << "after the stalls";
  const std::size_t rssAfter = rss(pid);
  EXPECT_LT(rssAfter, rssBefore + 32u * 1024 * 1024);
  std::cout << "tcp stalls: " << stalls.size() << " half records from 80 addresses, all closed by "
            << "the server within " << waited << " s of the last connect; " << talk.exchanges
            << " exchanges delivered; RSS " << rssBefore / 1024 << " kB -> " << rssAfter / 1024
            << " kB" << std::endl;
}

TEST(TcpFlood, AFourGibibyteLengthPrefixIsRefusedAtOnce) {
  ServerProcess server(kChatty);
  auto alice = startClient(server.port(), "alice", {"--json"}, "tcp");
  waitUntilInLobby(*alice, "alice");
  const int fd = tcpConnect(server.port());
  ASSERT_GE(fd, 0);
  // A 32-bit length of 2^32 - 1: the first two bytes are read as the u16 length 65535, over
  // 8193, and the connection is reset before any body is sent.
  const std::uint8_t prefix[] = {0xFF, 0xFF, 0xFF, 0xFF};
  ASSERT_EQ(::send(fd, prefix, sizeof prefix, MSG_NOSIGNAL), 4);
  EXPECT_TRUE(closedByServer(fd, after(kStep)));
  ::close(fd);
  ASSERT_TRUE(alice->write("still here\n"));
  EXPECT_TRUE(waitForEvent(*alice, {{"type", "message"}, {"from", "alice"}, {"text", "still here"}}));
}

TEST(TcpFlood, TenThousandConnectsAndDisconnectsLeaveNoDescriptorOrMemoryBehind) {
  ServerProcess server(kChatty);
  const pid_t pid = server.proc().pid();
  auto alice = startClient(server.port(), "alice", {"--json"}, "tcp");
  auto bob = startClient(server.port(), "bob");
  waitUntilInLobby(*alice, "alice");
  waitUntilInLobby(*bob, "bob");
  Conversation talk{*alice, *bob};
  ASSERT_TRUE(talk.exchange());
  const std::size_t fdsBefore = openDescriptors(pid), rssBefore = rss(pid);

  const auto began = Clock::now();
  constexpr int kCycles = 10'000;
  int refused = 0;
  for (int i = 0; i < kCycles; ++i) {
    const int fd = tcpConnect(server.port());
    if (fd < 0) {
      ++refused;
      continue;
    }
    if (i % 2 == 1) {  // every other one is reset rather than closed
      const linger abort{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    ::close(fd);
    if (i % 1000 == 999) {
      ASSERT_TRUE(talk.exchange()) << "after " << i + 1 << " cycles";
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - began).count();
  EXPECT_EQ(refused, 0);
  // The server notices the last closes within its next loop turns; an exchange is a turn later.
  ASSERT_TRUE(talk.exchange());
  const auto deadline = after(kStep);
  std::size_t fdsAfter = openDescriptors(pid);
  while (fdsAfter > fdsBefore && Clock::now() < deadline) {
    ASSERT_TRUE(talk.exchange());
    fdsAfter = openDescriptors(pid);
  }
  EXPECT_LE(fdsAfter, fdsBefore);
  const std::size_t rssAfter = rss(pid);
  EXPECT_LT(rssAfter, rssBefore + 16u * 1024 * 1024);
  std::cout << "tcp cycles: " << kCycles << " connects and closes in " << seconds << " s; server "
            << "descriptors " << fdsBefore << " -> " << fdsAfter << ", RSS " << rssBefore / 1024
            << " kB -> " << rssAfter / 1024 << " kB; " << talk.exchanges
            << " exchanges delivered" << std::endl;
}

// ---- protocol abuse by a registered client ---------------------------------------------------

// A client written against docs/PROTOCOL.md, over TCP, sending what no well-behaved client sends.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : fd_(tcpConnect(port)) {}
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool open() const { return fd_ >= 0; }

  bool sendFrame(const protocol::Bytes& frame, std::uint8_t channel = 0) {
    std::vector<std::uint8_t> record(3 + frame.size());
    const std::size_t length = frame.size() + 1;
    record[0] = static_cast<std::uint8_t>(length >> 8);
    record[1] = static_cast<std::uint8_t>(length);
    record[2] = channel;
    std::memcpy(record.data() + 3, frame.data(), frame.size());
    return ::send(fd_, record.data(), record.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(record.size());
  }
  template <class T>
  bool send(const T& message) {
    return sendFrame(protocol::encode(message));
  }

  // The next frame of type T the server sends, skipping others; nullopt at the deadline or EOF.
  template <class T>
  std::optional<T> next(Deadline deadline = after(kStep)) {
    while (true) {
      while (buffer_.size() >= 2) {
        const std::size_t length = std::size_t{buffer_[0]} << 8 | buffer_[1];
        if (buffer_.size() < 2 + length) break;
        protocol::Bytes frame(length - 1);
        std::memcpy(frame.data(), buffer_.data() + 3, length - 1);
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(2 + length));
        auto decoded = protocol::decode(frame);
        EXPECT_TRUE(decoded) << "the server sent a frame that does not decode";
        if (!decoded) continue;
        if (const T* m = std::get_if<T>(&*decoded)) return *m;
      }
      pollfd p{fd_, POLLIN, 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return std::nullopt;
      std::array<std::uint8_t, 65536> chunk{};
      const ssize_t got = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (got <= 0) return std::nullopt;
      buffer_.insert(buffer_.end(), chunk.begin(), chunk.begin() + got);
    }
  }
  // The next ErrorReply, which must carry `code`.
  ::testing::AssertionResult refused(protocol::ErrorCode code, protocol::ErrorReply* out = nullptr) {
    const auto error = next<protocol::ErrorReply>();
    if (!error) return ::testing::AssertionFailure() << "no ErrorReply";
    if (out != nullptr) *out = *error;
    if (error->code != code) {
      return ::testing::AssertionFailure()
             << "got " << protocol::toString(error->code) << ": " << error->message;
    }
    return ::testing::AssertionSuccess() << error->message;
  }

 private:
  int fd_;
  std::vector<std::uint8_t> buffer_;
};

TEST(ProtocolAbuse, ARegisteredClientTriesEverythingWhileOthersChat) {
  std::vector<std::string> args = kChatty;
  args.insert(args.end(), {"--oper-password", "correct horse battery staple"});
  ServerProcess server(args);
  const pid_t pid = server.proc().pid();
  auto alice = startClient(server.port(), "alice");
  auto bob = startClient(server.port(), "bob", {"--json"}, "tcp");
  waitUntilInLobby(*alice, "alice");
  waitUntilInLobby(*bob, "bob");
  Conversation talk{*alice, *bob};
  ASSERT_TRUE(talk.exchange());
  const std::size_t rssBefore = rss(pid);
  std::uint64_t aliceMessage = 0;
  for (const auto& line : alice->seen(Stream::Stdout)) {
    const Json j = Json::parse(line, nullptr, false);
    if (j.is_object() && j.value("type", "") == "message" && j.value("from", "") == "alice") {
      aliceMessage = j.value("id", std::uint64_t{0});
    }
  }
  ASSERT_NE(aliceMessage, 0u);

  RawClient mallory(server.port());
  ASSERT_TRUE(mallory.open());
  ASSERT_TRUE(mallory.send(protocol::Hello{"mallory", 0, {"lobby"}, "raw"}));
  const auto welcome = mallory.next<protocol::Welcome>();
  ASSERT_TRUE(welcome) << "mallory got no Welcome";
  using protocol::ErrorCode;

  // Lists claiming more entries than allowed, or than the frame holds: a second Hello whose
  // room count is 65535, then 16 with nothing after it.
  protocol::Bytes hello = protocol::encode(protocol::Hello{"mallory", 0, {}, ""});
  hello[hello.size() - 4] = std::byte{0xFF};  // rooms count (u16), before client's length (u16)
  hello[hello.size() - 3] = std::byte{0xFF};
  ASSERT_TRUE(mallory.sendFrame(hello));
  EXPECT_TRUE(mallory.refused(ErrorCode::TextTooLong));
  hello[hello.size() - 4] = std::byte{0x00};
  hello[hello.size() - 3] = std::byte{0x10};
  ASSERT_TRUE(mallory.sendFrame(hello));
  EXPECT_TRUE(mallory.refused(ErrorCode::Malformed));
  ASSERT_TRUE(talk.exchange());

  // Extreme values: a history page of 65535 before the largest id, a deletion of id 2^64 - 1.
  ASSERT_TRUE(mallory.send(protocol::HistoryRequest{"lobby", ~std::uint64_t{0}, 0xFFFF}));
  const auto end = mallory.next<protocol::HistoryEnd>();
  ASSERT_TRUE(end) << "no HistoryEnd for an extreme page";
  ASSERT_TRUE(mallory.send(protocol::DeleteMessage{"lobby", ~std::uint64_t{0}}));
  EXPECT_TRUE(mallory.refused(ErrorCode::NoSuchMessage));
  ASSERT_TRUE(talk.exchange());

  // Someone else's message, someone else's seat.
  ASSERT_TRUE(mallory.send(protocol::DeleteMessage{"lobby", aliceMessage}));
  EXPECT_TRUE(mallory.refused(ErrorCode::NotYourMessage));
  ASSERT_TRUE(mallory.send(protocol::KickRequest{"bob", "because"}));
  EXPECT_TRUE(mallory.refused(ErrorCode::NotOperator));
  ASSERT_TRUE(talk.exchange());

  // Guessing the operator password: a few wrong answers, then a lockout that says when to retry.
  protocol::ErrorReply lockout;
  int guesses = 0;
  for (; guesses < 20; ++guesses) {
    ASSERT_TRUE(mallory.send(protocol::OperRequest{"guess " + std::to_string(guesses)}));
    const auto error = mallory.next<protocol::ErrorReply>();
    ASSERT_TRUE(error);
    if (error->code == ErrorCode::RateLimited) {
      lockout = *error;
      break;
    }
    ASSERT_EQ(error->code, ErrorCode::BadPassword) << error->message;
  }
  EXPECT_EQ(lockout.code, ErrorCode::RateLimited) << "20 guesses and no lockout";
  EXPECT_GT(lockout.retryAfterMs, 0u);
  EXPECT_EQ(guesses, 4);  // 3 free, the 4th is still checked and starts a lockout of 1 s
  // The right password during the lockout is not even checked.
  ASSERT_TRUE(mallory.send(protocol::OperRequest{"correct horse battery staple"}));
  EXPECT_TRUE(mallory.refused(ErrorCode::RateLimited));
  ASSERT_TRUE(talk.exchange());

  // Alice's seat, with a token made up (mallory never saw alice's): refused, alice untouched.
  RawClient impostor(server.port());
  ASSERT_TRUE(impostor.send(protocol::Hello{"alice", welcome->resumeToken ^ 1, {}, ""}));
  EXPECT_TRUE(impostor.refused(ErrorCode::NickInUse));
  // Mallory's own token, reused for another nick while mallory is on: not a way in either.
  RawClient reuse(server.port());
  ASSERT_TRUE(reuse.send(protocol::Hello{"bob", welcome->resumeToken, {}, ""}));
  EXPECT_TRUE(reuse.refused(ErrorCode::NickInUse));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(talk.exchange()) << "after the abuse";

  EXPECT_LT(rss(pid), rssBefore + 16u * 1024 * 1024);
  std::cout << "protocol abuse: " << guesses << " wrong operator passwords before the lockout ("
            << lockout.retryAfterMs << " ms: \"" << lockout.message << "\"); "
            << talk.exchanges << " exchanges delivered" << std::endl;
}

}  // namespace
}  // namespace udpchat::test
