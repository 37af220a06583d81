#include "udpchat/enet_bundle.hpp"

namespace udpchat::bundle {
namespace {

std::size_t readU16(protocol::ByteSpan bytes, std::size_t at) {
  return (static_cast<std::size_t>(bytes[at]) << 8) | static_cast<std::size_t>(bytes[at + 1]);
}

}  // namespace

std::string_view toString(SplitError error) {
  switch (error) {
    case SplitError::NotABundle:
      return "not a bundle";
    case SplitError::Empty:
      return "bundle holds no frame";
    case SplitError::Truncated:
      return "bundle ends inside a frame";
    case SplitError::BadLength:
      return "bundled frame of length 0 or over the frame limit";
    case SplitError::Nested:
      return "bundle inside a bundle";
    case SplitError::TooLarge:
      return "bundle longer than the packet limit";
  }
  return "unknown bundle error";
}

bool isBundle(protocol::ByteSpan packet) {
  return packet.size() >= kHeaderBytes &&
         static_cast<std::uint8_t>(packet[0]) == kProtocolVersion &&
         static_cast<std::uint8_t>(packet[1]) == kBundleType;
}

Result<std::vector<protocol::ByteSpan>, SplitError> split(protocol::ByteSpan packet) {
  if (!isBundle(packet)) return fail(SplitError::NotABundle);
  if (packet.size() > kMaxBytes) return fail(SplitError::TooLarge);
  std::vector<protocol::ByteSpan> frames;
  std::size_t at = kHeaderBytes;
  while (at < packet.size()) {
    if (packet.size() - at < kEntryLengthBytes) return fail(SplitError::Truncated);
    const std::size_t length = readU16(packet, at);
    at += kEntryLengthBytes;
    if (length == 0 || length > kMaxFrameBytes) return fail(SplitError::BadLength);
    if (packet.size() - at < length) return fail(SplitError::Truncated);
    const protocol::ByteSpan frame = packet.subspan(at, length);
    if (isBundle(frame)) return fail(SplitError::Nested);
    frames.push_back(frame);
    at += length;
  }
  if (frames.empty()) return fail(SplitError::Empty);
  return frames;
}

namespace detail {

void appendHeader(protocol::Bytes& out) {
  out.push_back(static_cast<std::byte>(kProtocolVersion));
  out.push_back(static_cast<std::byte>(kBundleType));
}

void appendEntry(protocol::Bytes& out, protocol::ByteSpan frame) {
  out.push_back(static_cast<std::byte>((frame.size() >> 8) & 0xFF));
  out.push_back(static_cast<std::byte>(frame.size() & 0xFF));
  out.insert(out.end(), frame.begin(), frame.end());
}

}  // namespace detail
}  // namespace udpchat::bundle
