#include "udpchat/enet_server_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstddef>
#include <limits>
#include <mutex>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "enet_handles.hpp"
#include "udpchat/discovery.hpp"
#include "udpchat/enet_bundle.hpp"
#include "udpchat/enet_datagram_check.hpp"
#include "udpchat/rate_limiter.hpp"

namespace udpchat {
namespace {

std::string lowercaseFirst(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// ENet reports a failed bind only as a null host and leaves errno unspecified, so the reason is
// found by binding a plain UDP socket the way ENet does (no SO_REUSEADDR) and reading errno.
std::string probeBindError(const ENetAddress& address) {
  enet::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return lowercaseFirst(std::strerror(errno));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(address.port);
  sin.sin_addr.s_addr = address.host;  // ENet keeps it in network byte order
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) {
    return lowercaseFirst(std::strerror(errno));
  }
  return "ENet could not create the host";
}

enet_uint32 serviceTimeout(Millis maxWait) {
  return static_cast<enet_uint32>(std::clamp<Millis>(maxWait, 0, 60'000));
}

bool socketReadable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

// The bytes the kernel charges to the socket's receive queue and the most it may: SO_MEMINFO's
// rmem_alloc and rcvbuf. {0, 0} if they cannot be read.
std::pair<std::uint64_t, std::uint64_t> receiveQueueUse(int fd) {
  std::uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof mem;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &length) != 0 ||
      length < sizeof(std::uint32_t) * (SK_MEMINFO_RCVBUF + 1)) {
    return {0, 0};
  }
  return {mem[SK_MEMINFO_RMEM_ALLOC], mem[SK_MEMINFO_RCVBUF]};
}

// Whether a datagram is a CONNECT: addressed to no peer (peer id 0xFFF) with CONNECT as its
// first command (ENet refuses any other first command for no peer).
bool isConnectDatagram(const enet_uint8* data, std::size_t length) {
  if (length < 2) return false;
  const enet_uint16 field = static_cast<enet_uint16>(data[0] << 8 | data[1]);
  const enet_uint16 peerId = field & static_cast<enet_uint16>(~(ENET_PROTOCOL_HEADER_FLAG_MASK |
                                                                ENET_PROTOCOL_HEADER_SESSION_MASK));
  if (peerId != ENET_PROTOCOL_MAXIMUM_PEER_ID) return false;
  if ((field & ENET_PROTOCOL_HEADER_FLAG_COMPRESSED) != 0) return false;  // ENet drops these
  const std::size_t header = (field & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) != 0 ? 4 : 2;
  return length > header &&
         (data[header] & ENET_PROTOCOL_COMMAND_MASK) == ENET_PROTOCOL_COMMAND_CONNECT;
}

// The connectID a CONNECT datagram carries (isConnectDatagram already true), as ENet stores it:
// the wire's bytes, unconverted. 0 when the command is cut short (ENet drops that one itself).
enet_uint32 connectIdOf(const enet_uint8* data, std::size_t length) {
  const enet_uint16 field = static_cast<enet_uint16>(data[0] << 8 | data[1]);
  const std::size_t header = (field & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) != 0 ? 4 : 2;
  const std::size_t at = header + offsetof(ENetProtocolConnect, connectID);
  enet_uint32 id = 0;
  if (length >= at + sizeof id) std::memcpy(&id, data + at, sizeof id);
  return id;
}

bool handshaking(const ENetPeer& peer) {
  return peer.state >= ENET_PEER_STATE_CONNECTING &&
         peer.state <= ENET_PEER_STATE_CONNECTION_SUCCEEDED;
}

bool isLoopback(enet_uint32 networkOrder) {
  return (ntohl(networkOrder) >> 24) == 127;
}

// A random id for this server's run, so a client that hears it through two addresses lists it
// once.
std::uint64_t randomServerId() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

bool isReliable(std::uint8_t channel) {
  return (enet::packetFlagsFor(channel) & ENET_PACKET_FLAG_RELIABLE) != 0;
}

// A frame queued to one peer, waiting for the end of the turn.
struct QueuedFrame {
  std::uint8_t channel;
  const protocol::Bytes* frame;  // kept alive by Coalescer::held
};

// The reliable frames queued in one loop turn, per peer, sent at the end of the turn as few
// packets as possible (enet_bundle.hpp). Peers that were queued the same frames in the same order
// (every member of a room, for room events) get the same packets: one ENetPacket, reference
// counted by ENet, as for an unbundled broadcast.
class Coalescer {
 public:
  // Whether the peer in this slot said, when it connected, that it splits bundles.
  void setAccepts(ENetHost& host, ENetPeer& peer, bool accepts) {
    const std::size_t slot = slotOf(host, peer);
    if (accepts_.size() < host.peerCount) accepts_.resize(host.peerCount, false);
    accepts_[slot] = accepts;
  }
  bool accepts(ENetHost& host, ENetPeer& peer) const {
    const std::size_t slot = slotOf(host, peer);
    return slot < accepts_.size() && accepts_[slot];
  }

