// One simulated chat user: its own transport (its own ENet host and UDP socket, or its own TCP
// connection), driven by a bench worker thread. Three kinds:
//  - ProtocolSimClient ("proto", the default): speaks the protocol itself, as a client written
//    from docs/PROTOCOL.md would: Hello with its nickname and room, waits for its own JoinEvent,
//    answers the Welcome's ping interval with PresencePings (echoing the last pong, so the
//    server measures RTT), sends SendChat, decodes every ChatEvent. No user-interface state, so
//    its cost per delivery is what the reference's client pays: the comparison then measures
//    the servers, not the clients.
//  - CoreSimClient ("core"): the whole client stack of udpchat-client (ClientRunner = ClientCore
//    over a ClientTransport), lines typed as a person types them. Heavier per delivery (typing
//    state, events for a user interface); proves the real client holds up under the load.
//  - RawSimClient: for the reference server, which speaks no chat protocol: connects, sends a
//    SendChat frame per message, and decodes the frames echoed back.
//
// Thread affinity: created on any thread, then used by one worker thread only. Callbacks to the
// ClientObserver happen on that thread, from inside pump() or sendChat().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bench_clock.hpp"
#include "udpchat/client_transport.hpp"
#include "udpchat/protocol.hpp"

namespace udpchat::bench {

class SimClient;

// Where a client sits in the load: its room and its number among the room's members.
struct ClientIdentity {
  std::size_t index = 0;     // 0..clients-1
  std::size_t room = 0;      // 0..rooms-1
  std::uint32_t member = 0;  // 0..(members of the room)-1
  std::string nick;
  std::string roomName;
};

class ClientObserver {
 public:
  virtual ~ClientObserver() = default;
  // Registered and in its room (chat), or connected (reference). Once per client.
  virtual void clientIn(SimClient& client, Nanos now) = 0;
  // Could not connect or was refused (`wasIn` false), or lost its connection after getting in
  // (`wasIn` true). Once per client, never after it quit.
  virtual void clientFailed(SimClient& client, std::string_view reason, bool wasIn, Nanos now) = 0;
  // A chat message reached this client; `text` as sent.
  virtual void delivered(SimClient& client, std::string_view text, Nanos now) = 0;
  // The server answered one of this client's requests with an error.
  virtual void serverError(SimClient& client, std::string_view code) = 0;
};

class SimClient {
 public:
  enum class Status { New, Connecting, In, Failed, Quit };

  SimClient(ClientIdentity identity, ClientObserver& observer)
      : identity_(std::move(identity)), observer_(observer) {}
  virtual ~SimClient() = default;
  SimClient(const SimClient&) = delete;
  SimClient& operator=(const SimClient&) = delete;

  // Starts connecting (and, for chat, registering).
  virtual void start() = 0;
  // What the worker should wait for. Valid until the next call of any other member.
  virtual PollInterest pollInterest() const = 0;
  // Services the transport without waiting, feeds what arrived, runs timers, sends what they
  // queued.
  virtual void pump() = 0;
  // Sends one chat message to the client's room now. False when it could not be queued.
  virtual bool sendChat(std::string_view text) = 0;
  // Leaves politely (chat: QuitRequest; reference: disconnect).
  virtual void quit() = 0;
  // Nothing left to do: quit confirmed, or failed.
  virtual bool finished() const = 0;

  const ClientIdentity& identity() const { return identity_; }
  Status status() const { return status_; }

  // The worker's bookkeeping.
  PollInterest registeredInterest{};  // what epoll holds for this client
  bool forceRegister = true;          // re-add to epoll at the next chance (new connection)
  Nanos startedAt = 0;
  Nanos lastPump = 0;

 protected:
  void markConnecting() { status_ = Status::Connecting; }
  void markIn(Nanos now);
  void markFailed(std::string_view reason, Nanos now);
  void markQuit() { status_ = Status::Quit; }
  ClientObserver& observer() { return observer_; }

 private:
  ClientIdentity identity_;
  ClientObserver& observer_;
  Status status_ = Status::New;
};

// A client speaking the protocol itself. `transport` is fresh (not connected).
std::unique_ptr<SimClient> makeProtocolSimClient(ClientIdentity identity, ClientObserver& observer,
                                                 std::string host, std::uint16_t port,
                                                 std::unique_ptr<ClientTransport> transport);
// The chat client stack of udpchat-client. `transport` is fresh (not connected).
std::unique_ptr<SimClient> makeCoreSimClient(ClientIdentity identity, ClientObserver& observer,
                                             std::string host, std::uint16_t port,
                                             std::unique_ptr<ClientTransport> transport);
// A bare transport speaking to the reference server. Each text it sends is followed by
// `padBytes` bytes of padding, so the frame the reference echoes can be made as long as the
// ChatEvent the chat server delivers for the same text.
std::unique_ptr<SimClient> makeRawSimClient(ClientIdentity identity, ClientObserver& observer,
                                            std::string host, std::uint16_t port,
                                            std::unique_ptr<ClientTransport> transport,
                                            std::size_t padBytes);

// The frame bytes the chat server delivers for a text of `textBytes` sent by `nick` to `room`
// (a ChatEvent), and what a SendChat with the same text takes: the reference's clients pad by
// the difference.
std::size_t chatEventBytes(const std::string& room, const std::string& nick, std::size_t textBytes);
std::size_t sendChatBytes(const std::string& room, std::size_t textBytes);

}  // namespace udpchat::bench
