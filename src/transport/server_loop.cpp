#include "udpchat/server_loop.hpp"

#include <poll.h>

#include <algorithm>
#include <bit>
#include <functional>
#include <cerrno>
#include <stdexcept>
#include <vector>

#include "udpchat/session_ids.hpp"
#include "udpchat/tcp_framing.hpp"

namespace udpchat {
namespace {

// Upper bounds of encoded frames, from the field lists in protocol.hpp (docs/PROTOCOL.md §4):
// a string field is a u16 length and at most its limit.
constexpr std::size_t stringBytes(std::size_t limit) {
  return 2 + limit;
}
constexpr std::size_t kHeaderBytes = 2;  // version, type

constexpr std::size_t kWhoEntryBytes = stringBytes(kMaxNickBytes) + 1 + 4 + 1;
constexpr std::size_t kWhoPageBytes =
    kHeaderBytes + stringBytes(kMaxRoomBytes) + 2 + kMaxWhoEntriesPerFrame * kWhoEntryBytes + 1;
// A join's other frames (JoinEvent, TopicEvent) and a Welcome are far below this.
constexpr std::size_t kSmallFramesPerRoomBytes = 2 * kMaxFrameBytes;

}  // namespace

// The memory a queued record of a `frameBytes`-byte frame holds: the encoder grows a frame's
// buffer by doubling from 64 bytes, so its capacity is the next power of two.
std::size_t heldForFrame(std::size_t frameBytes) {
  return tcpRecordHeldBytes(std::bit_ceil(std::max<std::size_t>(frameBytes, 64)));
}

std::size_t tcpQueueLimitFor(const ServerConfig& config) {
  const std::size_t chatEvent = heldForFrame(kHeaderBytes + 8 + 8 + stringBytes(kMaxRoomBytes) +
                                             stringBytes(kMaxNickBytes) +
                                             stringBytes(kMaxSubjectBytes) +
                                             stringBytes(config.maxMessageBytes) + 1);
  const std::size_t whoPages = config.maxClients / kMaxWhoEntriesPerFrame + 1;
  const std::size_t perRoom = config.historySize * chatEvent + whoPages * heldForFrame(kWhoPageBytes) +
                              kSmallFramesPerRoomBytes;
  const std::size_t burst = kMaxRoomsPerUser * perRoom + kMaxFrameBytes;
  return std::max(kTcpDefaultMaxQueuedBytes, burst);
}

struct ServerLoop::State {
  std::unique_ptr<EnetServerTransport> enet;
  std::unique_ptr<TcpServerTransport> tcp;
  // Scratch lists for send(), kept to avoid allocating per broadcast.
  std::vector<SessionId> toEnet, toTcp;
  int sideFd = -1;
  std::function<int(Now)> side;
};

ServerLoop::ServerLoop(ServerLoopOptions options) : state_(std::make_unique<State>()) {
  auto ids = std::make_shared<SessionIdAllocator>();
  const int attempts = options.port == 0 ? kEphemeralAttempts : 1;
  for (int attempt = 1;; ++attempt) {
    // UDP first: with port 0 the kernel picks the number, and TCP must then get the same one.
    state_->enet = std::make_unique<EnetServerTransport>(
        EnetServerOptions{options.host, options.port, options.maxClients, options.enetBundle,
                          options.udpReceiveBufferBytes, options.enetInitialRttMs,
                          options.enetMaxHandshakesPerAddress, options.exemptLoopback,
                          options.enetHandshakeTimeoutMs},
        ids);
    TcpServerOptions tcp;
    tcp.host = options.host;
    tcp.port = state_->enet->port();
    tcp.maxClients = options.maxClients;
    tcp.maxQueuedBytes = options.tcpMaxQueuedBytes;
    tcp.idleTimeout = options.tcpIdleTimeout;
    tcp.closeTimeout = options.tcpCloseTimeout;
    tcp.labChannels = options.labChannels;
    try {
      state_->tcp = std::make_unique<TcpServerTransport>(std::move(tcp), ids);
      return;
    } catch (const std::runtime_error&) {
      // Only an ephemeral number may be given back and another one tried.
      if (attempt >= attempts) throw;
      state_->enet.reset();
    }
  }
}

ServerLoop::~ServerLoop() = default;

std::uint16_t ServerLoop::port() const {
  return state_->enet->port();
}

EnetServerTransport& ServerLoop::enet() {
  return *state_->enet;
}
const EnetServerTransport& ServerLoop::enet() const {
  return *state_->enet;
}
TcpServerTransport& ServerLoop::tcp() {
  return *state_->tcp;
}
const TcpServerTransport& ServerLoop::tcp() const {
  return *state_->tcp;
}

int ServerLoop::serviceOnce(SessionHandler& handler, Millis maxWait) {
  EnetServerTransport& enet = *state_->enet;
  TcpServerTransport& tcp = *state_->tcp;
  pollfd fds[3] = {{enet.socketFd(), POLLIN, 0}, {tcp.pollFd(), POLLIN, 0},
                   {state_->sideFd, POLLIN, 0}};
  const nfds_t count = state_->sideFd >= 0 ? 3 : 2;
  // EINTR (a signal) just ends the wait early.
  static_cast<void>(::poll(fds, count, static_cast<int>(std::clamp<Millis>(maxWait, 0, 60'000))));
  // ENet every turn, readable or not: it retransmits and times peers out only in here.
  int calls = enet.serviceOnce(handler, 0);
  // TCP every turn as well: it also enforces its deadlines and reports lost connections.
  calls += tcp.serviceOnce(handler, 0);
  if (state_->side) calls += state_->side(readClocks());
  // The handler commits what the turn accepted before anything confirming it is flushed.
  if (calls > 0) handler.endTurn(readClocks());
  // What the TCP side's handler calls queued for ENet peers leaves now, not a turn later.
  enet.flush();
  tcp.flush();
  return calls;
}

void ServerLoop::setSideWork(int fd, std::function<int(Now)> service) {
  state_->sideFd = fd;
  state_->side = std::move(service);
}

void ServerLoop::run(SessionHandler& handler, const std::atomic<bool>& stop) {
  Millis nextTick = readClocks().mono + handler.tickInterval();
  while (!stop.load(std::memory_order_relaxed)) {
    const Millis untilTick = nextTick - readClocks().mono;
    serviceOnce(handler, std::clamp<Millis>(untilTick, 0, kMaxWaitMs));
    const Now now = readClocks();
    if (now.mono >= nextTick) {
      handler.tick(now);
      handler.endTurn(now);
      state_->enet->flush();
      state_->tcp->flush();
      // After a stall, tick once and resume the cadence instead of catching up in a burst.
      nextTick = std::max(nextTick + handler.tickInterval(), now.mono + 1);
    }
  }
}

void ServerLoop::shutdown(Millis grace) {
  EnetServerTransport& enet = *state_->enet;
  TcpServerTransport& tcp = *state_->tcp;
  // Both first, so that every client learns at once, then one wait for both.
  enet.beginShutdown();
  tcp.beginShutdown();
  const Millis deadline = readClocks().mono + grace;
  bool enetDone = false, tcpDone = false;
  while (!(enetDone && tcpDone) && readClocks().mono < deadline) {
    // Each call waits at most a millisecond, so neither starves the other.
    if (!enetDone) enetDone = enet.serviceShutdown(tcpDone ? 10 : 0);
    if (!tcpDone) tcpDone = tcp.serviceShutdown(enetDone ? 10 : 1);
  }
  enet.flush();
  tcp.shutdown(0);  // whatever did not close in time is closed now
}

void ServerLoop::send(std::span<const SessionId> to, std::uint8_t channel,
                      const SharedFrame& frame) {
  State& st = *state_;
  if (to.empty()) return;
  if (st.tcp->stats().connections == 0) {
    st.enet->send(to, channel, frame);
    return;
  }
  st.toEnet.clear();
  st.toTcp.clear();
  for (SessionId session : to) (st.tcp->owns(session) ? st.toTcp : st.toEnet).push_back(session);
  if (!st.toEnet.empty()) st.enet->send(st.toEnet, channel, frame);
  if (!st.toTcp.empty()) st.tcp->send(st.toTcp, channel, frame);
}

void ServerLoop::close(SessionId session) {
  if (state_->tcp->owns(session)) {
    state_->tcp->close(session);
  } else {
    state_->enet->close(session);
  }
}

}  // namespace udpchat
