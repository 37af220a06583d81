// The client side of the TCP transport: one connection to one server, the same frames as over
// ENet cut into records (tcp_framing.hpp). Both channels ride the one byte stream, so channel 1
// traffic (presence pings, typing) is delivered reliably and in order with everything else.
// See client_transport.hpp for the contract.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "udpchat/client_transport.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/time.hpp"

namespace udpchat {

struct TcpClientOptions {
  Millis connectTimeout = 5000;     // milliseconds until a connect that has no answer fails
  Millis disconnectTimeout = 3000;  // milliseconds to wait for the server's close after ours
  // Bytes send() may queue while the server does not take them; beyond it send() refuses.
  std::size_t maxQueuedBytes = 1024 * 1024;
};

struct TcpClientStats {
  std::uint64_t recordsSent = 0;
  std::uint64_t bytesSent = 0;  // frame bytes
  std::uint64_t recordsReceived = 0;
  std::uint64_t bytesReceived = 0;  // frame bytes
  std::uint64_t sendFailures = 0;   // not connected, oversized, bad channel, queue full
};

class TcpClientTransport final : public ClientTransport {
 public:
  explicit TcpClientTransport(TcpClientOptions options = {});
  ~TcpClientTransport() override;
  TcpClientTransport(const TcpClientTransport&) = delete;
  TcpClientTransport& operator=(const TcpClientTransport&) = delete;

  std::string_view name() const override { return "tcp"; }

  // Starts a non-blocking connect (dropping any previous connection at once). Returns an error
  // for people when `host` cannot be resolved or no socket can be made; nullopt when the
  // attempt has started: serviceOnce() then reports Connected, or ConnectFailed with
  // "connection refused", "no answer within 5 s" (the connect timeout) or another reason.
  std::optional<std::string> connect(const std::string& host, std::uint16_t port) override;

  // Waits up to maxWait milliseconds for the socket, then returns what happened, oldest first:
  // completes a connect, reads records, sends what is queued, enforces the deadlines.
  std::vector<ClientTransportEvent> serviceOnce(Millis maxWait) override;

  // Queues one record (both channels share the stream). Returns false, and queues nothing, when
  // not connected, the channel does not exist, the frame is over kMaxFrameBytes, or
  // maxQueuedBytes would be exceeded.
  bool send(std::uint8_t channel, protocol::ByteSpan frame) override;
  // Writes what the kernel takes now.
  void flush() override;

  // Delivers what is queued, shuts down the sending side (FIN), then waits for the server's
  // close (Disconnected "closed") or disconnectTimeout. While connecting, the attempt is dropped
  // and Disconnected is reported at the next serviceOnce().
  void disconnectGracefully() override;
  void reset() override;

  bool connected() const override;
  bool busy() const override;
  // The socket: POLLIN, and POLLOUT while connecting or while output waits.
  PollInterest pollInterest() const override;

  const TcpClientStats& stats() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace udpchat
