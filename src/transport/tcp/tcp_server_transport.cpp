#include "udpchat/tcp_server_transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <deque>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "socket_util.hpp"
#include "udpchat/tcp_framing.hpp"

namespace udpchat {
namespace {

// epoll data of the listening socket. Sessions are numbered from 1, so 0 is free.
constexpr std::uint64_t kListenerKey = 0;
constexpr int kListenBacklog = 128;
constexpr int kMaxEventsPerWait = 256;
// Records handed to the kernel per sendmsg (two iovecs each: header and frame).
constexpr std::size_t kRecordsPerWrite = 64;
// Connections accepted per serviceOnce(): a connect storm cannot starve established sessions.
constexpr int kAcceptsPerTurn = 64;
// How often (milliseconds) idle and close deadlines are checked; they are seconds long.
constexpr Millis kTimerCheckMs = 50;

// One record waiting to be sent: its own 3-byte header and the shared frame.
struct OutRecord {
  tcp::RecordHeader header;
  SharedFrame frame;
  std::size_t size() const { return tcp::kRecordHeaderBytes + frame->size(); }
  // The memory this record keeps alive while queued (a frame shared with other recipients is
  // counted whole: once they have sent it, this record alone holds it).
  std::size_t held() const { return tcpRecordHeldBytes(frame->capacity()); }
};

// Freed queue memory after which the sweep asks glibc to hand free pages back (malloc_trim):
// without it a burst of non-reading peers left the server at its peak size after they left.
constexpr std::size_t kTrimAfterFreedBytes = 4 << 20;

enum class Phase {
  Open,       // the handler knows the session
  Closing,    // closed by the handler (or lost): delivering what is queued, then FIN
  WriteShut,  // FIN sent: waiting for the peer's FIN, or the close deadline
  Dead,       // socket closed; the entry goes at the next sweep
};

struct Connection {
  SessionId session = 0;
  tcp::UniqueFd fd;
  Phase phase = Phase::Open;
  tcp::RecordReader reader;
  std::deque<OutRecord> out;
  std::size_t sentOfFront = 0;  // bytes of out.front() the kernel took already
  std::size_t heldBytes = 0;    // memory the records in `out` hold (tcpRecordHeldBytes)
  std::uint32_t events = 0;     // what epoll watches for now
  bool peerClosed = false;      // the peer's FIN arrived (read returned 0)
  bool dirty = false;           // listed in State::dirty
  Millis lastHeard = 0;         // monotonic ms of the last byte received
  Millis closeDeadline = 0;     // monotonic ms, while Closing or WriteShut
};

// Handler for the shutdown phase: no session is open then, so nothing reaches it.
class NullHandler final : public SessionHandler {
 public:
  using SessionHandler::connected;
  void connected(SessionId, Now) override {}
  void disconnected(SessionId, Now) override {}
  void received(SessionId, std::uint8_t, protocol::ByteSpan, Now) override {}
  void tick(Now) override {}
  Millis tickInterval() const override { return 1000; }
};

}  // namespace

struct TcpServerTransport::State {
  TcpServerOptions options;
  std::shared_ptr<SessionIdAllocator> sessionIds;
  tcp::UniqueFd epoll;
  tcp::UniqueFd listener;
  // A descriptor held in reserve: when accept() fails for want of descriptors, it is freed to
  // accept and close the pending connection, so that the listener does not stay readable and
  // the loop does not spin (the technique of libev and muduo).
  tcp::UniqueFd reserve;
  sockaddr_in bound{};
  std::unordered_map<SessionId, std::unique_ptr<Connection>> connections;
  std::vector<SessionId> dirty;  // output queued or a close requested since the last flush
  std::vector<SessionId> lost;   // open sessions that ended; the handler has not heard yet
  std::vector<SessionId> dead;   // entries to erase at the next sweep
  std::size_t freedSinceTrim = 0;  // queue memory released since the last malloc_trim
  bool listenerPaused = false;
  Millis listenerPausedUntil = 0;
  Millis nextTimerCheck = 0;
  bool shuttingDown = false;
  TcpServerStats stats;
  std::array<std::byte, kReadBudgetBytes> readBuffer{};

