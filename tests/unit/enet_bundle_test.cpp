// Bundles (docs/PROTOCOL.md, "Bundles"): packing frames into packets and splitting them again,
// byte for byte, without sockets.
#include "udpchat/enet_bundle.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "udpchat/protocol.hpp"

namespace udpchat::bundle {
namespace {

using protocol::Bytes;
using protocol::ByteSpan;

constexpr int V = kProtocolVersion;

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// A frame-shaped byte string: the version, a type, then `body` bytes of filler.
Bytes frameOf(std::size_t totalBytes, std::uint8_t fill) {
  Bytes out(totalBytes, static_cast<std::byte>(fill));
  out[0] = static_cast<std::byte>(kProtocolVersion);
  if (totalBytes > 1) out[1] = static_cast<std::byte>(0x42);
  return out;
}

// Every packet pack() emits, copied.
std::vector<Bytes> packAll(const std::vector<Bytes>& frames) {
  std::vector<ByteSpan> spans(frames.begin(), frames.end());
  std::vector<Bytes> packets;
  pack(std::span<const ByteSpan>(spans),
       [&](ByteSpan p) { packets.emplace_back(p.begin(), p.end()); });
  return packets;
}

// The frames a receiver gets from those packets, in order.
std::vector<Bytes> unpackAll(const std::vector<Bytes>& packets) {
  std::vector<Bytes> out;
  for (const Bytes& p : packets) {
    if (!isBundle(p)) {
      out.push_back(p);
      continue;
    }
    auto frames = split(p);
    EXPECT_TRUE(frames.ok()) << toString(frames.error());
    if (!frames) continue;
    for (ByteSpan f : *frames) out.emplace_back(f.begin(), f.end());
  }
  return out;
}

TEST(Bundle, TheByteLayoutIsHeaderThenLengthPrefixedFrames) {
  const std::vector<Bytes> frames = {bytes({V, 0x42, 0xAA}), bytes({V, 0x44})};
  const auto packets = packAll(frames);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0], bytes({V, 0x7F, 0x00, 0x03, V, 0x42, 0xAA, 0x00, 0x02, V, 0x44}));
}

TEST(Bundle, ALoneFrameTravelsAsItIs) {
  const std::vector<Bytes> frames = {frameOf(70, 7)};
  const auto packets = packAll(frames);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0], frames[0]);
  EXPECT_FALSE(isBundle(packets[0]));
}

TEST(Bundle, ManyFramesRoundTripInOrderWithinTheTargetSize) {
  std::vector<Bytes> frames;
  for (int i = 0; i < 500; ++i) frames.push_back(frameOf(20 + static_cast<std::size_t>(i % 60), static_cast<std::uint8_t>(i)));
  const auto packets = packAll(frames);
  EXPECT_GT(packets.size(), 1u);
  EXPECT_LT(packets.size(), frames.size() / 10);
  for (const Bytes& p : packets) EXPECT_LE(p.size(), kTargetBytes);
  EXPECT_EQ(unpackAll(packets), frames);
}

TEST(Bundle, ABundleIsFilledToExactlyTheTargetAndNoFurther) {
  // Frames of 98 bytes take 100 bytes each in a bundle: the header and 11 of them make 1102, a
  // twelfth would make 1202 > 1200.
  std::vector<Bytes> frames(12, frameOf(98, 1));
  const auto packets = packAll(frames);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].size(), bundledSize(11 * 98, 11));
  EXPECT_EQ(packets[1], frames[11]);  // the last one is alone, so unbundled

  // A run that lands exactly on the target is one bundle: 2 + 2 + 1196 = 1200.
  const std::vector<Bytes> exact = {frameOf(598, 2), frameOf(596, 3)};
  const auto one = packAll(exact);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].size(), kTargetBytes);
  EXPECT_EQ(unpackAll(one), exact);
}

TEST(Bundle, AFrameTooLargeToShareGoesAloneAndKeepsItsPlace) {
  const std::vector<Bytes> frames = {frameOf(30, 1), frameOf(40, 2), frameOf(4219, 3),
                                     frameOf(50, 4), frameOf(60, 5)};
  const auto packets = packAll(frames);
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_TRUE(isBundle(packets[0]));
  EXPECT_EQ(packets[1], frames[2]);
  EXPECT_TRUE(isBundle(packets[2]));
  EXPECT_EQ(unpackAll(packets), frames);
}

