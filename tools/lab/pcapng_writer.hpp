// Writes what crossed the emulated link as pcapng, which Wireshark and tcpdump open: one
// interface (LINKTYPE_RAW: the packets are bare IP), microsecond timestamps, the direction in
// each packet's epb_flags (client->server is outbound, server->client inbound), and a comment
// on every packet saying what the link did to it ("dropped: loss", "duplicate", ...).
// One interface rather than one per direction because libpcap 1.10 (tcpdump) refuses a second
// LINKTYPE_RAW interface. Pure: writes to any std::ostream, so it is tested without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string_view>

#include "lab/link_config.hpp"

namespace udpchat::lab {

inline constexpr std::uint16_t kLinktypeRaw = 101;  // LINKTYPE_RAW: starts with the IP header
inline constexpr std::uint32_t kEpbInbound = 1;     // epb_flags direction bits: server->client
inline constexpr std::uint32_t kEpbOutbound = 2;    // epb_flags direction bits: client->server

class PcapngWriter {
 public:
  // Writes the Section Header Block and the Interface Description Block. `out` must outlive
  // the writer; it is not closed, and not flushed except by flush().
  explicit PcapngWriter(std::ostream& out);

  // One Enhanced Packet Block. `timestampMicros` counts microseconds since the Unix epoch;
  // `comment` (may be empty) becomes the packet's opt_comment.
  void writePacket(Direction direction, std::int64_t timestampMicros,
                   std::span<const std::byte> packet, std::string_view comment);

  void flush();
  std::uint64_t packetsWritten() const { return packets_; }

 private:
  std::ostream& out_;
  std::uint64_t packets_ = 0;
};

}  // namespace udpchat::lab
