#include "udpchat/enet_datagram_check.hpp"

#include <enet/enet.h>

#include <array>

namespace udpchat::enet {
namespace {

std::uint32_t readU16(std::span<const std::byte> at) {
  return std::to_integer<std::uint32_t>(at[0]) << 8 | std::to_integer<std::uint32_t>(at[1]);
}

std::uint32_t readU32(std::span<const std::byte> at) {
  return readU16(at) << 16 | readU16(at.subspan(2));
}

// ENet 1.3.17's commandSizes table, indexed by command number (0 and >= 13 are not commands).
constexpr std::array<std::size_t, ENET_PROTOCOL_COMMAND_COUNT> kCommandBytes = {
    0,
    sizeof(ENetProtocolAcknowledge),
    sizeof(ENetProtocolConnect),
    sizeof(ENetProtocolVerifyConnect),
    sizeof(ENetProtocolDisconnect),
    sizeof(ENetProtocolPing),
    sizeof(ENetProtocolSendReliable),
    sizeof(ENetProtocolSendUnreliable),
    sizeof(ENetProtocolSendFragment),
    sizeof(ENetProtocolSendUnsequenced),
    sizeof(ENetProtocolBandwidthLimit),
    sizeof(ENetProtocolThrottleConfigure),
    sizeof(ENetProtocolSendFragment),
};
static_assert(sizeof(ENetProtocolSendFragment) == 24 && sizeof(ENetProtocolSendReliable) == 6 &&
                  sizeof(ENetProtocolSendUnreliable) == 8 &&
                  sizeof(ENetProtocolSendUnsequenced) == 8,
              "the offsets below follow ENet 1.3's layout");

// Where a command's data length (u16) sits, for the commands that carry data; 0 for the rest.
std::size_t dataLengthOffset(std::uint8_t command) {
  switch (command) {
    case ENET_PROTOCOL_COMMAND_SEND_RELIABLE:
      return 4;
    case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE:
    case ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED:
    case ENET_PROTOCOL_COMMAND_SEND_FRAGMENT:
    case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT:
      return 6;
    default:
      return 0;
  }
}

bool isFragment(std::uint8_t command) {
  return command == ENET_PROTOCOL_COMMAND_SEND_FRAGMENT ||
         command == ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT;
}

}  // namespace

DatagramVerdict checkDatagram(std::span<const std::byte> datagram) {
  if (datagram.size() < 2) return DatagramVerdict::Pass;
  const std::uint32_t field = readU16(datagram);
  if ((field & ENET_PROTOCOL_HEADER_FLAG_COMPRESSED) != 0) return DatagramVerdict::Pass;
  std::size_t at = (field & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) != 0 ? 4 : 2;
  while (at + sizeof(ENetProtocolCommandHeader) <= datagram.size()) {
    const auto command =
        static_cast<std::uint8_t>(std::to_integer<unsigned>(datagram[at]) & ENET_PROTOCOL_COMMAND_MASK);
    if (command >= kCommandBytes.size()) break;
    const std::size_t fixed = kCommandBytes[command];
    if (fixed == 0 || fixed > datagram.size() - at) break;
    const auto body = datagram.subspan(at, fixed);
    std::size_t data = 0;
    if (const std::size_t offset = dataLengthOffset(command); offset != 0) {
      data = readU16(body.subspan(offset));
    }
    if (isFragment(command)) {
      const std::uint32_t fragmentCount = readU32(body.subspan(8));
      const std::uint32_t totalLength = readU32(body.subspan(16));
      if (data == 0 || totalLength < fragmentCount) return DatagramVerdict::BadFragment;
    }
    if (data > datagram.size() - at - fixed) break;  // ENet stops here too
    at += fixed + data;
  }
  return DatagramVerdict::Pass;
}

}  // namespace udpchat::enet
