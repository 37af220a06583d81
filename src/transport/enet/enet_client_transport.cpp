#include "udpchat/enet_client_transport.hpp"

#include <poll.h>

#include <algorithm>
#include <stdexcept>

#include "enet_handles.hpp"
#include "udpchat/enet_bundle.hpp"

namespace udpchat {
namespace {

std::string describeDuration(Millis ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

// The client's ENet host: an unbound UDP socket with one peer slot. Null if ENet cannot make one.
enet::HostPtr newHost(std::size_t channelCount) {
  enet::HostPtr host(enet_host_create(/*address=*/nullptr, /*peerCount=*/1, channelCount,
                                      /*incomingBandwidth=*/0, /*outgoingBandwidth=*/0));
  if (host) enet::applyHostLimits(*host);
  return host;
}

}  // namespace

struct EnetClientTransport::State {
  enum class Phase { Idle, Connecting, Connected, Closing };

  enet::LibraryGuard library;  // declared first: outlives the host
  EnetClientOptions options;
  enet::HostPtr host;
  ENetPeer* peer = nullptr;  // owned by `host`; null when Idle
  Phase phase = Phase::Idle;
  Millis deadline = 0;  // monotonic ms: end of the connect or of the graceful close
  // The handshake's relaxed give-up rule (enet::applyHandshakeTiming) is still in force: until
  // the server has sent something, it may not have completed its half of the handshake, and the
  // first message must not give up sooner than the CONNECT would have.
  bool handshakeTimeouts = false;
  // Whether `host` has sent a CONNECT; the next connect() then starts on a fresh host.
  bool hostUsed = false;
  std::vector<ClientTransportEvent> pending;
  EnetClientStats stats;

  void dropPeer() {
    if (peer != nullptr) enet_peer_reset(peer);
    peer = nullptr;
    phase = Phase::Idle;
  }

  void receivedFrame(std::uint8_t channel, protocol::ByteSpan frame,
                     std::vector<ClientTransportEvent>& out) {
    ++stats.framesReceived;
    out.push_back(transport_event::Received{channel, protocol::Bytes(frame.begin(), frame.end())});
  }

  void handle(const ENetEvent& event, std::vector<ClientTransportEvent>& out) {
    if (event.type == ENET_EVENT_TYPE_RECEIVE) {
      enet::PacketPtr packet(event.packet);
      if (event.peer != peer || phase == Phase::Idle) return;
      if (handshakeTimeouts) {
        enet::applyPeerTimeouts(*peer);
        handshakeTimeouts = false;
      }
      if (packet->dataLength > kMaxFrameBytes) return;  // ENet refuses these already
      ++stats.packetsReceived;
      stats.bytesReceived += packet->dataLength;
      const protocol::ByteSpan bytes(reinterpret_cast<const std::byte*>(packet->data),
                                     packet->dataLength);
      if (bundle::isBundle(bytes)) {
        auto frames = bundle::split(bytes);
        if (frames) {
          ++stats.bundlesReceived;
          for (protocol::ByteSpan frame : *frames) receivedFrame(event.channelID, frame, out);
          return;
        }
        // Malformed: handed on as one frame, which the core refuses (type 0x7F is no message).
        ++stats.malformedBundles;
      }
      receivedFrame(event.channelID, bytes, out);
      return;
    }
    if (event.peer != peer) return;  // a peer reset earlier; nothing of it is reported
    if (event.type == ENET_EVENT_TYPE_CONNECT) {
      // Throttling is left alone here: the server's THROTTLE_CONFIGURE sets both ends.
      phase = Phase::Connected;
      out.push_back(transport_event::Connected{});
    } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
      const Phase was = phase;
      peer = nullptr;  // ENet has reset the peer already
      phase = Phase::Idle;
      if (was == Phase::Connecting) {
        out.push_back(transport_event::ConnectFailed{"connection refused"});
      } else if (was == Phase::Closing) {
        out.push_back(transport_event::Disconnected{"closed"});
      } else if (event.data == enet::kDisconnectClosedByServer) {
        out.push_back(transport_event::Disconnected{"closed by the server"});
      } else {
        out.push_back(transport_event::Disconnected{"connection lost"});
      }
    }
  }

