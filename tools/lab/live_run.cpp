#include "lab/live_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <variant>
#include <vector>

#include "lab/lab_client.hpp"
#include "lab/lab_run.hpp"
#include "lab/probe_text.hpp"
#include "lab/tun_link.hpp"
#include "udpchat/limits.hpp"

namespace udpchat::lab {
namespace {

constexpr std::int64_t kTickUs = 1000;     // longest wait in a client loop: ENet's timers
constexpr Millis kCloseGraceMs = 300;      // per client, at the end
constexpr std::int64_t kLeadUs = 100'000;  // from "all connected" to the first message
constexpr double kMaxRate = 200;           // messages a second

}  // namespace

std::optional<std::string> validate(const LiveOptions& o) {
  if (!std::isfinite(o.lossPct) || o.lossPct < 0 || o.lossPct > 100) {
    return "--loss must be a percentage from 0 to 100";
  }
  if (!std::isfinite(o.delayMs) || o.delayMs < 0 || o.delayMs > 10'000) {
    return "--delay must be from 0 to 10000 ms";
  }
  if (!std::isfinite(o.jitterMs) || o.jitterMs < 0 || o.jitterMs > o.delayMs) {
    return "--jitter must be from 0 to the delay";
  }
  if (!std::isfinite(o.rate) || o.rate <= 0 || o.rate > kMaxRate) {
    return "--rate must be more than 0 and at most 200 messages a second";
  }
  if (o.messageBytes < 40 || o.messageBytes > kMaxTextBytes) {
    return "--size must be from 40 (the probe's header) to " + std::to_string(kMaxTextBytes) +
           " bytes";
  }
  if (o.durationS && (!std::isfinite(*o.durationS) || *o.durationS <= 0)) {
    return "--duration must be more than 0 seconds";
  }
  return std::nullopt;
}

struct LiveLab::State {
  struct Lane {
    TransportSpec spec;
    std::unique_ptr<TunLink> link;
    LabServer server;
    LiveStream stream;  // under State::mutex
    bool senderReady = false;
    bool receiverReady = false;
    ConnectOutcome senderConnect;
    ConnectOutcome receiverConnect;
    std::string failure;
    std::thread sender;
    std::thread receiver;
  };

  LiveOptions options;
  CompareOptions compare;  // the link and server settings in the form runOnce takes them
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::unique_ptr<Lane>> lanes;
  std::vector<LiveSegment> segments;
  std::int64_t startUs = 0;
  bool go = false;
  bool draining = false;
  std::atomic<bool> stopSending{false};
  std::atomic<bool> stop{false};
  bool stopped = false;

  template <class F>
  void update(F&& f) {
    {
      const std::lock_guard lock(mutex);
      f();
    }
    changed.notify_all();
  }

  LabClientConfig clientConfig(const Lane& lane, const char* nick) const {
    LabClientConfig config;
    config.tcp = lane.spec.tcp;
    config.nick = nick;
    config.attemptTimeoutMs = options.attemptTimeoutMs;
    config.attempts = options.connectAttempts;
    return config;
  }

  // Connects `client` and records the outcome for start(); true when it is in.
  bool connect(LabClient& client, ConnectOutcome& outcome, bool& ready) {
    const ConnectOutcome connected = client.connect(kServerAddress, kLabPort);
    update([&] {
      outcome = connected;
      ready = true;
    });
    return connected.ok;
  }

