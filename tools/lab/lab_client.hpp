// The lab's chat client: a minimal, measurement-grade client of the real protocol over a real
// ClientTransport (TCP, or ENet with the lab's five channels). It registers with Hello, sends
// SendChat on the channel it is told, PresencePing on channel 1 and WhoisRequest on channel 0,
// and hands back every frame it receives, decoded, with the time it arrived on the clock all
// the lab's threads share (steady clock, microseconds). No ClientCore: no pacing, no queueing,
// no user-interface work between the socket and the timestamp.
//
// Like the real client it sends a PresencePing every Welcome.pingIntervalMs (keepalive pings,
// on unless turned off): the server drops a TCP connection it has not heard from for 30 s, and
// over TCP those pings share the stream with the chat, which is part of what the lab measures.
//
// Thread affinity: create and use it on one thread, which must already be inside the client
// namespace (the transport's socket belongs to the namespace it is made in).
//
// Connecting under loss (docs/LAB.md, "Connecting under loss"): each attempt gets
// attemptTimeout (the transport's own connect timeout: TCP's SYN retries, ENet's CONNECT
// retransmissions go on inside it), then Hello must be answered within the same time; a failed
// or timed-out attempt is dropped and a fresh one started, up to `attempts` times. A retry
// registers as "<nick>2", "<nick>3"... because the server may still hold the earlier session.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "udpchat/client_transport.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/time.hpp"

namespace udpchat::lab {

// Microseconds on the steady clock: the clock every lab timestamp uses.
std::int64_t steadyMicros();

struct LabClientConfig {
  bool tcp = false;  // false: ENet with kLabChannelCount channels
  std::string nick;
  std::string room = "lab";
  Millis attemptTimeoutMs = 10'000;
  unsigned attempts = 4;
};

struct ConnectOutcome {
  bool ok = false;
  std::string error;      // the last attempt's failure, for people
  unsigned attempts = 0;  // attempts started
  double ms = 0;          // first attempt -> Welcome
};

struct Incoming {
  std::int64_t atUs = 0;  // when serviceOnce() returned it
  std::uint8_t channel = 0;
  protocol::Message message;
};

// ENet's timing of the connection at one moment (EnetClientTransport::peerTiming).
struct EnetTimingSample {
  std::int64_t atUs = 0;  // the shared clock
  std::uint32_t roundTripMs = 0;
  std::uint32_t varianceMs = 0;
  std::uint32_t retransmitTimeoutMs = 0;  // what a reliable command sent then would wait
};

// How often pump() records the ENet peer's timing while connected.
inline constexpr std::int64_t kEnetTimingEveryUs = 100'000;

class LabClient {
 public:
  // Throws std::runtime_error if the transport cannot be created.
  explicit LabClient(LabClientConfig config);
  ~LabClient();
  LabClient(const LabClient&) = delete;
  LabClient& operator=(const LabClient&) = delete;

  // Connects and registers, retrying as described above; blocks until Welcome or the last
  // attempt failed. Frames that arrive meanwhile (JoinEvents...) are dropped.
  ConnectOutcome connect(const std::string& host, std::uint16_t port);

  // Keepalive pings at the Welcome's interval (default on). The presence scenario turns them
  // off for the sender, which then sends its measured pings itself with makePing().
  void setKeepalivePings(bool on) { keepalive_ = on; }
  // A PresencePing with `seq`, the client's clock, and the echo of the newest pong (so the
  // server can measure the round trip), as the real client makes it.
  protocol::PresencePing makePing(std::uint32_t seq, std::int64_t nowUs) const;

  // Queues a frame; false when the transport refuses it (disconnected, over its queue limit).
  bool send(std::uint8_t channel, const protocol::Bytes& frame);
  // SendChat to the room.
  bool sendChat(std::uint8_t channel, const std::string& text);
  void flush();

  // Waits up to `maxWaitUs` for the socket, services the transport and appends what arrived.
  // Returns false once the connection is gone.
  bool pump(std::int64_t maxWaitUs, std::vector<Incoming>& out);

  bool connected() const;
  const protocol::Welcome& welcome() const { return welcome_; }
  const std::string& disconnectReason() const { return disconnectReason_; }
  std::uint64_t errorReplies() const { return errorReplies_; }
  // Over ENet, the peer's timing every kEnetTimingEveryUs while connected; empty over TCP.
  const std::vector<EnetTimingSample>& enetTimings() const { return enetTimings_; }
  // tcpi_total_retrans of the TCP socket (this end's retransmissions); nullopt over ENet.
  std::optional<std::uint64_t> tcpRetransmissions() const;

  // Leaves gracefully (QuitRequest, then the transport's close) within `graceMs`, then drops
  // the connection.
  void close(Millis graceMs);

 private:
  bool waitForRegistration(std::int64_t deadlineUs);
  void keepAlive(std::int64_t nowUs);

  LabClientConfig config_;
  std::unique_ptr<ClientTransport> transport_;
  protocol::Welcome welcome_;
  std::string disconnectReason_;
  std::uint64_t errorReplies_ = 0;
  bool gone_ = false;
  bool keepalive_ = true;
  std::int64_t nextPingUs_ = 0;  // 0: not registered yet
  std::uint32_t pingSeq_ = 0;
  std::vector<EnetTimingSample> enetTimings_;
  std::int64_t nextTimingUs_ = 0;
  std::uint64_t lastPongServerTime_ = 0;
  std::int64_t lastPongAtUs_ = 0;
};

}  // namespace udpchat::lab
