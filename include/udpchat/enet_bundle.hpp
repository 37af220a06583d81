// Several frames in one ENet packet: how the server's ENet transport coalesces the reliable
// frames it queues to one peer in one loop turn. docs/PROTOCOL.md, "Bundles", is the
// specification.
//
//   +---------+-------------+------------------+---------+------------------+---------+ ...
//   | version | type (0x7F) | length n1 (u16)  | frame 1 | length n2 (u16)  | frame 2 |
//   +---------+-------------+------------------+---------+------------------+---------+
//
// Every reliable frame is acknowledged by ENet on its own, and ENet walks a peer's list of
// unacknowledged commands for every acknowledgement, so a burst of small frames to one peer (a
// room of 500 learning of 50 joins) costs far more in commands than in bytes. A bundle is one
// command. No sockets here: the builder and the splitter are tested byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "udpchat/limits.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/result.hpp"

namespace udpchat::bundle {

// The type byte of a bundle. Not a message type: decode() refuses it as UnknownType, so a frame
// that merely claims to be a bundle cannot reach the cores.
inline constexpr std::uint8_t kBundleType = 0x7F;
inline constexpr std::size_t kHeaderBytes = 2;       // version and type
inline constexpr std::size_t kEntryLengthBytes = 2;  // the u16 before each frame
// The builder keeps a bundle within this many bytes, so that it travels in one UDP datagram
// under ENet's default MTU (1400 bytes, less ENet's own headers) instead of as fragments. A
// frame too large to share that room travels in a packet of its own, unbundled.
inline constexpr std::size_t kTargetBytes = 1200;
// A receiver accepts bundles up to the packet limit.
inline constexpr std::size_t kMaxBytes = kMaxFrameBytes;

enum class SplitError : std::uint8_t {
  NotABundle,  // fewer than two bytes, a version other than 1, or a type other than 0x7F
  Empty,       // a header and nothing after it
  Truncated,   // a length runs past the end of the packet (or only one of its bytes is there)
  BadLength,   // a frame of length 0, or over kMaxFrameBytes
  Nested,      // a frame inside a bundle is itself a bundle
  TooLarge,    // the packet is longer than kMaxBytes
};

std::string_view toString(SplitError error);

// True when `packet` starts with a bundle's header (it may still be malformed).
bool isBundle(protocol::ByteSpan packet);

// The frames of a bundle, pointing into `packet`, in order. Every frame is checked before any is
// returned, so a malformed bundle yields nothing.
Result<std::vector<protocol::ByteSpan>, SplitError> split(protocol::ByteSpan packet);

// The packets that carry `frames` in order: consecutive frames are packed into bundles of at most
// kTargetBytes; a lone frame, and a frame that cannot share a bundle, is its own packet, as is.
// `emit` is called once per packet with its bytes (valid during the call only). Precondition:
// every frame is 1..kMaxFrameBytes bytes.
template <class Emit>
void pack(std::span<const protocol::ByteSpan> frames, Emit&& emit);

// The bytes a bundle of these frames takes: header and a length per frame.
constexpr std::size_t bundledSize(std::size_t frameBytes, std::size_t frameCount) {
  return kHeaderBytes + frameBytes + frameCount * kEntryLengthBytes;
}

namespace detail {
void appendHeader(protocol::Bytes& out);
void appendEntry(protocol::Bytes& out, protocol::ByteSpan frame);
}  // namespace detail

template <class Emit>
void pack(std::span<const protocol::ByteSpan> frames, Emit&& emit) {
  protocol::Bytes bundle;
  std::size_t i = 0;
  while (i < frames.size()) {
    // The run of frames from i that fits in one bundle.
    std::size_t end = i;
    std::size_t size = kHeaderBytes;
    while (end < frames.size() && size + kEntryLengthBytes + frames[end].size() <= kTargetBytes) {
      size += kEntryLengthBytes + frames[end].size();
      ++end;
    }
    if (end - i <= 1) {
      // One frame (or one too large for a bundle): it goes as it is.
      emit(frames[i]);
      ++i;
      continue;
    }
    bundle.clear();
    bundle.reserve(size);
    detail::appendHeader(bundle);
    for (; i < end; ++i) detail::appendEntry(bundle, frames[i]);
    emit(protocol::ByteSpan(bundle));
  }
}

}  // namespace udpchat::bundle
