// The TCP record framer, byte for byte, without sockets: records split at every byte boundary,
// many records per read, and every header the framer must refuse.
#include "udpchat/tcp_framing.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace udpchat::tcp {
namespace {

struct Seen {
  std::uint8_t channel;
  protocol::Bytes frame;
  bool operator==(const Seen&) const = default;
};

protocol::Bytes bytesOf(std::string_view s) {
  protocol::Bytes out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

protocol::Bytes hex(std::initializer_list<int> values) {
  protocol::Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// Feeds `stream` in pieces of the given sizes (the rest in one last piece) and collects every
// record; fails the test on a framing error.
std::vector<Seen> readAll(RecordReader& reader, protocol::ByteSpan stream,
                          const std::vector<std::size_t>& pieces) {
  std::vector<Seen> out;
  std::size_t at = 0;
  auto feed = [&](protocol::ByteSpan piece) {
    for (;;) {
      auto next = reader.next(piece);
      if (!next) {
        ADD_FAILURE() << "framing error: " << toString(next.error());
        return;
      }
      if (!next.value()) {
        EXPECT_TRUE(piece.empty()) << "nullopt before the piece was used up";
        return;
      }
      out.push_back(Seen{next.value()->channel,
                         protocol::Bytes(next.value()->frame.begin(), next.value()->frame.end())});
    }
  };
  for (std::size_t size : pieces) {
    feed(stream.subspan(at, size));
    at += size;
  }
  feed(stream.subspan(at));
  return out;
}

// Three records: a small frame on channel 0, an empty frame on channel 1 (the core rejects it,
// the framer does not), and the largest frame on channel 0.
struct Sample {
  std::vector<Seen> records;
  protocol::Bytes stream;
};

Sample sample() {
  Sample s;
  s.records = {{0, bytesOf("hello")}, {1, {}}, {0, protocol::Bytes(kMaxFrameBytes, std::byte{7})}};
  for (const auto& r : s.records) appendRecord(s.stream, r.channel, r.frame);
  return s;
}

TEST(TcpFraming, HeaderIsTheBigEndianLengthOfChannelAndFrameThenTheChannel) {
  protocol::Bytes out;
  appendRecord(out, kChannelUnreliable, bytesOf("abc"));
  EXPECT_EQ(out, hex({0x00, 0x04, 0x01, 'a', 'b', 'c'}));

  const RecordHeader largest = recordHeader(kChannelReliable, kMaxFrameBytes);
  EXPECT_EQ(largest[0], std::byte{0x20});  // 8193 = 0x2001
  EXPECT_EQ(largest[1], std::byte{0x01});
  EXPECT_EQ(largest[2], std::byte{0x00});
  EXPECT_EQ(recordHeader(0, 0), (RecordHeader{std::byte{0}, std::byte{1}, std::byte{0}}));
}

TEST(TcpFraming, WorkedExampleOfProtocolMd) {
  // docs/PROTOCOL.md section 1.1: section 10's SendChat frame as a record on channel 0.
  const protocol::Bytes frame =
      protocol::encode(protocol::SendChat{"lobby", "", "h\xC3\xA9llo", protocol::kFlagAction,
                                          0x0A0B0C0D01020304ULL});
  ASSERT_EQ(frame.size(), 28u);
  protocol::Bytes record;
  appendRecord(record, kChannelReliable, frame);
  EXPECT_EQ(record, hex({0x00, 0x1D, 0x00, 0x02, 0x02, 0x00, 0x05, 0x6C, 0x6F, 0x62, 0x62,
                         0x79, 0x00, 0x00, 0x00, 0x06, 0x68, 0xC3, 0xA9, 0x6C, 0x6C, 0x6F,
                         0x01, 0x0A, 0x0B, 0x0C, 0x0D, 0x01, 0x02, 0x03, 0x04}));
}

TEST(TcpFraming, ManyRecordsInOnePieceComeOutInOrderWithoutCopying) {
  const Sample s = sample();
  RecordReader reader;
  protocol::ByteSpan input(s.stream);
  auto first = reader.next(input);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first.value());
  // Returned in place: the frame points into the piece.
  EXPECT_EQ(first.value()->frame.data(), s.stream.data() + kRecordHeaderBytes);
  RecordReader again;
  EXPECT_EQ(readAll(again, s.stream, {}), s.records);
  EXPECT_EQ(again.buffered(), 0u);
}

TEST(TcpFraming, ARecordSplitAtEveryByteBoundaryIsReassembled) {
  const Sample s = sample();
  for (std::size_t cut = 0; cut <= s.stream.size(); ++cut) {
    RecordReader reader;
    EXPECT_EQ(readAll(reader, s.stream, {cut}), s.records) << "cut at " << cut;
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(TcpFraming, TwoCutsAroundEveryHeaderByteAndOneByteAtATime) {
  const Sample s = sample();
  // Every pair of cuts within the first records' headers and bodies (the large third record
  // is covered by the single cuts above).
  const std::size_t span = 3 + 5 + 3 + 6;
  for (std::size_t a = 0; a <= span; ++a) {
    for (std::size_t b = 0; a + b <= span; ++b) {
      RecordReader reader;
      EXPECT_EQ(readAll(reader, s.stream, {a, b}), s.records) << a << "+" << b;
    }
  }
  RecordReader reader;
  EXPECT_EQ(readAll(reader, s.stream, std::vector<std::size_t>(s.stream.size(), 1)), s.records);
}

TEST(TcpFraming, RandomPiecesGiveTheSameRecords) {
  std::mt19937 rng(2024);  // fully specified: the same pieces on every run
  Sample s;
  for (int i = 0; i < 200; ++i) {
    const std::uint8_t channel = static_cast<std::uint8_t>(rng() % kChannelCount);
    protocol::Bytes frame(rng() % 300, static_cast<std::byte>(i));
    s.records.push_back({channel, frame});
    appendRecord(s.stream, channel, frame);
  }
  for (int round = 0; round < 20; ++round) {
    std::vector<std::size_t> pieces;
    for (std::size_t used = 0; used < s.stream.size();) {
      pieces.push_back(1 + rng() % 700);
      used += pieces.back();
    }
    pieces.pop_back();
    RecordReader reader;
    EXPECT_EQ(readAll(reader, s.stream, pieces), s.records) << "round " << round;
  }
}

TEST(TcpFraming, AnIncompleteRecordIsHeldAndCounted) {
  protocol::Bytes stream;
  appendRecord(stream, 0, bytesOf("partial"));
  RecordReader reader;
  protocol::ByteSpan head(stream.data(), 5);
  auto next = reader.next(head);
  ASSERT_TRUE(next);
  EXPECT_FALSE(next.value());
  EXPECT_TRUE(head.empty());
  EXPECT_EQ(reader.buffered(), 5u);
  protocol::ByteSpan tail(stream.data() + 5, stream.size() - 5);
  next = reader.next(tail);
  ASSERT_TRUE(next);
  ASSERT_TRUE(next.value());
  EXPECT_EQ(protocol::Bytes(next.value()->frame.begin(), next.value()->frame.end()),
            bytesOf("partial"));
  EXPECT_EQ(reader.buffered(), 0u);
}

// What next() returns for `stream` fed in `pieces`: the first error, or nullopt.
std::optional<FramingError> firstError(const protocol::Bytes& stream,
                                       std::vector<std::size_t> pieces) {
  RecordReader reader;
  std::size_t at = 0;
  pieces.push_back(stream.size());
  for (std::size_t size : pieces) {
    protocol::ByteSpan piece =
        protocol::ByteSpan(stream).subspan(at, std::min(size, stream.size() - at));
    at += piece.size();
    for (;;) {
      auto next = reader.next(piece);
      if (!next) {
        // The reader stays failed: a stream cannot be resynchronised.
        protocol::ByteSpan more(stream);
        auto again = reader.next(more);
        EXPECT_FALSE(again);
        if (!again) {
          EXPECT_EQ(again.error(), next.error());
        }
        return next.error();
      }
      if (!next.value()) break;
    }
  }
  return std::nullopt;
}

TEST(TcpFraming, ZeroLengthIsRefused) {
  const protocol::Bytes stream = hex({0x00, 0x00, 0x00});
  EXPECT_EQ(firstError(stream, {}), FramingError::ZeroLength);
  EXPECT_EQ(firstError(stream, {1}), FramingError::ZeroLength);
}

TEST(TcpFraming, TheLongestRecordIsAcceptedAndOneByteMoreIsRefusedFromItsHeaderAlone) {
  protocol::Bytes longest;
  appendRecord(longest, 0, protocol::Bytes(kMaxFrameBytes, std::byte{1}));
  EXPECT_EQ(firstError(longest, {}), std::nullopt);
  EXPECT_EQ(firstError(longest, {1, 2, 4000}), std::nullopt);

  // 8194 = 0x2002: refused as soon as the two length bytes are in, with no body sent.
  const protocol::Bytes tooLong = hex({0x20, 0x02});
  EXPECT_EQ(firstError(tooLong, {}), FramingError::TooLong);
  EXPECT_EQ(firstError(tooLong, {1}), FramingError::TooLong);
  EXPECT_EQ(firstError(hex({0xFF, 0xFF, 0x00}), {1}), FramingError::TooLong);
}

TEST(TcpFraming, AChannelThatDoesNotExistIsRefusedFromItsHeader) {
  const protocol::Bytes stream = hex({0x00, 0x05, 0x05});  // not even the lab has channel 5
  EXPECT_EQ(firstError(stream, {}), FramingError::BadChannel);
  EXPECT_EQ(firstError(stream, {2}), FramingError::BadChannel);
  EXPECT_EQ(firstError(stream, {1, 1}), FramingError::BadChannel);
  RecordReader lab(kLabChannelCount);
  protocol::ByteSpan input(stream);
  EXPECT_FALSE(lab.next(input));
}

// docs/PROTOCOL.md section 1.1: a chat connection has channels 0 and 1 only; the lab's channels
// 2 to 4 exist only where the reader was made for them (a server started with --lab-channels).
TEST(TcpFraming, LabChannelsAreRefusedUnlessTheReaderWasMadeForThem) {
  for (int channel = 2; channel < static_cast<int>(kLabChannelCount); ++channel) {
    protocol::Bytes stream;
    appendRecord(stream, static_cast<std::uint8_t>(channel), bytesOf("x"));
    RecordReader chat;
    protocol::ByteSpan input(stream);
    auto refused = chat.next(input);
    ASSERT_FALSE(refused) << "channel " << channel;
    EXPECT_EQ(refused.error(), FramingError::BadChannel);

    RecordReader lab(kLabChannelCount);
    protocol::ByteSpan again(stream);
    auto accepted = lab.next(again);
    ASSERT_TRUE(accepted && accepted.value()) << "channel " << channel;
    EXPECT_EQ(accepted.value()->channel, channel);
  }
}

TEST(TcpFraming, AnErrorAfterGoodRecordsStillDeliversThem) {
  protocol::Bytes stream;
  appendRecord(stream, 0, bytesOf("ok"));
  const protocol::Bytes bad = hex({0x00, 0x00});
  stream.insert(stream.end(), bad.begin(), bad.end());
  RecordReader reader;
  protocol::ByteSpan input(stream);
  auto first = reader.next(input);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first.value());
  auto second = reader.next(input);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), FramingError::ZeroLength);
}

TEST(TcpFraming, ErrorsHaveNames) {
  for (auto e : {FramingError::ZeroLength, FramingError::TooLong, FramingError::BadChannel}) {
    EXPECT_FALSE(toString(e).empty());
  }
}

}  // namespace
}  // namespace udpchat::tcp
