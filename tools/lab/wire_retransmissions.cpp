#include "lab/wire_retransmissions.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <string_view>

namespace udpchat::lab {
namespace {

constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr std::uint32_t kEnhancedPacket = 0x00000006;
constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr std::uint16_t kOptComment = 1;
constexpr std::uint16_t kEpbFlags = 2;
constexpr std::uint32_t kInbound = 1;   // server -> client
constexpr std::uint32_t kOutbound = 2;  // client -> server

constexpr std::uint8_t kProtocolTcp = 6;
constexpr std::uint8_t kProtocolUdp = 17;

// ENet 1.3 wire constants (enet/protocol.h), written out so the analysis needs no ENet header.
constexpr std::uint16_t kEnetHeaderCompressed = 1 << 14;
constexpr std::uint16_t kEnetHeaderSentTime = 1 << 15;
constexpr std::uint8_t kEnetCommandMask = 0x0F;
constexpr std::uint8_t kEnetFlagAcknowledge = 1 << 7;
// Bytes of each command's fixed part, by command number (ENet's commandSizes).
constexpr std::size_t kEnetCommandSize[] = {0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24};
constexpr std::uint8_t kEnetSendReliable = 6;
constexpr std::uint8_t kEnetSendUnreliable = 7;
constexpr std::uint8_t kEnetSendFragment = 8;
constexpr std::uint8_t kEnetSendUnsequenced = 9;
constexpr std::uint8_t kEnetSendUnreliableFragment = 12;

std::uint32_t le32(std::span<const std::byte> b, std::size_t at) {
  return std::to_integer<std::uint32_t>(b[at]) | std::to_integer<std::uint32_t>(b[at + 1]) << 8 |
         std::to_integer<std::uint32_t>(b[at + 2]) << 16 |
         std::to_integer<std::uint32_t>(b[at + 3]) << 24;
}
std::uint16_t le16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[at]) |
                                    std::to_integer<unsigned>(b[at + 1]) << 8);
}
std::uint16_t be16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[at]) << 8 |
                                    std::to_integer<unsigned>(b[at + 1]));
}
std::uint32_t be32(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint32_t>(be16(b, at)) << 16 | be16(b, at + 2);
}

// `value` (32 or 16 bits wide) as the unwrapped number nearest to `reference`.
std::uint64_t unwrap(std::uint64_t reference, std::uint32_t value, unsigned bits) {
  const std::uint64_t modulus = std::uint64_t{1} << bits;
  const std::uint64_t mask = modulus - 1;
  std::uint64_t candidate = (reference & ~mask) | value;
  if (candidate + modulus / 2 < reference) {
    candidate += modulus;
  } else if (candidate > reference + modulus / 2 && candidate >= modulus) {
    candidate -= modulus;
  }
  return candidate;
}

std::string at(std::size_t offset, const std::string& what) {
  return what + " at byte " + std::to_string(offset);
}

}  // namespace