  void senderMain(Lane& lane) {
    LabClient client(clientConfig(lane, "sender"));
    if (!connect(client, lane.senderConnect, lane.senderReady)) return;
    std::int64_t t0 = 0;
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return go || stop.load(); });
      t0 = startUs;
    }
    const auto intervalUs = static_cast<std::int64_t>(1e6 / options.rate);
    std::uint64_t made = 0;
    // Made but refused by the transport (a full TCP queue): nothing behind may pass.
    std::deque<std::string> pending;
    std::vector<Incoming> incoming;
    while (!stop.load()) {
      const std::int64_t now = steadyMicros();
      std::int64_t nextDue = now + kTickUs;
      if (!stopSending.load()) {
        while (true) {
          const std::int64_t due = t0 + static_cast<std::int64_t>(made) * intervalUs;
          if (due > now) {
            nextDue = std::min(nextDue, due);
            break;
          }
          pending.push_back(formatProbe({ProbeKind::kChat, made, now}, options.messageBytes));
          update([&] { lane.stream.sent(made, now); });
          ++made;
        }
      }
      bool sentAny = false;
      while (!pending.empty() && client.sendChat(lane.spec.chatChannel, pending.front())) {
        pending.pop_front();
        sentAny = true;
      }
      if (sentAny) client.flush();
      incoming.clear();
      const std::int64_t wait = std::clamp<std::int64_t>(nextDue - steadyMicros(), 0, kTickUs);
      if (!client.pump(wait, incoming)) {
        update([&] { lane.failure = "the sender's connection ended: " + client.disconnectReason(); });
        return;
      }
    }
    client.close(kCloseGraceMs);
  }

  void receiverMain(Lane& lane) {
    LabClient client(clientConfig(lane, "receiver"));
    if (!connect(client, lane.receiverConnect, lane.receiverReady)) return;
    std::vector<Incoming> incoming;
    while (!stop.load()) {
      incoming.clear();
      if (!client.pump(kTickUs, incoming)) {
        update([&] {
          lane.failure = "the receiver's connection ended: " + client.disconnectReason();
        });
        return;
      }
      bool any = false;
      const std::lock_guard lock(mutex);
      for (const Incoming& in : incoming) {
        const auto* chat = std::get_if<protocol::ChatEvent>(&in.message);
        if (chat == nullptr) continue;
        const auto probe = parseProbe(chat->text);
        if (!probe || probe->kind != ProbeKind::kChat) continue;
        any |= lane.stream.arrived(probe->seq, probe->sentUs, in.atUs);
      }
      if (any) changed.notify_all();
    }
    client.close(kCloseGraceMs);
  }

  template <class Body>
  std::thread guarded(Lane& lane, Body body, bool sender) {
    return std::thread([this, &lane, body, sender] {
      try {
        enterNamespace(lane.link->clientSide());  // before the client makes its socket
        (this->*body)(lane);
      } catch (const std::exception& e) {
        update([&] {
          lane.failure = std::string(sender ? "sender: " : "receiver: ") + e.what();
          // A thread that died before connecting must not leave start() waiting for it.
          (sender ? lane.senderReady : lane.receiverReady) = true;
        });
      }
    });
  }
};

namespace {

LiveLinkCounts countsOf(const LinkStats& s) {
  LiveLinkCounts c;
  for (const DirectionStats* d : {&s.clientToServer, &s.serverToClient}) {
    c.packets += d->offered;
    c.dropped += d->lost + d->burstLost + d->queueFull;
  }
  return c;
}

}  // namespace

LiveLab::LiveLab(LiveOptions options) : state_(std::make_unique<State>()) {
  State& st = *state_;
  st.options = std::move(options);
  if (auto problem = validate(st.options)) throw std::runtime_error(*problem);
  st.compare.delayMs = st.options.delayMs;
  st.compare.jitterMs = st.options.jitterMs;
  st.compare.serverBinary = st.options.serverBinary;
  for (const char* name : {"tcp", "enet-reliable"}) {
    auto lane = std::make_unique<State::Lane>();
    lane->spec = *findTransport(name);
    LinkOptions link;
    link.config = linkFor(st.compare, st.options.lossPct, st.options.seed);
    link.publishNamespaces = false;
    lane->link = std::make_unique<TunLink>(link);
    if (auto problem = lane->server.start(lane->link->serverSide(), st.compare)) {
      throw std::runtime_error(*problem);
    }
    st.lanes.push_back(std::move(lane));
  }
}

LiveLab::~LiveLab() { stop(); }

