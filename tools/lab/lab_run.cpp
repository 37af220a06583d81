#include "lab/lab_run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <variant>

#include "lab/lab_client.hpp"
#include "lab/probe_text.hpp"
#include "lab/tun_link.hpp"
#include "lab/wire_retransmissions.hpp"
#include "udpchat/limits.hpp"

namespace udpchat::lab {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kTickUs = 1000;    // longest wait in a client loop: ENet's timers
constexpr Millis kServerStartMs = 5000;   // until the server says it listens
constexpr Millis kCloseGraceMs = 300;     // per client, at the end
constexpr Millis kFinalWhoisMs = 10'000;  // presence: the last WhoisReply
constexpr char kSenderNick[] = "sender";
constexpr char kReceiverNick[] = "receiver";

// State the controller and the two client threads share.
struct Shared {
  std::mutex mutex;
  std::condition_variable changed;

  // Written by the sender under `mutex`.
  bool senderDone = false;  // connect finished (check senderConnect.ok)
  ConnectOutcome senderConnect;
  std::string senderNick;
  bool measuring = false;    // presence: the pings are going (the receiver samples)
  bool sendingDone = false;  // everything handed to the transport
  std::int64_t lastSendUs = 0;
  std::uint64_t pingsSent = 0;
  std::uint64_t pongs = 0;
  std::int64_t lastPongUs = 0;

  // Written by the receiver under `mutex`.
  bool receiverDone = false;
  ConnectOutcome receiverConnect;
  std::uint64_t chatDelivered = 0;
  std::uint64_t bulkDelivered = 0;
  std::int64_t lastArrivalUs = 0;
  bool finalWhoisDone = false;

  // Written by the controller under `mutex`.
  bool wantFinalWhois = false;

  bool senderExited = false;  // the thread's body returned (or threw)
  bool receiverExited = false;

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> bulkBytesReceived{0};

  template <class F>
  void update(F&& f) {
    {
      const std::lock_guard lock(mutex);
      f();
    }
    changed.notify_all();
  }
};

// What the sender thread measured.
struct SenderOutcome {
  std::string error;             // an exception, or the connection lost mid-run
  std::int64_t t0Us = 0;         // due time of the first measured chat message
  std::int64_t bulkStartUs = 0;  // when the first bulk message was due
  std::uint64_t chatSent = 0;
  std::uint64_t bulkFrames = 0;
  std::uint64_t bulkBytes = 0;
  std::vector<std::int64_t> pingSentUs;  // by ping seq
  DeliveryTracker pongs;                 // pongs by ping seq; latency = round trip
  std::uint64_t errorReplies = 0;
  std::optional<std::uint64_t> tcpRetransmissions;
  std::vector<EnetTimingSample> enetTimings;
  double pingIntervalMs = 0;
};

// What the receiver thread measured.
struct ReceiverOutcome {
  std::string error;
  DeliveryTracker chat;
  DeliveryTracker bulk;
  std::int64_t lastBulkArrivalUs = 0;
  std::vector<double> stalenessMs;  // WhoisReply.lastHeardMs while the pings went
  std::uint64_t whoisSent = 0;
  std::optional<double> serverLossPct;
  std::uint64_t errorReplies = 0;
  std::optional<std::uint64_t> tcpRetransmissions;
  std::vector<EnetTimingSample> enetTimings;
};

struct RunContext {
  const CompareOptions& options;
  const TransportSpec& transport;
  const TunLink& link;
  std::uint64_t seed = 0;
};

LabClientConfig clientConfig(const RunContext& ctx, const char* nick) {
  LabClientConfig config;
  config.tcp = ctx.transport.tcp;
  config.nick = nick;
  config.attemptTimeoutMs = ctx.options.attemptTimeoutMs;
  config.attempts = ctx.options.connectAttempts;
  return config;
}

void senderMain(const RunContext& ctx, Shared& sh, SenderOutcome& out) {
  const CompareOptions& o = ctx.options;
  enterNamespace(ctx.link.clientSide());
  LabClient client(clientConfig(ctx, kSenderNick));
  // In the presence scenario the sender's pings are the measurement: it makes them itself.
  client.setKeepalivePings(o.scenario != Scenario::kPresence);
  const ConnectOutcome connected = client.connect(kServerAddress, kLabPort);
  sh.update([&] {
    sh.senderConnect = connected;
    sh.senderNick = client.welcome().nick;
    sh.senderDone = true;
  });
  if (!connected.ok) return;
  {
    std::unique_lock lock(sh.mutex);
    sh.changed.wait(lock, [&] { return sh.receiverDone || sh.stop.load(); });
    if (!sh.receiverConnect.ok || sh.stop.load()) return;
  }

  const std::int64_t intervalUs =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(1e6 / o.rate));
  const std::int64_t start = steadyMicros() + 20'000;  // a moment for the receiver's JoinEvent
  out.t0Us = start + static_cast<std::int64_t>(o.warmup) * intervalUs;
  const bool hol = o.scenario == Scenario::kHol;
  const bool presence = o.scenario == Scenario::kPresence;
  const std::uint64_t chatCount = presence ? 0 : o.messages;
  out.bulkStartUs = out.t0Us + static_cast<std::int64_t>(o.bulkStartMessage()) * intervalUs;
  const Millis pingInterval = o.pingIntervalMs != 0
                                  ? o.pingIntervalMs
                                  : std::max<Millis>(100, client.welcome().pingIntervalMs);
  out.pingIntervalMs = static_cast<double>(pingInterval);
  const std::uint64_t pingCount =
      presence
          ? static_cast<std::uint64_t>(o.durationS * 1000.0 / static_cast<double>(pingInterval))
          : 0;
  out.pingSentUs.assign(pingCount, 0);
  out.pongs.setExpected(pingCount);