  // Precondition: accepts(host, peer).
  void queue(ENetHost& host, ENetPeer& peer, std::uint8_t channel, const SharedFrame& frame) {
    if (held_.empty() || held_.back() != frame) held_.push_back(frame);
    const std::size_t slot = slotOf(host, peer);
    if (queues_.size() < host.peerCount) queues_.resize(host.peerCount);
    std::vector<QueuedFrame>& q = queues_[slot];
    if (q.empty()) dirty_.push_back(slot);
    q.push_back({channel, frame.get()});
  }

  // Drops what was queued to a peer that is going away.
  void drop(ENetHost& host, ENetPeer& peer) {
    const std::size_t slot = slotOf(host, peer);
    if (slot < queues_.size()) queues_[slot].clear();  // its entry in dirty_ is skipped
    if (slot < accepts_.size()) accepts_[slot] = false;
  }

  void sendAll(ENetHost& host, EnetServerStats& stats) {
    if (dirty_.empty()) {
      held_.clear();
      return;
    }
    for (std::size_t slot : dirty_) {
      std::vector<QueuedFrame>& q = queues_[slot];
      if (q.empty()) continue;
      ENetPeer& peer = host.peers[slot];
      // Channels in order of first use; frames keep their order within a channel.
      for (std::size_t first = 0; first < q.size(); ++first) {
        const std::uint8_t channel = q[first].channel;
        if (channel == kNoChannel) continue;
        frames_.clear();
        for (std::size_t k = first; k < q.size(); ++k) {
          if (q[k].channel != channel) continue;
          frames_.push_back(q[k].frame);
          q[k].channel = kNoChannel;
        }
        sendTo(peer, channel, stats);
      }
      q.clear();
    }
    dirty_.clear();
    // ENet holds a reference to every packet it queued; the ones no peer took are ours.
    for (auto& [hash, entry] : cache_) {
      for (ENetPacket* packet : entry.packets) {
        if (packet->referenceCount == 0) enet_packet_destroy(packet);
      }
    }
    cache_.clear();
    held_.clear();
  }

 private:
  static constexpr std::uint8_t kNoChannel = 0xFF;

  static std::size_t slotOf(const ENetHost& host, const ENetPeer& peer) {
    return static_cast<std::size_t>(&peer - host.peers);
  }

  struct Entry {
    std::uint8_t channel;
    std::vector<const protocol::Bytes*> frames;
    std::vector<ENetPacket*> packets;
  };

  static std::uint64_t hashOf(std::uint8_t channel, std::span<const protocol::Bytes* const> frames) {
    std::uint64_t h = 0xcbf29ce484222325ull ^ channel;  // FNV-1a over the frames' addresses
    for (const protocol::Bytes* f : frames) {
      h ^= reinterpret_cast<std::uintptr_t>(f);
      h *= 0x100000001b3ull;
    }
    return h;
  }