Result<std::vector<CapturedPacket>, std::string> parseLinkCapture(std::span<const std::byte> file) {
  std::vector<CapturedPacket> out;
  std::size_t offset = 0;
  bool sawSection = false;
  while (offset < file.size()) {
    if (file.size() - offset < 12) return fail(at(offset, "truncated block header"));
    const std::uint32_t type = le32(file, offset);
    const std::uint32_t length = le32(file, offset + 4);
    if (length < 12 || length % 4 != 0 || length > file.size() - offset) {
      return fail(at(offset, "bad block length " + std::to_string(length)));
    }
    if (le32(file, offset + length - 4) != length) {
      return fail(at(offset, "block lengths at the two ends differ"));
    }
    const std::span<const std::byte> body = file.subspan(offset + 8, length - 12);
    if (type == kSectionHeader) {
      if (body.size() < 4 || le32(body, 0) != kByteOrderMagic) {
        return fail(at(offset, "not a little-endian pcapng section"));
      }
      sawSection = true;
    } else if (!sawSection) {
      return fail(at(offset, "no section header first"));
    } else if (type == kEnhancedPacket) {
      if (body.size() < 20) return fail(at(offset, "truncated packet block"));
      const std::uint32_t captured = le32(body, 12);
      const std::size_t padded = (static_cast<std::size_t>(captured) + 3) / 4 * 4;
      if (padded > body.size() - 20) return fail(at(offset, "packet longer than its block"));
      CapturedPacket p;
      const auto data = body.subspan(20, captured);
      p.data.assign(data.begin(), data.end());
      std::size_t opt = 20 + padded;
      while (opt + 4 <= body.size()) {
        const std::uint16_t code = le16(body, opt);
        const std::uint16_t size = le16(body, opt + 2);
        if (code == 0) break;
        const std::size_t paddedSize = (static_cast<std::size_t>(size) + 3) / 4 * 4;
        if (paddedSize > body.size() - opt - 4) return fail(at(offset, "bad packet option"));
        const auto value = body.subspan(opt + 4, size);
        if (code == kOptComment) {
          p.comment.assign(reinterpret_cast<const char*>(value.data()), value.size());
        } else if (code == kEpbFlags && size == 4) {
          const std::uint32_t flags = le32(value, 0) & 3;
          if (flags == kInbound) p.direction = Direction::kServerToClient;
          if (flags == kOutbound) p.direction = Direction::kClientToServer;
        }
        opt += 4 + paddedSize;
      }
      out.push_back(std::move(p));
    }
    offset += length;
  }
  if (!sawSection) return fail(std::string("empty capture"));
  return out;
}

void RetransmissionCounter::offer(Direction direction, std::span<const std::byte> ip) {
  if (ip.size() < 20 || (std::to_integer<unsigned>(ip[0]) >> 4) != 4) {
    ++unparsed_;
    return;
  }
  const std::size_t headerBytes = (std::to_integer<std::size_t>(ip[0]) & 0x0F) * 4;
  const std::size_t total = be16(ip, 2);
  const std::uint16_t fragment = be16(ip, 6);
  if (headerBytes < 20 || total < headerBytes || total > ip.size() ||
      (fragment & 0x3FFF) != 0) {  // more-fragments bit or an offset: not analysed
    ++unparsed_;
    return;
  }
  FlowKey key;
  key.src = be32(ip, 12);
  key.dst = be32(ip, 16);
  const std::uint8_t protocol = std::to_integer<std::uint8_t>(ip[9]);
  const auto payload = ip.subspan(headerBytes, total - headerBytes);
  bool understood = false;
  if (protocol == kProtocolTcp) understood = offerTcp(direction, key, payload);
  if (protocol == kProtocolUdp) understood = offerEnet(direction, key, payload);
  if (!understood) ++unparsed_;
}

bool RetransmissionCounter::offerTcp(Direction d, FlowKey key, std::span<const std::byte> tcp) {
  if (tcp.size() < 20) return false;
  const std::size_t headerBytes = (std::to_integer<std::size_t>(tcp[12]) >> 4) * 4;
  if (headerBytes < 20 || headerBytes > tcp.size()) return false;
  key.srcPort = be16(tcp, 0);
  key.dstPort = be16(tcp, 2);
  const std::uint32_t seq = be32(tcp, 4);
  const unsigned flags = std::to_integer<unsigned>(tcp[13]);
  const bool syn = flags & 0x02;
  const bool fin = flags & 0x01;
  const std::uint64_t length = (tcp.size() - headerBytes) + (syn ? 1 : 0) + (fin ? 1 : 0);
  ++tcpSegments_;
  auto [it, fresh] = tcp_.try_emplace(key);
  TcpFlow& flow = it->second;
  if (fresh) {
    // Start the unwrapped numbering in the middle of the range so early wraps stay positive.
    flow.nextEnd = (std::uint64_t{1} << 40) + seq + length;
    return true;
  }
  if (length == 0) return true;  // a pure acknowledgement takes no sequence space
  const std::uint64_t start = unwrap(flow.nextEnd, seq, 32);
  if (start < flow.nextEnd) ++retransmissions_[static_cast<int>(d)];
  flow.nextEnd = std::max(flow.nextEnd, start + length);
  return true;
}

