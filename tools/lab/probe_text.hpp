// The text of the lab's chat messages. Each message the lab sends is a real SendChat whose text
// carries what the receiver needs to account for it: its kind, its sequence number and the time
// it was sent on the clock the sender and the receiver share (both run in one process):
//
//   "lab chat 17 5123456789 ........"   kind, seq, send time in microseconds, padding
//
// Padding ('.') brings the text to the requested size, so message size is a parameter of the
// experiment. Only printable ASCII: the server refuses control characters. No sockets, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace udpchat::lab {

enum class ProbeKind : std::uint8_t {
  kChat,    // a measured chat message
  kWarmup,  // sent before the measurement, so both transports start with a measured RTT
  kBulk,    // a piece of the bulk transfer (head-of-line scenario)
};

// "chat", "warm", "bulk".
std::string_view to_string(ProbeKind kind);

struct Probe {
  ProbeKind kind = ProbeKind::kChat;
  std::uint64_t seq = 0;    // from 0, per kind
  std::int64_t sentUs = 0;  // microseconds on the shared steady clock

  bool operator==(const Probe&) const = default;
};

// The text for `probe`, padded to `bytes` bytes (never shorter than the header, about 30 bytes
// with today's clock values).
std::string formatProbe(const Probe& probe, std::size_t bytes);

// The probe a text carries, or nullopt when it is not one of the lab's (strict: exact kind,
// decimal digits, single spaces, only '.' after the header).
std::optional<Probe> parseProbe(std::string_view text);

}  // namespace udpchat::lab
