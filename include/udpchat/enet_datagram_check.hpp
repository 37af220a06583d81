// A look at one received ENet datagram before ENet 1.3.17 parses it, for the fragment commands
// that release accepts and later ENet releases refuse. The server's ENet transport drops such a
// datagram in ENet's intercept callback (docs/SECURITY.md, "ENet 1.3.17"). No ENet here: the
// datagram is read byte by byte in ENet's own layout (network byte order), so the check is
// tested and fuzzed without a host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace udpchat::enet {

enum class DatagramVerdict : std::uint8_t {
  Pass,         // nothing this check knows to be harmful; ENet does the rest of the checking
  BadFragment,  // a fragment command with no data, or claiming more fragments than bytes
};

// Walks the commands of `datagram` as ENet 1.3.17 does (a 2- or 4-byte header, then commands
// of their fixed size plus the data their length field names), and stops where ENet would stop
// (an unknown command, a command or its data running past the end). A compressed datagram is
// passed: a host without a compressor drops it unread. Datagrams carry no checksum: the
// server sets none.
//
// A fragment (reliable or unreliable) is refused when its data length is 0 or its fragment
// count exceeds the packet's total length. ENet 1.3.17 allocates a bitmap of fragmentCount bits
// for the first fragment of every packet and counts only totalLength against the peer's
// waiting-data limit, so a connected peer could make it hold 128 KiB per one-byte packet.
DatagramVerdict checkDatagram(std::span<const std::byte> datagram);

}  // namespace udpchat::enet