  // One application queue per connection, in the order messages were made: over TCP the
  // transport may refuse a frame (its queue is full) and then nothing behind it may pass.
  struct Pending {
    std::uint8_t channel;
    protocol::Bytes frame;
  };
  std::vector<Pending> queue;
  std::size_t queueHead = 0;
  const auto chatFrame = [&](const std::string& text) {
    protocol::SendChat chat;
    chat.room = "lab";
    chat.text = text;
    return protocol::encode(chat);
  };

  std::uint64_t warmSent = 0;
  std::uint64_t chatMade = 0;
  std::uint64_t pingsMade = 0;
  std::uint64_t bulkMade = 0;
  const std::uint64_t bulkCount = hol ? o.bulkFrameCount() : 0;
  bool measuringAnnounced = false;
  std::uint64_t bulkBytesMade = 0;
  bool announcedDone = false;
  std::vector<Incoming> incoming;
  while (!sh.stop.load()) {
    const std::int64_t now = steadyMicros();
    std::int64_t nextDue = now + kTickUs;
    // Unmeasured warm-up, then the measured chat, at the same rate.
    while (warmSent < o.warmup) {
      const std::int64_t due = start + static_cast<std::int64_t>(warmSent) * intervalUs;
      if (due > now) {
        nextDue = std::min(nextDue, due);
        break;
      }
      queue.push_back(
          {ctx.transport.chatChannel,
           chatFrame(formatProbe({ProbeKind::kWarmup, warmSent, now}, o.messageBytes))});
      ++warmSent;
    }
    while (warmSent == o.warmup && chatMade < chatCount) {
      const std::int64_t due = out.t0Us + static_cast<std::int64_t>(chatMade) * intervalUs;
      if (due > now) {
        nextDue = std::min(nextDue, due);
        break;
      }
      queue.push_back({ctx.transport.chatChannel,
                       chatFrame(formatProbe({ProbeKind::kChat, chatMade, now}, o.messageBytes))});
      ++chatMade;
    }
    // Presence pings, on channel 1 as the protocol says, with the echo the server's RTT needs.
    if (presence && warmSent == o.warmup && !measuringAnnounced) {
      measuringAnnounced = true;
      sh.update([&] { sh.measuring = true; });
    }
    while (warmSent == o.warmup && pingsMade < pingCount) {
      const std::int64_t due =
          out.t0Us + static_cast<std::int64_t>(pingsMade) * pingInterval * 1000;
      if (due > now) {
        nextDue = std::min(nextDue, due);
        break;
      }
      queue.push_back({kChannelUnreliable, protocol::encode(client.makePing(
                                               static_cast<std::uint32_t>(pingsMade), now))});
      out.pingSentUs[pingsMade] = now;
      ++pingsMade;
    }
    // Bulk, within its window of bytes not yet at the receiver.
    while (hol && now >= out.bulkStartUs && bulkMade < bulkCount) {
      const std::size_t size = o.bulkFrameSize(bulkMade);
      const std::uint64_t inFlight = bulkBytesMade - sh.bulkBytesReceived.load();
      if (o.bulkWindowBytes != 0 && inFlight + size > o.bulkWindowBytes) break;
      queue.push_back(
          {kChannelBulk, chatFrame(formatProbe({ProbeKind::kBulk, bulkMade, now}, size))});
      ++bulkMade;
      bulkBytesMade += size;
    }
    if (hol && now < out.bulkStartUs) nextDue = std::min(nextDue, out.bulkStartUs);

    bool sentAny = false;
    while (queueHead < queue.size() &&
           client.send(queue[queueHead].channel, queue[queueHead].frame)) {
      queue[queueHead].frame = {};
      ++queueHead;
      sentAny = true;
    }
    if (queueHead == queue.size()) {
      queue.clear();
      queueHead = 0;
    }
    if (sentAny) {
      client.flush();
      const std::int64_t sentAt = steadyMicros();
      sh.update([&] {
        sh.lastSendUs = sentAt;
        sh.pingsSent = pingsMade;
      });
    }
    const bool allMade = warmSent == o.warmup && chatMade == chatCount && pingsMade == pingCount &&
                         bulkMade == bulkCount;
    if (allMade && queue.empty() && !announcedDone) {
      announcedDone = true;
      sh.update([&] {
        sh.sendingDone = true;
        sh.measuring = false;
      });
    }

    incoming.clear();
    const std::int64_t wait = std::clamp<std::int64_t>(nextDue - steadyMicros(), 0, kTickUs);
    if (!client.pump(wait, incoming)) {
      out.error = "the sender's connection ended: " + client.disconnectReason();
      break;
    }
    for (const Incoming& in : incoming) {
      if (const auto* pong = std::get_if<protocol::PresencePong>(&in.message)) {
        if (pong->seq >= out.pingSentUs.size()) continue;
        if (out.pongs.arrived(pong->seq, out.pingSentUs[pong->seq], in.atUs)) {
          sh.update([&] {
            ++sh.pongs;
            sh.lastPongUs = in.atUs;
          });
        }
      }
    }
  }
  // What the application sent, handed to the transport or still waiting behind a full TCP
  // queue when the run ended (those count as sent and not delivered).
  out.chatSent = chatMade;
  out.bulkFrames = bulkMade;
  out.bulkBytes = bulkBytesMade;
  out.pingSentUs.resize(pingsMade);
  out.errorReplies = client.errorReplies();
  out.tcpRetransmissions = client.tcpRetransmissions();
  out.enetTimings = client.enetTimings();
  client.close(kCloseGraceMs);
}