  void checkDeadlines(std::vector<ClientTransportEvent>& out) {
    if (phase != Phase::Connecting && phase != Phase::Closing) return;
    // Strictly after: clocks are read in whole milliseconds, so ">=" could give up up to 1 ms
    // before the full timeout has passed.
    if (readClocks().mono <= deadline) return;
    const Phase was = phase;
    // ENet would keep retransmitting the connect for ~31 s; our deadline is the user's.
    dropPeer();
    if (was == Phase::Connecting) {
      out.push_back(transport_event::ConnectFailed{"no answer within " +
                                                   describeDuration(options.connectTimeout)});
    } else {
      out.push_back(transport_event::Disconnected{"closed (the server did not confirm)"});
    }
  }
};

EnetClientTransport::EnetClientTransport(EnetClientOptions options)
    : state_(std::make_unique<State>()) {
  state_->options = options;
  if (options.channelCount < kChannelCount || options.channelCount > kLabChannelCount) {
    throw std::invalid_argument("ENet client: channelCount must be 2 to 5");
  }
  if (options.initialRttMs > kMaxInitialRttMs) {
    throw std::invalid_argument("ENet client: initialRttMs must be 0 to " +
                                std::to_string(kMaxInitialRttMs));
  }
  state_->host = newHost(options.channelCount);
  if (!state_->host) throw std::runtime_error("cannot create an ENet client host");
}

EnetClientTransport::~EnetClientTransport() = default;

std::optional<std::string> EnetClientTransport::connect(const std::string& host,
                                                        std::uint16_t port) {
  reset();
  // Every attempt after the first starts on a new socket (a new local port). The server may
  // still be sending to the connection this one replaces, resending its VERIFY_CONNECT or a
  // DISCONNECT, and ENet 1.3.17 checks no session id on a peer that is still connecting: on the
  // old socket such a datagram ends the new attempt at once, which the caller would see as a
  // refusal. The new host is made before the old one is destroyed, so its descriptor differs
  // and whoever watches pollInterest() sees the change.
  if (state_->hostUsed) {
    enet::HostPtr fresh = newHost(state_->options.channelCount);
    if (!fresh) return std::string("cannot create an ENet client host");
    state_->host = std::move(fresh);
    state_->hostUsed = false;
  }
  ENetAddress address{};
  if (enet_address_set_host(&address, host.c_str()) != 0) {
    return "cannot resolve host \"" + host + "\"";
  }
  address.port = port;
  ENetPeer* peer =
      enet_host_connect(state_->host.get(), &address, state_->options.channelCount,
                        enet::kConnectAcceptsBundles);
  if (peer == nullptr) return std::string("no ENet peer available");
  state_->hostUsed = true;
  enet::applyHandshakeTiming(*peer, state_->options.initialRttMs);
  state_->handshakeTimeouts = state_->options.initialRttMs != 0;
  state_->peer = peer;
  state_->phase = State::Phase::Connecting;
  state_->deadline = readClocks().mono + state_->options.connectTimeout;
  enet_host_flush(state_->host.get());  // the CONNECT leaves now
  return std::nullopt;
}

std::vector<ClientTransportEvent> EnetClientTransport::serviceOnce(Millis maxWait) {
  std::vector<ClientTransportEvent> out = std::move(state_->pending);
  state_->pending.clear();
  ENetHost* host = state_->host.get();
  ENetEvent event{};
  state_->stats.retransmitBackoffsUndone += enet::undoBackoffWhileAcknowledged(*host);
  state_->stats.retransmitChecksAdvanced += enet::armEarliestRetransmission(*host);
  const int rc = enet_host_service(
      host, &event, static_cast<enet_uint32>(std::clamp<Millis>(maxWait, 0, 60'000)));
  if (rc < 0) {
    ++state_->stats.serviceErrors;
  } else if (rc > 0) {
    do {
      state_->handle(event, out);
    } while (enet_host_check_events(host, &event) > 0);
  }
  state_->checkDeadlines(out);
  enet_host_flush(host);
  return out;
}

bool EnetClientTransport::send(std::uint8_t channel, protocol::ByteSpan frame) {
  if (state_->phase != State::Phase::Connected || channel >= state_->peer->channelCount ||
      frame.size() > kMaxFrameBytes) {
    ++state_->stats.sendFailures;
    return false;
  }
  enet::PacketPtr packet(
      enet_packet_create(frame.data(), frame.size(), enet::packetFlagsFor(channel)));
  if (!packet || enet_peer_send(state_->peer, channel, packet.get()) != 0) {
    ++state_->stats.sendFailures;
    return false;
  }
  static_cast<void>(packet.release());  // ENet holds it now
  ++state_->stats.packetsSent;
  state_->stats.bytesSent += frame.size();
  return true;
}

void EnetClientTransport::flush() {
  enet_host_flush(state_->host.get());
}

void EnetClientTransport::disconnectGracefully() {
  switch (state_->phase) {
    case State::Phase::Connected:
      enet_peer_disconnect_later(state_->peer, /*data=*/0);
      state_->phase = State::Phase::Closing;
      state_->deadline = readClocks().mono + state_->options.disconnectTimeout;
      break;
    case State::Phase::Connecting:
    case State::Phase::Idle:
      // Nothing to deliver; report the close anyway so a caller waiting for it is not stuck.
      state_->dropPeer();
      state_->pending.push_back(transport_event::Disconnected{"closed"});
      break;
    case State::Phase::Closing:
      break;
  }
}

void EnetClientTransport::reset() {
  state_->dropPeer();
  state_->pending.clear();
}

bool EnetClientTransport::connected() const {
  return state_->phase == State::Phase::Connected;
}

bool EnetClientTransport::busy() const {
  return state_->phase != State::Phase::Idle;
}

int EnetClientTransport::socketFd() const {
  return state_->host->socket;
}

PollInterest EnetClientTransport::pollInterest() const {
  return PollInterest{state_->host->socket, POLLIN};
}

const EnetClientStats& EnetClientTransport::stats() const {
  return state_->stats;
}

std::optional<EnetPeerTiming> EnetClientTransport::peerTiming() const {
  if (state_->peer == nullptr || state_->phase != State::Phase::Connected) return std::nullopt;
  const ENetPeer& p = *state_->peer;
  return EnetPeerTiming{p.roundTripTime, p.roundTripTimeVariance,
                        p.roundTripTime + 4 * p.roundTripTimeVariance};
}

}  // namespace udpchat
