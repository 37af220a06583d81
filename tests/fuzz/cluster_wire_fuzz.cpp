// What servers of one chat send each other (docs/PROTOCOL.md section 13): the first byte picks
// the layout (log entry, user record, setting, signal), the rest is decoded; whatever decodes re-encodes
// to the same bytes (the layouts are canonical) and decodes again to the same encoding.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "udpchat/cluster.hpp"
#include "udpchat/limits.hpp"

namespace {

template <class Decode>
void roundTrip(udpchat::protocol::ByteSpan in, Decode decode) {
  auto decoded = decode(in);
  if (!decoded) return;
  UDPCHAT_FUZZ_CHECK(in.size() <= udpchat::kMaxFrameBytes);
  const udpchat::protocol::Bytes again = udpchat::cluster::encode(decoded.value());
  UDPCHAT_FUZZ_CHECK(again.size() == in.size() && std::equal(again.begin(), again.end(), in.begin()));
  auto twice = decode(again);
  UDPCHAT_FUZZ_CHECK(twice.ok() && udpchat::cluster::encode(twice.value()) == again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace udpchat;
  if (size == 0) return 0;
  const protocol::ByteSpan in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: roundTrip(in, cluster::decodeLogEntry); break;
    case 1: roundTrip(in, cluster::decodeUserRecord); break;
    case 2: roundTrip(in, cluster::decodeSetting); break;
    default: roundTrip(in, cluster::decodeSignal); break;
  }
  return 0;
}
