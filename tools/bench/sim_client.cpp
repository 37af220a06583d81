#include "sim_client.hpp"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

#include "chat_event_view.hpp"
#include "client_runner.hpp"
#include "udpchat/client_core.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/time.hpp"

namespace udpchat::bench {

void SimClient::markIn(Nanos now) {
  if (status_ != Status::Connecting) return;
  status_ = Status::In;
  observer_.clientIn(*this, now);
}

void SimClient::markFailed(std::string_view reason, Nanos now) {
  if (status_ == Status::Failed || status_ == Status::Quit) return;
  const bool wasIn = status_ == Status::In;
  status_ = Status::Failed;
  observer_.clientFailed(*this, reason, wasIn, now);
}

namespace {

class CoreSimClient final : public SimClient {
 public:
  CoreSimClient(ClientIdentity identity, ClientObserver& observer, std::string host,
                std::uint16_t port, std::unique_ptr<ClientTransport> transport)
      : SimClient(std::move(identity), observer),
        runner_(std::move(host), port, configFor(this->identity()), std::move(transport),
                [this](const ClientEvent& e) { onEvent(e); }) {}

  void start() override {
    markConnecting();
    runner_.start();
  }
  PollInterest pollInterest() const override { return runner_.pollInterest(); }
  void pump() override { runner_.pump(); }
  bool sendChat(std::string_view text) override {
    if (status() != Status::In) return false;
    runner_.input(text);
    runner_.pump();  // the line leaves now, not at the next wake-up
    return true;
  }
  void quit() override {
    if (status() == Status::In || status() == Status::Connecting) {
      quitting_ = true;
      runner_.quit("bench done");
      runner_.pump();
    }
  }
  bool finished() const override {
    return status() == Status::Failed || status() == Status::Quit || runner_.finished();
  }

 private:
  static ClientConfig configFor(const ClientIdentity& id) {
    ClientConfig config;
    config.nick = id.nick;
    config.rooms = {id.roomName};
    config.clientName = "udpchat-bench";
    config.maxReconnects = 0;  // a dropped client is a failure of the run, not something to hide
    return config;
  }

  void onEvent(const ClientEvent& event) {
    if (const auto* chat = std::get_if<protocol::ChatEvent>(&event)) {
      // History replayed on join belongs to an earlier run, not to this load.
      if ((chat->flags & protocol::kFlagHistory) == 0 && chat->room == identity().roomName) {
        observer().delivered(*this, chat->text, monoNanos());
      }
    } else if (const auto* join = std::get_if<protocol::JoinEvent>(&event)) {
      if (join->room == identity().roomName && join->nick == runner_.core().nick()) {
        markIn(monoNanos());
      }
    } else if (const auto* error = std::get_if<protocol::ErrorReply>(&event)) {
      observer().serverError(*this, protocol::toString(error->code));
    } else if (const auto* lost = std::get_if<client_event::ConnectionLost>(&event)) {
      if (!quitting_) markFailed(lost->reason, monoNanos());
    } else if (const auto* done = std::get_if<client_event::Finished>(&event)) {
      if (quitting_ && done->exitStatus == kExitOk) {
        markQuit();
      } else {
        markFailed(done->reason, monoNanos());
      }
    }
  }

  client::ClientRunner runner_;
  bool quitting_ = false;
};

class ProtocolSimClient final : public SimClient {
 public:
  ProtocolSimClient(ClientIdentity identity, ClientObserver& observer, std::string host,
                    std::uint16_t port, std::unique_ptr<ClientTransport> transport)
      : SimClient(std::move(identity), observer),
        host_(std::move(host)),
        port_(port),
        transport_(std::move(transport)) {}