void receiverMain(const RunContext& ctx, Shared& sh, ReceiverOutcome& out) {
  const CompareOptions& o = ctx.options;
  enterNamespace(ctx.link.clientSide());
  LabClient client(clientConfig(ctx, kReceiverNick));
  const ConnectOutcome connected = client.connect(kServerAddress, kLabPort);
  sh.update([&] {
    sh.receiverConnect = connected;
    sh.receiverDone = true;
  });
  if (!connected.ok) return;
  out.chat.setExpected(o.scenario == Scenario::kPresence ? 0 : o.messages);
  out.bulk.setExpected(o.scenario == Scenario::kHol ? o.bulkFrameCount() : 0);

  std::string senderNick;
  std::int64_t nextWhois = 0;
  std::mt19937_64 sampling(ctx.seed);
  // Replies come back in the order of the requests (channel 0 is ordered on both transports);
  // true marks the final request, whose reply reads the server's ping-loss count.
  std::vector<bool> whoisQueue;
  std::size_t whoisHead = 0;
  bool finalSent = false;
  std::vector<Incoming> incoming;
  while (!sh.stop.load()) {
    incoming.clear();
    if (!client.pump(kTickUs, incoming)) {
      out.error = "the receiver's connection ended: " + client.disconnectReason();
      break;
    }
    std::uint64_t chatArrivals = 0;
    std::uint64_t bulkArrivals = 0;
    for (const Incoming& in : incoming) {
      if (const auto* chat = std::get_if<protocol::ChatEvent>(&in.message)) {
        const auto probe = parseProbe(chat->text);
        if (!probe) continue;
        if (probe->kind == ProbeKind::kChat) {
          chatArrivals += out.chat.arrived(probe->seq, probe->sentUs, in.atUs);
        } else if (probe->kind == ProbeKind::kBulk) {
          if (out.bulk.arrived(probe->seq, probe->sentUs, in.atUs)) {
            ++bulkArrivals;
            out.lastBulkArrivalUs = in.atUs;
            sh.bulkBytesReceived.fetch_add(chat->text.size());
          }
        }
      } else if (const auto* whois = std::get_if<protocol::WhoisReply>(&in.message)) {
        const bool final = whoisHead < whoisQueue.size() && whoisQueue[whoisHead];
        if (whoisHead < whoisQueue.size()) ++whoisHead;
        if (final) {
          out.serverLossPct = whois->pingLossPermille / 10.0;
          sh.update([&] { sh.finalWhoisDone = true; });
        } else {
          out.stalenessMs.push_back(static_cast<double>(whois->lastHeardMs));
        }
      } else if (std::holds_alternative<protocol::ErrorReply>(in.message)) {
        if (whoisHead < whoisQueue.size()) ++whoisHead;  // e.g. no_such_nick answers a whois
      }
    }
    if (chatArrivals > 0 || bulkArrivals > 0) {
      const std::int64_t at = incoming.back().atUs;
      sh.update([&] {
        sh.chatDelivered = out.chat.delivered();
        sh.bulkDelivered = out.bulk.delivered();
        sh.lastArrivalUs = at;
      });
    }
    if (o.scenario != Scenario::kPresence) continue;
    bool measuring = false;
    bool wantFinal = false;
    {
      const std::lock_guard lock(sh.mutex);
      measuring = sh.measuring;
      wantFinal = sh.wantFinalWhois;
      if (senderNick.empty()) senderNick = sh.senderNick;
    }
    const std::int64_t now = steadyMicros();
    const auto whois = [&](bool final) {
      protocol::WhoisRequest request;
      request.nick = senderNick;
      if (client.send(kChannelReliable, protocol::encode(request))) {
        client.flush();
        whoisQueue.push_back(final);
        if (!final) ++out.whoisSent;
      }
    };
    if (measuring && now >= nextWhois) {
      whois(false);
      // Intervals drawn uniformly from 0.5 to 1.5 times the mean, so the samples do not lock
      // onto the phase of the pings (a 100 ms poll of a 200 ms ping would see two values).
      const double factor = 0.5 + static_cast<double>(sampling() >> 11) * 0x1.0p-53;
      nextWhois =
          now + static_cast<std::int64_t>(factor * static_cast<double>(o.whoisIntervalMs) * 1000.0);
    }
    if (wantFinal && !finalSent) {
      whois(true);
      finalSent = true;
    }
  }
  out.errorReplies = client.errorReplies();
  out.tcpRetransmissions = client.tcpRetransmissions();
  out.enetTimings = client.enetTimings();
  client.close(kCloseGraceMs);
}

