// The chat client's state machine: registration, rooms, reconnect with backoff, presence pings,
// typing indicators, pacing under the server's rate limit. No sockets and no clock.
// Thread affinity: one thread calls everything.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "udpchat/protocol.hpp"
#include "udpchat/time.hpp"

namespace udpchat {

struct ClientConfig {
  std::string nick;                 // empty: the server picks one (user1, user2, ...)
  // The password of a registered `nick`: the client registers under a name the server picks
  // and then proves `nick` with it (IdentifyRequest). Empty: `nick` is used as it is.
  std::string password;
  std::vector<std::string> rooms;   // rooms to start in; empty: lobby
  std::string clientName = "udpchat-client";
  Millis pingInterval = 1000;       // presence pings; the server's Welcome may override
  Millis typingRefresh = 3000;      // at most one typing notice per target this often
  Millis typingExpiry = 6000;       // others' typing indicators expire this long after refresh
  Millis reconnectInitial = 500;    // first retry delay; doubles per attempt
  Millis reconnectMax = 30000;      // backoff ceiling
  int maxReconnects = -1;           // -1: keep trying
  Millis quitTimeout = 3000;        // how long a quit waits for the server to confirm
  // Client ids are this plus a counter. Frontends pass a random value, so that two runs of
  // the same person's client never reuse an id; tests pass a fixed one.
  std::uint64_t clientIdSeed = 0;
};

// A chat or private message that left the client and is not confirmed yet. It is kept until
// its echo (the ChatEvent or PrivateEvent carrying its client id) or an error naming it
// arrives, and sent again with the same id after a reconnect.
struct OutgoingMessage {
  protocol::ClientId clientId = 0;
  std::string target;  // canonical room, or the recipient's nick
  bool isPrivate = false;
  std::string subject;
  std::string text;
  bool action = false;
  bool operator==(const OutgoingMessage&) const = default;
};

enum class ConnectionState {
  Idle,          // before start()
  Connecting,    // transport connecting (first time or after a drop)
  Registering,   // connected, Hello sent, no Welcome yet
  Registered,    // chatting
  WaitingRetry,  // dropped; next attempt scheduled
  Closing,       // quit sent, waiting for the transport to close
  Finished,      // done; see exitStatus()
};

std::string_view toString(ConnectionState state);

// Events that happen in the client rather than arrive on the wire.
namespace client_event {
// The server accepted our Hello (first connection, or a reconnect). `room` is where plain lines
// go from now on: the first room asked for, or after a reconnect the room we were in; the
// Welcome frame itself names no room because the joins follow it.
struct Welcome { protocol::Welcome server; std::string room; bool reconnected = false; };
struct Connected {};  // transport connected, Hello sent; emitted on every connection
struct ConnectionLost { std::string reason; };
struct Reconnecting { Millis delay = 0; int attempt = 0; };
struct LocalError { std::string code; std::string message; };  // e.g. code "usage"
struct Info { std::string text; };
struct WhoList { std::string room; std::vector<protocol::WhoEntry> users; };
struct Typing { std::string nick; std::string target; bool isPrivate = false; bool active = false; };
struct Finished { int exitStatus = 0; std::string reason; };
// A message left for the server; show it as unconfirmed until its echo or an error with the
// same client id arrives.
struct Sending { OutgoingMessage message; };
// The connection ended with these messages unconfirmed. willResend: they go again, with the
// same ids, once the client is registered again; false: the client is finishing, and they may
// not have arrived.
struct Unconfirmed { std::vector<OutgoingMessage> messages; bool willResend = true; };
}  // namespace client_event

using ClientEvent =
    std::variant<client_event::Welcome, protocol::ErrorReply, protocol::ChatEvent,
                 protocol::PrivateEvent, protocol::JoinEvent, protocol::PartEvent,
                 protocol::QuitEvent, protocol::NickEvent, protocol::TopicEvent,
                 protocol::DeletedEvent, protocol::KickEvent, protocol::WhoisReply,
                 protocol::PresenceEvent, protocol::AwayReply, protocol::NoticeEvent,
                 protocol::HistoryEnd, protocol::BanListReply,
                 client_event::WhoList, client_event::Typing, client_event::Connected,
                 client_event::ConnectionLost, client_event::Reconnecting,
                 client_event::LocalError, client_event::Info, client_event::Finished,
                 client_event::Sending, client_event::Unconfirmed>;

// Implemented by the frontend glue over a transport. Called on the core's thread.
class ClientHost {
 public:
  virtual ~ClientHost() = default;
  // Start connecting; answer later with connected() or connectFailed(). Never call back into
  // the core from inside connect(): even a failure known at once (a host name that does not
  // resolve) is reported on the next turn of the frontend's loop.
  virtual void connect() = 0;
  virtual void send(std::uint8_t channel, protocol::Bytes frame) = 0;
  // Close gracefully: frames already passed to send() are delivered first.
  virtual void disconnect() = 0;
  virtual void event(const ClientEvent& event) = 0;
};

// Exit statuses a frontend returns (documented in README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitCannotConnect = 2;
inline constexpr int kExitKicked = 3;
inline constexpr int kExitGaveUp = 4;   // reconnect attempts exhausted
inline constexpr int kExitRefused = 5;  // the server refused us for good (full, bad version)

class ClientCore {
 public:
  ClientCore(ClientConfig config, ClientHost& host);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  void start(Now now);
  void connected(Now now);
  void connectFailed(std::string reason, Now now);
  void disconnected(std::string reason, Now now);
  void received(std::uint8_t channel, protocol::ByteSpan frame, Now now);
  // A line the person typed. Lines typed before registration are kept and sent after it.
  void input(std::string_view line, Now now);
  // The person pressed a key in the window for `target` (room, or nick when isPrivate).
  void typing(std::string_view target, bool isPrivate, Now now);
  // Leave: pending lines are sent first, then QuitRequest, then the connection is closed.
  void quit(std::string reason, Now now);
  // Timers. Call at least every 100 ms.
  void tick(Now now);

  ConnectionState state() const;
  bool finished() const;
  int exitStatus() const;
  const std::string& nick() const;
  const std::vector<std::string>& rooms() const;  // joined rooms, canonical names
  const std::string& currentRoom() const;         // where plain lines go
  Millis rttMs() const;                           // smoothed, from pongs; 0 until measured
  std::size_t unconfirmedCount() const;           // messages sent and not confirmed yet
  // Users typing in `target` right now.
  std::vector<std::string> typingIn(std::string_view target, bool isPrivate) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace udpchat
