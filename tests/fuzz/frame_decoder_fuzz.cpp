// The frame decoder: whatever decodes is re-encoded to exactly the same bytes (the encoding is
// canonical), decodes again to the same message, and is never over a frame's size.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace udpchat;
  const protocol::ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  auto decoded = protocol::decode(in);
  if (!decoded) return 0;
  UDPCHAT_FUZZ_CHECK(size <= kMaxFrameBytes);
  const protocol::Bytes again = protocol::encode(*decoded);
  UDPCHAT_FUZZ_CHECK(again.size() == size && std::equal(again.begin(), again.end(), in.begin()));
  auto twice = protocol::decode(again);
  UDPCHAT_FUZZ_CHECK(twice && *twice == *decoded);
  return 0;
}
