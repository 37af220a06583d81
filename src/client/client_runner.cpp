#include "client_runner.hpp"

#include <poll.h>

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

ClientRunner::ClientRunner(std::string host, std::uint16_t port, ClientConfig config,
                           std::unique_ptr<ClientTransport> transport, EventSink sink)
    : host_(std::move(host)),
      port_(port),
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
      core_.connectFailed(std::move(failed->reason), now);
    } else if (auto* gone = std::get_if<transport_event::Disconnected>(&e)) {
      core_.disconnected(std::move(gone->reason), now);
    } else if (auto* received = std::get_if<transport_event::Received>(&e)) {
      core_.received(received->channel, received->bytes, now);
    }
  }
  const Now now = readClocks();
  if (connectError_) {
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
  connectError_ = transport_->connect(host_, port_);
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
