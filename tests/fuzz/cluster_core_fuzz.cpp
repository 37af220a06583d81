// ServerCore in a cluster, fed by a bus whose events come from the input: log entries,
// directory records and deletions, settings (accounts, bans) and their deletions, signals,
// claim answers, lost keys and links, with the server's own users connecting and sending
// frames between them. Whatever arrives from the
// cluster must leave the server consistent: every frame it sends decodes, is a server-to-client
// type on its own channel and fits a frame, and registrations never outnumber sessions.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <sodium.h>

#include "fuzz_support.hpp"
#include "udpchat/cluster.hpp"
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
    UDPCHAT_FUZZ_CHECK(channel == protocol::channelOf(type));
    for (SessionId s : to) UDPCHAT_FUZZ_CHECK(open.contains(s));
  }
  void close(SessionId session) override { open.erase(session); }
  std::set<SessionId> open;
};

// Answers this server's own calls the way NATS would when all goes well (claims granted,
// appends logged in order), and hands out whatever the input injects besides.
class FuzzBus final : public cluster::Bus {
 public:
  cluster::ServerId serverId() const override { return 7; }
  void append(std::uint64_t tag, protocol::Bytes entry) override {
    cluster::BusEvent e;
    e.kind = grant ? cluster::BusEvent::Kind::Logged : cluster::BusEvent::Kind::AppendFailed;
    e.tag = tag;
    e.sequence = ++sequence;
    e.data = std::move(entry);
    events.push_back(std::move(e));
  }
  void claim(std::uint64_t tag, std::string key, protocol::Bytes) override {
    cluster::BusEvent e;
    e.kind = grant ? cluster::BusEvent::Kind::Claimed : cluster::BusEvent::Kind::ClaimFailed;
    e.tag = tag;
    e.key = std::move(key);
    e.taken = true;
    events.push_back(std::move(e));
  }
  void put(std::string, protocol::Bytes) override {}
  void remove(std::string, std::uint64_t, protocol::Bytes) override {}
  // Heard back, as every server hears the settings bucket.
  void putSetting(std::string key, protocol::Bytes setting) override {
    cluster::BusEvent e;
    e.kind = cluster::BusEvent::Kind::SettingPut;
    e.key = std::move(key);
    e.data = std::move(setting);
    if (grant) events.push_back(std::move(e));
  }
  void deleteSetting(std::string key) override {
    cluster::BusEvent e;
    e.kind = cluster::BusEvent::Kind::SettingDeleted;
    e.key = std::move(key);
    if (grant) events.push_back(std::move(e));
  }
  void signal(protocol::Bytes) override {}
  void poll(std::vector<cluster::BusEvent>& out) override {
    for (auto& e : events) out.push_back(std::move(e));
    events.clear();
  }

  std::deque<cluster::BusEvent> events;
  std::uint64_t sequence = 0;
  bool grant = true;
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
  config.passwordOps = crypto_pwhash_OPSLIMIT_MIN;
  config.passwordMemoryBytes = crypto_pwhash_MEMLIMIT_MIN;
  std::uint64_t token = 0;
  config.tokenSource = [&token] { return ++token; };
  CheckingOutbox outbox;
  FuzzBus bus;
  ServerCore core(config, outbox, nullptr, &bus);
  Now now{1'000'000, 1'700'000'000'000};
  std::vector<SessionId> sessions;
  SessionId next = 1;

  Input in(data, size);
  while (in.more()) {
    const std::uint8_t op = in.byte();
    switch (op % 5) {
      case 0: {  // a user connects
        const SessionId s = next++;
        outbox.open.insert(s);
        sessions.push_back(s);
        core.connected(s, now, 0);
        break;
      }
      case 1: {  // a frame from a user: session, length, bytes (channel 0)
        if (sessions.empty()) break;
        const SessionId s = sessions[in.byte() % sessions.size()];
        const std::size_t length = in.byte();
        const protocol::ByteSpan frame = in.bytes(length);
        if (outbox.open.contains(s)) core.received(s, kChannelReliable, frame, now);
        break;
      }
      case 2: {  // the cluster reports something: kind, sequence, key, data
        cluster::BusEvent e;
        e.kind = static_cast<cluster::BusEvent::Kind>(in.byte() % 12);
        e.sequence = in.byte();
        e.tag = in.byte();
        e.taken = (op & 0x80) != 0;
        const protocol::ByteSpan key = in.bytes(in.byte() % 40);
        e.key.assign(reinterpret_cast<const char*>(key.data()), key.size());
        const std::size_t low = in.byte();
        const std::size_t length = low | (static_cast<std::size_t>(in.byte() & 0x1F) << 8);
        const protocol::ByteSpan bytes = in.bytes(length);
        e.data.assign(bytes.begin(), bytes.end());
        bus.events.push_back(std::move(e));
        break;
      }
      case 3: {  // time passes, up to 25.5 s, and the server ticks
        const Millis step = Millis{in.byte()} * 100;
        now.mono += step;
        now.wall += step;
        core.tick(now);
        break;
      }
      case 4:  // the bus starts or stops granting this server's calls
        bus.grant = (op & 0x80) == 0;
        break;
    }
    core.serviceCluster(now);
    core.endTurn(now);
    const ServerStats stats = core.stats();
    UDPCHAT_FUZZ_CHECK(stats.registered <= stats.sessions);
    UDPCHAT_FUZZ_CHECK(stats.sessions <= outbox.open.size());
  }
  return 0;
}
