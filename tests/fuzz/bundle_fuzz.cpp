// The bundle decoder: what splits gives frames within the limits, and packing those frames
// again and splitting the packets gives back the same frames in the same order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.hpp"
#include "udpchat/enet_bundle.hpp"
#include "udpchat/limits.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace udpchat;
  const protocol::ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  auto frames = bundle::split(in);
  if (!frames) return 0;
  UDPCHAT_FUZZ_CHECK(bundle::isBundle(in));
  UDPCHAT_FUZZ_CHECK(!frames->empty());
  for (const auto& f : *frames) {
    UDPCHAT_FUZZ_CHECK(!f.empty() && f.size() <= kMaxFrameBytes);
    UDPCHAT_FUZZ_CHECK(!bundle::isBundle(f));
  }
  std::vector<protocol::Bytes> packets;
  bundle::pack(std::span<const protocol::ByteSpan>(*frames),
               [&](protocol::ByteSpan p) { packets.emplace_back(p.begin(), p.end()); });
  std::vector<protocol::Bytes> back;
  for (const auto& p : packets) {
    UDPCHAT_FUZZ_CHECK(p.size() <= bundle::kMaxBytes);
    if (!bundle::isBundle(p)) {
      back.push_back(p);
      continue;
    }
    auto again = bundle::split(p);
    UDPCHAT_FUZZ_CHECK(again.ok());
    for (const auto& f : *again) back.emplace_back(f.begin(), f.end());
  }
  UDPCHAT_FUZZ_CHECK(back.size() == frames->size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    UDPCHAT_FUZZ_CHECK(std::equal(back[i].begin(), back[i].end(), (*frames)[i].begin(),
                                  (*frames)[i].end()));
  }
  return 0;
}