  Connection* find(SessionId session) const {
    auto it = connections.find(session);
    return it == connections.end() ? nullptr : it->second.get();
  }

  void watch(Connection& c, std::uint32_t events) {
    if (c.events == events || !c.fd) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.session;
    ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
    c.events = events;
  }

  void markDirty(Connection& c) {
    if (c.dirty) return;
    c.dirty = true;
    dirty.push_back(c.session);
  }

  // Closes the socket now. An open session is reported to the handler at the next
  // reportLost(); the entry itself is erased at the next sweep, never from inside a call that
  // may be running on it.
  void kill(Connection& c, bool abortive) {
    if (c.phase == Phase::Dead) return;
    if (c.phase == Phase::Open && !shuttingDown) lost.push_back(c.session);
    c.phase = Phase::Dead;
    if (abortive && c.fd) tcp::setAbortiveClose(c.fd.get());
    c.fd.reset();  // also removes it from the epoll set
    release(c.heldBytes);
    c.out.clear();
    c.out.shrink_to_fit();
    c.heldBytes = 0;
    dead.push_back(c.session);
  }

  void beginClosing(Connection& c, Millis now) {
    c.phase = Phase::Closing;
    c.closeDeadline = now + options.closeTimeout;
    markDirty(c);
  }

  // Writes what the kernel takes; on a closing connection with nothing left, sends FIN (or
  // closes, if the peer's FIN is in already).
  void flushOne(Connection& c) {
    while (!c.out.empty()) {
      std::array<iovec, 2 * kRecordsPerWrite> iov{};
      std::size_t n = 0;
      std::size_t skip = c.sentOfFront;
      for (auto it = c.out.begin(); it != c.out.end() && n + 2 <= iov.size(); ++it) {
        if (skip < tcp::kRecordHeaderBytes) {
          iov[n++] = iovec{it->header.data() + skip, tcp::kRecordHeaderBytes - skip};
          skip = 0;
        } else {
          skip -= tcp::kRecordHeaderBytes;
        }
        if (it->frame->size() > skip) {
          // sendmsg only reads through iov_base; the frame stays const.
          iov[n++] =
              iovec{const_cast<std::byte*>(it->frame->data()) + skip, it->frame->size() - skip};
        }
        skip = 0;
      }
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = n;
      const ssize_t sent = ::sendmsg(c.fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        kill(c, /*abortive=*/true);  // EPIPE, ECONNRESET: the peer is gone
        return;
      }
      std::size_t left = static_cast<std::size_t>(sent);
      while (left > 0) {
        const std::size_t remain = c.out.front().size() - c.sentOfFront;
        const std::size_t step = std::min(left, remain);
        left -= step;
        c.sentOfFront += step;
        if (c.sentOfFront == c.out.front().size()) {
          const std::size_t held = c.out.front().held();
          c.heldBytes -= held;
          release(held);
          c.out.pop_front();
          c.sentOfFront = 0;
        }
      }
    }
    if (c.out.empty() && c.phase == Phase::Closing) {
      if (c.peerClosed) {
        kill(c, /*abortive=*/false);
        return;
      }
      ::shutdown(c.fd.get(), SHUT_WR);
      c.phase = Phase::WriteShut;
    }
    std::uint32_t events = 0;
    if (!c.peerClosed) events |= EPOLLIN;
    if (!c.out.empty()) events |= EPOLLOUT;
    watch(c, events);
  }

  void peerGone(Connection& c, Millis now) {
    c.peerClosed = true;
    switch (c.phase) {
      case Phase::Open:
        // The handler hears of it; what is queued still goes out (the peer may only have shut
        // its sending side), then the socket closes.
        if (!shuttingDown) lost.push_back(c.session);
        beginClosing(c, now);
        flushOne(c);
        break;
      case Phase::Closing:
        flushOne(c);
        break;
      case Phase::WriteShut:
        kill(c, /*abortive=*/false);
        break;
      case Phase::Dead:
        break;
    }
  }

