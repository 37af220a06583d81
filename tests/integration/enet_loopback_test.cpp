// The ENet transports over 127.0.0.1: a server transport with a recording handler (or the real
// ServerCore) on its own thread, clients pumped by the test thread. Every wait is a pump loop
// with a deadline and a condition; nothing sleeps.
#include <arpa/inet.h>
#include <enet/enet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "transport_test_support.hpp"
#include "subprocess.hpp"
#include "udpchat/client_core.hpp"
#include "udpchat/discovery.hpp"
#include "udpchat/enet_client_transport.hpp"
#include "udpchat/enet_server_transport.hpp"
#include "udpchat/server_core.hpp"

namespace udpchat {
namespace {

using namespace std::chrono_literals;
using test::after;
using test::Clock;
using test::Deadline;

constexpr auto kStepDeadline = 5s;  // generous: loopback answers in microseconds

using test::bytesOf;
using test::textOf;

using test::RecordingHandler;

// A server transport serviced by its own thread until destroyed (or stop()).
template <class Handler>
struct ServerThread : test::ServerOnThread<EnetServerTransport, Handler> {
  using test::ServerOnThread<EnetServerTransport, Handler>::ServerOnThread;
  // Only after stop(): the transport belongs to the server thread while it runs.
  const EnetServerStats& stats() const { return this->server().stats(); }
};

EnetServerOptions loopback(std::size_t maxClients = 8) {
  return EnetServerOptions{"127.0.0.1", 0, maxClients};
}

struct RecordingServer : ServerThread<RecordingHandler> {
  explicit RecordingServer(EnetServerOptions options = loopback())
      : ServerThread(std::move(options),
                     [](Outbox& o) { return std::make_unique<RecordingHandler>(o); }) {}
};

struct TestClient : test::RecordedEvents {
  explicit TestClient(EnetClientOptions options = {}) : transport(options) {}
  EnetClientTransport transport;