EnetTiming summarizeTiming(const std::vector<EnetTimingSample>& samples) {
  EnetTiming t;
  std::vector<double> rtt, rto;
  for (const EnetTimingSample& s : samples) {
    rtt.push_back(s.roundTripMs);
    rto.push_back(s.retransmitTimeoutMs);
  }
  t.roundTripMs = summarize(std::move(rtt));
  t.retransmitTimeoutMs = summarize(std::move(rto));
  return t;
}

WireCounts wireOf(const DirectionStats& s) {
  WireCounts w;
  w.packets = s.written;
  w.bytes = s.bytesWritten;
  w.dropped = s.lost + s.burstLost + s.queueFull;
  return w;
}

Distribution latenciesWhere(const std::vector<Arrival>& arrivals, std::int64_t from,
                            std::int64_t to, bool inside) {
  std::vector<double> samples;
  for (const Arrival& a : arrivals) {
    const bool in = a.sentUs >= from && a.sentUs <= to;
    if (in == inside) samples.push_back(a.latencyMs);
  }
  return summarize(std::move(samples));
}

}  // namespace

std::vector<std::string> serverCommand(const CompareOptions& o) {
  return {o.serverBinary,
          "--host",
          kServerAddress,
          "--port",
          std::to_string(kLabPort),
          "--lab-channels",
          "--no-store",  // the lab measures the link, not a disk
          "--rate-burst",
          std::to_string(kMaxRateLimit),
          "--rate",
          std::to_string(kMaxRateLimit),
          "--max-message-bytes",
          std::to_string(kMaxTextBytes),
          "--history",
          "0",
          // Every lab client comes from the client side's one address, several at once: the
          // limits that keep one address from holding a public server would refuse them.
          "--max-per-address",
          "0",
          "--max-unregistered-per-address",
          "0"};
}

