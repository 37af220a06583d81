// enet::checkDatagram on datagrams built byte by byte in ENet 1.3's layout: honest fragments
// pass, the two shapes later ENet releases refuse are found wherever they sit in a datagram,
// and the walk stops where ENet stops.
#include "udpchat/enet_datagram_check.hpp"

#include <enet/enet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace udpchat::enet {
namespace {

using Bytes = std::vector<std::byte>;

constexpr std::uint32_t withAck(unsigned command) {
  return command | unsigned{ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE};
}

struct Datagram {
  Bytes bytes;
  explicit Datagram(bool sentTime = true, bool compressed = false) {
    std::uint32_t field = 3 | (1u << ENET_PROTOCOL_HEADER_SESSION_SHIFT);
    if (sentTime) field |= ENET_PROTOCOL_HEADER_FLAG_SENT_TIME;
    if (compressed) field |= ENET_PROTOCOL_HEADER_FLAG_COMPRESSED;
    u16(field);
    if (sentTime) u16(0x1234);
  }
  Datagram& u8(std::uint32_t v) {
    bytes.push_back(static_cast<std::byte>(v & 0xFF));
    return *this;
  }
  Datagram& u16(std::uint32_t v) { return u8(v >> 8).u8(v); }
  Datagram& u32(std::uint32_t v) { return u16(v >> 16).u16(v & 0xFFFF); }
  Datagram& data(std::size_t n) {
    bytes.insert(bytes.end(), n, std::byte{0x55});
    return *this;
  }
  Datagram& reliable(std::uint16_t sequence, std::size_t length) {
    u8(withAck(ENET_PROTOCOL_COMMAND_SEND_RELIABLE)).u8(0).u16(sequence);
    return u16(static_cast<std::uint32_t>(length)).data(length);
  }
  Datagram& fragment(std::uint8_t command, std::uint32_t count, std::uint32_t number,
                     std::uint32_t total, std::uint32_t offset, std::size_t length) {
    u8(withAck(command)).u8(0).u16(7).u16(7);
    u16(static_cast<std::uint32_t>(length)).u32(count).u32(number).u32(total).u32(offset);
    return data(length);
  }
  Datagram& ping() { return u8(withAck(ENET_PROTOCOL_COMMAND_PING)).u8(0xFF).u16(9); }
  DatagramVerdict verdict() const { return checkDatagram(bytes); }
};

constexpr auto kReliable = ENET_PROTOCOL_COMMAND_SEND_FRAGMENT;
constexpr auto kUnreliable = ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT;

TEST(EnetDatagramCheck, HonestFragmentsOfAFrameAndOtherCommandsPass) {
  // An 8192-byte frame in fragments of 1360 bytes: seven of them, the last one shorter.
  for (std::uint32_t n = 0; n < 7; ++n) {
    const std::uint32_t offset = n * 1360;
    const std::size_t length = n < 6 ? 1360 : 8192 - 6 * 1360;
    EXPECT_EQ(Datagram().fragment(kReliable, 7, n, 8192, offset, length).verdict(),
              DatagramVerdict::Pass) << n;
    EXPECT_EQ(Datagram().fragment(kUnreliable, 7, n, 8192, offset, length).verdict(),
              DatagramVerdict::Pass) << n;
  }
  EXPECT_EQ(Datagram().ping().reliable(1, 40).reliable(2, 0).verdict(), DatagramVerdict::Pass);
  EXPECT_EQ(Datagram(false).reliable(1, 12).verdict(), DatagramVerdict::Pass);
  // As many fragments as bytes is the most ENet's later releases allow.
  EXPECT_EQ(Datagram().fragment(kReliable, 4, 0, 4, 0, 1).verdict(), DatagramVerdict::Pass);
}

TEST(EnetDatagramCheck, MoreFragmentsThanBytesIsRefused) {
  EXPECT_EQ(Datagram().fragment(kReliable, ENET_PROTOCOL_MAXIMUM_FRAGMENT_COUNT, 0, 1, 0, 1).verdict(),
            DatagramVerdict::BadFragment);
  EXPECT_EQ(Datagram().fragment(kUnreliable, 5, 0, 4, 0, 1).verdict(), DatagramVerdict::BadFragment);
}

TEST(EnetDatagramCheck, AFragmentWithoutDataIsRefused) {
  EXPECT_EQ(Datagram().fragment(kReliable, 2, 0, 100, 0, 0).verdict(), DatagramVerdict::BadFragment);
  EXPECT_EQ(Datagram(false).fragment(kUnreliable, 2, 1, 100, 50, 0).verdict(),
            DatagramVerdict::BadFragment);
}

TEST(EnetDatagramCheck, ABadFragmentIsFoundBehindOtherCommands) {
  EXPECT_EQ(Datagram().ping().reliable(1, 30).fragment(kReliable, 9, 0, 8, 0, 1).verdict(),
            DatagramVerdict::BadFragment);
}

TEST(EnetDatagramCheck, TheWalkStopsWhereEnetStops) {
  // An unknown command (0, or 13 and above), a command cut short, or data running past the end:
  // ENet reads no further, so neither does the check.
  EXPECT_EQ(Datagram().u8(0).u8(0).u16(0).fragment(kReliable, 9, 0, 8, 0, 1).verdict(),
            DatagramVerdict::Pass);
  EXPECT_EQ(Datagram().u8(13).u8(0).u16(0).fragment(kReliable, 9, 0, 8, 0, 1).verdict(),
            DatagramVerdict::Pass);
  Datagram overrun;
  overrun.u8(ENET_PROTOCOL_COMMAND_SEND_RELIABLE).u8(0).u16(1).u16(500).data(10);
  EXPECT_EQ(overrun.fragment(kReliable, 9, 0, 8, 0, 1).verdict(), DatagramVerdict::Pass);
  Datagram cut = Datagram().fragment(kReliable, 9, 0, 8, 0, 1);
  cut.bytes.resize(4 + 20);  // the header and part of the fragment command
  EXPECT_EQ(cut.verdict(), DatagramVerdict::Pass);
}

TEST(EnetDatagramCheck, CompressedShortAndEmptyDatagramsPass) {
  EXPECT_EQ(Datagram(true, true).fragment(kReliable, 9, 0, 8, 0, 1).verdict(), DatagramVerdict::Pass);
  EXPECT_EQ(checkDatagram(Bytes{}), DatagramVerdict::Pass);
  EXPECT_EQ(checkDatagram(Bytes{std::byte{0x80}}), DatagramVerdict::Pass);
  EXPECT_EQ(Datagram().verdict(), DatagramVerdict::Pass);
}

}  // namespace
}  // namespace udpchat::enet