  void pump() {
    for (auto& e : transport.serviceOnce(1)) events.push_back(std::move(e));
  }
};

// Pumps every client until `done()` or the deadline; returns done().
template <class Done>
bool pumpUntil(std::initializer_list<TestClient*> clients, Done done,
               Deadline deadline = after(kStepDeadline)) {
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    for (TestClient* c : clients) c->pump();
  }
  return true;
}

// Connects and waits until both ends agree; returns the session id the server gave.
SessionId connectClient(TestClient& client, RecordingServer& server) {
  const std::size_t before = server.handler().sessions(RecordingHandler::Kind::Connected).size();
  EXPECT_EQ(client.transport.connect("127.0.0.1", server.port()), std::nullopt);
  const std::size_t connectedBefore = client.count<transport_event::Connected>();
  EXPECT_TRUE(pumpUntil({&client}, [&] {
    return client.count<transport_event::Connected>() > connectedBefore &&
           server.handler().sessions(RecordingHandler::Kind::Connected).size() > before;
  }));
  auto ids = server.handler().sessions(RecordingHandler::Kind::Connected);
  return ids.empty() ? 0 : ids.back();
}

// What the kernel grants for SO_RCVBUF = `asked` bytes: twice the request, capped at twice
// net.core.rmem_max.
int grantedReceiveBuffer(int asked) {
  std::ifstream in("/proc/sys/net/core/rmem_max");
  long rmemMax = 0;
  in >> rmemMax;
  return 2 * static_cast<int>(std::min<long>(asked, rmemMax));
}

TEST(EnetLoopback, TheUdpReceiveBufferIsFourMebibytesOrWhatWasAsked) {
  {
    EnetServerTransport plain(loopback());
    EXPECT_EQ(plain.receiveBufferBytes(), grantedReceiveBuffer(kDefaultUdpReceiveBufferBytes));
  }
  {
    EnetServerOptions options = loopback();
    options.receiveBufferBytes = 0;  // ENet's own
    EnetServerTransport enets(options);
    EXPECT_EQ(enets.receiveBufferBytes(), grantedReceiveBuffer(ENET_HOST_RECEIVE_BUFFER_SIZE));
  }
  EnetServerOptions options = loopback();
  options.receiveBufferBytes = 1 << 20;
  EnetServerTransport larger(options);
  EXPECT_EQ(larger.receiveBufferBytes(), grantedReceiveBuffer(1 << 20));
}

TEST(EnetLoopback, BindsAnEphemeralPortAndReportsIt) {
  RecordingServer server;
  EXPECT_NE(server.port(), 0);
}

TEST(EnetLoopback, ConnectsAndCarriesFramesOnBothChannels) {
  RecordingServer server;
  TestClient client;
  const SessionId id = connectClient(client, server);
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(client.transport.send(kChannelReliable, bytesOf("reliable")));
  ASSERT_TRUE(client.transport.send(kChannelUnreliable, bytesOf("unreliable")));
  ASSERT_TRUE(pumpUntil({&client}, [&] { return server.handler().received().size() >= 2; }));
  auto received = server.handler().received();
  ASSERT_EQ(received.size(), 2u);
  std::sort(received.begin(), received.end(),
            [](const auto& a, const auto& b) { return a.channel < b.channel; });
  EXPECT_EQ(received[0].session, id);
  EXPECT_EQ(received[0].channel, kChannelReliable);
  EXPECT_EQ(textOf(received[0].bytes), "reliable");
  EXPECT_EQ(received[1].channel, kChannelUnreliable);
  EXPECT_EQ(textOf(received[1].bytes), "unreliable");

  // And back: the server sends on both channels.
  server.handler().post([id](Outbox& o) {
    SessionId to[] = {id};
    o.send(to, kChannelReliable, share(bytesOf("r-back")));
    o.send(to, kChannelUnreliable, share(bytesOf("u-back")));
  });
  ASSERT_TRUE(pumpUntil({&client}, [&] {
    return client.receivedTexts(kChannelReliable).size() == 1 &&
           client.receivedTexts(kChannelUnreliable).size() == 1;
  }));
  EXPECT_EQ(client.receivedTexts(kChannelReliable)[0], "r-back");
  EXPECT_EQ(client.receivedTexts(kChannelUnreliable)[0], "u-back");
}

TEST(EnetLoopback, BroadcastBuildsOnePacketAndReachesEveryClient) {
  RecordingServer server;
  TestClient a, b, c;
  std::vector<SessionId> ids = {connectClient(a, server), connectClient(b, server),
                                connectClient(c, server)};
  server.handler().post(
      [ids](Outbox& o) { o.send(ids, kChannelReliable, share(bytesOf("to everyone"))); });
  ASSERT_TRUE(pumpUntil({&a, &b, &c}, [&] {
    return !a.receivedTexts(0).empty() && !b.receivedTexts(0).empty() &&
           !c.receivedTexts(0).empty();
  }));
  for (TestClient* client : {&a, &b, &c}) {
    EXPECT_EQ(client->receivedTexts(0), std::vector<std::string>{"to everyone"});
  }
  server.stop();
  EXPECT_EQ(server.stats().packetsCreated, 1u);
  EXPECT_EQ(server.stats().packetsSent, 3u);
  EXPECT_EQ(server.stats().sendFailures, 0u);
}

TEST(EnetLoopback, ReliableFramesQueuedInOneTurnTravelAsSharedBundlesInOrder) {
  RecordingServer server;
  TestClient a, b, c;
  std::vector<SessionId> ids = {connectClient(a, server), connectClient(b, server),
                                connectClient(c, server)};
  constexpr int kFrames = 300;
  std::vector<std::string> expected;
  for (int i = 0; i < kFrames; ++i) expected.push_back("m" + std::to_string(i));
  server.handler().post([ids, expected](Outbox& o) {
    for (const std::string& text : expected) o.send(ids, kChannelReliable, share(bytesOf(text)));
    SessionId onlyA[] = {ids[0]};
    o.send(onlyA, kChannelReliable, share(bytesOf("just for a")));
  });
  auto all = [&](TestClient& cl, std::size_t n) { return cl.receivedTexts(0).size() >= n; };
  ASSERT_TRUE(pumpUntil({&a, &b, &c}, [&] {
    return all(a, kFrames + 1) && all(b, kFrames) && all(c, kFrames);
  }));
  std::vector<std::string> expectedA = expected;
  expectedA.push_back("just for a");
  EXPECT_EQ(a.receivedTexts(0), expectedA);
  EXPECT_EQ(b.receivedTexts(0), expected);
  EXPECT_EQ(c.receivedTexts(0), expected);
  // b and c were queued the same frames: they received the same bundles.
  EXPECT_GT(b.transport.stats().bundlesReceived, 0u);
  EXPECT_EQ(b.transport.stats().bundlesReceived, c.transport.stats().bundlesReceived);
  EXPECT_EQ(b.transport.stats().framesReceived, static_cast<std::uint64_t>(kFrames));
  server.stop();
  const EnetServerStats& s = server.stats();
  EXPECT_EQ(s.framesSent, static_cast<std::uint64_t>(3 * kFrames + 1));
  EXPECT_GT(s.bundlesCreated, 0u);
  EXPECT_LT(s.packetsSent * 10, s.framesSent);  // hundreds of frames in a handful of packets
  EXPECT_LT(s.packetsCreated, s.packetsSent);   // b's and c's packets were shared
  EXPECT_EQ(s.sendFailures, 0u);
}

TEST(EnetLoopback, WithoutBundlingEveryFrameIsAPacketOfItsOwn) {
  EnetServerOptions options = loopback();
  options.bundle = false;
  RecordingServer server(options);
  TestClient client;
  const SessionId id = connectClient(client, server);
  server.handler().post([id](Outbox& o) {
    SessionId to[] = {id};
    for (int i = 0; i < 50; ++i) o.send(to, kChannelReliable, share(bytesOf(std::to_string(i))));
  });
  ASSERT_TRUE(pumpUntil({&client}, [&] { return client.receivedTexts(0).size() == 50; }));
  EXPECT_EQ(client.transport.stats().bundlesReceived, 0u);
  server.stop();
  EXPECT_EQ(server.stats().packetsSent, 50u);
  EXPECT_EQ(server.stats().framesSent, 50u);
  EXPECT_EQ(server.stats().bundlesCreated, 0u);
}

TEST(EnetLoopback, UnreliableFramesAreNeverBundled) {
  RecordingServer server;
  TestClient client;
  const SessionId id = connectClient(client, server);
  server.handler().post([id](Outbox& o) {
    SessionId to[] = {id};
    for (int i = 0; i < 10; ++i) o.send(to, kChannelUnreliable, share(bytesOf("u" + std::to_string(i))));
    o.send(to, kChannelReliable, share(bytesOf("done")));
  });
  // Loopback loses nothing, and the unreliable frames were queued to ENet before the reliable
  // one left at the end of the turn.
  ASSERT_TRUE(pumpUntil({&client}, [&] { return client.receivedTexts(0).size() == 1; }));
  ASSERT_TRUE(pumpUntil({&client}, [&] { return client.receivedTexts(1).size() == 10; }));
  EXPECT_EQ(client.transport.stats().bundlesReceived, 0u);
  server.stop();
  EXPECT_EQ(server.stats().packetsSent, 11u);
  EXPECT_EQ(server.stats().bundlesCreated, 0u);
}

// A bare ENet host standing in for a server that sends whatever bytes a test gives it.
class RawEnetServer {
 public:
  RawEnetServer() {
    ENetAddress address{};
    enet_address_set_host(&address, "127.0.0.1");
    address.port = 0;
    host_ = enet_host_create(&address, 1, 2, 0, 0);
  }
  ~RawEnetServer() {
    if (host_ != nullptr) enet_host_destroy(host_);
  }
  RawEnetServer(const RawEnetServer&) = delete;
  RawEnetServer& operator=(const RawEnetServer&) = delete;
  bool ok() const { return host_ != nullptr; }
  std::uint16_t port() const { return host_->address.port; }
  // Services the host once without waiting; remembers the peer that connected.
  void pump() {
    ENetEvent event{};
    while (enet_host_service(host_, &event, 0) > 0) {
      if (event.type == ENET_EVENT_TYPE_CONNECT) peer_ = event.peer;
      if (event.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(event.packet);
    }
  }
  bool connected() const { return peer_ != nullptr; }
  void sendReliable(const protocol::Bytes& bytes) {
    enet_peer_send(peer_, kChannelReliable,
                   enet_packet_create(bytes.data(), bytes.size(), ENET_PACKET_FLAG_RELIABLE));
    enet_host_flush(host_);
  }

 private:
  ENetHost* host_ = nullptr;
  ENetPeer* peer_ = nullptr;
};

TEST(EnetLoopback, TheClientSplitsBundlesAndPassesAMalformedOneOnWhole) {
  TestClient client;  // first: its transport initialises ENet
  RawEnetServer raw;
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(client.transport.connect("127.0.0.1", raw.port()), std::nullopt);
  ASSERT_TRUE(pumpUntil({&client}, [&] {
    raw.pump();
    return raw.connected() && client.count<transport_event::Connected>() == 1;
  }));
  // A good bundle of two frames "ab" and "c", then a bundle whose second length runs past its
  // end, then a plain frame.
  const auto b = [](std::initializer_list<int> v) {
    protocol::Bytes out;
    for (int x : v) out.push_back(static_cast<std::byte>(x));
    return out;
  };
  raw.sendReliable(b({kProtocolVersion, 0x7F, 0x00, 0x02, 'a', 'b', 0x00, 0x01, 'c'}));
  const protocol::Bytes malformed = b({kProtocolVersion, 0x7F, 0x00, 0x01, 'x', 0x00, 0x09, 'y'});
  raw.sendReliable(malformed);
  raw.sendReliable(b({'p', 'l', 'a', 'i', 'n'}));
  ASSERT_TRUE(pumpUntil({&client}, [&] {
    raw.pump();
    return client.receivedTexts(0).size() == 4;
  }));
  const auto texts = client.receivedTexts(0);
  EXPECT_EQ(texts[0], "ab");
  EXPECT_EQ(texts[1], "c");
  EXPECT_EQ(texts[2], textOf(malformed));  // whole: the core refuses type 0x7F as unknown
  EXPECT_EQ(texts[3], "plain");
  EXPECT_EQ(client.transport.stats().bundlesReceived, 1u);
  EXPECT_EQ(client.transport.stats().malformedBundles, 1u);
  EXPECT_EQ(client.transport.stats().framesReceived, 4u);
}

TEST(EnetLoopback, AClientThatDidNotAskForBundlesGetsOneFramePerPacket) {
  // A bare ENet client connecting with data 0, as clients written before bundles do, beside a
  // transport client that asks for them; both are sent the same frames in one turn.
  RecordingServer server;
  TestClient modern;
  const SessionId modernId = connectClient(modern, server);
  ENetHost* host = enet_host_create(nullptr, 1, 2, 0, 0);
  ASSERT_NE(host, nullptr);
  ENetAddress address{};
  enet_address_set_host(&address, "127.0.0.1");
  address.port = server.port();
  ENetPeer* peer = enet_host_connect(host, &address, 2, /*data=*/0);
  ASSERT_NE(peer, nullptr);
  std::vector<protocol::Bytes> packets;
  bool up = false;
  auto pumpOld = [&] {
    ENetEvent event{};
    while (enet_host_service(host, &event, 0) > 0) {
      if (event.type == ENET_EVENT_TYPE_CONNECT) up = true;
      if (event.type == ENET_EVENT_TYPE_RECEIVE) {
        packets.emplace_back(reinterpret_cast<const std::byte*>(event.packet->data),
                             reinterpret_cast<const std::byte*>(event.packet->data) +
                                 event.packet->dataLength);
        enet_packet_destroy(event.packet);
      }
    }
  };
  ASSERT_TRUE(pumpUntil({&modern}, [&] {
    pumpOld();
    return up && server.handler().sessions(RecordingHandler::Kind::Connected).size() == 2;
  }));
  const SessionId oldId = server.handler().sessions(RecordingHandler::Kind::Connected).back();
  server.handler().post([=](Outbox& o) {
    const SessionId both[] = {modernId, oldId};
    for (int i = 0; i < 40; ++i) o.send(both, kChannelReliable, share(bytesOf("f" + std::to_string(i))));
  });
  ASSERT_TRUE(pumpUntil({&modern}, [&] {
    pumpOld();
    return packets.size() == 40 && modern.receivedTexts(0).size() == 40;
  }));
  for (int i = 0; i < 40; ++i) EXPECT_EQ(textOf(packets[static_cast<std::size_t>(i)]), "f" + std::to_string(i));
  EXPECT_GT(modern.transport.stats().bundlesReceived, 0u);
  enet_peer_reset(peer);
  enet_host_destroy(host);
}

TEST(EnetLoopback, ServerCloseDeliversTheLastReliableFrameFirst) {
  RecordingServer server;
  TestClient client;
  const SessionId id = connectClient(client, server);
  server.handler().post([id](Outbox& o) {
    SessionId to[] = {id};
    for (int i = 0; i < 20; ++i)
      o.send(to, kChannelReliable, share(bytesOf("n" + std::to_string(i))));
    o.send(to, kChannelReliable, share(bytesOf("last words")));
    o.close(id);
  });
  ASSERT_TRUE(
      pumpUntil({&client}, [&] { return client.count<transport_event::Disconnected>() == 1; }));
  const auto texts = client.receivedTexts(kChannelReliable);
  ASSERT_EQ(texts.size(), 21u);
  EXPECT_EQ(texts.back(), "last words");
  ASSERT_TRUE(std::holds_alternative<transport_event::Disconnected>(client.events.back()));
  EXPECT_EQ(std::get<transport_event::Disconnected>(client.events.back()).reason,
            "closed by the server");
  EXPECT_FALSE(client.transport.connected());

  // The core forgot a closed session: its DISCONNECT must not be reported back. A later
  // connection's round trip shows the server has processed the close by then.
  TestClient other;
  const SessionId otherId = connectClient(other, server);
  ASSERT_TRUE(other.transport.send(0, bytesOf("ping")));
  ASSERT_TRUE(pumpUntil({&other}, [&] { return !server.handler().received().empty(); }));
  EXPECT_NE(otherId, id);
  EXPECT_TRUE(server.handler().sessions(RecordingHandler::Kind::Disconnected).empty());
}

TEST(EnetLoopback, ClientGracefulDisconnectDeliversItsLastFrameBeforeTheDisconnect) {
  RecordingServer server;
  TestClient client;
  const SessionId id = connectClient(client, server);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(client.transport.send(0, bytesOf("n" + std::to_string(i))));
  ASSERT_TRUE(client.transport.send(0, bytesOf("goodbye")));
  client.transport.disconnectGracefully();
  EXPECT_FALSE(client.transport.send(0, bytesOf("too late")));
  ASSERT_TRUE(pumpUntil({&client}, [&] {
    return !server.handler().sessions(RecordingHandler::Kind::Disconnected).empty() &&
           client.count<transport_event::Disconnected>() == 1;
  }));
  const auto records = server.handler().records();
  ASSERT_GE(records.size(), 3u);
  const auto& lastFrame = records[records.size() - 2];
  EXPECT_EQ(lastFrame.kind, RecordingHandler::Kind::Received);
  EXPECT_EQ(textOf(lastFrame.bytes), "goodbye");
  EXPECT_EQ(records.back().kind, RecordingHandler::Kind::Disconnected);
  EXPECT_EQ(records.back().session, id);
  EXPECT_EQ(server.handler().received().size(), 21u);
}

TEST(EnetLoopback, SessionIdsAreNotReusedWhenAPeerSlotIs) {
  // One client at a time: ENet hands every new connection the same (lowest free) peer slot.
  RecordingServer server(loopback(1));
  TestClient client;
  const SessionId first = connectClient(client, server);
  client.transport.disconnectGracefully();
  // Both ends must be done: the server learns of the close as the DISCONNECT arrives, the client
  // only when the server's acknowledgement does; connecting again before that would reset the
  // closing peer and swallow its Disconnected event.
  ASSERT_TRUE(pumpUntil({&client}, [&] {
    return server.handler().sessions(RecordingHandler::Kind::Disconnected).size() == 1 &&
           client.count<transport_event::Disconnected>() == 1;
  }));

  const SessionId second = connectClient(client, server);
  EXPECT_GT(second, first);
  // The server closes this one; its peer->data must be cleared, or the next connection in the
  // slot would be reported under a stale id (or its DISCONNECT reported for a forgotten one).
  server.handler().post([second](Outbox& o) { o.close(second); });
  ASSERT_TRUE(
      pumpUntil({&client}, [&] { return client.count<transport_event::Disconnected>() == 2; }));

  const SessionId third = connectClient(client, server);
  EXPECT_GT(third, second);
  ASSERT_TRUE(client.transport.send(0, bytesOf("who am I")));
  ASSERT_TRUE(pumpUntil({&client}, [&] { return !server.handler().received().empty(); }));
  EXPECT_EQ(server.handler().received().back().session, third);
  // Sending to the closed id reaches nobody.
  server.handler().post([second](Outbox& o) {
    SessionId to[] = {second};
    o.send(to, 0, share(bytesOf("stale")));
  });
  ASSERT_TRUE(pumpUntil({&client}, [&] { return server.handler().postedDone(); }));
  EXPECT_EQ(server.handler().sessions(RecordingHandler::Kind::Disconnected),
            std::vector<SessionId>{first});
  server.stop();
  EXPECT_EQ(server.stats().sendFailures, 1u);
  EXPECT_TRUE(client.receivedTexts(0).empty());
}

TEST(EnetLoopback, FramesOverTheLimitAreRefusedOnSend) {
  RecordingServer server;
  TestClient client;
  const SessionId id = connectClient(client, server);

  const protocol::Bytes atLimit(kMaxFrameBytes, std::byte{'x'});
  const protocol::Bytes overLimit(kMaxFrameBytes + 1, std::byte{'y'});
  EXPECT_FALSE(client.transport.send(0, overLimit));
  EXPECT_TRUE(client.transport.send(0, atLimit));  // fragmented by ENet, reassembled
  ASSERT_TRUE(pumpUntil({&client}, [&] { return !server.handler().received().empty(); }));
  EXPECT_EQ(server.handler().received().front().bytes.size(), kMaxFrameBytes);

  server.handler().post([id, overLimit](Outbox& o) {
    SessionId to[] = {id};
    o.send(to, 0, share(overLimit));
    o.send(to, 0, share(bytesOf("after")));
  });
  ASSERT_TRUE(pumpUntil({&client}, [&] { return !client.receivedTexts(0).empty(); }));
  EXPECT_EQ(client.receivedTexts(0), std::vector<std::string>{"after"});
  server.stop();
  EXPECT_EQ(server.stats().sendFailures, 1u);
  EXPECT_EQ(server.stats().packetsReceived, 1u);
}

TEST(EnetLoopback, ConnectToAPortWithNoServerFailsAtItsDeadline) {
  // A bound socket that never answers: nothing else can take the port while the test runs.
  const int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(silent, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  socklen_t len = sizeof sin;
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&sin), &len), 0);

