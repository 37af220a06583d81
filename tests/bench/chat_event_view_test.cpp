// viewChatEvent against the protocol's own encoder: the same fields, and nothing for any frame
// the full decoder would refuse for its shape.
#include "chat_event_view.hpp"

#include <gtest/gtest.h>

#include <string>

#include "udpchat/limits.hpp"
#include "udpchat/protocol.hpp"

namespace udpchat::bench {
namespace {

protocol::ChatEvent sample() {
  protocol::ChatEvent e;
  e.id = 0x0102030405060708ull;
  e.ts = 1'700'000'000'000ull;
  e.room = "lobby";
  e.from = "alice";
  e.subject = "re: lunch";
  e.text = "42 xxxxxxxx";
  e.flags = protocol::kFlagHistory;
  return e;
}

TEST(ChatEventView, ReadsTheRoomTextAndFlagsTheEncoderWrote) {
  const protocol::Bytes frame = protocol::encode(sample());
  const auto view = viewChatEvent(frame);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->room, "lobby");
  EXPECT_EQ(view->text, "42 xxxxxxxx");
  EXPECT_EQ(view->flags, protocol::kFlagHistory);
}

TEST(ChatEventView, EmptyFieldsAndTheLongestTextAreRead) {
  protocol::ChatEvent e = sample();
  e.subject.clear();
  e.flags = 0;
  e.text = std::string(kMaxTextBytes, 'x');
  const protocol::Bytes frame = protocol::encode(e);
  const auto view = viewChatEvent(frame);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->text.size(), kMaxTextBytes);
  EXPECT_EQ(view->flags, 0);
}

TEST(ChatEventView, EveryTruncationIsRefused) {
  const protocol::Bytes frame = protocol::encode(sample());
  for (std::size_t n = 0; n < frame.size(); ++n) {
    EXPECT_FALSE(viewChatEvent(protocol::ByteSpan(frame.data(), n)).has_value()) << n;
  }
}

TEST(ChatEventView, TrailingBytesAWrongVersionAndOtherTypesAreRefused) {
  protocol::Bytes frame = protocol::encode(sample());
  protocol::Bytes longer = frame;
  longer.push_back(std::byte{0});
  EXPECT_FALSE(viewChatEvent(longer).has_value());
  protocol::Bytes version = frame;
  version[0] = std::byte{kProtocolVersion + 1};
  EXPECT_FALSE(viewChatEvent(version).has_value());
  protocol::JoinEvent join;
  join.room = "lobby";
  join.nick = "bob";
  EXPECT_FALSE(viewChatEvent(protocol::encode(join)).has_value());
}

TEST(ChatEventView, AFieldOverItsLimitIsRefusedAsTheDecoderRefusesIt) {
  protocol::ChatEvent e = sample();
  e.room = std::string(kMaxRoomBytes, 'r');
  protocol::Bytes frame = protocol::encode(e);
  ASSERT_TRUE(viewChatEvent(frame).has_value());
  // One byte more in the room (the encoder refuses to write it): its length prefix sits after
  // version, type, id and ts, 18 bytes in.
  frame.insert(frame.begin() + 20, std::byte{'r'});
  frame[19] = std::byte{kMaxRoomBytes + 1};
  EXPECT_FALSE(protocol::decode(frame).ok());
  EXPECT_FALSE(viewChatEvent(frame).has_value());
}

}  // namespace
}  // namespace udpchat::bench
