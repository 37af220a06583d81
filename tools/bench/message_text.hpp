// The bench's chat texts carry their own sequence number, so a receiver knows which message it
// got without any side channel: "<seq> xxxx...", padded to the configured length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace udpchat::bench {

// The text of message `seq`: its decimal number, a space, then 'x' up to `bytes` bytes (longer
// than `bytes` only when the number itself does not fit).
std::string messageText(std::uint64_t seq, std::size_t bytes);

// The sequence number at the start of a message text; nullopt if the text does not start with
// digits followed by a space or the end.
std::optional<std::uint64_t> parseMessageSeq(std::string_view text);

}  // namespace udpchat::bench