  constexpr Millis kTimeout = 300;
  TestClient client(EnetClientOptions{kTimeout, 3000});
  const auto start = Clock::now();
  ASSERT_EQ(client.transport.connect("127.0.0.1", ntohs(sin.sin_port)), std::nullopt);
  const bool failed =
      pumpUntil({&client}, [&] { return client.count<transport_event::ConnectFailed>() == 1; });
  const auto elapsed = Clock::now() - start;
  ::close(silent);
  ASSERT_TRUE(failed);
  EXPECT_GE(elapsed, std::chrono::milliseconds(kTimeout));
  EXPECT_LT(elapsed, std::chrono::milliseconds(kTimeout + 1000));
  EXPECT_EQ(std::get<transport_event::ConnectFailed>(client.events.back()).reason,
            "no answer within 300 ms");
  EXPECT_FALSE(client.transport.busy());
}

// A client that drops its connection without a word (a reconnect after a lost link, a lab
// client's next attempt) while the server still holds it: the server's DISCONNECT to the old
// connection leaves before it reads the new CONNECT. ENet checks no session id on a peer that is
// still connecting, so on the old socket that DISCONNECT ended the new attempt as a refusal.
TEST(EnetLoopback, ANewAttemptIsNotEndedByWhatTheServerSendsToTheConnectionItReplaced) {
  ENetAddress bindAt{};
  enet_address_set_host(&bindAt, "127.0.0.1");
  bindAt.port = 0;
  ENetHost* server = enet_host_create(&bindAt, 4, kChannelCount, 0, 0);
  ASSERT_NE(server, nullptr);
  std::vector<ENetPeer*> accepted;
  ENetEvent event{};
  const auto serviceServer = [&] {
    while (enet_host_service(server, &event, 0) > 0) {
      if (event.type == ENET_EVENT_TYPE_CONNECT) accepted.push_back(event.peer);
      if (event.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(event.packet);
    }
  };
  TestClient client;
  ASSERT_EQ(client.transport.connect("127.0.0.1", server->address.port), std::nullopt);
  ASSERT_TRUE(pumpUntil({&client}, [&] {
    serviceServer();
    return client.count<transport_event::Connected>() == 1 && accepted.size() == 1;
  }));
  const int firstSocket = client.transport.pollInterest().fd;

  client.transport.reset();  // gone without a word: the server still has the connection
  ASSERT_EQ(client.transport.connect("127.0.0.1", server->address.port), std::nullopt);
  enet_peer_disconnect(accepted.front(), 0);  // sent before the server reads the new CONNECT
  enet_host_flush(server);
  const bool settled = pumpUntil({&client}, [&] {
    serviceServer();
    return client.count<transport_event::Connected>() == 2 ||
           client.count<transport_event::ConnectFailed>() > 0;
  });
  const int secondSocket = client.transport.pollInterest().fd;
  const std::size_t acceptedTotal = accepted.size();
  client.transport.reset();
  enet_host_destroy(server);
  ASSERT_TRUE(settled);
  EXPECT_EQ(client.count<transport_event::ConnectFailed>(), 0u);
  EXPECT_EQ(client.count<transport_event::Connected>(), 2u);
  EXPECT_EQ(acceptedTotal, 2u);
  EXPECT_NE(firstSocket, secondSocket);  // the new attempt came from a new socket
}

TEST(EnetLoopback, UnresolvableHostIsAnError) {
  EnetClientTransport client;
  const auto error = client.connect("no-such-host.invalid", 7777);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("no-such-host.invalid"), std::string::npos);
  EXPECT_FALSE(client.busy());
}

TEST(EnetLoopback, BindFailureNamesTheAddressAndTheReason) {
  RecordingServer server;
  try {
    EnetServerTransport second(EnetServerOptions{"127.0.0.1", server.port(), 4});
    FAIL() << "a second bind to the same port succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot listen on 127.0.0.1:" + std::to_string(server.port()) +
                                         ": address already in use");
  }
}

TEST(EnetLoopback, AnOversizedDatagramIsCountedAndTheServerCarriesOn) {
  RecordingServer server;
  // 5000 bytes: more than ENet's 4096-byte receive buffer, so enet_host_service fails once.
  const int raw = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(raw, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(server.port());
  const std::vector<char> junk(5000, 'j');
  const auto sent =
      ::sendto(raw, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(raw);
  ASSERT_EQ(sent, 5000);

  TestClient client;
  connectClient(client, server);
  ASSERT_TRUE(client.transport.send(0, bytesOf("still alive")));
  ASSERT_TRUE(pumpUntil({&client}, [&] { return !server.handler().received().empty(); }));
  server.stop();
  EXPECT_EQ(server.stats().serviceErrors, 1u);
}

// ---- the first timeout of a handshake ----------------------------------------------------------
// A bare ENet host on the other end records the ENet send time (the 16-bit millisecond stamp in
// every datagram's header) of each handshake datagram it is sent and drops it unanswered, so the
// transport under test sends it again after its first timeout. The gap between the two stamps is
// that timeout, in ENet's own clock.

struct HandshakeRecorder {
  static inline std::vector<enet_uint16> stamps;
  static inline enet_uint8 command = 0;

  static int ENET_CALLBACK intercept(ENetHost* host, ENetEvent*) {
    if (host->receivedDataLength < sizeof(ENetProtocolHeader) + sizeof(ENetProtocolCommandHeader)) {
      return 1;
    }
    ENetProtocolHeader header;
    std::memcpy(&header, host->receivedData, sizeof header);
    if ((ENET_NET_TO_HOST_16(header.peerID) & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) == 0) return 1;
    ENetProtocolCommandHeader first;
    std::memcpy(&first, host->receivedData + sizeof header, sizeof first);
    if ((first.command & ENET_PROTOCOL_COMMAND_MASK) == command) {
      stamps.push_back(ENET_NET_TO_HOST_16(header.sentTime));
    }
    return 1;  // dropped: ENet never sees it
  }
  static int gapMs() { return static_cast<enet_uint16>(stamps.at(1) - stamps.at(0)); }
};

TEST(EnetLoopback, AClientSendsItsConnectAgainAfterTheInitialRoundTripNotEnetsHalfSecond) {
  ENetAddress bindAt{};
  enet_address_set_host(&bindAt, "127.0.0.1");
  bindAt.port = 0;
  ENetHost* silent = enet_host_create(&bindAt, 1, 2, 0, 0);
  ASSERT_NE(silent, nullptr);
  HandshakeRecorder::stamps.clear();
  HandshakeRecorder::command = ENET_PROTOCOL_COMMAND_CONNECT;
  silent->intercept = &HandshakeRecorder::intercept;
  TestClient client;  // kDefaultInitialRttMs
  ASSERT_EQ(client.transport.connect("127.0.0.1", silent->address.port), std::nullopt);
  ENetEvent event{};
  EXPECT_TRUE(pumpUntil({&client}, [&] {
    enet_host_service(silent, &event, 0);
    return HandshakeRecorder::stamps.size() >= 2;
  }));
  enet_host_destroy(silent);
  ASSERT_GE(HandshakeRecorder::stamps.size(), 2u);
  EXPECT_GE(HandshakeRecorder::gapMs(), static_cast<int>(kDefaultInitialRttMs));
  EXPECT_LT(HandshakeRecorder::gapMs(), ENET_PEER_DEFAULT_ROUND_TRIP_TIME);
}

// Connects a bare ENet client that drops every VERIFY_CONNECT and returns the gap between the
// first two the server sent.
int serverVerifyConnectGap(EnetServerOptions options) {
  RecordingServer server(std::move(options));
  ENetHost* host = enet_host_create(nullptr, 1, 2, 0, 0);
  EXPECT_NE(host, nullptr);
  if (host == nullptr) return -1;
  HandshakeRecorder::stamps.clear();
  HandshakeRecorder::command = ENET_PROTOCOL_COMMAND_VERIFY_CONNECT;
  host->intercept = &HandshakeRecorder::intercept;
  ENetAddress address{};
  enet_address_set_host(&address, "127.0.0.1");
  address.port = server.port();
  EXPECT_NE(enet_host_connect(host, &address, 2, /*data=*/0), nullptr);
  const Deadline deadline = after(kStepDeadline);
  ENetEvent event{};
  while (HandshakeRecorder::stamps.size() < 2 && Clock::now() < deadline) {
    enet_host_service(host, &event, 1);
  }
  enet_host_destroy(host);
  EXPECT_GE(HandshakeRecorder::stamps.size(), 2u);
  return HandshakeRecorder::stamps.size() >= 2 ? HandshakeRecorder::gapMs() : -1;
}

TEST(EnetLoopback, TheServerSendsItsVerifyConnectAgainAfterTheInitialRoundTrip) {
  const int gap = serverVerifyConnectGap(loopback());
  EXPECT_GE(gap, static_cast<int>(kDefaultInitialRttMs));
  EXPECT_LT(gap, ENET_PEER_DEFAULT_ROUND_TRIP_TIME);
}

TEST(EnetLoopback, AnInitialRoundTripOfZeroKeepsEnetsHalfSecond) {
  EnetServerOptions options = loopback();
  options.initialRttMs = 0;
  EXPECT_GE(serverVerifyConnectGap(std::move(options)), ENET_PEER_DEFAULT_ROUND_TRIP_TIME);
}

// ---- one turn reads what the socket holds ------------------------------------------------------
// These service the server on the test thread, one serviceOnce at a time, so that what one turn
// takes in can be counted. On loopback a datagram is in the receiving socket when sendmsg returns.

TEST(EnetLoopback, OneServerTurnCompletesEveryHandshakeWaitingInTheSocket) {
  // ENet stops reading at each handshake it completes; the turn reads on.
  EnetServerTransport server(loopback(/*maxClients=*/32));
  RecordingHandler handler(server);
  constexpr std::size_t kClients = 20;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TestClient>());
    ASSERT_EQ(clients.back()->transport.connect("127.0.0.1", server.port()), std::nullopt);
  }
  server.serviceOnce(handler, 0);  // reads the CONNECTs, answers each with a VERIFY_CONNECT
  const Deadline deadline = after(kStepDeadline);
  for (auto& c : clients) {
    // Each client acknowledges its VERIFY_CONNECT; the server has not read those yet.
    ASSERT_TRUE(pumpUntil({c.get()}, [&] { return c->count<transport_event::Connected>() == 1; },
                          deadline));
  }
  EXPECT_TRUE(handler.sessions(RecordingHandler::Kind::Connected).empty());
  server.serviceOnce(handler, 0);
  EXPECT_EQ(handler.sessions(RecordingHandler::Kind::Connected).size(), kClients);
  EXPECT_GE(server.stats().extraReadCalls, kClients - 1);
}