  const Entry& packetsFor(std::uint8_t channel, EnetServerStats& stats) {
    const std::uint64_t hash = hashOf(channel, frames_);
    auto [begin, end] = cache_.equal_range(hash);
    for (auto it = begin; it != end; ++it) {
      if (it->second.channel == channel &&
          std::equal(it->second.frames.begin(), it->second.frames.end(), frames_.begin(),
                     frames_.end())) {
        return it->second;
      }
    }
    Entry entry{channel, frames_, {}};
    spans_.clear();
    for (const protocol::Bytes* f : frames_) spans_.emplace_back(*f);
    const enet_uint32 flags = enet::packetFlagsFor(channel);
    bundle::pack(std::span<const protocol::ByteSpan>(spans_), [&](protocol::ByteSpan bytes) {
      ENetPacket* packet = enet_packet_create(bytes.data(), bytes.size(), flags);
      if (packet == nullptr) return;  // out of memory: these frames are lost to these peers
      ++stats.packetsCreated;
      if (bundle::isBundle(bytes)) ++stats.bundlesCreated;
      entry.packets.push_back(packet);
    });
    return cache_.emplace(hash, std::move(entry))->second;
  }

  void sendTo(ENetPeer& peer, std::uint8_t channel, EnetServerStats& stats) {
    const Entry& entry = packetsFor(channel, stats);
    std::size_t bytes = 0;
    for (const protocol::Bytes* f : frames_) bytes += f->size();
    if (entry.packets.empty()) {
      stats.sendFailures += frames_.size();
      return;
    }
    for (ENetPacket* packet : entry.packets) {
      if (enet_peer_send(&peer, channel, packet) != 0) {
        stats.sendFailures += frames_.size();
        return;
      }
      ++stats.packetsSent;
    }
    stats.framesSent += frames_.size();
    stats.bytesSent += bytes;
  }

  std::vector<std::vector<QueuedFrame>> queues_;  // by peer slot
  std::vector<bool> accepts_;                     // by peer slot
  std::vector<std::size_t> dirty_;                // slots with frames queued, in order
  std::vector<SharedFrame> held_;                 // keeps queued frames alive for the turn
  std::unordered_multimap<std::uint64_t, Entry> cache_;
  std::vector<const protocol::Bytes*> frames_;  // scratch: one peer's frames on one channel
  std::vector<protocol::ByteSpan> spans_;       // scratch
};

}  // namespace

struct EnetServerTransport::State {
  enet::LibraryGuard library;  // declared first: outlives the host
  EnetServerOptions options;
  std::shared_ptr<SessionIdAllocator> sessionIds;
  enet::HostPtr host;
  std::unordered_map<SessionId, ENetPeer*> peers;
  EnetServerStats stats;
  Coalescer coalescer;

  // Monotonic time of the next sweep over the slots (slotSweep). Our clock, not ENet's: ENet
  // 1.3.17's is the wall clock in milliseconds modulo 2^32, which its ENET_TIME_LESS compares
  // correctly only within 24 hours of a start value, and 0 is not one.
  Millis nextSlotSweep = 0;
  // By slot: when the sweep first saw the peer there half-open (ACKNOWLEDGING_CONNECT; 0: not
  // half-open), and its connectID, so a slot reused by another CONNECT between two sweeps
  // starts over.
  std::vector<Millis> halfOpenSince;
  std::vector<enet_uint32> halfOpenConnectId;

  // Discovery (discovery.hpp): what to answer, and token buckets (a second's worth of burst)
  // per source address and for all sources.
  std::function<DiscoveryInfo()> discoveryInfo;
  std::uint64_t serverId = randomServerId();
  std::unordered_map<enet_uint32, RateLimiter> answersBySource;
  RateLimiter answersTotal{kProbeAnswersPerSecondTotal, kProbeAnswersPerSecondTotal,
                           readClocks().mono};

  ~State() {
    if (!host) return;
    std::lock_guard lock(registryMutex);
    registry().erase(host.get());
  }

  // ---- what ENet's intercept callback sees ---------------------------------------------------
  //
  // ENet 1.3.17 hands every datagram to the host's intercept callback before it parses it. Ours
  // answers discovery probes, and keeps an address to maxHandshakesPerAddress handshakes in
  // progress (a new CONNECT there resets the oldest half-open one): ENet gives every CONNECT a
  // peer slot at once
  // and keeps it, resending VERIFY_CONNECT, until the other end acknowledges or about 30 s
  // pass, and a forged CONNECT never does. It also drops a datagram carrying a fragment command
  // that later ENet releases refuse (enet::checkDatagram: a walk over the command headers, no
  // copy). The callback gets only the host, so the host's State is found in a registry (looked
  // up only for probes, CONNECTs and refused datagrams; every other datagram is passed on). It
  // runs on the service thread, inside enet_host_service, like everything else that touches the
  // State.

