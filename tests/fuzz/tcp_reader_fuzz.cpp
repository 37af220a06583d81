// The TCP record reader fed one stream in arbitrary pieces: the records and the error (if any)
// are the same as when the whole stream arrives at once, and no record breaks the limits.
// Input: one byte for the channel count, one seeding the piece sizes, then the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/tcp_framing.hpp"

namespace {

using namespace udpchat;

struct Outcome {
  std::vector<std::pair<std::uint8_t, protocol::Bytes>> records;
  std::optional<tcp::FramingError> error;
  bool operator==(const Outcome&) const = default;
};

void drain(tcp::RecordReader& reader, protocol::ByteSpan piece, Outcome& out) {
  while (!out.error) {
    auto next = reader.next(piece);
    if (!next) {
      out.error = next.error();
      return;
    }
    if (!next.value()) return;
    const auto& r = *next.value();
    out.records.emplace_back(r.channel, protocol::Bytes(r.frame.begin(), r.frame.end()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t channels = data[0] % 2 == 0 ? kChannelCount : kLabChannelCount;
  std::uint32_t seed = data[1] | 1u;
  const protocol::ByteSpan stream(reinterpret_cast<const std::byte*>(data + 2), size - 2);

  Outcome whole;
  tcp::RecordReader one(channels);
  drain(one, stream, whole);

  Outcome pieces;
  tcp::RecordReader many(channels);
  std::size_t at = 0;
  while (at < stream.size() && !pieces.error) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t n = std::min<std::size_t>(1 + (seed >> 16) % 17, stream.size() - at);
    drain(many, stream.subspan(at, n), pieces);
    at += n;
  }
  UDPCHAT_FUZZ_CHECK(whole == pieces);
  for (const auto& [channel, frame] : whole.records) {
    UDPCHAT_FUZZ_CHECK(channel < channels);
    // A length of 1 carries an empty frame (PROTOCOL.md 1.1), refused later by the decoder.
    UDPCHAT_FUZZ_CHECK(frame.size() <= kMaxFrameBytes);
  }
  return 0;
}