std::optional<std::string> LabServer::start(const Namespace& ns, const CompareOptions& o) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "cannot make a pipe for the server";
  output_.reset(fds[0]);
  UniqueFd writeEnd(fds[1]);
  ChildStdio stdio;
  stdio.out = writeEnd.get();
  stdio.err = writeEnd.get();
  try {
    process_.emplace(spawnIn(ns, serverCommand(o), stdio));
  } catch (const std::exception& e) {
    return std::string("cannot start the server: ") + e.what();
  }
  writeEnd.reset();
  const std::int64_t deadline = steadyMicros() + kServerStartMs * 1000;
  while (text_.find("(TCP)") == std::string::npos) {
    const std::int64_t left = (deadline - steadyMicros()) / 1000;
    if (left <= 0) return "the server did not start within 5 s: " + text_;
    pollfd p{output_.get(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left));
    char buffer[4096];
    const ssize_t got = ::read(output_.get(), buffer, sizeof buffer);
    if (got == 0) {
      const auto status = process_->wait(milliseconds(1000));
      return "the server exited (status " + (status ? std::to_string(*status) : "?") +
             ") before listening: " + text_;
    }
    if (got > 0) text_.append(buffer, static_cast<std::size_t>(got));
  }
  return std::nullopt;
}

void LabServer::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  if (!process_->wait(milliseconds(2000))) process_->signal(SIGKILL);
  process_->wait(milliseconds(1000));
  process_.reset();
}

LabServer::~LabServer() { stop(); }