  static std::mutex registryMutex;
  static std::unordered_map<const ENetHost*, State*>& registry() {
    static std::unordered_map<const ENetHost*, State*> byHost;
    return byHost;
  }

  static int ENET_CALLBACK intercept(ENetHost* host, ENetEvent*) {
    const discovery::ByteView datagram(reinterpret_cast<const std::byte*>(host->receivedData),
                                       host->receivedDataLength);
    const bool probe = discovery::startsLikeProbe(datagram);
    const bool connect = !probe && isConnectDatagram(host->receivedData, host->receivedDataLength);
    const bool badFragment =
        !probe && !connect && enet::checkDatagram(datagram) != enet::DatagramVerdict::Pass;
    if (!probe && !connect && !badFragment) return 0;
    State* state = nullptr;
    {
      std::lock_guard lock(registryMutex);
      auto it = registry().find(host);
      if (it == registry().end()) return 0;
      state = it->second;
    }
    if (probe) {
      state->answerProbe(datagram);
      return 1;  // ENet would drop it as garbage anyway
    }
    if (badFragment) {
      ++state->stats.datagramsRefused;  // no acknowledgement: an honest sender never sends one
      return 1;
    }
    return state->admitConnect() ? 0 : 1;
  }

  bool admitConnect() {
    const enet_uint32 from = host->receivedAddress.host;  // network byte order
    if (options.maxHandshakesPerAddress == 0 || (options.exemptLoopback && isLoopback(from))) {
      return true;
    }
    std::size_t inProgress = 0;
    ENetPeer* oldest = nullptr;  // the evictable handshake the sweep has known longest
    const enet_uint32 connectId = connectIdOf(host->receivedData, host->receivedDataLength);
    for (ENetPeer* p = host->peers; p < host->peers + host->peerCount; ++p) {
      if (!handshaking(*p) || p->address.host != from) continue;
      if (p->address.port == host->receivedAddress.port && p->connectID == connectId) {
        return true;  // a resent CONNECT of a handshake under way: ENet ignores it, no slot taken
      }
      ++inProgress;
      if (p->state != ENET_PEER_STATE_ACKNOWLEDGING_CONNECT) continue;
      if (oldest == nullptr || sweptSince(*p) < sweptSince(*oldest)) oldest = p;
    }
    if (inProgress < options.maxHandshakesPerAddress) return true;
    if (oldest == nullptr) {
      ++stats.connectsRefused;  // every handshake there is completing: no slot for this one
      return false;
    }
    // The newest attempt wins: a client retrying (or a neighbour behind the same NAT) is never
    // locked out by handshakes that went nowhere, and a flood still holds no more slots than
    // the limit. The evicted peer's VERIFY_CONNECT, if still queued, is never sent.
    const std::size_t slot = static_cast<std::size_t>(oldest - host->peers);
    if (slot < halfOpenSince.size()) halfOpenSince[slot] = 0;
    enet_peer_reset(oldest);
    ++stats.handshakesEvicted;
    return true;
  }
  // When the once-a-second sweep first saw this handshake; one it has not seen yet is the newest.
  Millis sweptSince(const ENetPeer& peer) const {
    const std::size_t slot = static_cast<std::size_t>(&peer - host->peers);
    if (slot >= halfOpenSince.size() || halfOpenSince[slot] == 0 ||
        halfOpenConnectId[slot] != peer.connectID) {
      return std::numeric_limits<Millis>::max();
    }
    return halfOpenSince[slot];
  }

