// The server side of the ENet transport: one ENetHost, sessions as ids, frames in and out.
//
// Thread affinity: after construction, one thread at a time uses the transport (serviceOnce,
// run, send, close, stats, shutdown). The SessionHandler is called on that thread, and it may
// call send() and close() from inside its callbacks. ENet itself is not thread-safe per host.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "udpchat/limits.hpp"
#include "udpchat/outbox.hpp"
#include "udpchat/session_ids.hpp"
#include "udpchat/time.hpp"

namespace udpchat {

struct EnetServerOptions {
  std::string host = "0.0.0.0";       // IPv4 address or name to bind
  std::uint16_t port = kDefaultPort;  // 0: an ephemeral port, see port()
  std::size_t maxClients = kDefaultMaxClients;
  // Coalesce the reliable frames queued to a peer in one turn into bundles (enet_bundle.hpp).
  // Off: one ENet packet per frame, as bare ENet would send them (the bench's reference).
  bool bundle = true;
  // SO_RCVBUF for the UDP socket, bytes; 0 keeps ENet's 256 KiB. The kernel caps it at
  // net.core.rmem_max; receiveBufferBytes() reports what it granted.
  int receiveBufferBytes = kDefaultUdpReceiveBufferBytes;
  // The round trip assumed for a connecting peer until one is measured, ms (limits.hpp); 0 keeps
  // ENet's 500 ms.
  std::uint32_t initialRttMs = kDefaultInitialRttMs;
  // ENet handshakes one IPv4 address may have in progress (CONNECT received, the peer's
  // acknowledgement of VERIFY_CONNECT not yet): a further CONNECT from it is dropped before ENet
  // sees it, so forged CONNECTs from one host cannot take the slots. 0: no limit.
  std::size_t maxHandshakesPerAddress = 4;
  bool exemptLoopback = true;  // 127.0.0.0/8 is not limited (the bench connects from there)
  // A handshake not finished after this long is dropped and its slot freed, ms; 0 leaves it to
  // ENet, which keeps a silent peer's slot for about 30 s.
  Millis handshakeTimeoutMs = 5000;
  // Answer LAN discovery probes (discovery.hpp) once setDiscoveryInfo() says what to answer.
  bool discovery = true;
};

// What a discovery answer says about the server, read when a probe arrives.
struct DiscoveryInfo {
  std::string name;
  std::size_t users = 0;
  std::size_t maxClients = 0;
};

struct EnetServerStats {
  std::uint64_t packetsSent = 0;     // ENet packets queued, one per packet per recipient
  std::uint64_t framesSent = 0;      // frames queued, per recipient (a bundle carries several)
  std::uint64_t packetsCreated = 0;  // packets built: recipients of the same frames share one
  std::uint64_t bundlesCreated = 0;  // of those, bundles of several frames
  std::uint64_t bytesSent = 0;       // frame bytes, per recipient
  std::uint64_t packetsReceived = 0;
  std::uint64_t bytesReceived = 0;      // frame bytes
  std::uint64_t sendFailures = 0;       // unknown session, oversized frame, ENet refused
  std::uint64_t oversizedReceived = 0;  // packets over kMaxFrameBytes (the core refuses them)
  std::uint64_t serviceErrors = 0;  // enet_host_service failed (e.g. a datagram over 4096 bytes)
  std::size_t peers = 0;            // sessions open now
  // Service calls before which a peer's retransmission check was brought forward
  // (enet::armEarliestRetransmission), counted per peer.
  std::uint64_t retransmitChecksAdvanced = 0;
  // Retransmission timeouts put back to a new command's after an acknowledgement arrived
  // (enet::undoBackoffWhileAcknowledged).
  std::uint64_t retransmitBackoffsUndone = 0;
  // enet_host_service calls made within a turn to read on (serviceOnce), beyond the first.
  std::uint64_t extraReadCalls = 0;
  std::uint64_t connectsRefused = 0;    // CONNECTs dropped: their address's handshakes all completing
  std::uint64_t handshakesEvicted = 0;  // oldest half-open peers reset to admit a newer CONNECT
  std::uint64_t handshakesExpired = 0;  // half-open peers reset after handshakeTimeoutMs
  std::uint64_t probesAnswered = 0;     // discovery probes answered
  std::uint64_t probesDropped = 0;      // probes not answered: malformed, off, or over the rate
  // Datagrams dropped before ENet parsed them: a fragment command ENet 1.3.17 would take and
  // later releases refuse (enet::checkDatagram).
  std::uint64_t datagramsRefused = 0;
};

class EnetServerTransport final : public Outbox {
 public:
  // ENet slots beyond maxClients. A full ENetHost ignores connects silently, so there must always
  // be room for one more peer: the core then tells it ServerFull and closes it.
  static constexpr std::size_t kSpareSlots = 32;
  // ENet numbers peers with 12 bits (ENET_PROTOCOL_MAXIMUM_PEER_ID, 0xFFF), spares included.
  static constexpr std::size_t kMaxClientsLimit = 0xFFF - kSpareSlots;
  // How long serviceOnce() waits in run(): ENet retransmits and times out only while serviced.
  static constexpr Millis kServiceWaitMs = 1;
  // The most further enet_host_service calls one serviceOnce makes to read on. A turn that sends
  // to hundreds of peers brings back hundreds of acknowledgements (and, in a connect burst, a
  // handshake every few datagrams), more than one call reads (enet_handles.hpp,
  // mayHaveStoppedReading); the socket overflowed and the drops came back as retransmissions and
  // retried handshakes. The turn reads on while ENet may have stopped early and the socket is
  // readable, or while the socket's queue is a quarter full.
  static constexpr int kMaxExtraReadCalls = 64;

