// LAN discovery: the probe a client broadcasts and the answer each server sends back, on the
// server's own UDP port (docs/PROTOCOL.md section 12). Byte spans only: no sockets here.
//
// Both datagrams start with 4 magic bytes that no ENet datagram udpchat sends can start with,
// so the server recognises a probe before ENet sees it. An answer is never longer than the probe
// it answers: a forged source gains nothing by probing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "udpchat/protocol.hpp"

namespace udpchat::discovery {

inline constexpr std::array<std::uint8_t, 4> kProbeMagic = {'U', 'C', 'D', '?'};
inline constexpr std::array<std::uint8_t, 4> kAnswerMagic = {'U', 'C', 'D', '!'};
inline constexpr std::uint8_t kVersion = 1;

// What udpchat-client sends: room for an answer with a 64-byte name.
inline constexpr std::size_t kProbeBytes = 96;
// A probe is magic, version and nonce; anything after is padding. Longer datagrams are not
// probes.
inline constexpr std::size_t kMinProbeBytes = 9;
inline constexpr std::size_t kMaxProbeBytes = 512;
// An answer without its name: magic, version, nonce, server id, protocol version, port, users,
// max clients, flags, name length.
inline constexpr std::size_t kAnswerFixedBytes = 4 + 1 + 4 + 8 + 1 + 2 + 2 + 2 + 1 + 1;
inline constexpr std::size_t kMaxNameBytes = 64;
inline constexpr std::uint8_t kFlagFull = 0x01;

struct Probe {
  std::uint32_t nonce = 0;
  std::size_t length = 0;  // bytes the probe carried: the answer's upper bound
};

struct Answer {
  std::uint32_t nonce = 0;          // the probe's, so a client ignores answers to others
  std::uint64_t serverId = 0;       // random per server run: one server reached two ways is one
  std::uint8_t protocolVersion = 0; // kProtocolVersion of the server
  std::uint16_t port = 0;           // UDP (ENet) and TCP
  std::uint16_t users = 0;          // registered now (saturates at 65535)
  std::uint16_t maxClients = 0;
  bool full = false;
  std::string name;                 // the server's --server-name, UTF-8, no control characters
  bool operator==(const Answer&) const = default;
};

using Bytes = protocol::Bytes;
using ByteView = protocol::ByteSpan;

// The 4 magic bytes of a probe, and nothing else: the server's first, cheap test.
bool startsLikeProbe(ByteView datagram);

Bytes encodeProbe(std::uint32_t nonce);  // kProbeBytes long, zero padded
std::optional<Probe> decodeProbe(ByteView datagram);

// The answer to a probe of `probeLength` bytes: the name is cut (at a UTF-8 boundary) so that the
// answer is at most that long; nullopt when not even the fixed part fits.
std::optional<Bytes> encodeAnswer(const Answer& answer, std::size_t probeLength);
// nullopt unless it is a well-formed answer of this version with a valid name.
std::optional<Answer> decodeAnswer(ByteView datagram);

}  // namespace udpchat::discovery
