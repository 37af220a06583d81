// Retransmissions counted from the link's capture: TCP sequence space sent again, ENet reliable
// commands sent again, in the order the sender emitted them.
#include <gtest/gtest.h>

#include <sstream>

#include "lab/pcapng_writer.hpp"
#include "lab/wire_retransmissions.hpp"

namespace udpchat::lab {
namespace {

constexpr Direction kC2s = Direction::kClientToServer;
constexpr Direction kS2c = Direction::kServerToClient;

void put16(std::vector<std::byte>& b, std::size_t at, unsigned v) {
  b[at] = static_cast<std::byte>(v >> 8);
  b[at + 1] = static_cast<std::byte>(v);
}
void put32(std::vector<std::byte>& b, std::size_t at, std::uint32_t v) {
  put16(b, at, v >> 16);
  put16(b, at + 2, v & 0xFFFF);
}

// An IPv4 header (20 bytes) for `payload` of `protocol`, 198.18.0.1 -> 198.18.1.1 or back.
std::vector<std::byte> ipv4(Direction d, std::uint8_t protocol, std::size_t payload) {
  std::vector<std::byte> p(20 + payload);
  p[0] = std::byte{0x45};
  put16(p, 2, static_cast<unsigned>(p.size()));
  put16(p, 6, 0x4000);  // don't fragment
  p[8] = std::byte{64};
  p[9] = static_cast<std::byte>(protocol);
  const std::uint32_t client = 0xC6120001;
  const std::uint32_t server = 0xC6120101;
  put32(p, 12, d == kC2s ? client : server);
  put32(p, 16, d == kC2s ? server : client);
  return p;
}

std::vector<std::byte> tcp(Direction d, std::uint32_t seq, std::size_t data, bool syn = false,
                           bool fin = false, std::uint16_t clientPort = 40000) {
  std::vector<std::byte> p = ipv4(d, 6, 20 + data);
  put16(p, 20, d == kC2s ? clientPort : 7777);
  put16(p, 22, d == kC2s ? 7777 : clientPort);
  put32(p, 24, seq);
  p[32] = std::byte{0x50};  // 20-byte header
  p[33] = static_cast<std::byte>(0x10 | (syn ? 0x02 : 0) | (fin ? 0x01 : 0));
  return p;
}

// One ENet command: header (command, channel, reliable sequence number) and its fixed part.
struct EnetCommand {
  std::uint8_t command;
  std::uint8_t channel;
  std::uint16_t seq;
  std::size_t data = 0;  // payload bytes after the fixed part
};

std::vector<std::byte> enet(Direction d, std::vector<EnetCommand> commands,
                            std::uint16_t peer = 0x0001, bool sentTime = true) {
  static const std::size_t sizes[] = {0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24};
  std::vector<std::byte> body(sentTime ? 4 : 2);
  put16(body, 0, peer | (sentTime ? 0x8000 : 0));
  for (const EnetCommand& c : commands) {
    const std::size_t at = body.size();
    const std::uint8_t number = c.command & 0x0F;
    body.resize(at + sizes[number] + c.data);
    body[at] = static_cast<std::byte>(c.command);
    body[at + 1] = static_cast<std::byte>(c.channel);
    put16(body, at + 2, c.seq);
    if (number == 6) put16(body, at + 4, static_cast<unsigned>(c.data));
    if (number == 7 || number == 8 || number == 9 || number == 12) {
      put16(body, at + 6, static_cast<unsigned>(c.data));
    }
  }
  std::vector<std::byte> p = ipv4(d, 17, 8 + body.size());
  put16(p, 20, d == kC2s ? 50000 : 7777);
  put16(p, 22, d == kC2s ? 7777 : 50000);
  put16(p, 24, static_cast<unsigned>(8 + body.size()));
  std::copy(body.begin(), body.end(), p.begin() + 28);
  return p;
}

constexpr std::uint8_t kReliable = 0x86;    // SEND_RELIABLE with the ACKNOWLEDGE flag
constexpr std::uint8_t kUnreliable = 0x07;  // SEND_UNRELIABLE
constexpr std::uint8_t kAck = 0x01;         // ACKNOWLEDGE
constexpr std::uint8_t kConnect = 0x82;     // CONNECT, acknowledged
constexpr std::uint8_t kFragment = 0x88;    // SEND_FRAGMENT, acknowledged

TEST(WireRetransmissions, TcpNewDataIsNotARetransmission) {
  RetransmissionCounter c;
  c.offer(kC2s, tcp(kC2s, 1000, 0, true));  // SYN
  c.offer(kC2s, tcp(kC2s, 1001, 0));        // ACK
  c.offer(kC2s, tcp(kC2s, 1001, 100));
  c.offer(kC2s, tcp(kC2s, 1101, 100));
  c.offer(kC2s, tcp(kC2s, 1201, 0, false, true));  // FIN
  EXPECT_EQ(c.retransmissions(kC2s), 0u);
  EXPECT_EQ(c.tcpSegments(), 5u);
  EXPECT_EQ(c.unparsed(), 0u);
}

TEST(WireRetransmissions, TcpDataSentAgainCounts) {
  RetransmissionCounter c;
  c.offer(kC2s, tcp(kC2s, 1000, 0, true));
  c.offer(kC2s, tcp(kC2s, 1000, 0, true));  // the SYN again
  c.offer(kC2s, tcp(kC2s, 1001, 100));
  c.offer(kC2s, tcp(kC2s, 1101, 100));
  c.offer(kC2s, tcp(kC2s, 1001, 100));  // timeout: the first segment again
  c.offer(kC2s, tcp(kC2s, 1051, 150));  // repacketised, overlapping
  c.offer(kC2s, tcp(kC2s, 1201, 50));   // new
  c.offer(kC2s, tcp(kC2s, 1250, 0));    // a pure ACK takes no sequence space
  EXPECT_EQ(c.retransmissions(kC2s), 3u);
  EXPECT_EQ(c.retransmissions(kS2c), 0u);
}

TEST(WireRetransmissions, TcpFlowsAndDirectionsAreSeparate) {
  RetransmissionCounter c;
  c.offer(kC2s, tcp(kC2s, 5000, 100, false, false, 40000));
  c.offer(kC2s, tcp(kC2s, 5000, 100, false, false, 40001));  // same numbers, other connection
  c.offer(kS2c, tcp(kS2c, 5000, 100, false, false, 40000));
  c.offer(kS2c, tcp(kS2c, 5000, 100, false, false, 40000));
  EXPECT_EQ(c.retransmissions(kC2s), 0u);
  EXPECT_EQ(c.retransmissions(kS2c), 1u);
}

TEST(WireRetransmissions, TcpSequenceNumbersWrap) {
  RetransmissionCounter c;
  c.offer(kC2s, tcp(kC2s, 0xFFFFFF00u, 0x80));
  c.offer(kC2s, tcp(kC2s, 0xFFFFFF80u, 0x100));  // crosses 2^32
  c.offer(kC2s, tcp(kC2s, 0x00000080u, 0x100));
  EXPECT_EQ(c.retransmissions(kC2s), 0u);
  c.offer(kC2s, tcp(kC2s, 0xFFFFFF80u, 0x100));
  EXPECT_EQ(c.retransmissions(kC2s), 1u);
}

TEST(WireRetransmissions, EnetReliableCommandsSentAgainCount) {
  RetransmissionCounter c;
  c.offer(kC2s, enet(kC2s, {{kConnect, 0xFF, 1}}, 0x0FFF));
  c.offer(kC2s, enet(kC2s, {{kConnect, 0xFF, 1}}, 0x0FFF));  // connect retried
  c.offer(kC2s, enet(kC2s, {{kReliable, 0, 1, 30}, {kReliable, 0, 2, 30}}));
  c.offer(kC2s, enet(kC2s, {{kUnreliable, 3, 2, 30}, {kUnreliable, 3, 2, 30}}));  // no acks
  c.offer(kC2s,
          enet(kC2s, {{kAck, 0, 2}, {kReliable, 0, 2, 30}, {kReliable, 0, 3, 30}}, 0x0001, false));
  c.offer(kC2s, enet(kC2s, {{kReliable, 2, 1, 0}, {kFragment, 2, 2, 1000}}));  // channel 2: new
  c.offer(kC2s, enet(kC2s, {{kFragment, 2, 2, 1000}}));
  EXPECT_EQ(c.retransmissions(kC2s), 3u);
  EXPECT_EQ(c.enetCommands(), 12u);
  EXPECT_EQ(c.unparsed(), 0u);
}

TEST(WireRetransmissions, EnetPeersAreSeparateFlows) {
  RetransmissionCounter c;
  c.offer(kS2c, enet(kS2c, {{kReliable, 0, 1, 10}}, 0x0001));
  c.offer(kS2c, enet(kS2c, {{kReliable, 0, 1, 10}}, 0x1002));  // another peer and session
  EXPECT_EQ(c.retransmissions(kS2c), 0u);
}

TEST(WireRetransmissions, EnetSequenceNumbersWrap) {
  RetransmissionCounter c;
  for (std::uint32_t seq = 65000; seq < 66000; ++seq) {
    c.offer(kC2s, enet(kC2s, {{kReliable, 0, static_cast<std::uint16_t>(seq), 4}}));
  }
  EXPECT_EQ(c.retransmissions(kC2s), 0u);
  c.offer(kC2s, enet(kC2s, {{kReliable, 0, static_cast<std::uint16_t>(65990), 4}}));
  EXPECT_EQ(c.retransmissions(kC2s), 1u);
}

TEST(WireRetransmissions, GarbageIsUnparsedNotCounted) {
  RetransmissionCounter c;
  c.offer(kC2s, std::vector<std::byte>(10));                   // not IPv4
  c.offer(kC2s, enet(kC2s, {{kReliable, 0, 1, 10}}, 0x4001));  // compressed
  std::vector<std::byte> truncated = enet(kC2s, {{kReliable, 0, 1, 100}});
  truncated.resize(truncated.size() - 50);
  put16(truncated, 2, static_cast<unsigned>(truncated.size()));
  c.offer(kC2s, truncated);
  EXPECT_EQ(c.unparsed(), 3u);
  EXPECT_EQ(c.retransmissions(kC2s), 0u);
}

TEST(WireRetransmissions, CaptureIsReadInTheSendersOrder) {
  // The link writes a delivered packet when it leaves and a dropped one when it arrives: here
  // #1 was dropped before #0 (sent earlier, delayed) left. Read in file order, #0 would look
  // like a retransmission; by index it is not. The duplicate copy of #2 is the link's, not TCP's.
  std::ostringstream file;
  PcapngWriter writer(file);
  writer.writePacket(kC2s, 1, tcp(kC2s, 1000, 0, true), "delivered; c2s #0; after 20.000 ms");
  writer.writePacket(kC2s, 2, tcp(kC2s, 1101, 100), "dropped: loss; c2s #2");
  writer.writePacket(kC2s, 3, tcp(kC2s, 1001, 100), "delivered; c2s #1; after 20.000 ms");
  writer.writePacket(kC2s, 4, tcp(kC2s, 1101, 100), "delivered; c2s #3; after 20.000 ms");
  writer.writePacket(kC2s, 5, tcp(kC2s, 1101, 100), "duplicate; c2s #3; after 20.000 ms");
  writer.writePacket(kS2c, 6, tcp(kS2c, 9000, 0, true), "delivered; s2c #0; after 20.000 ms");
  writer.flush();
  const std::string bytes = file.str();
  const auto packets = parseLinkCapture(std::as_bytes(std::span(bytes.data(), bytes.size())));
  ASSERT_TRUE(packets) << packets.error();
  ASSERT_EQ(packets->size(), 6u);
  EXPECT_EQ((*packets)[5].direction, kS2c);
  EXPECT_EQ((*packets)[1].comment, "dropped: loss; c2s #2");
  EXPECT_EQ(offeredIndex((*packets)[1].comment), 2u);
  RetransmissionCounter c;
  countCapture(*packets, c);
  EXPECT_EQ(c.retransmissions(kC2s), 1u);  // #3 resends #2's data
  EXPECT_EQ(c.tcpSegments(), 5u);          // the duplicate is left out
}

TEST(WireRetransmissions, BrokenCapturesAreRefused) {
  std::ostringstream file;
  PcapngWriter writer(file);
  writer.writePacket(kC2s, 1, tcp(kC2s, 1, 10), "delivered; c2s #0");
  const std::string good = file.str();
  std::string truncated = good.substr(0, good.size() - 3);
  EXPECT_FALSE(parseLinkCapture(std::as_bytes(std::span(truncated.data(), truncated.size()))));
  std::string badLength = good;
  badLength[badLength.size() - 1] = 0x7F;
  EXPECT_FALSE(parseLinkCapture(std::as_bytes(std::span(badLength.data(), badLength.size()))));
  EXPECT_FALSE(parseLinkCapture({}));
}

}  // namespace
}  // namespace udpchat::lab