  void answerProbe(discovery::ByteView datagram) {
    const auto probe = discovery::decodeProbe(datagram);
    if (!options.discovery || !discoveryInfo || !probe) {
      ++stats.probesDropped;
      return;
    }
    const Millis now = readClocks().mono;
    // Sources are forgotten wholesale past 4096: at worst a forgotten one gets a fresh burst.
    if (answersBySource.size() > 4096) answersBySource.clear();
    RateLimiter& bucket =
        answersBySource
            .try_emplace(host->receivedAddress.host,
                         RateLimiter(kProbeAnswersPerSecond, kProbeAnswersPerSecond, now))
            .first->second;
    if (!bucket.tryTake(now) || !answersTotal.tryTake(now)) {
      ++stats.probesDropped;
      return;
    }
    const DiscoveryInfo info = discoveryInfo();
    discovery::Answer answer;
    answer.nonce = probe->nonce;
    answer.serverId = serverId;
    answer.protocolVersion = kProtocolVersion;
    answer.port = host->address.port;
    answer.users = static_cast<std::uint16_t>(std::min<std::size_t>(info.users, 65535));
    answer.maxClients = static_cast<std::uint16_t>(std::min<std::size_t>(info.maxClients, 65535));
    answer.full = info.users >= info.maxClients;
    answer.name = info.name;
    const auto bytes = discovery::encodeAnswer(answer, probe->length);
    if (!bytes) {
      ++stats.probesDropped;
      return;
    }
    ENetBuffer buffer{const_cast<std::byte*>(bytes->data()), bytes->size()};
    if (enet_socket_send(host->socket, &host->receivedAddress, &buffer, 1) > 0) {
      ++stats.probesAnswered;
    } else {
      ++stats.probesDropped;
    }
  }

  // Primes free slots for the next CONNECT (enet::applyHandshakeTiming). A slot freed with a
  // DISCONNECT event is primed there; slotSweep, once a second, catches the slots ENet frees
  // without one (a handshake it gave up).
  void primeIfFree(ENetPeer& peer) {
    if (enet::needsHandshakeTiming(peer, options.initialRttMs)) {
      enet::applyHandshakeTiming(peer, options.initialRttMs);
    }
  }
  void primeFreeSlots() {
    for (ENetPeer* p = host->peers; p < host->peers + host->peerCount; ++p) primeIfFree(*p);
  }
  // A peer that has not finished its handshake within handshakeTimeoutMs (give or take the
  // sweep's second) is reset: its slot is free again and nothing more is sent to its address.
  void expireHandshake(ENetPeer& peer, Millis nowMono) {
    const std::size_t slot = static_cast<std::size_t>(&peer - host->peers);
    if (peer.state != ENET_PEER_STATE_ACKNOWLEDGING_CONNECT) {
      halfOpenSince[slot] = 0;
      return;
    }
    if (halfOpenSince[slot] == 0 || halfOpenConnectId[slot] != peer.connectID) {
      halfOpenSince[slot] = std::max<Millis>(nowMono, 1);
      halfOpenConnectId[slot] = peer.connectID;
      return;
    }
    if (nowMono - halfOpenSince[slot] < options.handshakeTimeoutMs) return;
    halfOpenSince[slot] = 0;
    enet_peer_reset(&peer);
    ++stats.handshakesExpired;
    primeIfFree(peer);
  }
  // Once a second: primes free slots, expires stale handshakes.
  void slotSweep(Millis nowMono) {
    if (nowMono < nextSlotSweep) return;
    nextSlotSweep = nowMono + 1000;
    if (halfOpenSince.size() < host->peerCount) {
      halfOpenSince.resize(host->peerCount, 0);
      halfOpenConnectId.resize(host->peerCount, 0);
    }
    for (ENetPeer* p = host->peers; p < host->peers + host->peerCount; ++p) {
      if (options.handshakeTimeoutMs > 0) expireHandshake(*p, nowMono);
      primeIfFree(*p);
    }
  }

  // Sends the reliable frames queued this turn (a no-op without bundling).
  void sendQueued() { coalescer.sendAll(*host, stats); }

  // Never 0, which means "no session" in peer->data.
  SessionId newSessionId() { return sessionIds->next(); }

  ENetPeer* find(SessionId session) const {
    auto it = peers.find(session);
    return it == peers.end() ? nullptr : it->second;
  }

