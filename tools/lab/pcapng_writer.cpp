#include "lab/pcapng_writer.hpp"

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace udpchat::lab {
namespace {

// Block types and option codes from the pcapng specification (draft-ietf-opsawg-pcapng).
constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr std::uint32_t kInterfaceDescription = 0x00000001;
constexpr std::uint32_t kEnhancedPacket = 0x00000006;
constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr std::uint16_t kOptEnd = 0;
constexpr std::uint16_t kOptComment = 1;
constexpr std::uint16_t kEpbFlags = 2;
constexpr std::uint16_t kShbUserAppl = 4;
constexpr std::uint16_t kIfName = 2;
constexpr std::uint16_t kIfDescription = 3;
constexpr std::uint16_t kIfTsresol = 9;
constexpr std::uint32_t kSnapLength = 65535;

// A block is assembled in memory, little-endian byte by byte (the byte-order magic tells
// readers which order the section uses), then written with its length at both ends.
class Block {
 public:
  void u8(std::uint8_t v) { bytes_.push_back(static_cast<std::byte>(v)); }
  void u16(std::uint16_t v) {
    for (int shift = 0; shift < 16; shift += 8) u8(static_cast<std::uint8_t>(v >> shift));
  }
  void u32(std::uint32_t v) {
    for (int shift = 0; shift < 32; shift += 8) u8(static_cast<std::uint8_t>(v >> shift));
  }
  void u64(std::uint64_t v) {
    for (int shift = 0; shift < 64; shift += 8) u8(static_cast<std::uint8_t>(v >> shift));
  }
  void raw(std::span<const std::byte> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }
  void pad() {
    while (bytes_.size() % 4 != 0) u8(0);
  }
  void option(std::uint16_t code, std::span<const std::byte> value) {
    u16(code);
    u16(static_cast<std::uint16_t>(value.size()));
    raw(value);
    pad();
  }
  void option(std::uint16_t code, std::string_view text) {
    option(code, std::as_bytes(std::span<const char>(text.data(), text.size())));
  }
  void endOfOptions() {
    u16(kOptEnd);
    u16(0);
  }

  void writeTo(std::ostream& out, std::uint32_t type) const {
    // type, total length, body, total length
    const auto total = static_cast<std::uint32_t>(bytes_.size() + 12);
    Block frame;
    frame.u32(type);
    frame.u32(total);
    out.write(reinterpret_cast<const char*>(frame.bytes_.data()),
              static_cast<std::streamsize>(frame.bytes_.size()));
    out.write(reinterpret_cast<const char*>(bytes_.data()),
              static_cast<std::streamsize>(bytes_.size()));
    out.write(reinterpret_cast<const char*>(frame.bytes_.data() + 4), 4);
  }

 private:
  std::vector<std::byte> bytes_;
};

void writeInterface(std::ostream& out, std::string_view name, std::string_view description) {
  Block idb;
  idb.u16(kLinktypeRaw);
  idb.u16(0);  // reserved
  idb.u32(kSnapLength);
  idb.option(kIfName, name);
  idb.option(kIfDescription, description);
  const std::byte microseconds[] = {std::byte{6}};  // 10^-6 s
  idb.option(kIfTsresol, microseconds);
  idb.endOfOptions();
  idb.writeTo(out, kInterfaceDescription);
}

}  // namespace

PcapngWriter::PcapngWriter(std::ostream& out) : out_(out) {
  Block shb;
  shb.u32(kByteOrderMagic);
  shb.u16(1);                      // major version
  shb.u16(0);                      // minor version
  shb.u64(0xFFFFFFFFFFFFFFFFull);  // section length: not specified
  shb.option(kShbUserAppl, "udpchat link emulator");
  shb.endOfOptions();
  shb.writeTo(out_, kSectionHeader);
  writeInterface(out_, "udpchat-link",
                 "emulated link: outbound = client 198.18.0.1 -> server 198.18.1.1, inbound = "
                 "server -> client");
}

void PcapngWriter::writePacket(Direction direction, std::int64_t timestampMicros,
                               std::span<const std::byte> packet, std::string_view comment) {
  const std::size_t captured = std::min<std::size_t>(packet.size(), kSnapLength);
  const auto ts = static_cast<std::uint64_t>(timestampMicros);
  Block epb;
  epb.u32(0);  // interface id
  epb.u32(static_cast<std::uint32_t>(ts >> 32));
  epb.u32(static_cast<std::uint32_t>(ts));
  epb.u32(static_cast<std::uint32_t>(captured));
  epb.u32(static_cast<std::uint32_t>(packet.size()));
  epb.raw(packet.first(captured));
  epb.pad();
  std::byte flags[4];
  const std::uint32_t bits = direction == Direction::kClientToServer ? kEpbOutbound : kEpbInbound;
  for (int i = 0; i < 4; ++i) flags[i] = static_cast<std::byte>(bits >> (8 * i));
  epb.option(kEpbFlags, flags);
  if (!comment.empty()) epb.option(kOptComment, comment.substr(0, 0xFFFF));
  epb.endOfOptions();
  epb.writeTo(out_, kEnhancedPacket);
  ++packets_;
}

void PcapngWriter::flush() {
  out_.flush();
}

}  // namespace udpchat::lab