TEST(EnetLoopback, OneServerTurnReadsMoreThanEnetsBatchOfDatagrams) {
  // ENet reads at most 256 datagrams per service call; the turn reads on.
  EnetServerTransport server(loopback());
  RecordingHandler handler(server);
  TestClient client;
  ASSERT_EQ(client.transport.connect("127.0.0.1", server.port()), std::nullopt);
  ASSERT_TRUE(pumpUntil({&client}, [&] {
    server.serviceOnce(handler, 0);
    return client.count<transport_event::Connected>() == 1 &&
           handler.sessions(RecordingHandler::Kind::Connected).size() == 1;
  }));
  constexpr std::size_t kFrames = 300;
  for (std::size_t i = 0; i < kFrames; ++i) {
    ASSERT_TRUE(client.transport.send(kChannelReliable, bytesOf("m" + std::to_string(i))));
    client.transport.flush();  // one datagram each
  }
  server.serviceOnce(handler, 0);
  const auto received = handler.received();
  ASSERT_EQ(received.size(), kFrames);
  for (std::size_t i = 0; i < kFrames; ++i) {
    EXPECT_EQ(textOf(received[i].bytes), "m" + std::to_string(i));
  }
  EXPECT_GE(server.stats().extraReadCalls, 1u);
}

// ---- the real cores over the real transport --------------------------------------------------

// ClientCore driven over ENet, as the line client does it, recording the core's events.
class CoreClient final : public ClientHost {
 public:
  CoreClient(ClientConfig config, std::uint16_t port)
      : port_(port), core_(std::move(config), *this) {}

  void connect() override {
    auto error = transport_.connect("127.0.0.1", port_);
    EXPECT_EQ(error, std::nullopt);
  }
  void send(std::uint8_t channel, protocol::Bytes frame) override {
    static_cast<void>(transport_.send(channel, frame));
  }
  void disconnect() override { transport_.disconnectGracefully(); }
  void event(const ClientEvent& e) override { events.push_back(e); }

  void pump() {
    for (auto& e : transport_.serviceOnce(1)) {
      const Now now = readClocks();
      if (std::holds_alternative<transport_event::Connected>(e)) {
        core_.connected(now);
      } else if (auto* f = std::get_if<transport_event::ConnectFailed>(&e)) {
        core_.connectFailed(f->reason, now);
      } else if (auto* d = std::get_if<transport_event::Disconnected>(&e)) {
        core_.disconnected(d->reason, now);
      } else if (auto* r = std::get_if<transport_event::Received>(&e)) {
        core_.received(r->channel, r->bytes, now);
      }
    }
    core_.tick(readClocks());
  }

  template <class T, class Pred>
  const T* find(Pred pred) const {
    return findFrom<T>(0, pred);
  }
  // The first matching event at index `first` or later.
  template <class T, class Pred>
  const T* findFrom(std::size_t first, Pred pred) const {
    const std::size_t at = indexOf<T>(first, pred);
    return at == events.size() ? nullptr : &std::get<T>(events[at]);
  }
  // Index of the first matching event at `first` or later; events.size() when there is none.
  template <class T, class Pred>
  std::size_t indexOf(std::size_t first, Pred pred) const {
    for (std::size_t i = first; i < events.size(); ++i) {
      if (auto* t = std::get_if<T>(&events[i]); t && pred(*t)) return i;
    }
    return events.size();
  }

  ClientCore& core() { return core_; }
  std::vector<ClientEvent> events;

 private:
  std::uint16_t port_;
  EnetClientTransport transport_;
  ClientCore core_;
};

struct CoreServer {
  // `beforeStart` runs on the test thread before the service thread takes the server over.
  explicit CoreServer(ServerConfig config, EnetServerOptions options = loopback(16),
                      const std::function<void(CoreServer&)>& beforeStart = {})
      : transport(std::move(options)), core(std::move(config), transport) {
    if (beforeStart) beforeStart(*this);
    thread = std::thread([this] { transport.run(core, stop); });
  }
  ~CoreServer() { stopService(); }
  // Stops the service thread; the transport and the core then belong to the calling thread.
  void stopService() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  EnetServerTransport transport;
  ServerCore core;
  std::atomic<bool> stop{false};
  std::thread thread;
};

template <class Done>
bool pumpCoresUntil(std::initializer_list<CoreClient*> clients, Done done,
                    Deadline deadline = after(kStepDeadline)) {
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    for (CoreClient* c : clients) c->pump();
  }
  return true;
}

ClientConfig clientNamed(std::string nick) {
  ClientConfig config;
  config.nick = std::move(nick);
  return config;
}

TEST(EnetLoopback, TwoClientCoresChatThroughTheServerCore) {
  CoreServer server{ServerConfig{}};
  const std::uint16_t port = server.transport.port();
  CoreClient alice(clientNamed("alice"), port), bob(clientNamed("bob"), port);
  alice.core().start(readClocks());
  bob.core().start(readClocks());
  ASSERT_TRUE(pumpCoresUntil({&alice, &bob}, [&] {
    return alice.core().state() == ConnectionState::Registered &&
           bob.core().state() == ConnectionState::Registered;
  }));
  // Bob must have joined before alice speaks, or he would only see it as history.
  ASSERT_TRUE(pumpCoresUntil({&alice, &bob}, [&] {
    return bob.find<protocol::JoinEvent>([](const auto& j) { return j.nick == "bob"; }) != nullptr;
  }));

  const Millis before = readClocks().wall;
  alice.core().input("hello", readClocks());
  const protocol::ChatEvent* seen = nullptr;
  ASSERT_TRUE(pumpCoresUntil({&alice, &bob}, [&] {
    seen = bob.find<protocol::ChatEvent>([](const auto& c) { return c.text == "hello"; });
    return seen != nullptr;
  }));
  const Millis afterSend = readClocks().wall;
  EXPECT_EQ(seen->from, "alice");
  EXPECT_EQ(seen->room, "lobby");
  EXPECT_GT(seen->id, 0u);
  EXPECT_GE(static_cast<Millis>(seen->ts), before);
  EXPECT_LE(static_cast<Millis>(seen->ts), afterSend);
  EXPECT_EQ(seen->flags & protocol::kFlagHistory, 0);

  alice.core().quit("", readClocks());
  ASSERT_TRUE(pumpCoresUntil({&alice, &bob}, [&] { return alice.core().finished(); }));
  EXPECT_EQ(alice.core().exitStatus(), kExitOk);
  ASSERT_TRUE(pumpCoresUntil({&alice, &bob}, [&] {
    return bob.find<protocol::QuitEvent>([](const auto& q) { return q.nick == "alice"; }) !=
           nullptr;
  }));
}

TEST(EnetLoopback, AFullServerRefusesTheNextClientWithServerFull) {
  ServerConfig config;
  config.maxClients = 1;
  CoreServer server{config, loopback(1)};
  const std::uint16_t port = server.transport.port();
  CoreClient first(clientNamed("first"), port), second(clientNamed("second"), port);
  first.core().start(readClocks());
  ASSERT_TRUE(pumpCoresUntil({&first},
                             [&] { return first.core().state() == ConnectionState::Registered; }));
  second.core().start(readClocks());
  ASSERT_TRUE(pumpCoresUntil({&first, &second}, [&] {
    return second.find<protocol::ErrorReply>(
               [](const auto& e) { return e.code == protocol::ErrorCode::ServerFull; }) != nullptr;
  }));
  ASSERT_TRUE(pumpCoresUntil({&first, &second}, [&] { return second.core().finished(); }));
  EXPECT_EQ(second.core().exitStatus(), kExitRefused);
  EXPECT_EQ(first.core().state(), ConnectionState::Registered);
}

