// How a server core hands frames to a transport, without knowing which transport it is.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "udpchat/protocol.hpp"
#include "udpchat/time.hpp"

namespace udpchat {

// A connection, as the application sees it. Ids are never reused while a server runs, so a stale
// id names nobody instead of somebody else.
using SessionId = std::uint32_t;

// A frame encoded once and shared by every recipient of a broadcast.
using SharedFrame = std::shared_ptr<const protocol::Bytes>;

inline SharedFrame share(protocol::Bytes bytes) {
  return std::make_shared<const protocol::Bytes>(std::move(bytes));
}

// Implemented by transports (ENet, TCP) and by tests (recording). Called on the core's thread.
class Outbox {
 public:
  virtual ~Outbox() = default;
  // Queues `frame` to every session in `to` on `channel` (kChannelReliable or
  // kChannelUnreliable). One frame, many recipients: a transport builds one packet for all.
  virtual void send(std::span<const SessionId> to, std::uint8_t channel,
                    const SharedFrame& frame) = 0;
  // Closes the session once what is already queued to it has been delivered. The core forgets
  // the session at once; it does not expect a disconnected() call for it afterwards.
  virtual void close(SessionId session) = 0;
};

// What a server transport reports, implemented by ServerCore (and by test and benchmark
// handlers). Called on the transport's thread; `now` comes from the transport.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  virtual void connected(SessionId session, Now now) = 0;
  // The same, with the peer's IPv4 address (host byte order; 0: unknown). Transports call this
  // one; a handler that limits per source address (ServerCore) overrides it.
  virtual void connected(SessionId session, Now now, std::uint32_t peerIpv4) {
    static_cast<void>(peerIpv4);
    connected(session, now);
  }
  virtual void disconnected(SessionId session, Now now) = 0;
  virtual void received(SessionId session, std::uint8_t channel, protocol::ByteSpan frame,
                        Now now) = 0;
  virtual void tick(Now now) = 0;
  // The end of one loop turn: everything received in it has been handed over. Called before
  // the transport flushes what the handler queued.
  virtual void endTurn(Now now) { static_cast<void>(now); }
  // How often tick() wants to run, in milliseconds.
  virtual Millis tickInterval() const = 0;
};

}  // namespace udpchat
