// The client side of the ENet transport: one connection to one server, two channels (0 reliable
// sequenced, 1 unreliable sequenced). See client_transport.hpp for the contract.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "udpchat/client_transport.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/time.hpp"

namespace udpchat {

struct EnetClientOptions {
  // ENet retries a connect for about 31 s; the transport gives up after this instead.
  Millis connectTimeout = 5000;  // milliseconds
  // After disconnectGracefully(), a server that never confirms is dropped after this.
  Millis disconnectTimeout = 3000;  // milliseconds
  // Channels asked for: kChannelCount for chat; kLabChannelCount for udpchat-lab, whose server
  // runs with --lab-channels. send() refuses channels beyond what was asked for.
  std::size_t channelCount = kChannelCount;
  // The round trip assumed until one is measured, ms (limits.hpp); 0 keeps ENet's 500 ms.
  std::uint32_t initialRttMs = kDefaultInitialRttMs;
};

struct EnetClientStats {
  std::uint64_t packetsSent = 0;
  std::uint64_t bytesSent = 0;  // frame bytes
  std::uint64_t packetsReceived = 0;
  std::uint64_t bytesReceived = 0;     // packet bytes
  std::uint64_t framesReceived = 0;    // a bundle counts its frames
  std::uint64_t bundlesReceived = 0;   // well-formed bundles, split into their frames
  std::uint64_t malformedBundles = 0;  // passed on whole: the core refuses them as undecodable
  std::uint64_t sendFailures = 0;   // not connected, oversized, ENet refused
  std::uint64_t serviceErrors = 0;  // enet_host_service failed
  // Service calls before which the retransmission check was brought forward
  // (enet::armEarliestRetransmission).
  std::uint64_t retransmitChecksAdvanced = 0;
  // Retransmission timeouts put back to a new command's after an acknowledgement arrived
  // (enet::undoBackoffWhileAcknowledged).
  std::uint64_t retransmitBackoffsUndone = 0;
};

// ENet's view of the connection now: its smoothed round trip and the variation it keeps, and
// the retransmission timeout a reliable command sent now gets (round trip + 4 x variation).
struct EnetPeerTiming {
  std::uint32_t roundTripMs = 0;
  std::uint32_t varianceMs = 0;
  std::uint32_t retransmitTimeoutMs = 0;
};

class EnetClientTransport final : public ClientTransport {
 public:
  // Creates the client's ENet host (an unbound UDP socket). Throws std::runtime_error if ENet
  // cannot create it.
  explicit EnetClientTransport(EnetClientOptions options = {});
  ~EnetClientTransport() override;
  EnetClientTransport(const EnetClientTransport&) = delete;
  EnetClientTransport& operator=(const EnetClientTransport&) = delete;

  // Starts connecting (dropping any previous connection at once). Every attempt after the first
  // is made from a new socket, so nothing the server still sends to an abandoned connection can
  // end it. Returns an error for people when `host` cannot be resolved or ENet has no peer to
  // spare; nullopt when the attempt has started and serviceOnce() will report Connected or
  // ConnectFailed.
  std::optional<std::string> connect(const std::string& host, std::uint16_t port) override;

  // Waits up to maxWait milliseconds for network activity (0: just look), then returns what
  // happened, oldest first. Also enforces the connect and disconnect deadlines and flushes
  // frames queued by send().
  std::vector<ClientTransportEvent> serviceOnce(Millis maxWait) override;

  // Queues a frame: channel 0 reliable sequenced, channel 1 unreliable sequenced. Returns false,
  // and sends nothing, when not connected, the channel does not exist, or the frame is over
  // kMaxFrameBytes. Frames leave at the next serviceOnce() or flush().
  bool send(std::uint8_t channel, protocol::ByteSpan frame) override;

  // Sends what send() queued now, without waiting for the next serviceOnce(). Call it after
  // feeding a core whose timers may have queued frames, or they wait one loop turn.
  void flush() override;

  // Closes once the queued frames are delivered; serviceOnce() then reports Disconnected (after
  // the server confirms, or disconnectTimeout). While still connecting, the attempt is dropped
  // and Disconnected is reported at the next serviceOnce().
  void disconnectGracefully() override;

  // Drops the connection at once without telling the server and without an event.
  void reset() override;

  bool connected() const override;
  // True while a connect, a connection or a graceful close is in progress.
  bool busy() const override;

  std::string_view name() const override { return "enet"; }
  // The UDP socket, polled for input. Owned by the transport; connect() replaces it.
  PollInterest pollInterest() const override;
  int socketFd() const;

  const EnetClientStats& stats() const;
  // The connected peer's timing; nullopt when not connected.
  std::optional<EnetPeerTiming> peerTiming() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace udpchat
