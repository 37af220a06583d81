#include "client_runner.hpp"

#include <poll.h>

#include <algorithm>
#include <charconv>

#include <random>
#include <utility>
#include <variant>

#include "udpchat/enet_client_transport.hpp"
#include "udpchat/tcp_client_transport.hpp"

namespace udpchat::client {

std::unique_ptr<ClientTransport> makeClientTransport(std::string_view name, Millis connectTimeout) {
  if (name == "enet")
    return std::make_unique<EnetClientTransport>(EnetClientOptions{connectTimeout});
  if (name == "tcp") {
    TcpClientOptions options;
    options.connectTimeout = connectTimeout;
    return std::make_unique<TcpClientTransport>(options);
  }
  return nullptr;
}

namespace {

// Client ids start from a random point, so a person who restarts their client never reuses an
// id that receivers still remember from the previous run.
ClientConfig withClientIdSeed(ClientConfig config) {
  if (config.clientIdSeed == 0) {
    std::random_device device;
    config.clientIdSeed = (std::uint64_t{device()} << 32) | device();
  }
  return config;
}

}  // namespace

std::optional<std::vector<ServerAddress>> parseServerList(std::string_view list,
                                                          std::uint16_t port) {
  std::vector<ServerAddress> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    std::string_view entry = list.substr(start, comma - start);
    ServerAddress address{std::string(entry), port};
    if (const std::size_t colon = entry.rfind(':'); colon != std::string_view::npos) {
      const std::string_view digits = entry.substr(colon + 1);
      unsigned value = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || end != digits.data() + digits.size() || value < 1 ||
          value > 65535) {
        return std::nullopt;
      }
      address = {std::string(entry.substr(0, colon)), static_cast<std::uint16_t>(value)};
    }
    if (address.host.empty()) return std::nullopt;
    out.push_back(std::move(address));
    if (comma == list.size()) return out;
    start = comma + 1;
  }
}

ClientRunner::ClientRunner(std::string host, std::uint16_t port, ClientConfig config,
                           std::unique_ptr<ClientTransport> transport, EventSink sink)
    : servers_(parseServerList(host, port).value_or(std::vector<ServerAddress>{{host, port}})),
      transport_(std::move(transport)),
      sink_(std::move(sink)),
      core_(withClientIdSeed(std::move(config)), *this) {}

ClientRunner::~ClientRunner() = default;

void ClientRunner::start() {
  core_.start(readClocks());
}

void ClientRunner::pump() {
  for (auto& e : transport_->serviceOnce(0)) {
    const Now now = readClocks();
    if (std::holds_alternative<transport_event::Connected>(e)) {
      core_.connected(now);
    } else if (auto* failed = std::get_if<transport_event::ConnectFailed>(&e)) {
      nextServer();
      core_.connectFailed(std::move(failed->reason), now);
    } else if (auto* gone = std::get_if<transport_event::Disconnected>(&e)) {
      nextServer();
      core_.disconnected(std::move(gone->reason), now);
    } else if (auto* received = std::get_if<transport_event::Received>(&e)) {
      core_.received(received->channel, received->bytes, now);
    }
  }
  const Now now = readClocks();
  if (connectError_) {
    nextServer();
    core_.connectFailed(*std::exchange(connectError_, std::nullopt), now);
  }
  core_.tick(now);
  // Frames the core queued in this turn (pings, paced lines, the quit) leave now, not after the
  // next poll() timeout: on loopback this is the difference between 1 ms and 10 ms of RTT.
  transport_->flush();
}

void ClientRunner::input(std::string_view line) {
  core_.input(line, readClocks());
}

void ClientRunner::typing(std::string_view target, bool isPrivate) {
  core_.typing(target, isPrivate, readClocks());
}

void ClientRunner::quit(std::string reason) {
  core_.quit(std::move(reason), readClocks());
}

void ClientRunner::closeTransport() {
  if (transport_->busy()) transport_->disconnectGracefully();  // drops a pending connect
  while (transport_->busy()) {
    const PollInterest interest = transport_->pollInterest();
    pollfd fd{interest.fd, interest.events, 0};
    ::poll(&fd, interest.fd < 0 ? 0 : 1, kPollTimeoutMs);
    static_cast<void>(transport_->serviceOnce(0));
  }
}

void ClientRunner::connect() {
  // Reported on the next pump(), not from inside the core's call.
  connectError_ = transport_->connect(host(), port());
}

void ClientRunner::nextServer() {
  current_ = (current_ + 1) % servers_.size();
}

void ClientRunner::send(std::uint8_t channel, protocol::Bytes frame) {
  // A refused frame (not connected, oversized) is counted by the transport; the core learns
  // about the connection through the transport's events.
  static_cast<void>(transport_->send(channel, frame));
}

void ClientRunner::disconnect() {
  transport_->disconnectGracefully();
}

void ClientRunner::event(const ClientEvent& event) {
  if (const auto* lost = std::get_if<client_event::ConnectionLost>(&event)) {
    lastLossReason_ = lost->reason;
  }
  sink_(event);
}

}  // namespace udpchat::client
