// The ENet transports over 127.0.0.1: a server transport with a recording handler (or the real
// ServerCore) on its own thread, clients pumped by the test thread. Every wait is a pump loop
// with a deadline and a condition; nothing sleeps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "subprocess.hpp"
#include "udpchat/client_core.hpp"
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

protocol::Bytes bytesOf(std::string_view s) {
  protocol::Bytes out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::string textOf(const protocol::Bytes& b) {
  std::string out;
  for (std::byte x : b) out.push_back(static_cast<char>(x));
  return out;
}

// What the server transport reported, in order, with a way to run code on the server thread.
class RecordingHandler final : public SessionHandler {
 public:
  enum class Kind { Connected, Disconnected, Received };
  struct Record {
    Kind kind;
    SessionId session = 0;
    std::uint8_t channel = 0;
    protocol::Bytes bytes;
  };

  explicit RecordingHandler(Outbox& outbox) : outbox_(outbox) {}

  void connected(SessionId session, Now) override { add({Kind::Connected, session, 0, {}}); }
  void disconnected(SessionId session, Now) override { add({Kind::Disconnected, session, 0, {}}); }
  void received(SessionId session, std::uint8_t channel, protocol::ByteSpan frame, Now) override {
    add({Kind::Received, session, channel, protocol::Bytes(frame.begin(), frame.end())});
  }
  void tick(Now) override {
    std::vector<std::function<void(Outbox&)>> actions;
    {
      std::lock_guard lock(mutex_);
      actions.swap(actions_);
    }
    for (auto& action : actions) action(outbox_);
    std::lock_guard lock(mutex_);
    ticksDone_ += actions.size();
  }
  Millis tickInterval() const override { return 2; }

  // Runs `action` on the server thread at the next tick.
  void post(std::function<void(Outbox&)> action) {
    std::lock_guard lock(mutex_);
    actions_.push_back(std::move(action));
    ++posted_;
  }
  bool postedDone() const {
    std::lock_guard lock(mutex_);
    return ticksDone_ == posted_;
  }
  std::vector<Record> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  std::vector<SessionId> sessions(Kind kind) const {
    std::vector<SessionId> out;
    for (const auto& r : records()) {
      if (r.kind == kind) out.push_back(r.session);
    }
    return out;
  }
  std::vector<Record> received() const {
    std::vector<Record> out;
    for (auto& r : records()) {
      if (r.kind == Kind::Received) out.push_back(r);
    }
    return out;
  }

 private:
  void add(Record r) {
    std::lock_guard lock(mutex_);
    records_.push_back(std::move(r));
  }

  Outbox& outbox_;
  mutable std::mutex mutex_;
  std::vector<Record> records_;
  std::vector<std::function<void(Outbox&)>> actions_;
  std::size_t posted_ = 0;
  std::size_t ticksDone_ = 0;
};

// A server transport serviced by its own thread until destroyed (or stop()).
template <class Handler>
class ServerThread {
 public:
  template <class MakeHandler>
  ServerThread(EnetServerOptions options, MakeHandler makeHandler)
      : transport_(std::move(options)), handler_(makeHandler(transport_)) {
    thread_ = std::thread([this] { transport_.run(*handler_, stop_); });
  }
  ~ServerThread() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return transport_.port(); }
  Handler& handler() { return *handler_; }
  // Only after stop(): the transport belongs to the server thread while it runs.
  const EnetServerStats& stats() const { return transport_.stats(); }

 private:
  EnetServerTransport transport_;
  std::unique_ptr<Handler> handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

EnetServerOptions loopback(std::size_t maxClients = 8) {
  return EnetServerOptions{"127.0.0.1", 0, maxClients};
}

struct RecordingServer : ServerThread<RecordingHandler> {
  explicit RecordingServer(EnetServerOptions options = loopback())
      : ServerThread(std::move(options),
                     [](Outbox& o) { return std::make_unique<RecordingHandler>(o); }) {}
};

struct TestClient {
  explicit TestClient(EnetClientOptions options = {}) : transport(options) {}
  EnetClientTransport transport;
  std::vector<ClientTransportEvent> events;

  void pump() {
    for (auto& e : transport.serviceOnce(1)) events.push_back(std::move(e));
  }
  template <class T>
  std::size_t count() const {
    return static_cast<std::size_t>(std::count_if(
        events.begin(), events.end(), [](const auto& e) { return std::holds_alternative<T>(e); }));
  }
  std::vector<std::string> receivedTexts(std::uint8_t channel) const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (auto* r = std::get_if<transport_event::Received>(&e); r && r->channel == channel) {
        out.push_back(textOf(r->bytes));
      }
    }
    return out;
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
  ASSERT_TRUE(pumpUntil({&client}, [&] {
    return server.handler().sessions(RecordingHandler::Kind::Disconnected).size() == 1;
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
    for (const auto& e : events) {
      if (auto* t = std::get_if<T>(&e); t && pred(*t)) return t;
    }
    return nullptr;
  }

  ClientCore& core() { return core_; }
  std::vector<ClientEvent> events;

 private:
  std::uint16_t port_;
  EnetClientTransport transport_;
  ClientCore core_;
};

struct CoreServer {
  explicit CoreServer(ServerConfig config, EnetServerOptions options = loopback(16))
      : transport(std::move(options)), core(std::move(config), transport) {
    thread = std::thread([this] { transport.run(core, stop); });
  }
  ~CoreServer() {
    stop = true;
    thread.join();
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

}  // namespace
}  // namespace udpchat