  // Reads up to kReadBudgetBytes and hands every complete record of an open session to the
  // handler. Returns the number of handler calls.
  int readSome(Connection& c, SessionHandler& handler, Now now) {
    int calls = 0;
    std::size_t budget = kReadBudgetBytes;
    while (budget > 0 && c.phase != Phase::Dead && !c.peerClosed) {
      const ssize_t got = ::recv(c.fd.get(), readBuffer.data(), budget, MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) kill(c, /*abortive=*/false);
        break;
      }
      if (got == 0) {
        peerGone(c, now.mono);
        break;
      }
      budget -= static_cast<std::size_t>(got);
      c.lastHeard = now.mono;
      // A closing session's input is read only to see the peer's FIN; the handler forgot it.
      protocol::ByteSpan input(readBuffer.data(), static_cast<std::size_t>(got));
      while (c.phase == Phase::Open) {
        auto next = c.reader.next(input);
        if (!next) {
          // The stream cannot be resynchronised: the peer broke the framing rules.
          ++stats.framingErrors;
          kill(c, /*abortive=*/true);
          break;
        }
        if (!next.value()) break;
        const tcp::RecordReader::Record& record = *next.value();
        ++stats.recordsReceived;
        stats.bytesReceived += record.frame.size();
        handler.received(c.session, record.channel, record.frame, now);
        ++calls;
      }
    }
    return calls;
  }

