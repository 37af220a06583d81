// RAII for ENet's C handles, shared by the server and the client transport. Private to the
// transport layer: nothing outside src/transport/enet/ includes ENet.
#pragma once

#include <enet/enet.h>

#include <algorithm>
#include <enet/time.h>  // ENET_TIME_LESS: enet.h does not include it

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "udpchat/limits.hpp"
#include "udpchat/outbox.hpp"
#include "udpchat/unique_fd.hpp"

namespace udpchat::enet {

// Keeps ENet initialised while any transport lives. enet_initialize/enet_deinitialize are
// process-global, so transports on different threads share one count under a mutex.
class LibraryGuard {
 public:
  LibraryGuard() {
    std::lock_guard lock(mutex());
    if (count() == 0 && enet_initialize() != 0) throw std::runtime_error("cannot initialise ENet");
    ++count();
  }
  ~LibraryGuard() {
    std::lock_guard lock(mutex());
    if (--count() == 0) enet_deinitialize();
  }
  LibraryGuard(const LibraryGuard&) = delete;
  LibraryGuard& operator=(const LibraryGuard&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static int& count() {
    static int n = 0;
    return n;
  }
};

struct HostDeleter {
  void operator()(ENetHost* host) const { enet_host_destroy(host); }
};
using HostPtr = std::unique_ptr<ENetHost, HostDeleter>;

// A packet we still own. Released (unique_ptr::release) only once ENet holds a reference, i.e.
// after at least one enet_peer_send succeeded; otherwise destroyed here.
struct PacketDeleter {
  void operator()(ENetPacket* packet) const { enet_packet_destroy(packet); }
};
using PacketPtr = std::unique_ptr<ENetPacket, PacketDeleter>;

using udpchat::UniqueFd;  // include/udpchat/unique_fd.hpp (to probe why a bind failed)

// ENet's packet limits, lowered from its 32 MiB defaults so that a peer cannot make us buffer
// more than this many frames of unfinished fragments. Packets up to kMaxAcceptedPacketBytes are
// accepted (and acknowledged) so that one over a frame's size reaches the core, which refuses it
// with an error while the channel goes on; ENet would drop a larger one unacknowledged, and the
// sender would retransmit it, stalling its channel, until its peer timed out.
inline constexpr std::size_t kMaxWaitingFrames = 64;
inline constexpr std::size_t kMaxAcceptedPacketBytes = 8 * kMaxFrameBytes;

inline void applyHostLimits(ENetHost& host) {
  host.maximumPacketSize = kMaxAcceptedPacketBytes;
  host.maximumWaitingData = kMaxWaitingFrames * kMaxFrameBytes;
}

// Peer timeouts, set explicitly on both sides although they equal ENet's defaults, because the
// lab depends on them. ENet 1.3.17 gives a peer up when a reliable command times out again after
// its timeout has doubled to 32 times the first (its sixth send) and no acknowledgement of
// anything has arrived for 5 s, or after 30 s without one in any case; every acknowledgement
// restarts the count. A link losing 20 % of its packets keeps its session; a silent peer is
// declared dead after 5 s at the earliest and 30 s at the latest.
inline constexpr enet_uint32 kPeerTimeoutLimit = 32;
inline constexpr enet_uint32 kPeerTimeoutMinimumMs = 5000;
inline constexpr enet_uint32 kPeerTimeoutMaximumMs = 30000;

inline void applyPeerTimeouts(ENetPeer& peer) {
  enet_peer_timeout(&peer, kPeerTimeoutLimit, kPeerTimeoutMinimumMs, kPeerTimeoutMaximumMs);
}

// ENet starts every peer's round-trip estimate at 500 ms (ENET_PEER_DEFAULT_ROUND_TRIP_TIME), so
// a lost CONNECT, VERIFY_CONNECT or first message is sent again only after 0.5 s, then 1, 2 and
// 4 s; and ENet 1.3.17 moves the estimate only 1/8 of the way towards each measured round trip,
// so the first messages after a handshake still wait hundreds of milliseconds when lost. On a
// LAN, where a round trip takes well under a millisecond, a burst of connects that overflows the
// server's socket then costs seconds. Both ends therefore start a peer at a lower estimate
// (kDefaultInitialRttMs, limits.hpp): the client when it connects, the server on every idle
// slot before a CONNECT can claim it (ENet's enet_peer_reset puts the defaults back, so the
// server primes a slot again whenever it is freed).
//
// ENet's give-up rule counts in multiples of the first timeout (kPeerTimeoutLimit of them), so
// a lower start alone would make a handshake give up after ~6 s instead of ENet's ~31 s. While
// the estimate is still the guess, the limit is scaled up by the same factor, which keeps the
// handshake's give-up where ENet's defaults put it; applyPeerTimeouts() restores the normal
// limit once the connection is established on this end.
inline constexpr enet_uint32 kEnetDefaultRoundTripMs = ENET_PEER_DEFAULT_ROUND_TRIP_TIME;

// The timeout limit for commands first sent while the round trip is the guess `initialRttMs`.
inline constexpr enet_uint32 handshakeTimeoutLimit(enet_uint32 initialRttMs) {
  if (initialRttMs == 0 || initialRttMs >= kEnetDefaultRoundTripMs) return kPeerTimeoutLimit;
  return kPeerTimeoutLimit * ((kEnetDefaultRoundTripMs + initialRttMs - 1) / initialRttMs);
}

// Sets a peer that is connecting (or a free server slot) to start from `initialRttMs`.
inline void applyHandshakeTiming(ENetPeer& peer, enet_uint32 initialRttMs) {
  if (initialRttMs == 0) {  // 0: ENet's own 500 ms
    applyPeerTimeouts(peer);
    return;
  }
  peer.roundTripTime = initialRttMs;
  peer.roundTripTimeVariance = 0;
  peer.lowestRoundTripTime = initialRttMs;
  peer.lastRoundTripTime = initialRttMs;
  enet_peer_timeout(&peer, handshakeTimeoutLimit(initialRttMs), kPeerTimeoutMinimumMs,
                    kPeerTimeoutMaximumMs);
}

// Whether a free slot still needs applyHandshakeTiming (ENet reset it since).
inline bool needsHandshakeTiming(const ENetPeer& peer, enet_uint32 initialRttMs) {
  return initialRttMs != 0 && peer.state == ENET_PEER_STATE_DISCONNECTED &&
         peer.roundTripTime != initialRttMs;
}

// ENet's packet throttle drops unreliable packets at the sender when the RTT varies, which on
// loopback collapses the throttle and silently eats presence pings. Ours are tiny and 1/s, so the
// throttle goes to full scale at once and never decelerates. Sent by the server on CONNECT; the
// command also configures the client's side of the connection.
inline void disableUnreliableThrottling(ENetPeer& peer) {
  enet_peer_throttle_configure(&peer, ENET_PEER_PACKET_THROTTLE_INTERVAL,
                               ENET_PEER_PACKET_THROTTLE_SCALE, 0);
}

// ENet 1.3.17 arms a peer's retransmission check (`nextTimeout`) from the command at the front
// of its list of unacknowledged reliable commands only. Under loss that front is often a command
// sent more than once, whose timeout has doubled each time; a newer command lost meanwhile then
// waits for that longer timeout instead of its own (and, on a sequenced channel, so does every
// message behind it). Called before each enet_host_service: for a peer whose front command has
// been sent more than once, brings `nextTimeout` forward to the earliest due time in the list.
// It never delays a check. The walk stops after kArmScanLimit commands, so a peer with a long
// backlog (a server under a connect storm) costs a bounded amount per call; the earliest due
// time among those is still never later than ENet's own. Returns the number of peers whose
// check was brought forward.
inline constexpr std::size_t kArmScanLimit = 64;

inline std::size_t armEarliestRetransmission(ENetHost& host) {
  std::size_t adjusted = 0;
  for (ENetPeer* peer = host.peers; peer < host.peers + host.peerCount; ++peer) {
    if (peer->state == ENET_PEER_STATE_DISCONNECTED) continue;
    ENetList& sent = peer->sentReliableCommands;
    if (enet_list_empty(&sent)) continue;
    const auto* front = static_cast<const ENetOutgoingCommand*>(enet_list_front(&sent));
    if (front->sendAttempts <= 1) continue;
    enet_uint32 earliest = peer->nextTimeout;
    std::size_t scanned = 0;
    for (ENetListIterator it = enet_list_begin(&sent);
         it != enet_list_end(&sent) && scanned < kArmScanLimit; it = enet_list_next(it), ++scanned) {
      const auto* command = reinterpret_cast<const ENetOutgoingCommand*>(it);
      const enet_uint32 due = command->sentTime + command->roundTripTimeout;
      if (ENET_TIME_LESS(due, earliest)) earliest = due;
    }
    if (earliest != peer->nextTimeout) {
      peer->nextTimeout = earliest;
      ++adjusted;
    }
  }
  return adjusted;
}

// ENet 1.3.17 doubles a reliable command's retransmission timeout each time it is lost, and
// never shrinks it again until the command is acknowledged: right when the link is down, wrong
// when it is only lossy. In a busy conversation over a lossy link a message whose first resend
// is lost too waits 2, 4, 8 times the link's timeout while acknowledgements of later messages
// keep arriving, and on its sequenced channel every later message waits with it. Called before
// each enet_host_service: for a command in flight that has been sent more than once, when an
// acknowledgement has arrived since its latest send (the other side is alive and answering),
// its timeout goes back to what ENet would give a new command now (the round trip plus four
// times its variation) and the peer's retransmission check is armed for it. While nothing
// arrives the doubling stands, as ENet meant it for a link that is down, and ENet's own
// timeouts for giving up on a peer are untouched. Like armEarliestRetransmission, it walks at
// most kArmScanLimit commands per peer. Returns the number of commands whose timeout it undid.
inline std::size_t undoBackoffWhileAcknowledged(ENetHost& host) {
  std::size_t undone = 0;
  for (ENetPeer* peer = host.peers; peer < host.peers + host.peerCount; ++peer) {
    if (peer->state == ENET_PEER_STATE_DISCONNECTED) continue;
    ENetList& sent = peer->sentReliableCommands;
    const enet_uint32 fresh =
        std::max<enet_uint32>(peer->roundTripTime + 4 * peer->roundTripTimeVariance, 1);
    std::size_t scanned = 0;
    for (ENetListIterator it = enet_list_begin(&sent);
         it != enet_list_end(&sent) && scanned < kArmScanLimit; it = enet_list_next(it), ++scanned) {
      auto* command = reinterpret_cast<ENetOutgoingCommand*>(it);
      if (command->sendAttempts <= 1 || command->roundTripTimeout <= fresh) continue;
      if (!ENET_TIME_LESS(command->sentTime, peer->lastReceiveTime)) continue;  // nothing since
      command->roundTripTimeout = fresh;
      const enet_uint32 due = command->sentTime + fresh;
      if (ENET_TIME_LESS(due, peer->nextTimeout)) peer->nextTimeout = due;
      ++undone;
    }
  }
  return undone;
}

// Reading on within a server turn (EnetServerTransport::serviceOnce). One enet_host_service call
// reads at most kEnetReceiveBatch datagrams (ENet 1.3.17's receive loop) and stops at the first
// datagram that completes a handshake or a disconnect, returning that event at once. Whether a
// call may have stopped with datagrams left in the socket: it returned a CONNECT or DISCONNECT,
// or it read a full batch.
inline constexpr enet_uint32 kEnetReceiveBatch = 256;

inline constexpr bool mayHaveStoppedReading(ENetEventType returned, enet_uint32 datagramsRead) {
  return returned == ENET_EVENT_TYPE_CONNECT || returned == ENET_EVENT_TYPE_DISCONNECT ||
         datagramsRead >= kEnetReceiveBatch;
}

// Whether the socket's receive queue (bytes the kernel charges to it, against the most it may)
// is a quarter full or more: datagrams are arriving faster than the turns read them, and the
// socket will drop what does not fit. Below that, what arrived during the turn waits for the
// next one, so that the turn's replies are not held back.
inline constexpr bool receiveQueueFilling(std::uint64_t queuedBytes, std::uint64_t limitBytes) {
  return limitBytes > 0 && queuedBytes * 4 >= limitBytes;
}

// The connect data a client sends: bit 0 says it splits bundles (enet_bundle.hpp). A client that
// sends 0 (any client written before bundles, or one that does not want them) gets one frame
// per packet.
inline constexpr enet_uint32 kConnectAcceptsBundles = 1;

// The disconnect data a server sends when it closes a session on purpose, so that the client can
// tell "closed by the server" from a timeout (which ENet reports with data 0).
inline constexpr enet_uint32 kDisconnectClosedByServer = 1;

// Session ids live in peer->data. ENet never clears it, so the transport does, on every
// DISCONNECT and whenever it resets or closes a peer itself. 0 means "no session".
inline SessionId sessionOf(const ENetPeer& peer) {
  return static_cast<SessionId>(reinterpret_cast<std::uintptr_t>(peer.data));
}
inline void setSession(ENetPeer& peer, SessionId session) {
  peer.data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(session));
}

inline enet_uint32 packetFlagsFor(std::uint8_t channel) {
  // Channel 0: reliable sequenced. Channel 1: unreliable sequenced (flag 0), so a late presence
  // ping is dropped rather than delivered after a newer one. The lab channels: bulk is reliable
  // with an ordering of its own; 3 is unreliable sequenced like 1; 4 is unsequenced.
  switch (channel) {
    case kChannelReliable:
    case kChannelBulk:
      return ENET_PACKET_FLAG_RELIABLE;
    case kChannelLabUnsequenced:
      return ENET_PACKET_FLAG_UNSEQUENCED;
    default:
      return 0;
  }
}

}  // namespace udpchat::enet
