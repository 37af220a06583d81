#include "unit/server_fixture.hpp"

namespace udpchat::testing {

void RecordingOutbox::send(std::span<const SessionId> to, std::uint8_t channel,
                           const SharedFrame& frame) {
  ++sendCalls;
  keep.push_back(frame);
  auto decoded = protocol::decode(*frame);
  EXPECT_TRUE(decoded.ok()) << "the server sent a frame it cannot decode itself";
  if (!decoded) return;
  const bool labChat = channel >= kChannelBulk && channel < kLabChannelCount &&
                       std::holds_alternative<protocol::ChatEvent>(*decoded);
  if (!labChat) {
    EXPECT_EQ(channel, protocol::channelOf(protocol::typeOf(*decoded)))
        << "message sent on the wrong channel";
  }
  for (SessionId id : to) inbox[id].push_back(Delivery{channel, *decoded, frame.get()});
}

ServerHarness::ServerHarness(ServerConfig config, Store* store, cluster::Bus* bus)
    : core(std::move(config), outbox, store, bus) {}

void ServerHarness::advance(Millis ms) {
  now.mono += ms;
  now.wall += ms;
}

SessionId ServerHarness::connect() {
  const SessionId id = nextSession_++;
  core.connected(id, now);
  if (endEachTurn) core.endTurn(now);
  return id;
}

SessionId ServerHarness::connectFrom(std::uint32_t ipv4) {
  const SessionId id = nextSession_++;
  core.connected(id, now, ipv4);
  if (endEachTurn) core.endTurn(now);
  return id;
}

SessionId ServerHarness::registerUser(const std::string& nick, std::vector<std::string> rooms) {
  const SessionId id = connect();
  send(id, protocol::Hello{nick, 0, std::move(rooms), "test"});
  auto& queue = outbox.inbox[id];
  const auto welcomes = std::erase_if(
      queue, [](const Delivery& d) { return std::holds_alternative<protocol::Welcome>(d.message); });
  EXPECT_EQ(welcomes, 1u) << "no Welcome for " << nick;
  return id;
}

void ServerHarness::sendFrame(SessionId from, std::uint8_t channel, const protocol::Bytes& frame) {
  core.received(from, channel, frame, now);
  if (endEachTurn) core.endTurn(now);
}

void ServerHarness::disconnect(SessionId session) {
  core.disconnected(session, now);
  if (endEachTurn) core.endTurn(now);
}

std::vector<Delivery> ServerHarness::drain(SessionId session) {
  auto& queue = outbox.inbox[session];
  std::vector<Delivery> out(queue.begin(), queue.end());
  queue.clear();
  return out;
}

void ServerHarness::clearAll() { outbox.inbox.clear(); }

}  // namespace udpchat::testing