  void forget(ENetPeer& peer) {
    coalescer.drop(*host, peer);
    const SessionId session = enet::sessionOf(peer);
    enet::setSession(peer, 0);
    if (session != 0) peers.erase(session);
    stats.peers = peers.size();
  }

  void handle(const ENetEvent& event, SessionHandler& handler, Now now) {
    switch (event.type) {
      case ENET_EVENT_TYPE_CONNECT: {
        const SessionId session = newSessionId();
        enet::setSession(*event.peer, session);
        peers.emplace(session, event.peer);
        coalescer.setAccepts(*host, *event.peer, (event.data & enet::kConnectAcceptsBundles) != 0);
        stats.peers = peers.size();
        enet::applyPeerTimeouts(*event.peer);
        enet::disableUnreliableThrottling(*event.peer);
        // may close() it at once (server full, too many from one address)
        handler.connected(session, now, ntohl(event.peer->address.host));
        break;
      }
      case ENET_EVENT_TYPE_RECEIVE: {
        enet::PacketPtr packet(event.packet);
        const SessionId session = enet::sessionOf(*event.peer);
        // 0: a session we closed; its last frames are of no interest to anyone.
        if (session == 0) break;
        // Over a frame's size: the core refuses it (malformed, "frame larger than 8192 bytes")
        // and the session goes on, ENet having acknowledged it.
        if (packet->dataLength > kMaxFrameBytes) ++stats.oversizedReceived;
        ++stats.packetsReceived;
        stats.bytesReceived += packet->dataLength;
        handler.received(session, event.channelID,
                         protocol::ByteSpan(reinterpret_cast<const std::byte*>(packet->data),
                                            packet->dataLength),
                         now);
        break;
      }
      case ENET_EVENT_TYPE_DISCONNECT: {
        const SessionId session = enet::sessionOf(*event.peer);
        forget(*event.peer);
        // ENet has reset the slot to its defaults: ready it for the next CONNECT.
        primeIfFree(*event.peer);
        // A session we closed ourselves was already forgotten by the core.
        if (session != 0) handler.disconnected(session, now);
        break;
      }
      case ENET_EVENT_TYPE_NONE:
        break;
    }
  }
};

EnetServerTransport::EnetServerTransport(EnetServerOptions options,
                                         std::shared_ptr<SessionIdAllocator> sessionIds)
    : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  state_->sessionIds = sessionIds ? std::move(sessionIds) : std::make_shared<SessionIdAllocator>();
  const EnetServerOptions& o = state_->options;
  const std::string where = "cannot listen on " + o.host + ":" + std::to_string(o.port) + ": ";
  static_assert(kMaxClientsLimit + kSpareSlots == ENET_PROTOCOL_MAXIMUM_PEER_ID);
  if (o.maxClients == 0 || o.maxClients > kMaxClientsLimit) {
    throw std::runtime_error(where + "max clients must be 1.." + std::to_string(kMaxClientsLimit));
  }
  if (o.initialRttMs > kMaxInitialRttMs) {
    throw std::runtime_error(where + "initial round trip must be 0.." +
                             std::to_string(kMaxInitialRttMs) + " ms");
  }
  ENetAddress address{};
  if (enet_address_set_host(&address, o.host.c_str()) != 0) {
    throw std::runtime_error(where + "cannot resolve host");
  }
  address.port = o.port;
  // Up to the lab's channels: ENet gives each peer the smaller of this and what it asked for
  // (chat clients ask for 2), and the core decides what the extra channels may carry.
  state_->host.reset(enet_host_create(&address, o.maxClients + kSpareSlots, kLabChannelCount,
                                      /*incomingBandwidth=*/0, /*outgoingBandwidth=*/0));
  if (!state_->host) throw std::runtime_error(where + probeBindError(address));
  enet::applyHostLimits(*state_->host);
  state_->primeFreeSlots();
  {
    std::lock_guard lock(State::registryMutex);
    State::registry()[state_->host.get()] = state_.get();
  }
  state_->host->intercept = State::intercept;
  if (o.receiveBufferBytes > 0) {
    enet_socket_set_option(state_->host->socket, ENET_SOCKOPT_RCVBUF, o.receiveBufferBytes);
  }
}

