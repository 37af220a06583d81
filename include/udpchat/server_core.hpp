// The chat server's state machine: sessions, nicknames, rooms, presence, history, rate limits.
// No sockets and no clock: a transport reports what happened and passes the time in.
// Thread affinity: one thread (the transport's) calls everything.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "udpchat/cluster.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/outbox.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/store.hpp"
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
  // An unregistered session holds a slot this long at most; clients send Hello at once.
  Millis registrationTimeout = 10000;
  // Sessions one IPv4 address may hold at once, registered or not, over both transports, and
  // how many of them may be unregistered; 0: no limit. Beyond either the new connection is told
  // too_many_connections and closed, so one host cannot take every slot. Sessions whose address
  // the transport did not report (0) are not counted.
  std::size_t maxSessionsPerAddress = 16;
  std::size_t maxUnregisteredPerAddress = 4;
  // Loopback (127.0.0.0/8) is this machine, whose users can stop the server anyway; load tests
  // run their thousand clients from it. Off: loopback is limited like any other address.
  bool exemptLoopback = true;
  // Operator password guessing: wrong passwords from one address, and from everyone, are free
  // up to this many; each further one doubles a lockout that starts at operLockoutStart and
  // stops growing at operLockoutMax. Attempts during a lockout are refused unread (rate_limited
  // with the wait) and do not count. The per-address record is forgotten after an hour quiet.
  std::uint32_t operFreeFailuresPerAddress = 3;
  std::uint32_t operFreeFailuresGlobal = 20;
  // Account passwords (/register, /identify): wrong ones are free up to this many per account
  // and per address, then locked out like operator passwords (operLockoutStart..Max).
  std::uint32_t proofFreeFailures = 3;
  // Argon2id cost of a password hash (libsodium crypto_pwhash_str): passes and memory. Each
  // /register and /identify costs one hash on the core's thread. Tests lower them.
  std::uint64_t passwordOps = 2;
  std::size_t passwordMemoryBytes = 16u << 20;
  Millis operLockoutStart = 1000;
  Millis operLockoutMax = 5 * 60 * 1000;
  // Where the core reports what an operator should know (operator password attempts); empty:
  // nowhere. Called on the core's thread.
  std::function<void(std::string_view)> log;
  // Where resume tokens come from. Empty: the operating system's secure generator
  // (secureRandom64); tests inject a scripted source. Values that are 0 or already issued
  // (live or still resumable) are skipped, so a source must not return those forever.
  std::function<std::uint64_t()> tokenSource;
  // udpchat-lab: accept SendChat on the lab channels (kChannelBulk, kChannelLabUnreliable,
  // kChannelLabUnsequenced) and relay each message on the channel it arrived on. Off: frames
  // on those channels are dropped.
  bool labChannels = false;
  // Servers sharing one chat (a cluster::Bus given to the core): heartbeats go out this often;
  // a server not heard from for clusterPeerTimeout is gone, and its users' quits are announced;
  // a /whois of a user on another server waits this long for that server's answer.
  Millis clusterHeartbeat = 1000;
  Millis clusterPeerTimeout = 4000;
  Millis clusterWhoisTimeout = 2000;

  // nullopt when usable, else what is wrong, for people (used at start-up).
  std::optional<std::string> validate() const;
};

struct ServerStats {
  std::size_t sessions = 0;     // connected, registered or not
  std::size_t registered = 0;
  std::size_t rooms = 0;
  std::uint64_t messagesRelayed = 0;  // chat and private messages accepted
  std::uint64_t resendsRecognised = 0;  // resent messages confirmed again, not delivered twice
  std::uint64_t framesRejected = 0;   // undecodable or refused frames
  std::uint64_t commits = 0;          // store batches committed
  std::uint64_t commitFailures = 0;   // store batches lost, their messages refused
  std::uint64_t clusterApplied = 0;   // log entries applied (every server's messages)
  std::uint64_t clusterRefused = 0;   // entries, records and signals that failed the checks
  std::size_t clusterPeers = 0;       // other servers heard from lately
  std::size_t remoteUsers = 0;        // users on those servers
};

class ServerCore final : public SessionHandler {
 public:
  // `store`: where accepted messages, deletions, topics and resume tokens are kept (nullptr:
  // memory only). It must outlive the core. With a store, what a turn accepted is confirmed
  // only after endTurn() committed it: until then the core holds every frame it sends.
  // `bus`: the cluster this server shares its chat with (nullptr: alone); it must outlive the
  // core. Room and private messages then go through the cluster's log, nicks through its
  // directory (cluster.hpp).
  ServerCore(ServerConfig config, Outbox& outbox, Store* store = nullptr,
             cluster::Bus* bus = nullptr);
  ~ServerCore();
  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;

  // A transport accepted a connection. Over maxClients it is told ServerFull and closed.
  using SessionHandler::connected;
  void connected(SessionId session, Now now) override;
  // Also checks the per-address limits (ServerConfig::maxSessionsPerAddress); 0: unknown.
  void connected(SessionId session, Now now, std::uint32_t peerIpv4) override;
  // The connection is gone (timeout, disconnect). Tells the user's rooms it quit.
  void disconnected(SessionId session, Now now) override;
  // One frame from the session, as received on `channel`.
  void received(SessionId session, std::uint8_t channel, protocol::ByteSpan frame,
                Now now) override;
  // Timers: lagging detection, typing expiry, registration timeout. Call every tickInterval().
  void tick(Now now) override;
  Millis tickInterval() const override { return 100; }
  // Commits what this turn accepted, then hands the frames held since to the outbox; if the
  // commit fails, the turn's chat and private messages are refused (storage_unavailable)
  // instead of delivered. The transport calls it before it flushes.
  void endTurn(Now now) override;

  // Applies what the cluster bus reports (messages of every server, other servers' users,
  // answers to this server's claims). The server's loop calls it every turn; returns how many
  // events it applied. Does nothing without a bus.
  int serviceCluster(Now now);
  // A server stopping: tells the cluster its users are leaving ("server shutting down") and
  // frees their nicks. The sessions themselves are left to the transport's shutdown.
  void leaveCluster(Now now);

  const ServerConfig& config() const;
  ServerStats stats() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace udpchat
