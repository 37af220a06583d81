// Every wire limit in one place. docs/PROTOCOL.md lists the same numbers; a test checks that the
// largest frame each message type can produce fits kMaxFrameBytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace udpchat {

inline constexpr std::uint8_t kProtocolVersion = 2;  // 2: client ids on chat, private and errors

// Hard limits of the wire format (bytes unless stated). A server may enforce smaller ones
// (flags), never larger ones.
inline constexpr std::size_t kMaxFrameBytes = 8192;
inline constexpr std::size_t kMaxNickBytes = 32;
inline constexpr std::size_t kMaxRoomBytes = 32;
inline constexpr std::size_t kMaxTextBytes = 4000;
inline constexpr std::size_t kMaxSubjectBytes = 128;
inline constexpr std::size_t kMaxTopicBytes = 300;
inline constexpr std::size_t kMaxReasonBytes = 300;
inline constexpr std::size_t kMaxAwayBytes = 300;
inline constexpr std::size_t kMaxMotdBytes = 1000;
inline constexpr std::size_t kMaxPasswordBytes = 128;
// A password hash string (Argon2id, as libsodium writes it: under its crypto_pwhash_STRBYTES).
inline constexpr std::size_t kMaxHashBytes = 128;
inline constexpr std::size_t kMaxErrorTextBytes = 400;
inline constexpr std::size_t kMaxNameBytes = 64;          // server and client software names
inline constexpr std::size_t kMaxRoomsPerUser = 16;
inline constexpr std::size_t kMaxWhoEntriesPerFrame = 64;

// Defaults of the server's flags.
inline constexpr std::size_t kDefaultMaxClients = 256;
inline constexpr std::size_t kDefaultHistory = 50;
inline constexpr std::size_t kMaxHistory = 1000;
// /history pages and /search answers (HistoryRequest, SearchRequest): messages per answer, and
// the longest search text.
inline constexpr std::size_t kMaxHistoryPage = 200;
inline constexpr std::size_t kDefaultHistoryPage = 50;
inline constexpr std::size_t kMaxSearchResults = 50;
inline constexpr std::size_t kMaxSearchBytes = 200;
// Entries per BanListReply page, and bans in force at once.
inline constexpr std::size_t kMaxBansPerFrame = 16;
inline constexpr std::size_t kMaxBans = 10000;
// Account passwords: the shortest accepted (the longest is kMaxPasswordBytes), and how many
// private messages are kept for one account while it is offline.
inline constexpr std::size_t kMinPasswordBytes = 8;
inline constexpr std::size_t kMaxKeptPerAccount = 100;
inline constexpr std::size_t kDefaultNickMin = 3;
inline constexpr std::size_t kDefaultNickMax = 16;
inline constexpr std::size_t kDefaultMaxMessageBytes = 2000;
inline constexpr std::uint32_t kDefaultRateBurst = 10;     // messages
inline constexpr std::uint32_t kDefaultRatePerSecond = 5;  // messages per second
// Highest --rate-burst and --rate; high values effectively switch flood control off, which load
// tests need. Welcome carries them as u16, so values above 65535 are announced as 65535.
inline constexpr std::uint32_t kMaxRateLimit = 1'000'000;
inline constexpr std::uint16_t kDefaultPort = 7777;
// The round trip ENet assumes for a peer before it has measured one, on both ends (ENet's own
// guess is 500 ms; see enet_handles.hpp, applyHandshakeTiming). --initial-rtt sets it.
inline constexpr std::uint32_t kDefaultInitialRttMs = 100;
inline constexpr std::uint32_t kMaxInitialRttMs = 5000;
// SO_RCVBUF the server asks for its UDP socket (ENet's own is 256 KiB); the kernel grants up to
// net.core.rmem_max. --udp-rcvbuf sets it.
inline constexpr int kDefaultUdpReceiveBufferBytes = 4 << 20;

// ENet channels. Channel 0 carries everything that must arrive, in order; channel 1 carries
// what is worthless when late (presence pings, typing indicators).
inline constexpr std::uint8_t kChannelReliable = 0;
inline constexpr std::uint8_t kChannelUnreliable = 1;
inline constexpr std::size_t kChannelCount = 2;

// Lab channels (udpchat-lab; the server accepts them only with --lab-channels). Chat may travel
// on each of them and is relayed to the room on the channel it arrived on, so the lab can compare
// delivery modes on the real chat: bulk is reliable with an ordering of its own (a transfer does
// not hold chat up), the other two are unreliable, sequenced or not.
inline constexpr std::uint8_t kChannelBulk = 2;
inline constexpr std::uint8_t kChannelLabUnreliable = 3;
inline constexpr std::uint8_t kChannelLabUnsequenced = 4;
inline constexpr std::size_t kLabChannelCount = 5;

}  // namespace udpchat
