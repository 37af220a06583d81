#include "rebroadcast_handler.hpp"

#include <gtest/gtest.h>

#include <variant>
#include <vector>

#include "udpchat/limits.hpp"
#include "udpchat/protocol.hpp"

namespace udpchat::bench {
namespace {

struct RecordingOutbox final : Outbox {
  struct Sent {
    std::vector<SessionId> to;
    std::uint8_t channel;
    SharedFrame frame;
  };
  void send(std::span<const SessionId> to, std::uint8_t channel,
            const SharedFrame& frame) override {
    sent.push_back({{to.begin(), to.end()}, channel, frame});
  }
  void close(SessionId session) override { closed.push_back(session); }
  std::vector<Sent> sent;
  std::vector<SessionId> closed;
};

protocol::Bytes bytes(std::initializer_list<int> values) {
  protocol::Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

TEST(RebroadcastHandler, ANewSessionIsToldItIsOnTheListWithAWelcome) {
  RecordingOutbox outbox;
  RebroadcastHandler handler(outbox);
  handler.connected(7, {});
  ASSERT_EQ(outbox.sent.size(), 1u);
  EXPECT_EQ(outbox.sent[0].to, (std::vector<SessionId>{7}));
  EXPECT_EQ(outbox.sent[0].channel, kChannelReliable);
  const auto decoded = protocol::decode(*outbox.sent[0].frame);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(std::holds_alternative<protocol::Welcome>(decoded.value()));
}

TEST(RebroadcastHandler, EveryFrameGoesToEverySessionSenderIncludedInOneSend) {
  RecordingOutbox outbox;
  RebroadcastHandler handler(outbox);
  for (SessionId s : {1u, 2u, 3u}) handler.connected(s, {});
  outbox.sent.clear();  // the Welcomes
  const auto frame = bytes({1, 2, 0xff});
  handler.received(2, 0, frame, {});
  ASSERT_EQ(outbox.sent.size(), 1u);
  EXPECT_EQ(outbox.sent[0].to, (std::vector<SessionId>{1, 2, 3}));
  EXPECT_EQ(outbox.sent[0].channel, 0);
  EXPECT_EQ(*outbox.sent[0].frame, frame);
  EXPECT_EQ(handler.framesRebroadcast(), 1u);
}

TEST(RebroadcastHandler, KeepsTheChannelAndForgetsDisconnectedSessions) {
  RecordingOutbox outbox;
  RebroadcastHandler handler(outbox);
  handler.connected(1, {});
  handler.connected(2, {});
  handler.disconnected(1, {});
  outbox.sent.clear();  // the Welcomes
  handler.received(2, 1, bytes({9}), {});
  ASSERT_EQ(outbox.sent.size(), 1u);
  EXPECT_EQ(outbox.sent[0].to, (std::vector<SessionId>{2}));
  EXPECT_EQ(outbox.sent[0].channel, 1);
  EXPECT_TRUE(outbox.closed.empty());
  EXPECT_EQ(handler.sessions(), 1u);
}

}  // namespace
}  // namespace udpchat::bench
