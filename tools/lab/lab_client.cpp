#include "lab/lab_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <variant>

#include "udpchat/enet_client_transport.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/tcp_client_transport.hpp"

namespace udpchat::lab {
namespace {

// Waits for `interest` up to `waitUs` with microsecond resolution (poll() counts milliseconds).
void waitFor(const PollInterest& interest, std::int64_t waitUs) {
  if (waitUs <= 0) return;
  timespec timeout{};
  timeout.tv_sec = static_cast<time_t>(waitUs / 1'000'000);
  timeout.tv_nsec = static_cast<long>(waitUs % 1'000'000) * 1000;
  pollfd fd{interest.fd, interest.events, 0};
  ::ppoll(&fd, interest.fd < 0 ? 0 : 1, &timeout, nullptr);
}

}  // namespace

std::int64_t steadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

LabClient::LabClient(LabClientConfig config) : config_(std::move(config)) {
  if (config_.tcp) {
    TcpClientOptions options;
    options.connectTimeout = config_.attemptTimeoutMs;
    transport_ = std::make_unique<TcpClientTransport>(options);
  } else {
    EnetClientOptions options;
    options.connectTimeout = config_.attemptTimeoutMs;
    options.channelCount = kLabChannelCount;
    transport_ = std::make_unique<EnetClientTransport>(options);
  }
}

LabClient::~LabClient() = default;

ConnectOutcome LabClient::connect(const std::string& host, std::uint16_t port) {
  ConnectOutcome outcome;
  const std::int64_t started = steadyMicros();
  for (unsigned attempt = 1; attempt <= std::max(1u, config_.attempts); ++attempt) {
    outcome.attempts = attempt;
    gone_ = false;
    if (auto error = transport_->connect(host, port)) {
      outcome.error = *error;  // cannot even start (bad address): retrying will not help
      return outcome;
    }
    const std::int64_t deadline = steadyMicros() + config_.attemptTimeoutMs * 1000;
    bool up = false;
    while (!up && steadyMicros() <= deadline + 1000) {
      waitFor(transport_->pollInterest(), 1000);
      for (auto& event : transport_->serviceOnce(0)) {
        if (std::holds_alternative<transport_event::Connected>(event)) up = true;
        if (auto* failed = std::get_if<transport_event::ConnectFailed>(&event)) {
          outcome.error = "connect attempt " + std::to_string(attempt) + ": " + failed->reason;
        }
        if (auto* lost = std::get_if<transport_event::Disconnected>(&event)) {
          outcome.error = "connect attempt " + std::to_string(attempt) + ": " + lost->reason;
        }
      }
      if (!transport_->busy()) break;
    }
    if (!up) {
      if (outcome.error.empty()) {
        outcome.error = "connect attempt " + std::to_string(attempt) + ": no answer";
      }
      transport_->reset();
      continue;
    }
    protocol::Hello hello;
    hello.nick = config_.nick + (attempt > 1 ? std::to_string(attempt) : "");
    hello.rooms = {config_.room};
    hello.client = "udpchat-lab";
    transport_->send(kChannelReliable, protocol::encode(hello));
    transport_->flush();
    if (waitForRegistration(steadyMicros() + config_.attemptTimeoutMs * 1000)) {
      outcome.ok = true;
      outcome.error.clear();
      outcome.ms = static_cast<double>(steadyMicros() - started) / 1000.0;
      return outcome;
    }
    outcome.error = "registration attempt " + std::to_string(attempt) + ": " +
                    (disconnectReason_.empty() ? "no Welcome" : disconnectReason_);
    transport_->reset();
  }
  return outcome;
}

bool LabClient::waitForRegistration(std::int64_t deadlineUs) {
  std::vector<Incoming> incoming;
  while (steadyMicros() <= deadlineUs) {
    incoming.clear();
    if (!pump(1000, incoming)) return false;
    for (const Incoming& in : incoming) {
      if (const auto* w = std::get_if<protocol::Welcome>(&in.message)) {
        welcome_ = *w;
        nextPingUs_ = steadyMicros() + std::max<Millis>(100, welcome_.pingIntervalMs) * 1000;
        return true;
      }
      if (const auto* e = std::get_if<protocol::ErrorReply>(&in.message)) {
        disconnectReason_ = "refused: " + std::string(protocol::toString(e->code));
        return false;
      }
    }
  }
  return false;
}

bool LabClient::send(std::uint8_t channel, const protocol::Bytes& frame) {
  return transport_->send(channel, frame);
}

bool LabClient::sendChat(std::uint8_t channel, const std::string& text) {
  protocol::SendChat chat;
  chat.room = config_.room;
  chat.text = text;
  return transport_->send(channel, protocol::encode(chat));
}

void LabClient::flush() {
  transport_->flush();
}

protocol::PresencePing LabClient::makePing(std::uint32_t seq, std::int64_t nowUs) const {
  protocol::PresencePing ping;
  ping.seq = seq;
  ping.clientTime = static_cast<std::uint64_t>(nowUs / 1000);
  ping.echoServerTime = lastPongServerTime_;
  ping.echoHoldMs =
      lastPongAtUs_ == 0 ? 0 : static_cast<std::uint32_t>((nowUs - lastPongAtUs_) / 1000);
  return ping;
}

void LabClient::keepAlive(std::int64_t nowUs) {
  if (!keepalive_ || nextPingUs_ == 0 || nowUs < nextPingUs_ || !transport_->connected()) return;
  transport_->send(kChannelUnreliable, protocol::encode(makePing(pingSeq_++, nowUs)));
  transport_->flush();
  nextPingUs_ += std::max<Millis>(100, welcome_.pingIntervalMs) * 1000;
  if (nextPingUs_ < nowUs) nextPingUs_ = nowUs;  // a stall: no burst of pings to catch up
}

bool LabClient::pump(std::int64_t maxWaitUs, std::vector<Incoming>& out) {
  if (gone_) return false;
  keepAlive(steadyMicros());
  if (keepalive_ && nextPingUs_ != 0) {
    maxWaitUs = std::min(maxWaitUs, nextPingUs_ - steadyMicros());
  }
  waitFor(transport_->pollInterest(), maxWaitUs);
  std::vector<ClientTransportEvent> events = transport_->serviceOnce(0);
  const std::int64_t now = steadyMicros();
  if (now >= nextTimingUs_) {
    if (const auto* enet = dynamic_cast<const EnetClientTransport*>(transport_.get())) {
      if (auto t = enet->peerTiming()) {
        enetTimings_.push_back({now, t->roundTripMs, t->varianceMs, t->retransmitTimeoutMs});
      }
    }
    nextTimingUs_ = now + kEnetTimingEveryUs;
  }
  for (auto& event : events) {
    if (auto* received = std::get_if<transport_event::Received>(&event)) {
      auto decoded = protocol::decode(received->bytes);
      if (!decoded) continue;
      if (std::holds_alternative<protocol::ErrorReply>(decoded.value())) ++errorReplies_;
      if (const auto* pong = std::get_if<protocol::PresencePong>(&decoded.value())) {
        lastPongServerTime_ = pong->serverTime;
        lastPongAtUs_ = now;
      }
      out.push_back(Incoming{now, received->channel, std::move(decoded.value())});
    } else if (auto* lost = std::get_if<transport_event::Disconnected>(&event)) {
      disconnectReason_ = lost->reason;
      gone_ = true;
    } else if (auto* failed = std::get_if<transport_event::ConnectFailed>(&event)) {
      disconnectReason_ = failed->reason;
      gone_ = true;
    }
  }
  transport_->flush();
  return !gone_;
}

bool LabClient::connected() const {
  return !gone_ && transport_->connected();
}

std::optional<std::uint64_t> LabClient::tcpRetransmissions() const {
  if (!config_.tcp) return std::nullopt;
  const int fd = transport_->pollInterest().fd;
  if (fd < 0) return std::nullopt;
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  return info.tcpi_total_retrans;
}

void LabClient::close(Millis graceMs) {
  if (transport_->connected()) {
    protocol::QuitRequest quit;
    quit.reason = "lab run over";
    transport_->send(kChannelReliable, protocol::encode(quit));
    transport_->disconnectGracefully();
  }
  const std::int64_t deadline = steadyMicros() + graceMs * 1000;
  while (transport_->busy() && steadyMicros() < deadline) {
    waitFor(transport_->pollInterest(), 1000);
    static_cast<void>(transport_->serviceOnce(0));
  }
  transport_->reset();
  gone_ = true;
}

}  // namespace udpchat::lab
