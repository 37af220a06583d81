#include "udpchat/tcp_client_transport.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "socket_util.hpp"
#include "udpchat/tcp_framing.hpp"

namespace udpchat {
namespace {

// Bytes read per serviceOnce(): bounds the events one call returns.
constexpr std::size_t kReadBudgetBytes = 256 * 1024;
constexpr std::size_t kReadChunkBytes = 64 * 1024;
// Milliseconds sent data may stay unacknowledged before the kernel gives the connection up
// (TCP_USER_TIMEOUT). The client pings every second, so a server that vanished without a FIN is
// noticed within this, like ENet's longest peer timeout, instead of after ~15 minutes of
// retransmissions (tcp_retries2).
constexpr unsigned kUnacknowledgedTimeoutMs = 30000;

std::string describeDuration(Millis ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

std::string connectFailure(int err) {
  if (err == ECONNREFUSED) return "connection refused";
  if (err == ETIMEDOUT) return "connection timed out";
  return tcp::errnoText(err);
}

}  // namespace

struct TcpClientTransport::State {
  enum class Phase {
    Idle,
    Connecting,
    Connected,
    Closing,    // disconnectGracefully(): delivering what is queued
    WriteShut,  // FIN sent: waiting for the server's close
  };

  TcpClientOptions options;
  tcp::UniqueFd fd;
  Phase phase = Phase::Idle;
  Millis deadline = 0;  // monotonic ms: end of the connect or of the graceful close
  // A lab server relays chat on the channel it arrived on (2 to 4); a chat server sends only 0
  // and 1, so accepting the lab's channels here costs nothing.
  tcp::RecordReader reader{kLabChannelCount};
  protocol::Bytes out;  // records not yet taken by the kernel, from outOffset on
  std::size_t outOffset = 0;
  std::vector<ClientTransportEvent> pending;  // reported at the next serviceOnce()
  TcpClientStats stats;

  std::size_t queued() const { return out.size() - outOffset; }

  void drop() {
    fd.reset();
    phase = Phase::Idle;
    out.clear();
    outOffset = 0;
    reader = tcp::RecordReader{kLabChannelCount};
  }

  void lose(std::vector<ClientTransportEvent>& events, std::string reason) {
    drop();
    events.push_back(transport_event::Disconnected{std::move(reason)});
  }

  void writeSome(std::vector<ClientTransportEvent>& events) {
    while (queued() > 0) {
      const ssize_t n =
          ::send(fd.get(), out.data() + outOffset, queued(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        lose(events, "connection lost (" + tcp::errnoText(errno) + ")");
        return;
      }
      outOffset += static_cast<std::size_t>(n);
    }
    if (queued() == 0) {
      out.clear();
      outOffset = 0;
      if (phase == Phase::Closing) {
        ::shutdown(fd.get(), SHUT_WR);
        phase = Phase::WriteShut;
      }
    } else if (outOffset > out.size() / 2) {
      out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(outOffset));
      outOffset = 0;
    }
  }

  void readSome(std::vector<ClientTransportEvent>& events) {
    std::array<std::byte, kReadChunkBytes> buffer;
    std::size_t budget = kReadBudgetBytes;
    while (budget > 0 && fd) {
      const ssize_t got =
          ::recv(fd.get(), buffer.data(), std::min(budget, buffer.size()), MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          lose(events, "connection lost (" + tcp::errnoText(errno) + ")");
        }
        return;
      }
      if (got == 0) {
        const bool ours = phase == Phase::Closing || phase == Phase::WriteShut;
        lose(events, ours ? "closed" : "closed by the server");
        return;
      }
      budget -= static_cast<std::size_t>(got);
      protocol::ByteSpan input(buffer.data(), static_cast<std::size_t>(got));
      for (;;) {
        auto next = reader.next(input);
        if (!next) {
          lose(events, "protocol error: " + std::string(tcp::toString(next.error())));
          return;
        }
        if (!next.value()) break;
        const auto& record = *next.value();
        ++stats.recordsReceived;
        stats.bytesReceived += record.frame.size();
        events.push_back(transport_event::Received{
            record.channel, protocol::Bytes(record.frame.begin(), record.frame.end())});
      }
    }
  }

  void finishConnect(std::vector<ClientTransportEvent>& events) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0) {
      phase = Phase::Connected;
      events.push_back(transport_event::Connected{});
      return;
    }
    drop();
    events.push_back(transport_event::ConnectFailed{connectFailure(err)});
  }

  void checkDeadlines(std::vector<ClientTransportEvent>& events) {
    if (phase != Phase::Connecting && phase != Phase::Closing && phase != Phase::WriteShut) {
      return;
    }
    // Strictly after, as in the ENet transport: clocks are whole milliseconds.
    if (readClocks().mono <= deadline) return;
    const Phase was = phase;
    drop();
    if (was == Phase::Connecting) {
      events.push_back(transport_event::ConnectFailed{"no answer within " +
                                                      describeDuration(options.connectTimeout)});
    } else {
      events.push_back(transport_event::Disconnected{"closed (the server did not confirm)"});
    }
  }
};