std::optional<std::string> LiveLab::start(const std::atomic<bool>& cancel) {
  State& st = *state_;
  for (auto& lane : st.lanes) {
    lane->receiver = st.guarded(*lane, &State::receiverMain, false);
    lane->sender = st.guarded(*lane, &State::senderMain, true);
  }
  std::unique_lock lock(st.mutex);
  while (!cancel.load()) {
    const bool ready = std::all_of(st.lanes.begin(), st.lanes.end(), [](const auto& lane) {
      return lane->senderReady && lane->receiverReady;
    });
    if (ready) break;
    st.changed.wait_for(lock, std::chrono::milliseconds(50));
  }
  if (cancel.load()) return "stopped before every client had connected";
  for (const auto& lane : st.lanes) {
    const std::string name(lane->spec.name);
    if (!lane->failure.empty()) return name + ": " + lane->failure;
    if (!lane->receiverConnect.ok) {
      return name + ": the receiver could not connect: " + lane->receiverConnect.error;
    }
    if (!lane->senderConnect.ok) {
      return name + ": the sender could not connect: " + lane->senderConnect.error;
    }
  }
  st.startUs = steadyMicros() + kLeadUs;
  st.segments = {{st.options.lossPct, st.startUs}};
  st.go = true;
  lock.unlock();
  st.changed.notify_all();
  return std::nullopt;
}

bool LiveLab::setLossPct(double lossPct) {
  State& st = *state_;
  if (!std::isfinite(lossPct) || lossPct < 0 || lossPct > 100) return false;
  const std::lock_guard lock(st.mutex);
  for (const auto& lane : st.lanes) lane->link->setLossPct(lossPct);
  const std::int64_t now = std::max(steadyMicros(), st.startUs);
  // A setting no message was sent under (keys pressed in a row) is replaced, not kept.
  const auto unused = [&](const LiveSegment& segment) {
    return std::none_of(st.lanes.begin(), st.lanes.end(), [&](const auto& lane) {
      const auto& m = lane->stream.messages();
      return !m.empty() && m.back().sentUs >= segment.fromUs;
    });
  };
  if (st.segments.size() > 1 && unused(st.segments.back())) {
    st.segments.back().lossPct = lossPct;
    // Back to where it was (+ then -): one setting, as if nothing had been pressed.
    if (st.segments[st.segments.size() - 2].lossPct == lossPct) st.segments.pop_back();
  } else {
    st.segments.push_back({lossPct, now});
  }
  return true;
}

double LiveLab::lossPct() const {
  const std::lock_guard lock(state_->mutex);
  return state_->segments.empty() ? state_->options.lossPct : state_->segments.back().lossPct;
}

void LiveLab::stopSending() {
  state_->stopSending.store(true);
  const std::lock_guard lock(state_->mutex);
  state_->draining = true;
}

bool LiveLab::settled() const {
  const std::lock_guard lock(state_->mutex);
  for (const auto& lane : state_->lanes) {
    if (!lane->failure.empty()) return true;
    const auto& messages = lane->stream.messages();
    if (std::any_of(messages.begin(), messages.end(),
                    [](const LiveMessage& m) { return !m.arrivedUs; })) {
      return false;
    }
  }
  return true;
}

std::string LiveLab::failure() const {
  const std::lock_guard lock(state_->mutex);
  for (const auto& lane : state_->lanes) {
    if (!lane->failure.empty()) return std::string(lane->spec.name) + ": " + lane->failure;
  }
  return {};
}

LiveBoard LiveLab::board() const {
  const State& st = *state_;
  LiveBoard board;
  board.delayMs = st.options.delayMs;
  board.rate = st.options.rate;
  board.durationS = st.options.durationS;
  const std::lock_guard lock(st.mutex);
  board.nowUs = steadyMicros();
  board.startUs = st.startUs;
  board.segments = st.segments;
  if (board.segments.empty()) board.segments = {{st.options.lossPct, board.nowUs}};
  board.draining = st.draining;
  for (const auto& lane : st.lanes) {
    LiveLane view;
    view.transport = std::string(lane->spec.name);
    view.title = lane->spec.tcp ? "TCP" : "ENet reliable";
    view.stream = lane->stream;
    view.link = countsOf(lane->link->stats());
    board.lanes.push_back(std::move(view));
  }
  return board;
}

void LiveLab::stop() {
  State& st = *state_;
  if (st.stopped) return;
  st.stopped = true;
  st.stop.store(true);
  st.changed.notify_all();
  for (auto& lane : st.lanes) {
    if (lane->sender.joinable()) lane->sender.join();
    if (lane->receiver.joinable()) lane->receiver.join();
  }
  for (auto& lane : st.lanes) {
    lane->server.stop();
    lane->link->stop();
  }
}

}  // namespace udpchat::lab
