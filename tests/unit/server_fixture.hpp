// A server core driven by hand: a recording outbox, a hand-set clock, and helpers to connect,
// register and read what each session was sent.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "udpchat/outbox.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/server_core.hpp"

namespace udpchat::testing {

struct Delivery {
  std::uint8_t channel = 0;
  protocol::Message message;
  const protocol::Bytes* frame = nullptr;  // identity of the shared frame
};

class RecordingOutbox final : public Outbox {
 public:
  void send(std::span<const SessionId> to, std::uint8_t channel, const SharedFrame& frame) override;
  void close(SessionId session) override { closed.push_back(session); }

  std::map<SessionId, std::deque<Delivery>> inbox;
  std::vector<SessionId> closed;
  std::vector<SharedFrame> keep;  // keeps frames alive so identities stay unique
  std::size_t sendCalls = 0;
};

// Two LAN addresses for the per-address rules (host byte order).
inline constexpr std::uint32_t kHostA = 0xC6120002;  // 198.18.0.2
inline constexpr std::uint32_t kHostB = 0xC6120003;  // 198.18.0.3

// A configuration whose operator password is "sesame".
inline ServerConfig withOper() {
  ServerConfig c;
  c.operPassword = "sesame";
  return c;
}

class ServerHarness {
 public:
  explicit ServerHarness(ServerConfig config = {}, Store* store = nullptr,
                         cluster::Bus* bus = nullptr);

  void advance(Millis ms);
  SessionId connect();
  // A connection from an IPv4 address (host byte order), for the per-address limits.
  SessionId connectFrom(std::uint32_t ipv4);
  // connect + Hello; expects a Welcome and removes it, keeping what followed it.
  SessionId registerUser(const std::string& nick, std::vector<std::string> rooms = {});
  void sendFrame(SessionId from, std::uint8_t channel, const protocol::Bytes& frame);
  template <class T>
  void send(SessionId from, const T& message) {
    sendFrame(from, protocol::channelOf(T::kType), protocol::encode(message));
  }
  void disconnect(SessionId session);

  // Everything the session was sent since the last drain, oldest first.
  std::vector<Delivery> drain(SessionId session);
  // The messages of type T among what the session was sent, removing everything.
  template <class T>
  std::vector<T> take(SessionId session) {
    std::vector<T> out;
    for (auto& d : drain(session)) {
      if (auto* m = std::get_if<T>(&d.message)) out.push_back(*m);
    }
    return out;
  }
  // Exactly one message of type T must be there (among others); returns it.
  template <class T>
  T only(SessionId session) {
    auto all = take<T>(session);
    EXPECT_EQ(all.size(), 1u) << "expected exactly one message of the requested type";
    return all.empty() ? T{} : all.front();
  }
  void clearAll();

  // Each connect, frame and disconnect is a turn of its own (endTurn follows it) unless off.
  bool endEachTurn = true;
  Now now{1'000'000, 1'700'000'000'000};
  RecordingOutbox outbox;
  ServerCore core;

 private:
  SessionId nextSession_ = 1;
};

}  // namespace udpchat::testing
