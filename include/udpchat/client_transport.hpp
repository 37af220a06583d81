// What a client needs from a transport: one connection to one server. Implemented over ENet
// (EnetClientTransport) and, for the lab's comparison, over TCP.
//
// Thread affinity: one thread uses a transport. Nothing is called back: serviceOnce() returns
// what happened, so the caller can feed a ClientCore without re-entering it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "udpchat/protocol.hpp"
#include "udpchat/time.hpp"

namespace udpchat {

namespace transport_event {
struct Connected {};
// The connect did not complete: no answer within the connect timeout, or the server refused.
struct ConnectFailed {
  std::string reason;
};
// An established connection ended: closed by the server, timed out, or closed by us.
struct Disconnected {
  std::string reason;
};
struct Received {
  std::uint8_t channel = 0;
  protocol::Bytes bytes;
};
}  // namespace transport_event

using ClientTransportEvent =
    std::variant<transport_event::Connected, transport_event::ConnectFailed,
                 transport_event::Disconnected, transport_event::Received>;

// A descriptor the caller should poll() before calling serviceOnce(0).
struct PollInterest {
  int fd = -1;       // -1: nothing to poll right now
  short events = 0;  // POLLIN, POLLOUT
};

class ClientTransport {
 public:
  virtual ~ClientTransport() = default;

  // "enet" or "tcp", for status lines and reports.
  virtual std::string_view name() const = 0;

  // Starts connecting (dropping any previous connection at once). Returns an error for people
  // when `host` cannot be resolved or no connection can be started; nullopt when the attempt has
  // started and serviceOnce() will report Connected or ConnectFailed.
  virtual std::optional<std::string> connect(const std::string& host, std::uint16_t port) = 0;

  // Waits up to maxWait milliseconds for network activity (0: just look), then returns what
  // happened, oldest first. Also enforces the transport's deadlines and sends what is queued.
  virtual std::vector<ClientTransportEvent> serviceOnce(Millis maxWait) = 0;

  // Queues a frame: channel 0 reliable and ordered, channel 1 for traffic that may be dropped
  // (a transport without such a channel sends it reliably). Returns false, and sends nothing,
  // when not connected, the channel does not exist, or the frame is over kMaxFrameBytes.
  virtual bool send(std::uint8_t channel, protocol::ByteSpan frame) = 0;

  // Sends what send() queued now, without waiting for the next serviceOnce().
  virtual void flush() = 0;

  // Closes once the queued frames are delivered; serviceOnce() then reports Disconnected.
  // While still connecting, the attempt is dropped and Disconnected is reported.
  virtual void disconnectGracefully() = 0;

  // Drops the connection at once without telling the server and without an event.
  virtual void reset() = 0;

  virtual bool connected() const = 0;
  // True while a connect, a connection or a graceful close is in progress.
  virtual bool busy() const = 0;

  // What to poll() for. Valid until the next call of any other member.
  virtual PollInterest pollInterest() const = 0;
};

}  // namespace udpchat
