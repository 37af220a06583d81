// Records on a TCP byte stream: how frames (the same frames ENet carries as packets) are cut
// out of the stream and written to it. docs/PROTOCOL.md, "TCP framing", is the specification.
//
//   +-----------------+---------+--------------------------+
//   | length (u16 BE) | channel | frame: length - 1 bytes  |
//   +-----------------+---------+--------------------------+
//
// `length` counts the channel byte and the frame: 1 .. kMaxRecordLength. No sockets here, so the
// framer is tested byte for byte without a connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "udpchat/limits.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/result.hpp"

namespace udpchat::tcp {

inline constexpr std::size_t kLengthBytes = 2;        // bytes: the u16 length
inline constexpr std::size_t kRecordHeaderBytes = 3;  // bytes: length and channel
// Largest value of the length field: the channel byte and the largest frame.
inline constexpr std::size_t kMaxRecordLength = kMaxFrameBytes + 1;
static_assert(kMaxRecordLength <= 0xFFFF, "the length field is a u16");

enum class FramingError {
  ZeroLength,  // length 0: a record always holds its channel byte
  TooLong,     // length above kMaxRecordLength
  BadChannel,  // channel byte >= the reader's channel count (2, or 5 with the lab's channels)
};

std::string_view toString(FramingError error);

using RecordHeader = std::array<std::byte, kRecordHeaderBytes>;

// The header of a record carrying `frameBytes` bytes on `channel`.
// Precondition: frameBytes <= kMaxFrameBytes.
RecordHeader recordHeader(std::uint8_t channel, std::size_t frameBytes);

// Appends one whole record (header and frame) to `out`. Precondition: frame.size() <=
// kMaxFrameBytes.
void appendRecord(protocol::Bytes& out, std::uint8_t channel, protocol::ByteSpan frame);

// Cuts records out of a byte stream that arrives in pieces of any size. A record that arrives
// whole inside one piece is returned without copying; only an incomplete record's bytes are
// kept, so the reader never holds more than one record (kRecordHeaderBytes - 1 +
// kMaxRecordLength bytes). A bad header is reported as soon as its two length bytes (or the
// channel byte) are in, without waiting for the body.
class RecordReader {
 public:
  struct Record {
    std::uint8_t channel = 0;
    // Points into the piece passed to next() or into the reader; valid until the next call.
    protocol::ByteSpan frame;
  };
  // A record, or nullopt when `input` is used up (its tail kept for the next piece).
  using Next = Result<std::optional<Record>, FramingError>;

  // Channel bytes 0 .. channelCount-1 are accepted: kChannelCount on a chat server's
  // connections, kLabChannelCount where the lab's channels are in use (the lab's server and
  // clients). Precondition: 1 <= channelCount <= kLabChannelCount.
  explicit RecordReader(std::size_t channelCount = kChannelCount) : channelCount_(channelCount) {}

  // Takes bytes from the front of `input` (advancing it) and returns the next complete record.
  // After an error the stream cannot be resynchronised: every later call returns the same error.
  Next next(protocol::ByteSpan& input);

  // Bytes of an incomplete record held, waiting for the rest.
  std::size_t buffered() const { return partialDelivered_ ? 0 : partial_.size(); }

 private:
  // Checks a header whose first `have` bytes (2 or 3) are in `header`.
  std::optional<FramingError> check(const std::byte* header, std::size_t have) const;

  std::size_t channelCount_;
  protocol::Bytes partial_;
  bool partialDelivered_ = false;  // partial_ held the record returned last; clear it first
  std::optional<FramingError> failed_;
};

}  // namespace udpchat::tcp