TEST(Bundle, NothingToPackEmitsNothing) {
  EXPECT_TRUE(packAll({}).empty());
}

TEST(Bundle, SplitRefusesEveryMalformedShape) {
  EXPECT_EQ(split(bytes({})).error(), SplitError::NotABundle);
  EXPECT_EQ(split(bytes({V})).error(), SplitError::NotABundle);
  EXPECT_EQ(split(bytes({V + 1, 0x7F, 0x00, 0x01, 0x01})).error(), SplitError::NotABundle);
  EXPECT_EQ(split(bytes({V, 0x42, 0x00})).error(), SplitError::NotABundle);
  EXPECT_EQ(split(bytes({V, 0x7F})).error(), SplitError::Empty);
  EXPECT_EQ(split(bytes({V, 0x7F, 0x00})).error(), SplitError::Truncated);
  EXPECT_EQ(split(bytes({V, 0x7F, 0x00, 0x03, V, 0x42})).error(), SplitError::Truncated);
  EXPECT_EQ(split(bytes({V, 0x7F, 0x00, 0x00})).error(), SplitError::BadLength);
  EXPECT_EQ(split(bytes({V, 0x7F, 0x20, 0x01})).error(), SplitError::BadLength);  // 8193
  EXPECT_EQ(split(bytes({V, 0x7F, 0x00, 0x02, V, 0x7F})).error(), SplitError::Nested);
  // One good frame then a truncated one: nothing is returned, not the good half.
  EXPECT_EQ(split(bytes({V, 0x7F, 0x00, 0x02, V, 0x44, 0x00, 0x05, V})).error(),
            SplitError::Truncated);
  Bytes huge(kMaxBytes + 1, std::byte{0});
  huge[0] = std::byte{kProtocolVersion};
  huge[1] = std::byte{0x7F};
  EXPECT_EQ(split(huge).error(), SplitError::TooLarge);
  for (SplitError e : {SplitError::NotABundle, SplitError::Empty, SplitError::Truncated,
                       SplitError::BadLength, SplitError::Nested, SplitError::TooLarge}) {
    EXPECT_FALSE(toString(e).empty());
  }
}

TEST(Bundle, AOneFrameBundleIsAcceptedThoughThePackerNeverMakesOne) {
  const Bytes packet = bytes({V, 0x7F, 0x00, 0x02, V, 0x44});
  auto frames = split(packet);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 1u);
  EXPECT_EQ(Bytes((*frames)[0].begin(), (*frames)[0].end()), bytes({V, 0x44}));
}

TEST(Bundle, TypeOfABundleIsNoMessageType) {
  // A bundle that reached the codec (a receiver that did not split it) is refused, never
  // mistaken for a message.
  auto decoded = protocol::decode(bytes({V, 0x7F, 0x00, 0x02, V, 0x44}));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(), protocol::DecodeError::UnknownType);
}

TEST(Bundle, SplittingEveryTruncationAndRandomCorruptionNeverReadsOutOfBounds) {
  std::vector<Bytes> frames;
  for (int i = 0; i < 30; ++i) frames.push_back(frameOf(10 + static_cast<std::size_t>(i), static_cast<std::uint8_t>(i)));
  const auto packets = packAll(frames);
  ASSERT_EQ(packets.size(), 1u);
  const Bytes& good = packets[0];
  // Every proper prefix past the header either fails or (when it ends on an entry boundary)
  // yields a prefix of the frames.
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = split(ByteSpan(good.data(), n));
    if (!r) continue;
    ASSERT_LT(r->size(), frames.size());
    for (std::size_t k = 0; k < r->size(); ++k) {
      EXPECT_EQ(Bytes((*r)[k].begin(), (*r)[k].end()), frames[k]);
    }
  }
  std::mt19937 rng(12345);
  for (int round = 0; round < 5000; ++round) {
    Bytes bad = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bad[2 + rng() % (bad.size() - 2)] = static_cast<std::byte>(rng() & 0xFF);
    }
    auto r = split(bad);
    if (!r) continue;
    std::size_t total = kHeaderBytes;
    for (ByteSpan f : *r) {
      ASSERT_GE(f.data(), bad.data());
      ASSERT_LE(f.data() + f.size(), bad.data() + bad.size());
      total += kEntryLengthBytes + f.size();
    }
    EXPECT_EQ(total, bad.size());
  }
}

}  // namespace
}  // namespace udpchat::bundle