  void start() override {
    markConnecting();
    if (auto error = transport_->connect(host_, port_)) markFailed(*error, monoNanos());
  }
  PollInterest pollInterest() const override { return transport_->pollInterest(); }
  void pump() override {
    for (auto& e : transport_->serviceOnce(0)) {
      if (std::holds_alternative<transport_event::Connected>(e)) {
        protocol::Hello hello;
        hello.nick = identity().nick;
        hello.rooms = {identity().roomName};
        hello.client = "udpchat-bench";
        transport_->send(kChannelReliable, protocol::encode(hello));
      } else if (const auto* failed = std::get_if<transport_event::ConnectFailed>(&e)) {
        markFailed(failed->reason, monoNanos());
      } else if (const auto* gone = std::get_if<transport_event::Disconnected>(&e)) {
        if (quitting_) {
          markQuit();
        } else {
          markFailed(gone->reason, monoNanos());
        }
      } else if (const auto* got = std::get_if<transport_event::Received>(&e)) {
        onFrame(got->bytes);
      }
    }
    if (pingInterval_ > 0 && status() == Status::In) {
      const Millis now = readClocks().mono;
      if (now >= nextPingAt_) {
        sendPing(now);
        nextPingAt_ = std::max(nextPingAt_ + pingInterval_, now + 1);
      }
    }
    transport_->flush();
  }
  bool sendChat(std::string_view text) override {
    if (status() != Status::In) return false;
    protocol::SendChat chat;
    chat.room = identity().roomName;
    chat.text = std::string(text);
    const bool queued = transport_->send(kChannelReliable, protocol::encode(chat));
    transport_->flush();
    return queued;
  }
  void quit() override {
    if (status() == Status::In) {
      quitting_ = true;
      transport_->send(kChannelReliable, protocol::encode(protocol::QuitRequest{"bench done"}));
      transport_->flush();
    } else if (status() == Status::Connecting) {
      transport_->reset();
      markQuit();
    }
  }
  bool finished() const override { return status() == Status::Failed || status() == Status::Quit; }

 private:
  void onFrame(const protocol::Bytes& bytes) {
    // The frame nearly every delivery is, read in place (chat_event_view.hpp).
    if (const auto chat = viewChatEvent(bytes)) {
      if ((chat->flags & protocol::kFlagHistory) == 0 && chat->room == identity().roomName) {
        observer().delivered(*this, chat->text, monoNanos());
      }
      return;
    }
    auto decoded = protocol::decode(bytes);
    if (!decoded) return;
    std::visit(
        [&](const auto& m) {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, protocol::ChatEvent>) {
            if ((m.flags & protocol::kFlagHistory) == 0 && m.room == identity().roomName) {
              observer().delivered(*this, m.text, monoNanos());
            }
          } else if constexpr (std::is_same_v<T, protocol::Welcome>) {
            nick_ = m.nick;
            pingInterval_ = m.pingIntervalMs != 0 ? Millis{m.pingIntervalMs} : Millis{1000};
            nextPingAt_ = readClocks().mono;  // the first ping goes at once, as ClientCore's
          } else if constexpr (std::is_same_v<T, protocol::JoinEvent>) {
            if (m.room == identity().roomName && m.nick == nick_) markIn(monoNanos());
          } else if constexpr (std::is_same_v<T, protocol::PresencePong>) {
            lastPongServerTime_ = m.serverTime;
            lastPongAt_ = readClocks().mono;
          } else if constexpr (std::is_same_v<T, protocol::ErrorReply>) {
            observer().serverError(*this, protocol::toString(m.code));
            // Refused before registering (nick in use, server full): this client is done.
            if (status() == Status::Connecting) {
              markFailed(std::string(protocol::toString(m.code)) + ": " + m.message, monoNanos());
            }
          }
        },
        decoded.value());
  }

  void sendPing(Millis now) {
    protocol::PresencePing ping;
    ping.seq = ++pingSeq_;
    ping.clientTime = static_cast<std::uint64_t>(now);
    ping.echoServerTime = lastPongServerTime_;
    ping.echoHoldMs = lastPongServerTime_ == 0
                          ? 0
                          : static_cast<std::uint32_t>(std::max<Millis>(0, now - lastPongAt_));
    transport_->send(kChannelUnreliable, protocol::encode(ping));
  }

  std::string host_;
  std::uint16_t port_;
  std::unique_ptr<ClientTransport> transport_;
  std::string nick_;         // as the Welcome confirmed it
  Millis pingInterval_ = 0;  // milliseconds; 0 until the Welcome
  Millis nextPingAt_ = 0;    // mono milliseconds
  std::uint32_t pingSeq_ = 0;
  std::uint64_t lastPongServerTime_ = 0;
  Millis lastPongAt_ = 0;
  bool quitting_ = false;
};

class RawSimClient final : public SimClient {
 public:
  RawSimClient(ClientIdentity identity, ClientObserver& observer, std::string host,
               std::uint16_t port, std::unique_ptr<ClientTransport> transport, std::size_t padBytes)
      : SimClient(std::move(identity), observer),
        host_(std::move(host)),
        port_(port),
        transport_(std::move(transport)),
        padBytes_(padBytes) {}