TEST(EnetLoopback, TheServerCoreRefusesControlCharactersFromARawClient) {
  // The line client refuses an escape sequence itself; this is the server's own check, for
  // clients that do not.
  CoreServer server{ServerConfig{}};
  TestClient raw;
  ASSERT_EQ(raw.transport.connect("127.0.0.1", server.transport.port()), std::nullopt);
  ASSERT_TRUE(pumpUntil({&raw}, [&] { return raw.transport.connected(); }));
  auto errors = [&] {
    std::vector<protocol::ErrorReply> out;
    for (const auto& e : raw.events) {
      auto* r = std::get_if<transport_event::Received>(&e);
      if (r == nullptr) continue;
      auto decoded = protocol::decode(r->bytes);
      if (decoded && std::holds_alternative<protocol::ErrorReply>(*decoded)) {
        out.push_back(std::get<protocol::ErrorReply>(*decoded));
      }
    }
    return out;
  };
  ASSERT_TRUE(raw.transport.send(
      kChannelReliable, protocol::encode(protocol::Hello{"mallory", 0, {"lobby"}, "raw"})));
  ASSERT_TRUE(raw.transport.send(
      kChannelReliable, protocol::encode(protocol::SendChat{"lobby", "", "evil \x1b[2J", 0})));
  ASSERT_TRUE(pumpUntil({&raw}, [&] { return !errors().empty(); }));
  EXPECT_EQ(errors().front().code, protocol::ErrorCode::ControlCharacter);
}

constexpr auto anyEvent = [](const auto&) { return true; };

TEST(EnetLoopback, AClientCoreReconnectsToARestartedServerAndRejoinsItsRoom) {
  auto server = std::make_unique<CoreServer>(ServerConfig{});
  const std::uint16_t port = server->transport.port();
  ClientConfig aliceConfig = clientNamed("alice");
  aliceConfig.rooms = {"dev"};
  aliceConfig.reconnectInitial = 100;  // milliseconds
  CoreClient alice(aliceConfig, port);
  auto aliceInDev = [](const protocol::JoinEvent& j) {
    return j.nick == "alice" && j.room == "dev";
  };
  alice.core().start(readClocks());
  ASSERT_TRUE(pumpCoresUntil({&alice}, [&] {
    return alice.core().state() == ConnectionState::Registered &&
           alice.find<protocol::JoinEvent>(aliceInDev) != nullptr;
  }));
  const auto* firstWelcome = alice.find<client_event::Welcome>(anyEvent);
  ASSERT_NE(firstWelcome, nullptr);
  EXPECT_FALSE(firstWelcome->reconnected);

  // The server restarts: it closes its sessions gracefully, as udpchat-server does on SIGTERM,
  // while alice's transport is serviced to acknowledge the close; then it goes away.
  const std::size_t mark = alice.events.size();
  server->stopService();
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    server->transport.shutdown(1000);
    closed = true;
  });
  const bool noticed = pumpCoresUntil({&alice}, [&] {
    return closed && alice.findFrom<client_event::ConnectionLost>(mark, anyEvent) != nullptr;
  });
  closer.join();
  ASSERT_TRUE(noticed) << "alice did not notice the server closing";
  server.reset();
  // The port is free again (UDP has no TIME_WAIT); a new server takes it.
  server = std::make_unique<CoreServer>(ServerConfig{}, EnetServerOptions{"127.0.0.1", port, 16});
  ASSERT_EQ(server->transport.port(), port);

  ASSERT_TRUE(pumpCoresUntil({&alice},
                             [&] {
                               return alice.core().state() == ConnectionState::Registered &&
                                      alice.findFrom<protocol::JoinEvent>(mark, aliceInDev) !=
                                          nullptr;
                             }))
      << "alice did not re-register and rejoin #dev; state " << toString(alice.core().state());

  // In order: the drop, the scheduled retry, the new connection, the Welcome, the rejoin.
  const std::size_t lost = alice.indexOf<client_event::ConnectionLost>(mark, anyEvent);
  const std::size_t retry = alice.indexOf<client_event::Reconnecting>(mark, anyEvent);
  const std::size_t welcome = alice.indexOf<client_event::Welcome>(mark, anyEvent);
  const std::size_t rejoin = alice.indexOf<protocol::JoinEvent>(mark, aliceInDev);
  ASSERT_LT(welcome, alice.events.size());
  EXPECT_LT(lost, retry);
  EXPECT_LT(retry, welcome);
  EXPECT_LT(alice.indexOf<client_event::Connected>(retry, anyEvent), welcome);
  EXPECT_LT(welcome, rejoin);
  EXPECT_EQ(std::get<client_event::ConnectionLost>(alice.events[lost]).reason,
            "closed by the server");
  const auto& firstRetry = std::get<client_event::Reconnecting>(alice.events[retry]);
  EXPECT_EQ(firstRetry.attempt, 1);
  EXPECT_EQ(firstRetry.delay, 100);
  const auto& again = std::get<client_event::Welcome>(alice.events[welcome]);
  EXPECT_TRUE(again.reconnected);
  EXPECT_EQ(again.server.nick, "alice");
  EXPECT_EQ(again.room, "dev");
  EXPECT_EQ(alice.core().nick(), "alice");
  EXPECT_EQ(alice.core().rooms(), std::vector<std::string>{"dev"});
  EXPECT_EQ(alice.core().currentRoom(), "dev");

  // Bob joins #dev on the new server and hears what alice says there.
  ClientConfig bobConfig = clientNamed("bob");
  bobConfig.rooms = {"dev"};
  CoreClient bob(bobConfig, port);
  bob.core().start(readClocks());
  ASSERT_TRUE(pumpCoresUntil({&alice, &bob}, [&] {
    return bob.find<protocol::JoinEvent>(
               [](const auto& j) { return j.nick == "bob" && j.room == "dev"; }) != nullptr;
  }));
  alice.core().input("back after the restart", readClocks());
  const protocol::ChatEvent* heard = nullptr;
  ASSERT_TRUE(pumpCoresUntil({&alice, &bob}, [&] {
    heard = bob.find<protocol::ChatEvent>(
        [](const auto& c) { return c.text == "back after the restart"; });
    return heard != nullptr;
  }));
  EXPECT_EQ(heard->from, "alice");
  EXPECT_EQ(heard->room, "dev");
  EXPECT_EQ(heard->flags & protocol::kFlagHistory, 0);
  EXPECT_EQ(alice.findFrom<client_event::Finished>(0, anyEvent), nullptr);
}

// The ErrorReply the server owes an undecodable channel-0 frame (PROTOCOL.md section 7).
protocol::ErrorCode replyFor(protocol::DecodeError error) {
  switch (error) {
    case protocol::DecodeError::BadVersion:
      return protocol::ErrorCode::UnsupportedVersion;
    case protocol::DecodeError::InvalidUtf8:
      return protocol::ErrorCode::InvalidUtf8;
    case protocol::DecodeError::FieldTooLong:
      return protocol::ErrorCode::TextTooLong;
    default:
      return protocol::ErrorCode::Malformed;
  }
}

// Frames with the right version byte, a client request type (so the decoder gets into the
// fields) and random body bytes, that do not decode. Seeded, and std::mt19937's output is fully
// specified, so every run sends the same ones.
std::vector<protocol::Bytes> randomUndecodableFrames(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<protocol::Bytes> out;
  while (out.size() < count) {
    protocol::Bytes frame{std::byte{kProtocolVersion}};
    frame.push_back(static_cast<std::byte>(1 + rng() % 0x0E));  // Hello .. QuitRequest
    const std::size_t length = rng() % 32;
    for (std::size_t i = 0; i < length; ++i) frame.push_back(static_cast<std::byte>(rng() & 0xFF));
    if (!protocol::decode(frame)) out.push_back(std::move(frame));
  }
  return out;
}

// What a raw client received on channel 0, decoded.
std::vector<protocol::Message> decodedFrames(const TestClient& client) {
  std::vector<protocol::Message> out;
  for (const auto& e : client.events) {
    auto* r = std::get_if<transport_event::Received>(&e);
    if (r == nullptr || r->channel != kChannelReliable) continue;
    auto decoded = protocol::decode(r->bytes);
    EXPECT_TRUE(decoded) << "the server sent an undecodable frame";
    if (decoded) out.push_back(std::move(decoded.value()));
  }
  return out;
}

template <class T>
std::vector<T> only(const std::vector<protocol::Message>& messages) {
  std::vector<T> out;
  for (const auto& m : messages) {
    if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
  }
  return out;
}

