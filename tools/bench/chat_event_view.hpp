// The fields a simulated client needs from a ChatEvent, read in place: no copies, no UTF-8
// check. The bench receives hundreds of thousands of ChatEvents a second on the same two cores as
// the server under test, and a full protocol::decode (a string allocated and validated per field)
// was the largest user-space cost of its receive path. The server's output is checked by the
// protocol and integration tests; the bench only counts and times it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "udpchat/protocol.hpp"

namespace udpchat::bench {

struct ChatEventView {
  std::string_view room;
  std::string_view text;
  std::uint8_t flags = 0;
};

// The frame's room, text and flags if it is a well-formed ChatEvent of this protocol version
// (every field present, within its limit, nothing after the flags); nullopt otherwise, including
// for every other message type.
std::optional<ChatEventView> viewChatEvent(protocol::ByteSpan frame);

}  // namespace udpchat::bench
