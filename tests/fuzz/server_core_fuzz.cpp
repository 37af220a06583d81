// ServerCore driven by a sequence of events decoded from the input: connects (from a few
// addresses), disconnects, frames on any channel, time steps with ticks. Every frame the server
// sends must decode, be a server-to-client type on its own channel and fit a frame; sessions and
// registrations must stay consistent.
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <vector>

#include <sodium.h>

#include "../unit/memory_store.hpp"
#include "fuzz_support.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/outbox.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/server_core.hpp"

namespace {

using namespace udpchat;

class CheckingOutbox final : public Outbox {
 public:
  void send(std::span<const SessionId> to, std::uint8_t channel,
            const SharedFrame& frame) override {
    UDPCHAT_FUZZ_CHECK(frame && !to.empty());
    UDPCHAT_FUZZ_CHECK(frame->size() <= kMaxFrameBytes);
    auto decoded = protocol::decode(*frame);
    UDPCHAT_FUZZ_CHECK(decoded.ok());
    const protocol::MessageType type = protocol::typeOf(*decoded);
    UDPCHAT_FUZZ_CHECK(!protocol::isClientToServer(type));
    UDPCHAT_FUZZ_CHECK(channel == protocol::channelOf(type) || channel >= kChannelBulk);
    for (SessionId s : to) UDPCHAT_FUZZ_CHECK(open.contains(s));
  }
  void close(SessionId session) override { open.erase(session); }
  std::set<SessionId> open;
};

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool more() const { return pos_ < size_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  protocol::ByteSpan bytes(std::size_t n) {
    n = std::min(n, size_ - pos_);
    protocol::ByteSpan out(reinterpret_cast<const std::byte*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ServerConfig config;
  config.maxClients = 8;
  config.operPassword = "sesame";
  config.exemptLoopback = false;
  // The cheapest Argon2id libsodium allows: the hash's cost is not what is under test, and at
  // the default 16 MiB a /register or /identify in an input took most of its run.
  config.passwordOps = crypto_pwhash_OPSLIMIT_MIN;
  config.passwordMemoryBytes = crypto_pwhash_MEMLIMIT_MIN;
  std::uint64_t token = 0;
  config.tokenSource = [&token] { return ++token; };  // deterministic runs
  CheckingOutbox outbox;
  // Inputs of odd length run with a store, whose commits the input can make fail: frames are
  // then held until the end of a turn, and a failed commit refuses what the turn accepted.
  udpchat::testing::MemoryStore store;
  ServerCore core(config, outbox, size % 2 == 1 ? &store : nullptr);
  Now now{1'000'000, 1'700'000'000'000};
  std::vector<SessionId> sessions;
  SessionId next = 1;

  Input in(data, size);
  while (in.more()) {
    const std::uint8_t op = in.byte();
    if (op >= 0xF0) {  // the loop turn ends; the high bits say whether its commit fails
      store.failCommits = (op & 0x01) != 0;
      core.endTurn(now);
      continue;
    }
    switch (op % 4) {
      case 0: {  // connect from one of four addresses
        const SessionId s = next++;
        outbox.open.insert(s);
        sessions.push_back(s);
        core.connected(s, now, 0xC6120000u + (op >> 2) % 4);
        break;
      }
      case 1: {  // the transport reports a session gone
        if (sessions.empty()) break;
        const SessionId s = sessions[in.byte() % sessions.size()];
        if (!outbox.open.contains(s)) break;
        outbox.open.erase(s);
        core.disconnected(s, now);
        break;
      }
      case 2: {  // a frame: session, channel, length, bytes
        if (sessions.empty()) break;
        const SessionId s = sessions[in.byte() % sessions.size()];
        const std::uint8_t channel = in.byte() % kLabChannelCount;
        const std::size_t low = in.byte();  // two statements: the order of the reads is fixed
        const std::size_t length = low | (static_cast<std::size_t>(in.byte() & 0x1F) << 8);
        const protocol::ByteSpan frame = in.bytes(length);
        if (outbox.open.contains(s)) core.received(s, channel, frame, now);
        break;
      }
      case 3: {  // time passes, up to 25.5 s, and the server ticks
        const Millis step = Millis{in.byte()} * 100;
        now.mono += step;
        now.wall += step;
        core.tick(now);
        core.endTurn(now);
        break;
      }
    }
    const ServerStats stats = core.stats();
    UDPCHAT_FUZZ_CHECK(stats.registered <= stats.sessions);
    UDPCHAT_FUZZ_CHECK(stats.sessions <= outbox.open.size());
  }
  core.endTurn(now);
  return 0;
}