TEST(EnetLoopback, GarbageFromARawClientIsAnsweredAndTheServerChatsOn) {
  const ServerConfig config;  // rate limit: burst 10, 5 per second
  ASSERT_EQ(config.rateBurst, 10u);
  CoreServer server{config};
  const std::uint16_t port = server.transport.port();

  CoreClient bob(clientNamed("bob"), port);
  bob.core().start(readClocks());
  ASSERT_TRUE(pumpCoresUntil({&bob}, [&] {
    return bob.find<protocol::JoinEvent>([](const auto& j) { return j.nick == "bob"; }) != nullptr;
  }));

  TestClient mallory;
  ASSERT_EQ(mallory.transport.connect("127.0.0.1", port), std::nullopt);
  ASSERT_TRUE(pumpUntil({&mallory}, [&] { return mallory.transport.connected(); }));
  ASSERT_TRUE(mallory.transport.send(
      kChannelReliable, protocol::encode(protocol::Hello{"mallory", 0, {"lobby"}, "raw"})));
  ASSERT_TRUE(pumpUntil({&mallory},
                        [&] { return !only<protocol::Welcome>(decodedFrames(mallory)).empty(); }));
  ASSERT_TRUE(pumpCoresUntil({&bob}, [&] {
    return bob.find<protocol::JoinEvent>([](const auto& j) { return j.nick == "mallory"; }) !=
           nullptr;
  }));

  // Each frame with the reply it must get. Hello is free, so the bucket still holds the whole
  // burst: these eight, the valid message and the bad version take its ten tokens (time only
  // adds more), so every one of them is answered.
  struct Case {
    std::string what;
    protocol::Bytes frame;
    protocol::ErrorCode reply;
  };
  std::vector<Case> cases;
  // Seed 146: a value out of range, a truncated field and a field over its limit.
  for (auto& frame : randomUndecodableFrames(3, 146)) {
    const auto reply = replyFor(protocol::decode(frame).error());
    cases.push_back({"random", std::move(frame), reply});
  }
  {
    auto frame = protocol::encode(protocol::SendChat{"lobby", "", "cut short", 0});
    frame.resize(frame.size() - 4);
    cases.push_back({"truncated SendChat", std::move(frame), protocol::ErrorCode::Malformed});
  }
  {
    // The text comes before the flags byte and the 8-byte client id: "ab" becomes C3 28, a
    // lead byte followed by no continuation byte.
    auto frame = protocol::encode(protocol::SendChat{"lobby", "", "ab", 0});
    frame[frame.size() - 3 - 8] = std::byte{0xC3};
    frame[frame.size() - 2 - 8] = std::byte{0x28};
    cases.push_back({"invalid UTF-8", std::move(frame), protocol::ErrorCode::InvalidUtf8});
  }
  {
    // Text one byte over the wire limit: length, text, flags and client id replace those of
    // "x".
    auto frame = protocol::encode(protocol::SendChat{"lobby", "", "x", 0});
    frame.resize(frame.size() - 4 - 8);
    const std::size_t length = kMaxTextBytes + 1;
    frame.push_back(static_cast<std::byte>(length >> 8));
    frame.push_back(static_cast<std::byte>(length & 0xFF));
    frame.insert(frame.end(), length, std::byte{'x'});
    frame.insert(frame.end(), 1 + 8, std::byte{0});
    cases.push_back(
        {"text over the wire limit", std::move(frame), protocol::ErrorCode::TextTooLong});
  }
  {
    auto frame = protocol::encode(protocol::SendChat{"lobby", "", "trailing", 0});
    frame.push_back(std::byte{0});
    cases.push_back({"trailing byte", std::move(frame), protocol::ErrorCode::Malformed});
  }
  cases.push_back({"empty", {}, protocol::ErrorCode::Malformed});
  for (const auto& c : cases) {
    const auto decoded = protocol::decode(c.frame);
    ASSERT_FALSE(decoded) << c.what << " decodes";
    ASSERT_EQ(replyFor(decoded.error()), c.reply) << c.what;
  }
  protocol::Bytes badVersion = protocol::encode(protocol::SendChat{"lobby", "", "v2", 0});
  badVersion[0] = std::byte{kProtocolVersion + 1};
  ASSERT_LE(cases.size() + 2, config.rateBurst);

  for (const auto& c : cases) ASSERT_TRUE(mallory.transport.send(kChannelReliable, c.frame));
  // A valid message among the garbage is relayed like any other.
  ASSERT_TRUE(mallory.transport.send(
      kChannelReliable, protocol::encode(protocol::SendChat{"lobby", "", "amid the junk", 0})));
  ASSERT_TRUE(mallory.transport.send(kChannelReliable, badVersion));  // last: this one closes
  ASSERT_TRUE(
      pumpUntil({&mallory}, [&] { return mallory.count<transport_event::Disconnected>() == 1; }));
  EXPECT_EQ(std::get<transport_event::Disconnected>(mallory.events.back()).reason,
            "closed by the server");

  const auto received = decodedFrames(mallory);
  const auto errors = only<protocol::ErrorReply>(received);
  ASSERT_EQ(errors.size(), cases.size() + 1) << "one reply per undecodable frame, no more";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(errors[i].code, cases[i].reply)
        << cases[i].what << ": " << protocol::toString(errors[i].code) << " " << errors[i].message;
    if (cases[i].reply == protocol::ErrorCode::Malformed) {
      EXPECT_EQ(errors[i].message,
                "malformed frame: " +
                    std::string(protocol::toString(protocol::decode(cases[i].frame).error())));
    }
  }
  EXPECT_EQ(errors.back().code, protocol::ErrorCode::UnsupportedVersion);
  const auto echoes = only<protocol::ChatEvent>(received);
  ASSERT_EQ(echoes.size(), 1u);
  EXPECT_EQ(echoes[0].text, "amid the junk");

  // Bob heard the one valid message, then mallory's departure.
  ASSERT_TRUE(pumpCoresUntil({&bob}, [&] {
    return bob.find<protocol::QuitEvent>([](const auto& q) { return q.nick == "mallory"; }) !=
           nullptr;
  }));
  std::vector<std::string> fromMallory;
  for (const auto& e : bob.events) {
    if (auto* c = std::get_if<protocol::ChatEvent>(&e); c && c->from == "mallory") {
      fromMallory.push_back(c->text);
    }
  }
  EXPECT_EQ(fromMallory, std::vector<std::string>{"amid the junk"});
  EXPECT_EQ(
      bob.find<protocol::QuitEvent>([](const auto& q) { return q.nick == "mallory"; })->reason,
      "unsupported protocol version");

  // A flood beyond the burst: replies stop at the rate limit, the excess is dropped silently.
  // The Hello after it spends a token too: its answer (rate_limited, or a Welcome if a token
  // came back meanwhile) marks the end of the server's answers.
  constexpr std::size_t kFlood = 30;
  TestClient flooder;
  const auto floodStart = Clock::now();
  ASSERT_EQ(flooder.transport.connect("127.0.0.1", port), std::nullopt);
  ASSERT_TRUE(pumpUntil({&flooder}, [&] { return flooder.transport.connected(); }));
  for (std::size_t i = 0; i < kFlood; ++i) {
    ASSERT_TRUE(flooder.transport.send(
        kChannelReliable, protocol::Bytes{std::byte{kProtocolVersion}, std::byte{0xFF}}));
  }
  ASSERT_TRUE(flooder.transport.send(
      kChannelReliable, protocol::encode(protocol::Hello{"flooder", 0, {"lobby"}, "raw"})));
  auto answeredHello = [](const protocol::Message& m) {
    auto* e = std::get_if<protocol::ErrorReply>(&m);
    return std::holds_alternative<protocol::Welcome>(m) ||
           (e != nullptr && e->code == protocol::ErrorCode::RateLimited);
  };
  ASSERT_TRUE(pumpUntil({&flooder}, [&] {
    const auto frames = decodedFrames(flooder);
    return std::any_of(frames.begin(), frames.end(), answeredHello);
  }));
  const double floodSeconds = std::chrono::duration<double>(Clock::now() - floodStart).count();
  std::size_t floodReplies = 0;
  for (const auto& m : decodedFrames(flooder)) {
    if (answeredHello(m)) break;
    auto* e = std::get_if<protocol::ErrorReply>(&m);
    ASSERT_NE(e, nullptr) << "only error replies come before the Hello's answer";
    EXPECT_EQ(e->code, protocol::ErrorCode::Malformed);
    ++floodReplies;
  }
  EXPECT_GE(floodReplies, config.rateBurst);
  EXPECT_LE(floodReplies,
            config.rateBurst + static_cast<std::size_t>(floodSeconds * config.ratePerSecond) + 1)
      << "over " << floodSeconds << " s";

  // And bob chats on through the same server.
  bob.core().input("still here", readClocks());
  ASSERT_TRUE(pumpCoresUntil({&bob}, [&] {
    return bob.find<protocol::ChatEvent>(
               [](const auto& c) { return c.from == "bob" && c.text == "still here"; }) != nullptr;
  }));
  EXPECT_EQ(bob.core().state(), ConnectionState::Registered);

  server.stopService();
  const ServerStats stats = server.core.stats();
  EXPECT_EQ(stats.messagesRelayed, 2u);
  const auto frames = decodedFrames(flooder);
  const bool flooderRegistered = std::any_of(frames.begin(), frames.end(), [](const auto& m) {
    return std::holds_alternative<protocol::Welcome>(m);
  });
  // The flooder's Hello was refused for want of a token unless one came back in time.
  EXPECT_EQ(stats.framesRejected, cases.size() + 1 + kFlood + (flooderRegistered ? 0 : 1));
  EXPECT_EQ(stats.registered, flooderRegistered ? 2u : 1u);  // bob, and perhaps the flooder
}

}  // namespace
}  // namespace udpchat

namespace udpchat {
namespace {

// Raw clients asking for the lab's five channels, through a server started for the lab: chat sent
// on each lab channel arrives on that channel, stamped by the server like any other message.
TEST(EnetLoopback, LabChannelsCarryChatOnTheChannelItWasSentOn) {
  ServerConfig config;
  config.labChannels = true;
  CoreServer server{config};
  EnetClientOptions labOptions;
  labOptions.channelCount = kLabChannelCount;
  TestClient sender(labOptions);
  TestClient receiver(labOptions);
  for (auto [client, nick] : {std::pair{&sender, "sender"}, std::pair{&receiver, "receiver"}}) {
    ASSERT_EQ(client->transport.connect("127.0.0.1", server.transport.port()), std::nullopt);
    ASSERT_TRUE(pumpUntil({client}, [&] { return client->transport.connected(); }));
    ASSERT_TRUE(client->transport.send(
        kChannelReliable, protocol::encode(protocol::Hello{nick, 0, {"lab"}, "lab"})));
  }
  auto chatsOn = [&](std::uint8_t channel) {
    std::vector<protocol::ChatEvent> out;
    for (const auto& e : receiver.events) {
      auto* r = std::get_if<transport_event::Received>(&e);
      if (r == nullptr || r->channel != channel) continue;
      auto decoded = protocol::decode(r->bytes);
      if (decoded && std::holds_alternative<protocol::ChatEvent>(*decoded)) {
        out.push_back(std::get<protocol::ChatEvent>(*decoded));
      }
    }
    return out;
  };
  // Both registered: the sender, first in the room, has seen the receiver join.
  ASSERT_TRUE(pumpUntil({&sender, &receiver}, [&] {
    for (const auto& e : sender.events) {
      auto* r = std::get_if<transport_event::Received>(&e);
      if (r == nullptr) continue;
      auto decoded = protocol::decode(r->bytes);
      if (decoded && std::holds_alternative<protocol::JoinEvent>(*decoded) &&
          std::get<protocol::JoinEvent>(*decoded).nick == "receiver") {
        return true;
      }
    }
    return false;
  }));
  for (std::uint8_t channel : {kChannelBulk, kChannelLabUnreliable, kChannelLabUnsequenced}) {
    const std::string text = "on channel " + std::to_string(channel);
    ASSERT_TRUE(
        sender.transport.send(channel, protocol::encode(protocol::SendChat{"lab", "", text, 0})));
    ASSERT_TRUE(pumpUntil({&sender, &receiver}, [&] { return !chatsOn(channel).empty(); }))
        << "nothing arrived on channel " << int{channel};
    const auto chat = chatsOn(channel).front();
    EXPECT_EQ(chat.text, text);
    EXPECT_EQ(chat.from, "sender");
  }
  // A chat client asks for two channels; the lab channels do not exist for it.
  TestClient plain;
  ASSERT_EQ(plain.transport.connect("127.0.0.1", server.transport.port()), std::nullopt);
  ASSERT_TRUE(pumpUntil({&plain}, [&] { return plain.transport.connected(); }));
  EXPECT_FALSE(plain.transport.send(kChannelBulk, bytesOf("x")));
}


// ---- forged connects ---------------------------------------------------------------------------

// A UDP socket bound to a loopback address of its own (any 127.x.y.z is this machine), for the
// tests that play other hosts: forged ENet CONNECTs, discovery probes.
class UdpFrom {
 public:
  explicit UdpFrom(std::uint32_t fromIpv4) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(fromIpv4);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ADD_FAILURE() << "cannot bind a UDP socket to the source address";
    }
  }
  ~UdpFrom() {
    if (fd_ >= 0) ::close(fd_);
  }
  UdpFrom(const UdpFrom&) = delete;
  UdpFrom& operator=(const UdpFrom&) = delete;