EnetServerTransport::~EnetServerTransport() = default;

std::uint16_t EnetServerTransport::port() const {
  return state_->host->address.port;
}

std::string EnetServerTransport::boundAddress() const {
  char ip[64] = {};
  if (enet_address_get_host_ip(&state_->host->address, ip, sizeof ip) != 0) {
    return state_->options.host + ":" + std::to_string(port());
  }
  return std::string(ip) + ":" + std::to_string(port());
}

int EnetServerTransport::serviceOnce(SessionHandler& handler, Millis maxWait) {
  ENetHost* host = state_->host.get();
  ENetEvent event{};
  int handled = 0;
  state_->stats.retransmitBackoffsUndone += enet::undoBackoffWhileAcknowledged(*host);
  state_->stats.retransmitChecksAdvanced += enet::armEarliestRetransmission(*host);
  // The first call waits up to maxWait; further ones read on without waiting while the socket
  // may still hold what this turn's sending brought back (see kMaxExtraReadCalls).
  Millis wait = maxWait;
  for (int call = 0; call <= kMaxExtraReadCalls; ++call) {
    const enet_uint32 receivedBefore = host->totalReceivedPackets;
    const int rc = enet_host_service(host, &event, serviceTimeout(wait));
    wait = 0;
    if (rc < 0) {
      // An oversized datagram (ENet's receive buffer is 4096 bytes) or an interrupted poll: the
      // datagram is gone, the next call carries on.
      ++state_->stats.serviceErrors;
      break;
    }
    const enet_uint32 datagramsRead = host->totalReceivedPackets - receivedBefore;
    const bool stoppedEarly =
        enet::mayHaveStoppedReading(rc > 0 ? event.type : ENET_EVENT_TYPE_NONE, datagramsRead);
    if (rc > 0) {
      const Now now = readClocks();
      do {
        state_->handle(event, handler, now);
        ++handled;
      } while (enet_host_check_events(host, &event) > 0);
    }
    // Nothing read and nothing cut short (a timeout's DISCONNECT returns before ENet reads): the
    // socket was empty when ENet looked, and a quiet turn pays no syscall here.
    if (datagramsRead == 0 && !stoppedEarly) break;
    const auto [queued, limit] = receiveQueueUse(host->socket);
    if (!enet::receiveQueueFilling(queued, limit) &&
        !(stoppedEarly && socketReadable(host->socket))) {
      break;
    }
    if (call < kMaxExtraReadCalls) ++state_->stats.extraReadCalls;
  }
  // Replies queued by the handler leave now rather than on the next service call.
  state_->sendQueued();
  enet_host_flush(host);
  state_->slotSweep(readClocks().mono);
  return handled;
}

void EnetServerTransport::run(SessionHandler& handler, const std::atomic<bool>& stop) {
  Millis nextTick = readClocks().mono + handler.tickInterval();
  while (!stop.load(std::memory_order_relaxed)) {
    serviceOnce(handler, kServiceWaitMs);
    const Now now = readClocks();
    if (now.mono >= nextTick) {
      handler.tick(now);
      flush();
      // After a stall, tick once and resume the cadence instead of catching up in a burst.
      nextTick = std::max(nextTick + handler.tickInterval(), now.mono + 1);
    }
  }
}

void EnetServerTransport::shutdown(Millis grace) {
  beginShutdown();
  const Millis deadline = readClocks().mono + grace;
  while (readClocks().mono < deadline && !serviceShutdown(10)) {
  }
  flush();
}

void EnetServerTransport::beginShutdown() {
  state_->sendQueued();  // what the core queued is delivered before the disconnect
  for (auto& [session, peer] : state_->peers) {
    enet::setSession(*peer, 0);
    enet_peer_disconnect_later(peer, enet::kDisconnectClosedByServer);
  }
  state_->peers.clear();
  state_->stats.peers = 0;
  enet_host_flush(state_->host.get());
}

