// Retransmissions as seen on the wire, counted the same way for both transports from what the
// emulated link captured. The transports' own counters see only one end (a client's
// tcpi_total_retrans counts nothing the server resends; ENet keeps its counts in the peer), while
// every packet of both directions crosses the emulator. No sockets: works on bytes.
//
//  - TCP: a segment that carries sequence space (data, SYN or FIN) starting below the highest
//    sequence number its flow has already sent is a retransmission (timeouts, fast retransmit,
//    tail-loss probes of old data, SYN retries alike).
//  - ENet: a reliable command (ACKNOWLEDGE flag) whose channel and reliable sequence number its
//    flow has already sent is a retransmission (one per command: a datagram may carry several).
//    A flow is the UDP address pair plus ENet's peer id and session bits, so a fresh connection
//    from the same socket starts a new count; a retried CONNECT counts as a retransmission.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "lab/link_config.hpp"
#include "udpchat/result.hpp"

namespace udpchat::lab {

// One Enhanced Packet Block of the link's capture.
struct CapturedPacket {
  Direction direction = Direction::kClientToServer;
  std::string comment;          // the emulator's verdict ("delivered; c2s #3; ...")
  std::vector<std::byte> data;  // the IP packet
};

// Parses a pcapng written by PcapngWriter (little-endian, one section). The error names the
// byte offset of the first problem.
Result<std::vector<CapturedPacket>, std::string> parseLinkCapture(std::span<const std::byte> file);

class RetransmissionCounter {
 public:
  // One packet as its sender emitted it, whatever the link then did to it. Feed every packet
  // once, in the order they were sent per direction; the link's own duplicates must be left out.
  void offer(Direction direction, std::span<const std::byte> ipPacket);

  std::uint64_t retransmissions(Direction direction) const {
    return retransmissions_[static_cast<int>(direction)];
  }
  std::uint64_t tcpSegments() const { return tcpSegments_; }
  std::uint64_t enetCommands() const { return enetCommands_; }
  // Packets neither TCP nor parseable ENet (IP fragments, compressed ENet, other protocols).
  std::uint64_t unparsed() const { return unparsed_; }

 private:
  struct FlowKey {
    std::uint32_t src = 0;
    std::uint32_t dst = 0;
    std::uint16_t srcPort = 0;
    std::uint16_t dstPort = 0;
    std::uint16_t enetPeer = 0;  // peer id and session bits; 0 for TCP
    std::uint8_t channel = 0;    // ENet channel (0xFF: connection commands); 0 for TCP
    bool operator<(const FlowKey& o) const {
      return std::tie(src, dst, srcPort, dstPort, enetPeer, channel) <
             std::tie(o.src, o.dst, o.srcPort, o.dstPort, o.enetPeer, o.channel);
    }
  };
  struct TcpFlow {
    std::uint64_t nextEnd = 0;  // highest sequence number sent + 1, unwrapped
  };
  struct EnetChannel {
    std::uint64_t highest = 0;  // highest reliable sequence number seen, unwrapped
    std::set<std::uint64_t> seen;
  };

  bool offerTcp(Direction d, FlowKey key, std::span<const std::byte> segment);
  bool offerEnet(Direction d, FlowKey key, std::span<const std::byte> datagram);

  std::uint64_t retransmissions_[2] = {0, 0};
  std::uint64_t tcpSegments_ = 0;
  std::uint64_t enetCommands_ = 0;
  std::uint64_t unparsed_ = 0;
  std::map<FlowKey, TcpFlow> tcp_;
  std::map<FlowKey, EnetChannel> enet_;
};

// The sender's index of a captured packet, from the emulator's comment ("...; c2s #17; ...").
std::optional<std::uint64_t> offeredIndex(std::string_view comment);

// Feeds every packet of a parsed capture to `counter` in the order each direction's sender
// emitted them (the comments' indices), leaving out the copies the link duplicated.
void countCapture(const std::vector<CapturedPacket>& packets, RetransmissionCounter& counter);

}  // namespace udpchat::lab