  void sendTo(std::uint16_t port, protocol::ByteSpan bytes) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to),
                       sizeof to),
              static_cast<ssize_t>(bytes.size()));
  }
  // Every datagram waiting on the socket now.
  std::vector<protocol::Bytes> received() {
    std::vector<protocol::Bytes> out;
    std::byte buffer[2048];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n < 0) return out;
      out.emplace_back(buffer, buffer + n);
    }
  }

 private:
  int fd_;
};

// One ENet CONNECT that its sender will never follow up, as ENet 1.3.17 lays it out
// (protocol.h): a 4-byte header for no peer with a sent time, the command header, then the
// connect body; distinct connect ids make distinct peers even from one port.
protocol::Bytes forgedConnect(std::uint32_t connectId) {
  protocol::Bytes d;
  auto u16 = [&](std::uint16_t v) {
    d.push_back(static_cast<std::byte>(v >> 8));
    d.push_back(static_cast<std::byte>(v));
  };
  auto u32 = [&](std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  };
  u16(static_cast<std::uint16_t>(int{ENET_PROTOCOL_MAXIMUM_PEER_ID} |
                                 int{ENET_PROTOCOL_HEADER_FLAG_SENT_TIME}));
  u16(0);  // sent time
  d.push_back(static_cast<std::byte>(int{ENET_PROTOCOL_COMMAND_CONNECT} |
                                     int{ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE}));
  d.push_back(std::byte{0xFF});  // channel id
  u16(1);  // reliable sequence number
  u16(0);  // outgoing peer id
  d.push_back(std::byte{0xFF});  // incoming session id
  d.push_back(std::byte{0xFF});  // outgoing session id
  u32(1392);  // mtu
  u32(ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE);
  u32(2);  // channels
  u32(0);  // incoming bandwidth
  u32(0);  // outgoing bandwidth
  u32(ENET_PEER_PACKET_THROTTLE_INTERVAL);
  u32(ENET_PEER_PACKET_THROTTLE_ACCELERATION);
  u32(ENET_PEER_PACKET_THROTTLE_DECELERATION);
  u32(connectId);
  u32(0);  // data
  return d;
}

// A server whose per-address limits apply to loopback, which plays the LAN here.
struct LimitedServer : CoreServer {
  static ServerConfig config(std::size_t maxClients) {
    ServerConfig c;
    c.maxClients = maxClients;
    c.exemptLoopback = false;
    return c;
  }
  static EnetServerOptions options(std::size_t maxClients, Millis handshakeTimeout) {
    EnetServerOptions o = loopback(maxClients);
    o.exemptLoopback = false;
    o.handshakeTimeoutMs = handshakeTimeout;
    return o;
  }
  LimitedServer(std::size_t maxClients, Millis handshakeTimeout)
      : CoreServer(config(maxClients), options(maxClients, handshakeTimeout)) {}
};

TEST(EnetForgedConnects, AFloodFromOneAddressTakesFourSlotsAndOthersConnectAtOnce) {
  // 8 clients + 32 spare slots: 40 peers. 500 CONNECTs from 127.0.0.2 would take them all for
  // about 30 s; the gate keeps that address to 4 half-open peers, each new CONNECT resetting
  // the oldest.
  LimitedServer server(8, /*handshakeTimeout=*/60'000);
  const std::uint16_t port = server.transport.port();
  UdpFrom forger(0x7F000002);
  for (std::uint32_t i = 1; i <= 500; ++i) forger.sendTo(port, forgedConnect(i));

  CoreClient alice(clientNamed("alice"), port), bob(clientNamed("bob"), port);
  alice.core().start(readClocks());
  bob.core().start(readClocks());
  ASSERT_TRUE(pumpCoresUntil({&alice, &bob}, [&] {
    return alice.core().state() == ConnectionState::Registered &&
           bob.core().state() == ConnectionState::Registered;
  })) << "the forged handshakes locked real clients out";
  server.stopService();
  EXPECT_EQ(server.transport.stats().handshakesEvicted, 496u);
  EXPECT_EQ(server.transport.stats().connectsRefused, 0u);
  EXPECT_EQ(server.core.stats().registered, 2u);
}

TEST(EnetForgedConnects, AClientRetryingFromAnAddressAtItsLimitGetsInAtOnce) {
  // Four handshakes from 127.0.0.2 went nowhere (their VERIFY_CONNECTs were never answered), as
  // a client's earlier attempts across a lossy link leave them. The same address's next CONNECT,
  // a real client this time, takes the oldest one's place instead of waiting out the timeout.
  LimitedServer server(8, /*handshakeTimeout=*/60'000);
  const std::uint16_t port = server.transport.port();
  UdpFrom forger(0x7F000002);
  for (std::uint32_t i = 1; i <= 4; ++i) forger.sendTo(port, forgedConnect(i));
  forger.sendTo(port, forgedConnect(4));  // a resend of the fourth: no slot, nothing evicted

  ENetAddress bindAt{};
  enet_address_set_host(&bindAt, "127.0.0.2");
  ENetHost* client = enet_host_create(&bindAt, 1, 2, 0, 0);
  ASSERT_NE(client, nullptr);
  ENetAddress to{};
  enet_address_set_host(&to, "127.0.0.1");
  to.port = port;
  ASSERT_NE(enet_host_connect(client, &to, 2, /*data=*/0), nullptr);
  const Deadline deadline = after(3s);  // ENet's first resend of a CONNECT would come at 500 ms
  ENetEvent event{};
  bool connected = false;
  while (!connected && Clock::now() < deadline) {
    connected = enet_host_service(client, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_CONNECT;
  }
  enet_host_destroy(client);
  EXPECT_TRUE(connected) << "a retry waited behind the dead handshakes";
  server.stopService();
  EXPECT_EQ(server.transport.stats().handshakesEvicted, 1u);
  EXPECT_EQ(server.transport.stats().connectsRefused, 0u);
}

TEST(EnetForgedConnects, HalfOpenPeersFromManyAddressesHoldASlotOnlyUntilTheHandshakeTimeout) {
  // One forged CONNECT from each of 40 addresses fills all 40 slots within the per-address
  // limit. ENet alone would keep them for about 30 s; with a 1 s handshake timeout the slots come
  // free within about two seconds and a real client gets in (its CONNECT is resent meanwhile).
  LimitedServer server(8, /*handshakeTimeout=*/1000);
  const std::uint16_t port = server.transport.port();
  std::vector<std::unique_ptr<UdpFrom>> forgers;
  for (std::uint32_t a = 0; a < 40; ++a) {
    forgers.push_back(std::make_unique<UdpFrom>(0x7F000102 + a));  // 127.0.1.2 ...
    forgers.back()->sendTo(port, forgedConnect(1));
  }
  CoreClient alice(clientNamed("alice"), port);
  alice.core().start(readClocks());
  EXPECT_TRUE(pumpCoresUntil(
      {&alice}, [&] { return alice.core().state() == ConnectionState::Registered; },
      after(15s)))
      << "the half-open slots were not freed; client " << toString(alice.core().state());
  server.stopService();
  // The client got in through a slot an expiry freed; how many more had expired by the time the
  // server stopped depends on when each was first seen by the once-a-second sweep.
  EXPECT_GE(server.transport.stats().handshakesExpired, 1u);
  EXPECT_EQ(server.transport.stats().connectsRefused, 0u);
}


// ---- LAN discovery on the chat port -------------------------------------------------------------

// A CoreServer whose transport answers discovery probes (set before the service thread starts).
struct DiscoveringServer : CoreServer {
  explicit DiscoveringServer(bool discovery)
      : CoreServer(config(), options(discovery), [](CoreServer& s) {
          s.transport.setDiscoveryInfo([&s] {
            return DiscoveryInfo{s.core.config().serverName, s.core.stats().registered,
                                 s.core.config().maxClients};
          });
        }) {}
  static EnetServerOptions options(bool discovery) {
    EnetServerOptions o = loopback(8);
    o.discovery = discovery;
    return o;
  }
  static ServerConfig config() {
    ServerConfig c;
    c.serverName = "Room 101 \u2615";
    c.maxClients = 8;
    return c;
  }
};

void registerOne(CoreClient& c) {
  c.core().start(readClocks());
  ASSERT_TRUE(pumpCoresUntil({&c}, [&] { return c.core().state() == ConnectionState::Registered; }));
}

TEST(EnetDiscovery, ProbesOnTheChatPortAreAnsweredWithinTheirSizeAndTheRate) {
  DiscoveringServer server(true);
  const std::uint16_t port = server.transport.port();
  CoreClient alice(clientNamed("alice"), port);
  ASSERT_NO_FATAL_FAILURE(registerOne(alice));

  UdpFrom one(0x7F000002);
  one.sendTo(port, discovery::encodeProbe(7));
  discovery::Bytes shortProbe = discovery::encodeProbe(8);
  shortProbe.resize(discovery::kAnswerFixedBytes + 4);  // room for 4 bytes of name
  one.sendTo(port, shortProbe);
  UdpFrom flood(0x7F000003);
  for (int i = 0; i < 20; ++i) flood.sendTo(port, discovery::encodeProbe(100 + i));
  // bob's handshake is read after the probes: once he is in, every probe has been handled.
  CoreClient bob(clientNamed("bob"), port);
  ASSERT_NO_FATAL_FAILURE(registerOne(bob));

  const auto answers = one.received();
  ASSERT_EQ(answers.size(), 2u);
  const auto first = discovery::decodeAnswer(answers[0]);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->nonce, 7u);
  EXPECT_EQ(first->name, "Room 101 \u2615");
  EXPECT_EQ(first->port, port);
  EXPECT_EQ(first->users, 1u);
  EXPECT_EQ(first->maxClients, 8u);
  EXPECT_FALSE(first->full);
  EXPECT_EQ(first->protocolVersion, kProtocolVersion);
  EXPECT_LE(answers[0].size(), discovery::kProbeBytes);
  const auto cut = discovery::decodeAnswer(answers[1]);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->name, "Room");
  EXPECT_LE(answers[1].size(), shortProbe.size()) << "no answer is longer than its probe";
  EXPECT_EQ(flood.received().size(),
            static_cast<std::size_t>(EnetServerTransport::kProbeAnswersPerSecond))
      << "at most the per-source rate";

  server.stopService();
  EXPECT_EQ(server.transport.stats().probesAnswered, 2u + 5u);
  EXPECT_EQ(server.transport.stats().probesDropped, 15u);
  EXPECT_EQ(server.core.stats().registered, 2u) << "chat on the same port is unaffected";
}

TEST(EnetDiscovery, WithDiscoveryOffProbesGetNoAnswerAndChatGoesOn) {
  DiscoveringServer server(false);
  const std::uint16_t port = server.transport.port();
  UdpFrom probe(0x7F000002);
  probe.sendTo(port, discovery::encodeProbe(7));
  CoreClient alice(clientNamed("alice"), port);
  ASSERT_NO_FATAL_FAILURE(registerOne(alice));
  EXPECT_TRUE(probe.received().empty());
  server.stopService();
  EXPECT_EQ(server.transport.stats().probesAnswered, 0u);
  EXPECT_EQ(server.transport.stats().probesDropped, 1u);
}


// ---- a reliable packet over a frame's size ----------------------------------------------------

TEST(EnetLoopback, AReliablePacketOverAFrameIsRefusedWithAnErrorAndTheChannelGoesOn) {
  CoreServer server{ServerConfig{}};
  TestClient enetUser;  // its transport initialises ENet for the raw host below
  ENetHost* raw = enet_host_create(nullptr, 1, kChannelCount, 0, 0);
  ASSERT_NE(raw, nullptr);
  ENetAddress address{};
  enet_address_set_host(&address, "127.0.0.1");
  address.port = server.transport.port();
  ENetPeer* peer = enet_host_connect(raw, &address, kChannelCount, 0);
  std::vector<protocol::Message> got;
  bool connected = false;
  auto pumpRaw = [&] {
    ENetEvent event{};
    while (enet_host_service(raw, &event, 1) > 0) {
      if (event.type == ENET_EVENT_TYPE_CONNECT) connected = true;
      if (event.type != ENET_EVENT_TYPE_RECEIVE) continue;
      const protocol::ByteSpan bytes(reinterpret_cast<const std::byte*>(event.packet->data),
                                     event.packet->dataLength);
      if (auto m = protocol::decode(bytes)) got.push_back(std::move(*m));
      enet_packet_destroy(event.packet);
    }
  };
  auto until = [&](auto done) {
    const Deadline deadline = after(kStepDeadline);
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      pumpRaw();
    }
    return true;
  };
  ASSERT_TRUE(until([&] { return connected; }));
  // 9000 bytes: fragmented by ENet, reassembled and acknowledged, refused by the core.
  protocol::Bytes big = protocol::encode(protocol::Hello{"big", 0, {}, ""});
  big.resize(9000, std::byte{0});
  enet_peer_send(peer, kChannelReliable,
                 enet_packet_create(big.data(), big.size(), ENET_PACKET_FLAG_RELIABLE));
  const protocol::Bytes hello = protocol::encode(protocol::Hello{"after", 0, {}, ""});
  enet_peer_send(peer, kChannelReliable,
                 enet_packet_create(hello.data(), hello.size(), ENET_PACKET_FLAG_RELIABLE));
  ASSERT_TRUE(until([&] {
    return std::any_of(got.begin(), got.end(),
                       [](const auto& m) { return std::holds_alternative<protocol::Welcome>(m); });
  })) << "channel 0 stalled behind the oversized packet";
  const auto* error = std::get_if<protocol::ErrorReply>(&got.front());
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code, protocol::ErrorCode::Malformed);
  EXPECT_NE(error->message.find("larger than 8192 bytes"), std::string::npos) << error->message;
  enet_peer_reset(peer);
  enet_host_destroy(raw);
  server.stopService();
  EXPECT_EQ(server.transport.stats().oversizedReceived, 1u);
  EXPECT_EQ(server.core.stats().registered, 1u);
}

}  // namespace
}  // namespace udpchat