  void start() override {
    markConnecting();
    if (auto error = transport_->connect(host_, port_)) markFailed(*error, monoNanos());
  }
  PollInterest pollInterest() const override { return transport_->pollInterest(); }
  void pump() override {
    for (auto& e : transport_->serviceOnce(0)) {
      if (std::holds_alternative<transport_event::Connected>(e)) {
        // Not in yet: the reference's Welcome says it knows us.
      } else if (const auto* failed = std::get_if<transport_event::ConnectFailed>(&e)) {
        markFailed(failed->reason, monoNanos());
      } else if (const auto* gone = std::get_if<transport_event::Disconnected>(&e)) {
        if (status() == Status::In && quitting_) {
          markQuit();
        } else {
          markFailed(gone->reason, monoNanos());
        }
      } else if (const auto* got = std::get_if<transport_event::Received>(&e)) {
        onFrame(got->bytes);
      }
    }
    transport_->flush();
  }
  bool sendChat(std::string_view text) override {
    if (status() != Status::In) return false;
    protocol::SendChat chat;
    chat.room = identity().roomName;
    chat.text = std::string(text);
    chat.text.append(padBytes_, 'x');
    const bool queued = transport_->send(kChannelReliable, protocol::encode(chat));
    transport_->flush();
    return queued;
  }
  void quit() override {
    if (status() == Status::In) {
      quitting_ = true;
      transport_->disconnectGracefully();
    } else if (status() == Status::Connecting) {
      transport_->reset();
      markQuit();
    }
  }
  bool finished() const override { return status() == Status::Failed || status() == Status::Quit; }

 private:
  void onFrame(const protocol::Bytes& bytes) {
    // The reference echoes our own SendChat frames; decoding them costs what decoding a
    // ChatEvent costs the chat client.
    auto decoded = protocol::decode(bytes);
    if (!decoded) return;
    if (const auto* chat = std::get_if<protocol::SendChat>(&decoded.value())) {
      if (chat->room == identity().roomName) observer().delivered(*this, chat->text, monoNanos());
    } else if (std::holds_alternative<protocol::Welcome>(decoded.value())) {
      markIn(monoNanos());
    }
  }

  std::string host_;
  std::uint16_t port_;
  std::unique_ptr<ClientTransport> transport_;
  std::size_t padBytes_;
  bool quitting_ = false;
};

}  // namespace

std::size_t chatEventBytes(const std::string& room, const std::string& nick,
                           std::size_t textBytes) {
  protocol::ChatEvent event;
  event.room = room;
  event.from = nick;
  event.text.assign(textBytes, 'x');
  return protocol::encode(event).size();
}

std::size_t sendChatBytes(const std::string& room, std::size_t textBytes) {
  protocol::SendChat chat;
  chat.room = room;
  chat.text.assign(textBytes, 'x');
  return protocol::encode(chat).size();
}

std::unique_ptr<SimClient> makeCoreSimClient(ClientIdentity identity, ClientObserver& observer,
                                             std::string host, std::uint16_t port,
                                             std::unique_ptr<ClientTransport> transport) {
  return std::make_unique<CoreSimClient>(std::move(identity), observer, std::move(host), port,
                                         std::move(transport));
}

std::unique_ptr<SimClient> makeProtocolSimClient(ClientIdentity identity, ClientObserver& observer,
                                                 std::string host, std::uint16_t port,
                                                 std::unique_ptr<ClientTransport> transport) {
  return std::make_unique<ProtocolSimClient>(std::move(identity), observer, std::move(host), port,
                                             std::move(transport));
}

std::unique_ptr<SimClient> makeRawSimClient(ClientIdentity identity, ClientObserver& observer,
                                            std::string host, std::uint16_t port,
                                            std::unique_ptr<ClientTransport> transport,
                                            std::size_t padBytes) {
  return std::make_unique<RawSimClient>(std::move(identity), observer, std::move(host), port,
                                        std::move(transport), padBytes);
}

}  // namespace udpchat::bench
