// The server side of the TCP transport: a listening socket, sessions as ids, the same frames as
// over ENet cut into records (tcp_framing.hpp). The baseline the lab compares ENet against:
// every frame, presence pings included, rides one ordered byte stream per client.
//
// Nothing blocks: sockets are non-blocking, input is cut into records as it arrives (a peer that
// sends half a record and stalls holds only its own buffer), output waits in a per-connection
// queue with a cap (a peer that does not read is closed once the cap is exceeded).
//
// Thread affinity: after construction, one thread at a time uses the transport (serviceOnce,
// flush, send, close, shutdown, stats). The SessionHandler is called on that thread, and it may
// call send() and close() from inside its callbacks; the transport never calls the handler from
// inside send() or close().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "udpchat/limits.hpp"
#include "udpchat/outbox.hpp"
#include "udpchat/session_ids.hpp"
#include "udpchat/tcp_framing.hpp"
#include "udpchat/time.hpp"

namespace udpchat {

// Bytes of memory a connection may hold for sending: each record not yet taken by the kernel
// counts its header, its frame's allocated bytes and kTcpRecordOverheadBytes. See
// tcpQueueLimitFor() in server_loop.hpp for the server's value.
inline constexpr std::size_t kTcpDefaultMaxQueuedBytes = 1024 * 1024;
// What a queued record holds beyond its frame's bytes: its deque entry (24 bytes), the shared
// frame's control block and vector (a 48-byte allocation) and the frame allocation's own header
// and rounding (up to 24). Counting only record bytes let a peer that never reads small replies
// hold about 2.7 times the cap.
inline constexpr std::size_t kTcpRecordOverheadBytes = 96;

// The memory one queued record holds, for a frame whose buffer has `frameCapacity` bytes: what
// the output cap counts, and what tcpQueueLimitFor() budgets a join burst with.
constexpr std::size_t tcpRecordHeldBytes(std::size_t frameCapacity) {
  return tcp::kRecordHeaderBytes + frameCapacity + kTcpRecordOverheadBytes;
}

struct TcpServerOptions {
  std::string host = "0.0.0.0";       // IPv4 address or name to bind
  std::uint16_t port = kDefaultPort;  // 0: an ephemeral port, see port()
  std::size_t maxClients = kDefaultMaxClients;
  std::size_t maxQueuedBytes = kTcpDefaultMaxQueuedBytes;  // bytes, per connection
  Millis closeTimeout = 3000;  // milliseconds a closing connection may take to drain and close
  // Milliseconds without a byte from an open connection before it is dropped as lost (clients
  // ping every second); the counterpart of ENet's peer timeout. 0: never.
  Millis idleTimeout = 30000;
  // Accept records on the lab's channels 2 to 4 (--lab-channels); off, a channel byte other than
  // 0 and 1 closes the connection as a framing error (docs/PROTOCOL.md section 1.1).
  bool labChannels = false;
};

struct TcpServerStats {
  std::uint64_t recordsSent = 0;   // queued, one per recipient
  std::uint64_t framesShared = 0;  // one per send() call: a broadcast shares its frame
  std::uint64_t bytesSent = 0;     // frame bytes, per recipient
  std::uint64_t recordsReceived = 0;
  std::uint64_t bytesReceived = 0;     // frame bytes
  std::uint64_t sendFailures = 0;      // unknown or closing session, oversized frame, bad channel
  std::uint64_t accepted = 0;          // connections accepted and handed to the handler
  std::uint64_t framingErrors = 0;     // zero length, over-long record, bad channel: closed
  std::uint64_t overflowCloses = 0;    // output queue over maxQueuedBytes: closed
  std::uint64_t idleCloses = 0;        // silent for idleTimeout: closed
  std::uint64_t closeTimeouts = 0;     // a graceful close that did not finish in closeTimeout
  std::uint64_t acceptErrors = 0;      // accept() failed with something else than "try again"
  std::uint64_t refusedOverLimit = 0;  // accepted and closed at once: too many connections
  std::size_t connections = 0;         // sockets open now, closing ones included
  std::size_t heldBytes = 0;           // memory queued records hold now, all connections
  std::size_t peakHeldBytes = 0;       // the most heldBytes has been
  std::uint64_t mallocTrims = 0;       // times freed queue memory was handed back to the system
};

class TcpServerTransport final : public Outbox {
 public:
  // Connections beyond maxClients that are still handed to the handler, so that it can tell
  // them ServerFull (as EnetServerTransport::kSpareSlots); more are closed at once.
  static constexpr std::size_t kSpareConnections = 32;
  // Bytes read from one connection per serviceOnce(): one busy peer cannot starve the others.
  static constexpr std::size_t kReadBudgetBytes = 64 * 1024;
  // After accept() fails for want of descriptors and none can be freed, the listener is left
  // alone this long (milliseconds) instead of being retried in a tight loop.
  static constexpr Millis kAcceptPauseMs = 100;

  // Binds and listens. Throws std::runtime_error naming the address and the reason, e.g.
  // "cannot listen on 0.0.0.0:7777 (TCP): address already in use".
  // `sessionIds` is shared with the server's other transports (ServerLoop), so that session ids
  // are unique across them; null: the transport numbers its own sessions.
  explicit TcpServerTransport(TcpServerOptions options,
                              std::shared_ptr<SessionIdAllocator> sessionIds = nullptr);
  ~TcpServerTransport() override;
  TcpServerTransport(const TcpServerTransport&) = delete;
  TcpServerTransport& operator=(const TcpServerTransport&) = delete;

  // The port actually bound (the ephemeral one when options.port was 0).
  std::uint16_t port() const;
  // "ADDRESS:PORT" as bound, e.g. "0.0.0.0:7777".
  std::string boundAddress() const;
  // An epoll descriptor, readable when serviceOnce() has socket work to do. Owned by the
  // transport; poll it together with other descriptors (ServerLoop does).
  int pollFd() const;

  // Waits up to maxWait milliseconds for socket activity, accepts, reads and reports every
  // complete record to `handler`, enforces deadlines, then sends what is queued. Returns the
  // number of handler calls made.
  int serviceOnce(SessionHandler& handler, Millis maxWait);
  // Sends what send() queued, without waiting (what the kernel does not take stays queued).
  void flush();

  // Starts closing every connection gracefully and stops listening; the handler is not called
  // again. Then shutdownDone() tells when every connection is gone; serviceShutdown() drives it.
  void beginShutdown();
  // Services closing connections for up to maxWait milliseconds; true once none is left.
  bool serviceShutdown(Millis maxWait);
  // beginShutdown(), then serviceShutdown() until done or `grace` milliseconds passed; then
  // closes whatever is left.
  void shutdown(Millis grace);

  // Outbox. A frame over kMaxFrameBytes, a channel that does not exist, an unknown or closing
  // session count as sendFailures and are otherwise ignored. A send that would take a
  // connection's queue over maxQueuedBytes closes that connection instead; the handler hears of
  // it (disconnected) on the next serviceOnce().
  void send(std::span<const SessionId> to, std::uint8_t channel, const SharedFrame& frame) override;
  // Delivers what is queued, then shuts down the sending side (FIN) and closes the socket when
  // the peer closes too, or after closeTimeout. The handler is not told.
  void close(SessionId session) override;

  // True while `session` is an open connection of this transport.
  bool owns(SessionId session) const;

  const TcpServerStats& stats() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace udpchat
