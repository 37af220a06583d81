// Everything a client frontend shares: a transport, a ClientCore, and the plumbing between them
// (connect failures reported on the next turn, transport events fed to the core, timers, flush).
// The line client and the full-screen client differ only in how they read input and show events.
//
// Thread affinity: one thread. The frontend polls pollInterest() together with its own input
// descriptors, then calls pump().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "udpchat/client_core.hpp"
#include "udpchat/client_transport.hpp"
#include "udpchat/time.hpp"

namespace udpchat::client {

// Longest time a frontend should block in poll(): bounds the delay of the core's timers and of
// the transport's own work (ENet retransmits only while serviced).
inline constexpr int kPollTimeoutMs = 10;

// Creates the transport named by `name` ("enet"; "tcp" where built). nullptr for an unknown name.
std::unique_ptr<ClientTransport> makeClientTransport(std::string_view name, Millis connectTimeout);

struct ServerAddress {
  std::string host;
  std::uint16_t port = 0;
};

// "a,b:7778,c": servers separated by commas, each with an optional ":port" (else `port`).
// nullopt for an empty entry or a port that is not 1..65535.
std::optional<std::vector<ServerAddress>> parseServerList(std::string_view list,
                                                          std::uint16_t port);

class ClientRunner final : private ClientHost {
 public:
  using EventSink = std::function<void(const ClientEvent&)>;

  // `host`: one server, or several as parseServerList() reads them (servers sharing one chat):
  // a connection that fails or is lost makes the next attempt go to the next one, in turn.
  ClientRunner(std::string host, std::uint16_t port, ClientConfig config,
               std::unique_ptr<ClientTransport> transport, EventSink sink);
  ~ClientRunner() override;
  ClientRunner(const ClientRunner&) = delete;
  ClientRunner& operator=(const ClientRunner&) = delete;

  void start();
  // The transport's descriptor, to poll alongside the frontend's own.
  PollInterest pollInterest() const { return transport_->pollInterest(); }
  // Call after poll() returns (readable or timed out): services the transport without waiting,
  // feeds its events to the core, runs the core's timers, and sends what they queued.
  void pump();

  void input(std::string_view line);
  void typing(std::string_view target, bool isPrivate);
  void quit(std::string reason);

  bool finished() const { return core_.finished(); }
  int exitStatus() const { return core_.exitStatus(); }
  const ClientCore& core() const { return core_; }
  const ClientTransport& transport() const { return *transport_; }
  // The server connected to, or tried next.
  const std::string& host() const { return servers_[current_].host; }
  std::uint16_t port() const { return servers_[current_].port; }
  // The reason of the most recent ConnectionLost, e.g. "no answer within 5 s".
  const std::string& lastLossReason() const { return lastLossReason_; }

  // After the core finished: services the transport until its close completes (or the
  // transport's own deadline passes), so the last frames are not cut off.
  void closeTransport();

 private:
  // ClientHost, called by the core from inside its own calls: nothing here calls back into it.
  void connect() override;
  void send(std::uint8_t channel, protocol::Bytes frame) override;
  void disconnect() override;
  void event(const ClientEvent& event) override;

  void nextServer();

  std::vector<ServerAddress> servers_;
  std::size_t current_ = 0;
  std::unique_ptr<ClientTransport> transport_;
  EventSink sink_;
  ClientCore core_;  // after transport_ and sink_: the core's host calls use them
  std::optional<std::string> connectError_;
  std::string lastLossReason_;
};

}  // namespace udpchat::client