  void pauseListener(Millis now) {
    if (!listener || listenerPaused) return;
    epoll_event ev{};
    ev.data.u64 = kListenerKey;
    ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, listener.get(), &ev);
    listenerPaused = true;
    listenerPausedUntil = now + kAcceptPauseMs;
  }

  void resumeListener() {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerKey;
    ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, listener.get(), &ev);
    listenerPaused = false;
  }

  int acceptSome(SessionHandler& handler, Now now) {
    int calls = 0;
    for (int i = 0; i < kAcceptsPerTurn && listener && !listenerPaused; ++i) {
      sockaddr_in from{};
      socklen_t fromLength = sizeof from;
      const int fd = ::accept4(listener.get(), reinterpret_cast<sockaddr*>(&from), &fromLength,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) break;
        // The pending connection died before we took it: take the next one.
        if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
        ++stats.acceptErrors;
        if ((err == EMFILE || err == ENFILE) && reserve) {
          reserve.reset();
          tcp::UniqueFd victim(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
          if (victim) tcp::setAbortiveClose(victim.get());
          victim.reset();
          reserve.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
          if (reserve) continue;
        }
        // No descriptor to spare, or the listener itself is in trouble: leave it for a while
        // instead of waking up to the same error every millisecond.
        pauseListener(now.mono);
        break;
      }
      tcp::UniqueFd sock(fd);
      if (connections.size() >= options.maxClients + kSpareConnections) {
        ++stats.refusedOverLimit;
        tcp::setAbortiveClose(sock.get());
        continue;
      }
      tcp::setNoDelay(sock.get());
      auto c = std::make_unique<Connection>();
      c->reader = tcp::RecordReader(options.labChannels ? kLabChannelCount : kChannelCount);
      c->session = sessionIds->next();
      c->lastHeard = now.mono;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = c->session;
      if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, sock.get(), &ev) != 0) {
        ++stats.acceptErrors;
        continue;
      }
      c->events = EPOLLIN;
      c->fd = std::move(sock);
      const SessionId session = c->session;
      connections.emplace(session, std::move(c));
      stats.connections = connections.size();
      ++stats.accepted;
      // may close() it at once (server full, too many from one address)
      handler.connected(session, now, from.sin_family == AF_INET ? ntohl(from.sin_addr.s_addr) : 0);
      ++calls;
    }
    return calls;
  }

  void checkTimers(Millis now) {
    if (listenerPaused && now >= listenerPausedUntil && listener) resumeListener();
    if (now < nextTimerCheck) return;
    nextTimerCheck = now + kTimerCheckMs;
    for (auto& [session, c] : connections) {
      switch (c->phase) {
        case Phase::Open:
          if (options.idleTimeout > 0 && now - c->lastHeard > options.idleTimeout) {
            ++stats.idleCloses;
            kill(*c, /*abortive=*/true);
          }
          break;
        case Phase::Closing:
        case Phase::WriteShut:
          if (now > c->closeDeadline) {
            ++stats.closeTimeouts;
            kill(*c, /*abortive=*/true);
          }
          break;
        case Phase::Dead:
          break;
      }
    }
  }

  int reportLost(SessionHandler& handler, Now now) {
    int calls = 0;
    // The handler's reaction (quit events to others) may close more connections.
    while (!lost.empty()) {
      std::vector<SessionId> batch;
      batch.swap(lost);
      for (SessionId session : batch) {
        handler.disconnected(session, now);
        ++calls;
      }
    }
    return calls;
  }

  void flushDirty() {
    std::vector<SessionId> batch;
    batch.swap(dirty);
    for (SessionId session : batch) {
      Connection* c = find(session);
      if (c == nullptr) continue;
      c->dirty = false;
      if (c->phase == Phase::Dead) continue;
      // Waiting for EPOLLOUT already: the kernel's buffer is full, writing now would not help.
      if ((c->events & EPOLLOUT) != 0) continue;
      flushOne(*c);
    }
    // Sends made by the handler during this flush (none today) wait for the next one.
  }

  // Queue memory given back (sent, or its connection gone).
  void release(std::size_t bytes) {
    stats.heldBytes -= bytes;
    freedSinceTrim += bytes;
  }

  void sweep() {
    for (SessionId session : dead) connections.erase(session);
    dead.clear();
    stats.connections = connections.size();
    if (freedSinceTrim >= kTrimAfterFreedBytes) {
      ::malloc_trim(0);
      ++stats.mallocTrims;
      freedSinceTrim = 0;
    }
  }

  int pollSockets(SessionHandler& handler, Millis maxWait) {
    std::array<epoll_event, kMaxEventsPerWait> events{};
    int ready;
    do {
      ready = ::epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()),
                           static_cast<int>(std::clamp<Millis>(maxWait, 0, 60'000)));
    } while (ready < 0 && errno == EINTR);
    const Now now = readClocks();
    int calls = reportLost(handler, now);  // sessions that ended since the last turn
    for (int i = 0; i < ready; ++i) {
      const epoll_event& ev = events[static_cast<std::size_t>(i)];
      if (ev.data.u64 == kListenerKey) {
        calls += acceptSome(handler, now);
        continue;
      }
      Connection* c = find(static_cast<SessionId>(ev.data.u64));
      if (c == nullptr || c->phase == Phase::Dead) continue;
      if ((ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) calls += readSome(*c, handler, now);
      if (c->phase != Phase::Dead && (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
        flushOne(*c);
      }
    }
    checkTimers(now.mono);
    calls += reportLost(handler, now);
    flushDirty();
    sweep();
    return calls;
  }
};

TcpServerTransport::TcpServerTransport(TcpServerOptions options,
                                       std::shared_ptr<SessionIdAllocator> sessionIds)
    : state_(std::make_unique<State>()) {
  State& st = *state_;
  st.options = std::move(options);
  st.sessionIds = sessionIds ? std::move(sessionIds) : std::make_shared<SessionIdAllocator>();
  const TcpServerOptions& o = st.options;
  const std::string where =
      "cannot listen on " + o.host + ":" + std::to_string(o.port) + " (TCP): ";
  auto failWith = [&](const std::string& reason) { throw std::runtime_error(where + reason); };

  const auto address = tcp::resolveIpv4(o.host, o.port);
  if (!address) failWith("cannot resolve host");
  st.epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!st.epoll) failWith(tcp::errnoText(errno));
  st.listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!st.listener) failWith(tcp::errnoText(errno));
  // A restarted server must get its port back while connections of the previous run sit in
  // TIME_WAIT. (On Linux this does not let two listeners share a port.)
  const int on = 1;
  ::setsockopt(st.listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(st.listener.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) !=
          0 ||
      ::listen(st.listener.get(), kListenBacklog) != 0) {
    failWith(tcp::errnoText(errno));
  }
  socklen_t len = sizeof st.bound;
  ::getsockname(st.listener.get(), reinterpret_cast<sockaddr*>(&st.bound), &len);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerKey;
  if (::epoll_ctl(st.epoll.get(), EPOLL_CTL_ADD, st.listener.get(), &ev) != 0) {
    failWith(tcp::errnoText(errno));
  }
  st.reserve.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

TcpServerTransport::~TcpServerTransport() = default;

std::uint16_t TcpServerTransport::port() const {
  return ntohs(state_->bound.sin_port);
}

std::string TcpServerTransport::boundAddress() const {
  return tcp::formatAddress(state_->bound);
}

int TcpServerTransport::pollFd() const {
  return state_->epoll.get();
}

int TcpServerTransport::serviceOnce(SessionHandler& handler, Millis maxWait) {
  return state_->pollSockets(handler, maxWait);
}

void TcpServerTransport::flush() {
  state_->flushDirty();
  state_->sweep();
}

void TcpServerTransport::beginShutdown() {
  State& st = *state_;
  st.shuttingDown = true;
  st.lost.clear();
  st.listener.reset();  // also leaves the epoll set
  const Millis now = readClocks().mono;
  for (auto& [session, c] : st.connections) {
    if (c->phase == Phase::Open) st.beginClosing(*c, now);
  }
  flush();
}

bool TcpServerTransport::serviceShutdown(Millis maxWait) {
  NullHandler none;
  state_->pollSockets(none, maxWait);
  return state_->connections.empty();
}

void TcpServerTransport::shutdown(Millis grace) {
  beginShutdown();
  const Millis deadline = readClocks().mono + grace;
  for (;;) {
    const Millis left = deadline - readClocks().mono;
    if (serviceShutdown(std::clamp<Millis>(left, 0, 10)) || left <= 0) break;
  }
  for (auto& [session, c] : state_->connections) state_->kill(*c, /*abortive=*/true);
  state_->sweep();
}

void TcpServerTransport::send(std::span<const SessionId> to, std::uint8_t channel,
                              const SharedFrame& frame) {
  State& st = *state_;
  if (to.empty()) return;
  if (!frame || frame->size() > kMaxFrameBytes || channel >= kLabChannelCount) {
    st.stats.sendFailures += to.size();
    return;
  }
  const tcp::RecordHeader header = tcp::recordHeader(channel, frame->size());
  const std::size_t heldBytes = tcpRecordHeldBytes(frame->capacity());
  ++st.stats.framesShared;
  for (SessionId session : to) {
    Connection* c = st.find(session);
    if (c == nullptr || c->phase != Phase::Open) {
      ++st.stats.sendFailures;
      continue;
    }
    if (c->heldBytes + heldBytes > st.options.maxQueuedBytes) {
      // The peer does not read (or not fast enough for anyone's good): waiting would hold
      // memory without bound, blocking would stall everyone. The handler hears of it on the
      // next serviceOnce(), as of any lost connection.
      ++st.stats.overflowCloses;
      ++st.stats.sendFailures;
      st.kill(*c, /*abortive=*/true);
      continue;
    }
    c->out.push_back(OutRecord{header, frame});
    c->heldBytes += heldBytes;
    st.stats.heldBytes += heldBytes;
    st.stats.peakHeldBytes = std::max(st.stats.peakHeldBytes, st.stats.heldBytes);
    st.markDirty(*c);
    ++st.stats.recordsSent;
    st.stats.bytesSent += frame->size();
  }
}

void TcpServerTransport::close(SessionId session) {
  Connection* c = state_->find(session);
  if (c == nullptr || c->phase != Phase::Open) return;
  // The FIN follows the queued records at the next flush.
  state_->beginClosing(*c, readClocks().mono);
}

bool TcpServerTransport::owns(SessionId session) const {
  const Connection* c = state_->find(session);
  return c != nullptr && c->phase == Phase::Open;
}

const TcpServerStats& TcpServerTransport::stats() const {
  return state_->stats;
}

}  // namespace udpchat
