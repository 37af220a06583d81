// The chat server's state machine: sessions, nicknames, rooms, presence, history, rate limits.
// No sockets and no clock: a transport reports what happened and passes the time in.
// Thread affinity: one thread (the transport's) calls everything.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "udpchat/limits.hpp"
#include "udpchat/outbox.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/time.hpp"

namespace udpchat {

struct ServerConfig {
  std::string serverName = "udpchat";
  std::size_t maxClients = kDefaultMaxClients;
  std::string motd;
  std::size_t historySize = kDefaultHistory;          // messages replayed per room on join
  std::string operPassword;                           // empty: /oper disabled
  std::size_t nickMin = kDefaultNickMin;
  std::size_t nickMax = kDefaultNickMax;
  std::size_t maxMessageBytes = kDefaultMaxMessageBytes;
  std::uint32_t rateBurst = kDefaultRateBurst;        // messages
  std::uint32_t ratePerSecond = kDefaultRatePerSecond;
  Millis pingInterval = 1000;       // what clients are told to use
  Millis laggingAfter = 5000;       // silent this long: shown as lagging
  Millis registrationTimeout = 30000;
  std::uint64_t seed = 1;           // for resume tokens; frontends pass a random value
  // udpchat-lab: accept SendChat on the lab channels (kChannelBulk, kChannelLabUnreliable,
  // kChannelLabUnsequenced) and relay each message on the channel it arrived on. Off: frames
  // on those channels are dropped.
  bool labChannels = false;

  // nullopt when usable, else what is wrong, for people (used at start-up).
  std::optional<std::string> validate() const;
};

struct ServerStats {
  std::size_t sessions = 0;     // connected, registered or not
  std::size_t registered = 0;
  std::size_t rooms = 0;
  std::uint64_t messagesRelayed = 0;  // chat and private messages accepted
  std::uint64_t framesRejected = 0;   // undecodable or refused frames
};

class ServerCore final : public SessionHandler {
 public:
  ServerCore(ServerConfig config, Outbox& outbox);
  ~ServerCore();
  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;

  // A transport accepted a connection. Over maxClients it is told ServerFull and closed.
  void connected(SessionId session, Now now) override;
  // The connection is gone (timeout, disconnect). Tells the user's rooms it quit.
  void disconnected(SessionId session, Now now) override;
  // One frame from the session, as received on `channel`.
  void received(SessionId session, std::uint8_t channel, protocol::ByteSpan frame,
                Now now) override;
  // Timers: lagging detection, typing expiry, registration timeout. Call every tickInterval().
  void tick(Now now) override;
  Millis tickInterval() const override { return 100; }

  const ServerConfig& config() const;
  ServerStats stats() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace udpchat
