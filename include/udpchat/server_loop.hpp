// The server's one loop over both transports: ENet on a UDP port and TCP on the same port
// number, one ServerCore behind them.
//
// One thread polls ENet's socket and the TCP transport's epoll descriptor together, waking at
// least every kMaxWaitMs (ENet retransmits only while serviced), then services ENet without
// waiting, does the TCP work without blocking, ticks the handler every tickInterval(), and
// flushes both. Session ids come from one allocator, so they are unique across the transports;
// as the core's Outbox, the loop hands each send and close to the transport that owns the
// session, and a broadcast's one shared frame to both.
//
// Thread affinity: after construction, one thread uses the loop and both transports (run,
// serviceOnce, send, close, shutdown, enet(), tcp()).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "udpchat/enet_server_transport.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/outbox.hpp"
#include "udpchat/server_core.hpp"
#include "udpchat/tcp_server_transport.hpp"
#include "udpchat/time.hpp"

namespace udpchat {

struct ServerLoopOptions {
  std::string host = "0.0.0.0";  // IPv4 address or name, for both transports
  // The UDP port and the TCP port (the same number). 0: an ephemeral number free for both.
  std::uint16_t port = kDefaultPort;
  std::size_t maxClients = kDefaultMaxClients;  // ENet peer slots and TCP connections follow it
  std::size_t tcpMaxQueuedBytes = kTcpDefaultMaxQueuedBytes;  // bytes, per TCP connection
  Millis tcpIdleTimeout = 30000;                              // milliseconds; 0: never
  Millis tcpCloseTimeout = 3000;  // milliseconds a closing TCP connection may take
  bool enetBundle = true;         // EnetServerOptions::bundle
  int udpReceiveBufferBytes = kDefaultUdpReceiveBufferBytes;  // EnetServerOptions::receiveBufferBytes
  std::uint32_t enetInitialRttMs = kDefaultInitialRttMs;  // EnetServerOptions::initialRttMs
  std::size_t enetMaxHandshakesPerAddress = 4;  // EnetServerOptions::maxHandshakesPerAddress
  Millis enetHandshakeTimeoutMs = 5000;         // EnetServerOptions::handshakeTimeoutMs
  bool exemptLoopback = true;                   // EnetServerOptions::exemptLoopback
  bool labChannels = false;  // TcpServerOptions::labChannels (ENet peers ask for their channels)
};

// The TCP output cap for a server configuration: the largest burst the core can send one
// session in one turn (a Hello naming kMaxRoomsPerUser rooms, each replaying historySize
// messages of the longest text, with its member list), at least kTcpDefaultMaxQueuedBytes.
// A well-behaved client is never cut off for joining; one that does not read is, once that much
// waits for it. About 4 MB with the defaults (records counted as the memory they hold).
std::size_t tcpQueueLimitFor(const ServerConfig& config);

class ServerLoop final : public Outbox {
 public:
  // Longest wait in poll(), milliseconds: ENet's retransmission timeout on a LAN can be a few
  // milliseconds, and it retransmits only inside enet_host_service.
  static constexpr Millis kMaxWaitMs = 1;
  // With port 0, how many ephemeral UDP ports are tried before giving up on finding one whose
  // number is free for TCP too.
  static constexpr int kEphemeralAttempts = 16;

  // Binds UDP (ENet), then TCP on the same port number. Throws std::runtime_error naming the
  // address, the protocol where it is TCP, and the reason, e.g.
  // "cannot listen on 0.0.0.0:7777 (TCP): address already in use".
  explicit ServerLoop(ServerLoopOptions options);
  ~ServerLoop() override;
  ServerLoop(const ServerLoop&) = delete;
  ServerLoop& operator=(const ServerLoop&) = delete;

  // The port number both transports listen on.
  std::uint16_t port() const;
  EnetServerTransport& enet();
  const EnetServerTransport& enet() const;
  TcpServerTransport& tcp();
  const TcpServerTransport& tcp() const;

  // Waits up to maxWait milliseconds for either transport's sockets, then services both and
  // flushes. Returns the number of handler calls made.
  int serviceOnce(SessionHandler& handler, Millis maxWait);
  // serviceOnce() until `stop` is set, calling handler.tick() every handler.tickInterval()
  // milliseconds (and flushing what it queued at once). Time comes from readClocks().
  void run(SessionHandler& handler, const std::atomic<bool>& stop);
  // Work beside the transports (the cluster bus), done every turn after them and before the
  // handler's endTurn: `fd` (-1: none) ends the wait when it is readable; `service` returns how
  // many handler calls it made.
  void setSideWork(int fd, std::function<int(Now)> service);
  // Closes every session of both transports gracefully (TCP peers get their FIN at once) and
  // services both until they are gone or `grace` milliseconds passed. The handler is not called.
  void shutdown(Millis grace);

  // Outbox: each recipient goes to the transport that owns its session, the same shared frame
  // to both. Sessions neither owns go to ENet, which counts them as send failures.
  void send(std::span<const SessionId> to, std::uint8_t channel, const SharedFrame& frame) override;
  void close(SessionId session) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace udpchat