  // Binds the socket. Throws std::runtime_error naming the address and the reason, e.g.
  // "cannot listen on 0.0.0.0:7777: address already in use".
  // `sessionIds` is shared with the server's other transports (ServerLoop), so that session ids
  // are unique across them; null: the transport numbers its own sessions.
  explicit EnetServerTransport(EnetServerOptions options,
                               std::shared_ptr<SessionIdAllocator> sessionIds = nullptr);
  ~EnetServerTransport() override;
  EnetServerTransport(const EnetServerTransport&) = delete;
  EnetServerTransport& operator=(const EnetServerTransport&) = delete;

  // The port actually bound (the ephemeral one when options.port was 0).
  std::uint16_t port() const;
  // "ADDRESS:PORT" as bound, e.g. "0.0.0.0:7777".
  std::string boundAddress() const;
  // The socket's receive buffer as the kernel reports it (SO_RCVBUF: twice what was asked, up
  // to twice net.core.rmem_max), bytes.
  int receiveBufferBytes() const;

  // Waits up to maxWait milliseconds for network activity, reports every pending event to
  // `handler`, then flushes what the handler queued. Returns the number of events handled.
  int serviceOnce(SessionHandler& handler, Millis maxWait);
  // serviceOnce() with kServiceWaitMs until `stop` is set, calling handler.tick() every
  // handler.tickInterval() milliseconds. Time comes from readClocks().
  void run(SessionHandler& handler, const std::atomic<bool>& stop);
  // Closes every session gracefully and services until they are gone or `grace` milliseconds
  // passed. The handler is not called: the server is going away.
  void shutdown(Millis grace);
  // shutdown() in steps, for a loop that drives other transports meanwhile: beginShutdown()
  // closes every session gracefully; serviceShutdown() services ENet for up to maxWait
  // milliseconds and returns true once no peer is left.
  void beginShutdown();
  bool serviceShutdown(Millis maxWait);

  // Sends what send() queued now (enet_host_flush), without waiting for the next service call.
  void flush();
  // The UDP socket, to poll together with other descriptors before serviceOnce(handler, 0).
  int socketFd() const;
  // True while `session` is a connected peer of this transport.
  bool owns(SessionId session) const;

  // Outbox. Reliable frames are queued and leave, bundled per peer, at the end of the turn
  // (serviceOnce, flush, close); unreliable ones are queued to ENet at once, one per packet.
  // Frames over kMaxFrameBytes, unknown sessions and closed sessions count as
  // sendFailures and are otherwise ignored (the core may race a disconnect).
  void send(std::span<const SessionId> to, std::uint8_t channel, const SharedFrame& frame) override;
  void close(SessionId session) override;

  const EnetServerStats& stats() const;
  // Turns discovery answers on (with options.discovery): `info` is called, on the service
  // thread, for each probe answered. Per source address at most kProbeAnswersPerSecond are
  // answered, and kProbeAnswersPerSecondTotal over all sources.
  void setDiscoveryInfo(std::function<DiscoveryInfo()> info);
  static constexpr int kProbeAnswersPerSecond = 5;
  static constexpr int kProbeAnswersPerSecondTotal = 200;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace udpchat