RunResult runOnce(const CompareOptions& o, const TransportSpec& transport, double lossPct,
                  unsigned repetition, const std::string& pcapPath) {
  const std::int64_t began = steadyMicros();
  RunResult result;
  result.scenario = o.scenario;
  result.transport = std::string(transport.name);
  result.lossPct = lossPct;
  result.repetition = repetition;
  result.seed = seedFor(o.seed, repetition);

  LinkOptions linkOptions;
  linkOptions.config = linkFor(o, lossPct, result.seed);
  linkOptions.pcapPath = pcapPath;
  linkOptions.publishNamespaces = false;
  TunLink link(linkOptions);

  LabServer server;
  if (auto problem = server.start(link.serverSide(), o)) {
    result.error = *problem;
    return result;
  }

  Shared shared;
  SenderOutcome sent;
  ReceiverOutcome received;
  const RunContext ctx{o, transport, link, result.seed};
  const auto guarded = [&](auto body, auto& outcome, bool sender) {
    try {
      body(ctx, shared, outcome);
    } catch (const std::exception& e) {
      outcome.error = std::string(sender ? "sender: " : "receiver: ") + e.what();
    }
    shared.update([&] {
      // A thread that died early must not leave the controller waiting for it.
      if (sender) shared.senderDone = shared.senderExited = true;
      if (!sender) shared.receiverDone = shared.receiverExited = true;
    });
  };
  std::thread receiverThread([&] { guarded(receiverMain, received, false); });
  std::thread senderThread([&] { guarded(senderMain, sent, true); });

  const auto waitUntil = [&](std::int64_t deadlineUs, auto predicate) {
    std::unique_lock lock(shared.mutex);
    while (!predicate()) {
      const std::int64_t left = deadlineUs - steadyMicros();
      if (left <= 0) return false;
      shared.changed.wait_for(lock,
                              std::chrono::microseconds(std::min<std::int64_t>(left, 10'000)));
    }
    return true;
  };

  // Connect: both clients, each with its own attempts.
  const std::int64_t connectBudgetUs =
      static_cast<std::int64_t>(o.connectAttempts) * 2 * o.attemptTimeoutMs * 1000 + 5'000'000;
  waitUntil(steadyMicros() + connectBudgetUs,
            [&] { return shared.senderDone && shared.receiverDone; });
  {
    const std::lock_guard lock(shared.mutex);
    result.connected = shared.senderConnect.ok && shared.receiverConnect.ok;
    result.connectAttempts =
        std::max(shared.senderConnect.attempts, shared.receiverConnect.attempts);
    result.connectMs = std::max(shared.senderConnect.ms, shared.receiverConnect.ms);
    if (!shared.receiverConnect.ok) {
      result.error = "receiver could not connect: " + shared.receiverConnect.error;
    } else if (!shared.senderConnect.ok) {
      result.error = "sender could not connect: " + shared.senderConnect.error;
    }
  }

  if (result.connected) {
    // Sending takes the scenario's time; a stalled TCP queue may stretch it.
    const std::int64_t sendBudgetUs = static_cast<std::int64_t>(
        (o.measuredSeconds() + static_cast<double>(o.warmup) / o.rate + o.drainLimitS) * 1e6);
    waitUntil(steadyMicros() + sendBudgetUs,
              [&] { return shared.sendingDone || shared.senderExited || shared.receiverExited; });
    const bool hol = o.scenario == Scenario::kHol;
    const std::int64_t quietUs =
        1'000'000 + static_cast<std::int64_t>(4 * (o.delayMs + o.jitterMs) * 1000);
    const std::int64_t hardDeadline =
        steadyMicros() + static_cast<std::int64_t>(o.drainLimitS * 1e6);
    if (o.scenario == Scenario::kPresence) {
      // The last pongs (over TCP every one comes, however late), then the server's own count
      // of the pings it missed.
      waitUntil(hardDeadline, [&] {
        const std::int64_t now = steadyMicros();
        return shared.senderExited || shared.receiverExited || shared.pongs >= shared.pingsSent ||
               (!transport.tcp && now - std::max(shared.lastSendUs, shared.lastPongUs) > quietUs);
      });
      shared.update([&] { shared.wantFinalWhois = true; });
      waitUntil(std::min(hardDeadline, steadyMicros() + kFinalWhoisMs * 1000),
                [&] { return shared.finalWhoisDone; });
    } else {
      const std::uint64_t bulkFrames = hol ? o.bulkFrameCount() : 0;
      waitUntil(hardDeadline, [&] {
        if (shared.senderExited || shared.receiverExited) return true;
        const bool chatComplete = shared.chatDelivered >= o.messages;
        const bool bulkComplete = shared.bulkDelivered >= bulkFrames;
        if (chatComplete && bulkComplete) return true;
        if (transport.reliable || !bulkComplete) return false;
        const std::int64_t now = steadyMicros();
        return now - std::max(shared.lastSendUs, shared.lastArrivalUs) > quietUs;
      });
    }
  }
  shared.stop.store(true);
  shared.changed.notify_all();
  senderThread.join();
  receiverThread.join();
  server.stop();
  link.waitUntilIdle(milliseconds(2000));
  const LinkStats stats = link.stats();
  link.stop();

  if (result.connected && result.error.empty()) {
    if (!sent.error.empty()) result.error = sent.error;
    if (!received.error.empty()) result.error = received.error;
  }
  result.serverErrors = sent.errorReplies + received.errorReplies;
  result.senderEnet = summarizeTiming(sent.enetTimings);
  result.receiverEnet = summarizeTiming(received.enetTimings);
  if (transport.tcp && sent.tcpRetransmissions && received.tcpRetransmissions) {
    result.tcpInfoRetransmissions = *sent.tcpRetransmissions + *received.tcpRetransmissions;
  }
  result.linkMaxLateMs = static_cast<double>(std::max(stats.clientToServer.maxLateUs,
                                                      stats.serverToClient.maxLateUs)) /
                         1000.0;
  result.clientToServer = wireOf(stats.clientToServer);
  result.serverToClient = wireOf(stats.serverToClient);

  std::ifstream capture(pcapPath, std::ios::binary);
  const std::vector<char> raw((std::istreambuf_iterator<char>(capture)),
                              std::istreambuf_iterator<char>());
  const auto packets =
      parseLinkCapture(std::as_bytes(std::span<const char>(raw.data(), raw.size())));
  if (packets) {
    RetransmissionCounter counter;
    countCapture(*packets, counter);
    result.clientToServer.retransmissions = counter.retransmissions(Direction::kClientToServer);
    result.serverToClient.retransmissions = counter.retransmissions(Direction::kServerToClient);
  } else if (result.error.empty()) {
    result.error = "cannot read the capture: " + packets.error();
  }

  if (o.scenario == Scenario::kPresence) {
    result.sent = sent.pingSentUs.size();
    result.delivered = sent.pongs.delivered();
    result.duplicates = sent.pongs.duplicates();
    result.late = sent.pongs.late();
    result.inOrder = sent.pongs.inOrder();
    result.latency = summarize(sent.pongs.latenciesMs());
    result.arrivals = sent.pongs.firsts();
    PresenceResult p;
    p.pingIntervalMs = sent.pingIntervalMs;
    p.pingsSent = sent.pingSentUs.size();
    p.pongs = sent.pongs.delivered();
    p.serverLossPct = received.serverLossPct;
    p.rttMs = result.latency;
    p.stalenessMs = summarize(received.stalenessMs);
    p.whoisSent = received.whoisSent;
    result.presence = p;
  } else {
    result.sent = sent.chatSent;
    result.delivered = received.chat.delivered();
    result.duplicates = received.chat.duplicates();
    result.late = received.chat.late();
    result.inOrder = received.chat.inOrder();
    result.latency = summarize(received.chat.latenciesMs());
    result.arrivals = received.chat.firsts();
  }
  result.measureStartUs = sent.t0Us;
  if (o.scenario == Scenario::kHol) {
    HolResult h;
    h.bytes = sent.bulkBytes;
    h.frames = sent.bulkFrames;
    h.framesDelivered = received.bulk.delivered();
    h.inOrder = received.bulk.inOrder() && received.bulk.duplicates() == 0;
    h.startMs = static_cast<double>(sent.bulkStartUs - sent.t0Us) / 1000.0;
    const bool complete = h.frames > 0 && h.framesDelivered >= h.frames;
    h.durationMs =
        complete ? static_cast<double>(received.lastBulkArrivalUs - sent.bulkStartUs) / 1000.0 : 0;
    const std::int64_t end =
        complete ? received.lastBulkArrivalUs : std::numeric_limits<std::int64_t>::max();
    h.chatDuring = latenciesWhere(result.arrivals, sent.bulkStartUs, end, true);
    h.chatOutside = latenciesWhere(result.arrivals, sent.bulkStartUs, end, false);
    result.hol = h;
    // The headline figures of a head-of-line run are the chat's while the bulk was under way.
    result.latency = h.chatDuring;
  }
  result.seconds = static_cast<double>(steadyMicros() - began) / 1e6;
  return result;
}

}  // namespace udpchat::lab