TcpClientTransport::TcpClientTransport(TcpClientOptions options)
    : state_(std::make_unique<State>()) {
  state_->options = options;
}

TcpClientTransport::~TcpClientTransport() = default;

std::optional<std::string> TcpClientTransport::connect(const std::string& host,
                                                       std::uint16_t port) {
  reset();
  State& st = *state_;
  const auto address = tcp::resolveIpv4(host, port);
  if (!address) return "cannot resolve host \"" + host + "\"";
  tcp::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return "cannot create a TCP socket: " + tcp::errnoText(errno);
  tcp::setNoDelay(fd.get());
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_USER_TIMEOUT, &kUnacknowledgedTimeoutMs,
               sizeof kUnacknowledgedTimeoutMs);
  st.deadline = readClocks().mono + st.options.connectTimeout;
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    st.fd = std::move(fd);
    st.phase = State::Phase::Connected;
    st.pending.push_back(transport_event::Connected{});
    return std::nullopt;
  }
  if (errno != EINPROGRESS) {
    // Refused at once (loopback often answers within connect()): reported like a late refusal.
    st.pending.push_back(transport_event::ConnectFailed{connectFailure(errno)});
    return std::nullopt;
  }
  st.fd = std::move(fd);
  st.phase = State::Phase::Connecting;
  return std::nullopt;
}

std::vector<ClientTransportEvent> TcpClientTransport::serviceOnce(Millis maxWait) {
  State& st = *state_;
  std::vector<ClientTransportEvent> events = std::move(st.pending);
  st.pending.clear();
  const int wait = events.empty() ? static_cast<int>(std::clamp<Millis>(maxWait, 0, 60'000)) : 0;
  const PollInterest interest = pollInterest();
  pollfd p{interest.fd, interest.events, 0};
  int ready;
  do {
    ready = ::poll(&p, interest.fd < 0 ? 0 : 1, wait);
  } while (ready < 0 && errno == EINTR);

  if (ready > 0 && st.fd) {
    if (st.phase == State::Phase::Connecting) {
      if ((p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0) st.finishConnect(events);
    } else if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      st.readSome(events);
    }
  }
  st.checkDeadlines(events);
  if (st.fd && st.phase != State::Phase::Connecting) st.writeSome(events);
  return events;
}

bool TcpClientTransport::send(std::uint8_t channel, protocol::ByteSpan frame) {
  State& st = *state_;
  if (st.phase != State::Phase::Connected || channel >= kLabChannelCount ||
      frame.size() > kMaxFrameBytes ||
      st.queued() + tcp::kRecordHeaderBytes + frame.size() > st.options.maxQueuedBytes) {
    ++st.stats.sendFailures;
    return false;
  }
  tcp::appendRecord(st.out, channel, frame);
  ++st.stats.recordsSent;
  st.stats.bytesSent += frame.size();
  return true;
}

void TcpClientTransport::flush() {
  State& st = *state_;
  if (st.fd && st.phase != State::Phase::Connecting) st.writeSome(st.pending);
}

void TcpClientTransport::disconnectGracefully() {
  State& st = *state_;
  switch (st.phase) {
    case State::Phase::Connected:
      st.phase = State::Phase::Closing;
      st.deadline = readClocks().mono + st.options.disconnectTimeout;
      st.writeSome(st.pending);  // FIN at once when nothing waits
      break;
    case State::Phase::Connecting:
    case State::Phase::Idle:
      // Nothing to deliver; report the close anyway so a caller waiting for it is not stuck.
      st.drop();
      st.pending.push_back(transport_event::Disconnected{"closed"});
      break;
    case State::Phase::Closing:
    case State::Phase::WriteShut:
      break;
  }
}

void TcpClientTransport::reset() {
  state_->drop();
  state_->pending.clear();
}

bool TcpClientTransport::connected() const {
  return state_->phase == State::Phase::Connected;
}

bool TcpClientTransport::busy() const {
  return state_->phase != State::Phase::Idle;
}

PollInterest TcpClientTransport::pollInterest() const {
  const State& st = *state_;
  if (!st.fd) return PollInterest{};
  if (st.phase == State::Phase::Connecting) return PollInterest{st.fd.get(), POLLOUT};
  short events = POLLIN;
  if (st.queued() > 0) events |= POLLOUT;
  return PollInterest{st.fd.get(), events};
}

const TcpClientStats& TcpClientTransport::stats() const {
  return state_->stats;
}

}  // namespace udpchat
