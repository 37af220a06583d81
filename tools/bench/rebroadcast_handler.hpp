// The reference server's whole application: every frame received is sent back out, unchanged
// and on the channel it came on, to every connected session (the sender included, as a chat
// room includes its sender). No decoding, no registration, no rooms, no flood control: what
// remains is the transport and ENet, which is what the chat server is measured against.
//
// One concession: a new session is sent one empty Welcome frame. A client learns that it is
// connected before the server has seen the end of the handshake, so without a word from the
// server a client could count itself in, send, and never get the frames broadcast before the
// server knew it. The Welcome says "you are on the list now", as the chat server's does.
//
// Thread affinity: the transport's thread, like every SessionHandler.
#pragma once

#include <cstdint>
#include <vector>

#include "udpchat/outbox.hpp"

namespace udpchat::bench {

class RebroadcastHandler final : public SessionHandler {
 public:
  explicit RebroadcastHandler(Outbox& outbox) : outbox_(outbox) {}

  // Adds the session and sends it the Welcome frame. (The address-aware overload forwards here.)
  using SessionHandler::connected;
  void connected(SessionId session, Now now) override;
  void disconnected(SessionId session, Now now) override;
  // One Outbox::send of one shared frame to all sessions, as the chat server broadcasts.
  void received(SessionId session, std::uint8_t channel, protocol::ByteSpan frame,
                Now now) override;
  void tick(Now) override {}
  Millis tickInterval() const override { return 1000; }

  std::size_t sessions() const { return sessions_.size(); }
  std::uint64_t framesRebroadcast() const { return frames_; }

 private:
  Outbox& outbox_;
  std::vector<SessionId> sessions_;  // in connect order
  std::uint64_t frames_ = 0;
};

// `udpchat-bench --serve-reference`: the RebroadcastHandler on an EnetServerTransport, run by the
// same loop as udpchat-server until SIGINT or SIGTERM. Prints
// "udpchat-bench reference server listening on ADDRESS:PORT (UDP, ENet)" once bound.
// Returns the process exit status (1 when it cannot listen).
int runReferenceServer(const std::string& host, std::uint16_t port, std::size_t maxClients);

}  // namespace udpchat::bench