bool EnetServerTransport::serviceShutdown(Millis maxWait) {
  ENetHost* host = state_->host.get();
  auto anyPeerLeft = [host] {
    for (std::size_t i = 0; i < host->peerCount; ++i) {
      if (host->peers[i].state != ENET_PEER_STATE_DISCONNECTED) return true;
    }
    return false;
  };
  if (!anyPeerLeft()) return true;
  ENetEvent event{};
  int rc = enet_host_service(host, &event, serviceTimeout(maxWait));
  while (rc > 0) {
    if (event.type == ENET_EVENT_TYPE_RECEIVE) {
      enet::PacketPtr dropped(event.packet);
    }
    if (event.type == ENET_EVENT_TYPE_CONNECT) {
      enet_peer_disconnect(event.peer, enet::kDisconnectClosedByServer);
    }
    if (event.type == ENET_EVENT_TYPE_DISCONNECT) enet::setSession(*event.peer, 0);
    rc = enet_host_check_events(host, &event);
  }
  return !anyPeerLeft();
}

void EnetServerTransport::flush() {
  state_->sendQueued();
  enet_host_flush(state_->host.get());
}

int EnetServerTransport::receiveBufferBytes() const {
  int bytes = 0;
  socklen_t length = sizeof bytes;
  if (::getsockopt(state_->host->socket, SOL_SOCKET, SO_RCVBUF, &bytes, &length) != 0) return 0;
  return bytes;
}

int EnetServerTransport::socketFd() const {
  return state_->host->socket;
}

bool EnetServerTransport::owns(SessionId session) const {
  return state_->find(session) != nullptr;
}

void EnetServerTransport::send(std::span<const SessionId> to, std::uint8_t channel,
                               const SharedFrame& frame) {
  EnetServerStats& stats = state_->stats;
  if (to.empty()) return;
  if (!frame || frame->size() > kMaxFrameBytes || channel >= kLabChannelCount) {
    stats.sendFailures += to.size();
    return;
  }
  // Recipients that split bundles get reliable frames at the end of the turn, bundled with
  // their other reliable frames; the others, now, one packet per frame.
  std::span<const SessionId> direct = to;
  std::vector<SessionId> unbundled;
  if (state_->options.bundle && isReliable(channel)) {
    Coalescer& coalescer = state_->coalescer;
    for (SessionId session : to) {
      ENetPeer* peer = state_->find(session);
      if (peer == nullptr) {
        ++stats.sendFailures;
      } else if (coalescer.accepts(*state_->host, *peer)) {
        coalescer.queue(*state_->host, *peer, channel, frame);
      } else {
        unbundled.push_back(session);
      }
    }
    if (unbundled.empty()) return;
    direct = unbundled;
  }
  // One packet for every recipient: ENet reference counts it per queued command.
  enet::PacketPtr packet(
      enet_packet_create(frame->data(), frame->size(), enet::packetFlagsFor(channel)));
  if (!packet) {
    stats.sendFailures += direct.size();
    return;
  }
  ++stats.packetsCreated;
  for (SessionId session : direct) {
    ENetPeer* peer = state_->find(session);
    if (peer == nullptr || enet_peer_send(peer, channel, packet.get()) != 0) {
      ++stats.sendFailures;
      continue;
    }
    ++stats.packetsSent;
    ++stats.framesSent;
    stats.bytesSent += frame->size();
  }
  // ENet frees the packet when its last reference goes; until one exists, it is ours to free.
  if (packet->referenceCount != 0) static_cast<void>(packet.release());
}

void EnetServerTransport::close(SessionId session) {
  ENetPeer* peer = state_->find(session);
  if (peer == nullptr) return;
  state_->sendQueued();
  // _later: what is queued (e.g. ServerFull, the last KickEvent) is delivered before the
  // disconnect. Forgetting the peer now means its DISCONNECT event is not reported.
  state_->forget(*peer);
  enet_peer_disconnect_later(peer, enet::kDisconnectClosedByServer);
}

const EnetServerStats& EnetServerTransport::stats() const {
  return state_->stats;
}

void EnetServerTransport::setDiscoveryInfo(std::function<DiscoveryInfo()> info) {
  state_->discoveryInfo = std::move(info);
}

std::mutex EnetServerTransport::State::registryMutex;

}  // namespace udpchat