namespace udpchat {
namespace {

// ENet 1.3.17 takes a fragment whose count exceeds its packet's length (later releases refuse
// it): for the first fragment of each packet it allocates a bitmap of fragmentCount bits,
// 128 KiB at the largest count, and counts only the one-byte packet against the peer's
// waiting-data limit. A connected peer sending such fragments for 2000 sequence numbers would
// make the server hold about 256 MiB. The server drops them before ENet parses them, and the
// peer's reliable channel goes on.
TEST(EnetLoopback, FragmentsClaimingMoreFragmentsThanBytesAreDroppedBeforeEnetAllocates) {
  CoreServer server{ServerConfig{}};
  TestClient enetUser;  // its transport initialises ENet for the raw host below
  ENetHost* raw = enet_host_create(nullptr, 1, kChannelCount, 0, 0);
  ASSERT_NE(raw, nullptr);
  ENetAddress address{};
  enet_address_set_host(&address, "127.0.0.1");
  address.port = server.transport.port();
  ENetPeer* peer = enet_host_connect(raw, &address, kChannelCount, 0);
  std::vector<protocol::Message> got;
  bool connected = false;
  auto pumpRaw = [&] {
    ENetEvent event{};
    while (enet_host_service(raw, &event, 1) > 0) {
      if (event.type == ENET_EVENT_TYPE_CONNECT) connected = true;
      if (event.type != ENET_EVENT_TYPE_RECEIVE) continue;
      const protocol::ByteSpan bytes(reinterpret_cast<const std::byte*>(event.packet->data),
                                     event.packet->dataLength);
      if (auto m = protocol::decode(bytes)) got.push_back(std::move(*m));
      enet_packet_destroy(event.packet);
    }
  };
  auto until = [&](auto done) {
    const Deadline deadline = after(kStepDeadline);
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      pumpRaw();
    }
    return true;
  };
  auto count = [&]<class M>(std::type_identity<M>) {
    return std::count_if(got.begin(), got.end(),
                         [](const auto& m) { return std::holds_alternative<M>(m); });
  };
  auto send = [&](const protocol::Message& m) {
    const protocol::Bytes frame = protocol::encode(m);
    enet_peer_send(peer, kChannelReliable,
                   enet_packet_create(frame.data(), frame.size(), ENET_PACKET_FLAG_RELIABLE));
  };
  ASSERT_TRUE(until([&] { return connected; }));
  send(protocol::Hello{"frag", 0, {"lobby"}, "raw"});
  ASSERT_TRUE(until([&] { return count(std::type_identity<protocol::Welcome>{}) == 1; }));
  const std::size_t before = test::residentBytes();

  constexpr std::uint32_t kForged = 2000;
  auto put16 = [](protocol::Bytes& b, std::uint32_t v) {
    b.push_back(static_cast<std::byte>(v >> 8));
    b.push_back(static_cast<std::byte>(v));
  };
  auto put32 = [&](protocol::Bytes& b, std::uint32_t v) {
    put16(b, v >> 16);
    put16(b, v & 0xFFFF);
  };
  for (std::uint32_t i = 0; i < kForged; ++i) {
    // As the peer itself: its id and session in the header, on channel 0, well inside the
    // reliable window (ENet queues a fragment up to seven windows of 4096 ahead).
    protocol::Bytes d;
    put16(d, peer->outgoingPeerID | (peer->outgoingSessionID << ENET_PROTOCOL_HEADER_SESSION_SHIFT) |
                 ENET_PROTOCOL_HEADER_FLAG_SENT_TIME);
    put16(d, 0);
    const std::uint32_t sequence = 100 + i;
    d.push_back(static_cast<std::byte>(unsigned{ENET_PROTOCOL_COMMAND_SEND_FRAGMENT} |
                                       unsigned{ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE}));
    d.push_back(std::byte{kChannelReliable});
    put16(d, sequence);
    put16(d, sequence);                          // startSequenceNumber
    put16(d, 1);                                 // dataLength
    put32(d, ENET_PROTOCOL_MAXIMUM_FRAGMENT_COUNT);  // fragmentCount
    put32(d, 0);                                 // fragmentNumber
    put32(d, 1);                                 // totalLength
    put32(d, 0);                                 // fragmentOffset
    d.push_back(std::byte{0x2A});
    ENetBuffer buffer{};
    buffer.data = d.data();
    buffer.dataLength = d.size();
    ASSERT_EQ(enet_socket_send(raw->socket, &peer->address, &buffer, 1),
              static_cast<int>(d.size()));
    if (i % 64 == 0) pumpRaw();  // a turn for the server between bursts, as a peer would
  }
  // Sent after the forged datagrams from the same socket, so its answer comes after the
  // server has seen them all.
  send(protocol::WhoRequest{"lobby"});
  ASSERT_TRUE(until([&] { return count(std::type_identity<protocol::WhoReply>{}) == 1; }))
      << "the reliable channel stalled";
  const std::size_t grown = test::residentBytes();
  enet_peer_reset(peer);
  enet_host_destroy(raw);
  server.stopService();
  EXPECT_EQ(server.transport.stats().datagramsRefused, kForged);
  EXPECT_LT(grown, before + 32 * 1024 * 1024) << "grew from " << before << " to " << grown;
  EXPECT_EQ(server.core.stats().registered, 1u);
}

}  // namespace
}  // namespace udpchat