bool RetransmissionCounter::offerEnet(Direction d, FlowKey key, std::span<const std::byte> udp) {
  if (udp.size() < 8) return false;
  key.srcPort = be16(udp, 0);
  key.dstPort = be16(udp, 2);
  const auto datagram = udp.subspan(8);
  if (datagram.size() < 2) return false;
  const std::uint16_t peerField = be16(datagram, 0);
  if (peerField & kEnetHeaderCompressed) return false;
  key.enetPeer = peerField & ~(kEnetHeaderCompressed | kEnetHeaderSentTime);
  std::size_t offset = (peerField & kEnetHeaderSentTime) ? 4 : 2;
  bool any = false;
  while (offset < datagram.size()) {
    if (datagram.size() - offset < 4) return any;
    const std::uint8_t command = std::to_integer<std::uint8_t>(datagram[offset]);
    const std::uint8_t number = command & kEnetCommandMask;
    if (number == 0 || number >= std::size(kEnetCommandSize)) return any;
    const std::size_t fixed = kEnetCommandSize[number];
    if (datagram.size() - offset < fixed) return any;
    std::size_t data = 0;
    if (number == kEnetSendReliable) data = be16(datagram, offset + 4);
    if (number == kEnetSendUnreliable || number == kEnetSendFragment ||
        number == kEnetSendUnsequenced || number == kEnetSendUnreliableFragment) {
      data = be16(datagram, offset + 6);
    }
    if (datagram.size() - offset - fixed < data) return any;
    ++enetCommands_;
    any = true;
    if (command & kEnetFlagAcknowledge) {
      FlowKey channelKey = key;
      channelKey.channel = std::to_integer<std::uint8_t>(datagram[offset + 1]);
      const std::uint16_t seq = be16(datagram, offset + 2);
      auto [it, fresh] = enet_.try_emplace(channelKey);
      EnetChannel& channel = it->second;
      const std::uint64_t unwrapped =
          fresh ? (std::uint64_t{1} << 40) + seq : unwrap(channel.highest, seq, 16);
      if (!channel.seen.insert(unwrapped).second) ++retransmissions_[static_cast<int>(d)];
      channel.highest = std::max(channel.highest, unwrapped);
      // Only recent numbers can repeat (ENet's reliable windows span 65536 / 16 * 16); keep the
      // set small on long runs.
      while (!channel.seen.empty() && *channel.seen.begin() + 40000 < channel.highest) {
        channel.seen.erase(channel.seen.begin());
      }
    }
    offset += fixed + data;
  }
  return any;
}

std::optional<std::uint64_t> offeredIndex(std::string_view comment) {
  const std::size_t hash = comment.find(" #");
  if (hash == std::string_view::npos) return std::nullopt;
  std::uint64_t index = 0;
  const char* first = comment.data() + hash + 2;
  const char* last = comment.data() + comment.size();
  const auto [ptr, ec] = std::from_chars(first, last, index);
  if (ec != std::errc{} || ptr == first) return std::nullopt;
  return index;
}

void countCapture(const std::vector<CapturedPacket>& packets, RetransmissionCounter& counter) {
  // The capture holds a delivered packet when it leaves the link and a dropped one when it
  // arrives, so a drop can precede packets sent before it. The comment's index restores the
  // order the sender emitted them in; packets without one keep their place at the end.
  struct Entry {
    std::uint64_t index;
    std::size_t position;
  };
  std::vector<Entry> order[2];
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const CapturedPacket& p = packets[i];
    if (p.comment.starts_with("duplicate")) continue;
    const auto index = offeredIndex(p.comment);
    order[static_cast<int>(p.direction)].push_back(
        Entry{index.value_or(std::numeric_limits<std::uint64_t>::max()), i});
  }
  for (auto& entries : order) {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.index < b.index; });
    for (const Entry& e : entries)
      counter.offer(packets[e.position].direction, packets[e.position].data);
  }
}

}  // namespace udpchat::lab
