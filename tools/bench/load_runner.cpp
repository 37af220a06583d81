#include "load_runner.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "client_runner.hpp"
#include "completion_tracker.hpp"
#include "latency_stats.hpp"
#include "message_text.hpp"
#include "pacer.hpp"
#include "proc_stats.hpp"
#include "sim_client.hpp"

namespace udpchat::bench {

std::string_view toString(Workload workload) {
  switch (workload) {
    case Workload::Fanout:
      return "fanout";
    case Workload::Rate:
      return "rate";
    case Workload::Connect:
      return "connect";
    case Workload::Idle:
      return "idle";
  }
  return "?";
}

namespace {

// A worker wakes at least this often: to notice phase changes and to service clients on time.
constexpr Nanos kSweepEvery = kNanosPerMilli;
// Sends one client may catch up in one turn of the rate workload, so a stall cannot turn into a
// burst that measures the bench instead of the server.
constexpr std::uint64_t kMaxCatchUpPerTurn = 8;
// Bounds of the completion tracker: messages tracked at once, and their member bits in total.
constexpr std::size_t kMinTrackerSlots = 1024;
constexpr std::size_t kMaxTrackerBitWords = std::size_t{8} << 20;  // 64 MiB
constexpr Nanos kQuitTimeout = 3 * kNanosPerSecond;

enum class Phase { Connecting, Running, Draining, Quitting, Done };

struct Shared {
  Shared(const LoadConfig& c, std::size_t trackerSlots, std::size_t maxMembers)
      : config(c), tracker(trackerSlots, maxMembers), roomIn(c.rooms) {}

  const LoadConfig& config;
  std::atomic<Phase> phase{Phase::Connecting};
  CompletionTracker tracker;
  // Published by the phase change to Running (release), read after it (acquire).
  std::vector<std::uint32_t> roomMembers;
  std::atomic<Nanos> runStart{0};
  std::atomic<Nanos> measureStart{std::numeric_limits<Nanos>::max()};
  std::atomic<Nanos> measureEnd{std::numeric_limits<Nanos>::max()};

  std::vector<std::atomic<std::uint32_t>> roomIn;  // clients in, per room
  std::atomic<std::size_t> clientsIn{0};
  std::atomic<std::size_t> clientsFailed{0};
  std::atomic<std::size_t> clientsLost{0};
  std::atomic<std::size_t> connecting{0};
  std::atomic<Nanos> lastIn{0};

  bool inWindow(Nanos t) const {
    return t >= measureStart.load(std::memory_order_relaxed) &&
           t < measureEnd.load(std::memory_order_relaxed);
  }
};

struct WorkerStats {
  std::uint64_t sent = 0;
  std::uint64_t sendFailures = 0;
  std::uint64_t skipped = 0;
  std::uint64_t expectedDeliveries = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t completedDeliveries = 0;
  std::uint64_t windowDeliveries = 0;
  std::uint64_t windowCompleted = 0;
  std::uint64_t unparsable = 0;
  std::uint64_t serverErrors = 0;
  std::vector<Nanos> latencies;
  std::vector<Nanos> connectLatencies;
  std::map<std::string, std::uint64_t> failures;
};

std::uint32_t toEpollEvents(short pollEvents) {
  std::uint32_t out = 0;
  if (pollEvents & POLLIN) out |= EPOLLIN;
  if (pollEvents & POLLOUT) out |= EPOLLOUT;
  return out;
}

class Worker final : public ClientObserver {
 public:
  explicit Worker(Shared& shared) : shared_(shared), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  }
  ~Worker() override {
    join();
    clients_.clear();
    ::close(epoll_);
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void add(std::unique_ptr<SimClient> client) {
    Entry entry;
    entry.client = std::move(client);
    clients_.push_back(std::move(entry));
  }
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool allFinished() const { return allFinished_.load(std::memory_order_acquire); }
  // Read after join().
  WorkerStats& stats() { return stats_; }

  // ClientObserver, called on this worker's thread.
  void clientIn(SimClient& client, Nanos now) override {
    stats_.connectLatencies.push_back(now - client.startedAt);
    shared_.roomIn[client.identity().room].fetch_add(1, std::memory_order_relaxed);
    shared_.clientsIn.fetch_add(1, std::memory_order_acq_rel);
    shared_.connecting.fetch_sub(1, std::memory_order_acq_rel);
    Nanos last = shared_.lastIn.load(std::memory_order_relaxed);
    while (last < now && !shared_.lastIn.compare_exchange_weak(last, now)) {
    }
  }
  void clientFailed(SimClient&, std::string_view reason, bool wasIn, Nanos) override {
    if (stats_.failures.size() < 8 || stats_.failures.contains(std::string(reason))) {
      ++stats_.failures[std::string(reason)];
    }
    if (wasIn) {
      shared_.clientsLost.fetch_add(1, std::memory_order_acq_rel);
    } else {
      shared_.clientsFailed.fetch_add(1, std::memory_order_acq_rel);
      shared_.connecting.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
  void delivered(SimClient& client, std::string_view text, Nanos now) override {
    const auto seq = parseMessageSeq(text);
    if (!seq) {
      ++stats_.unparsable;
      return;
    }
    const auto outcome = shared_.tracker.deliver(*seq, client.identity().member, now);
    if (outcome.kind != CompletionTracker::Kind::Counted &&
        outcome.kind != CompletionTracker::Kind::Completed) {
      return;  // duplicates and unknown texts are counted by the tracker
    }
    ++stats_.deliveries;
    const bool inWindow = shared_.inWindow(now);
    if (inWindow) ++stats_.windowDeliveries;
    if (outcome.kind == CompletionTracker::Kind::Completed) {
      stats_.completedDeliveries += outcome.members;
      if (inWindow) ++stats_.windowCompleted;
      if (shared_.inWindow(outcome.sentAt)) stats_.latencies.push_back(outcome.latency);
    }
  }
  void serverError(SimClient&, std::string_view) override { ++stats_.serverErrors; }

 private:
  struct Entry {
    std::unique_ptr<SimClient> client;
    std::optional<Pacer> pacer;
    std::uint64_t paced = 0;  // sends counted against the pacer
  };

  void run() {
    std::array<epoll_event, 256> events{};
    const Nanos serviceEvery = shared_.config.serviceInterval * kNanosPerMilli;
    Nanos nextSweep = 0;
    bool quitRequested = false;
    for (;;) {
      const Phase phase = shared_.phase.load(std::memory_order_acquire);
      if (phase == Phase::Done) break;
      Nanos now = monoNanos();
      if (phase == Phase::Connecting) startClients(now);
      if (phase == Phase::Running) {
        if (shared_.config.workload == Workload::Fanout) issueFanout(now);
        if (shared_.config.workload == Workload::Rate) issueRate(now);
      }
      if (phase == Phase::Quitting) {
        if (!quitRequested) {
          for (auto& e : clients_) {
            e.client->quit();
            updateInterest(*e.client);
          }
          quitRequested = true;
        }
        allFinished_.store(std::all_of(clients_.begin(), clients_.end(),
                                       [](const Entry& e) {
                                         return e.client->status() == SimClient::Status::New ||
                                                e.client->finished();
                                       }),
                           std::memory_order_release);
      }

      Nanos wake = nextSweep;
      if (phase == Phase::Running && shared_.config.workload == Workload::Rate) {
        wake = std::min(wake, nextPacing_);
      }
      const int timeoutMs =
          wake <= now ? 0 : static_cast<int>((wake - now + kNanosPerMilli - 1) / kNanosPerMilli);
      const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                                 std::min(timeoutMs, 10));
      now = monoNanos();
      for (int i = 0; i < n; ++i) pump(*static_cast<SimClient*>(events[i].data.ptr), now);
      if (now >= nextSweep) {
        for (auto& e : clients_) {
          SimClient& c = *e.client;
          const auto status = c.status();
          if (status == SimClient::Status::New) continue;
          if (status == SimClient::Status::Failed || status == SimClient::Status::Quit) continue;
          if (now - c.lastPump >= serviceEvery) pump(c, now);
        }
        nextSweep = now + kSweepEvery;
      }
    }
  }

  void pump(SimClient& client, Nanos now) {
    client.lastPump = now;
    client.pump();
    updateInterest(client);
  }

  // Keeps epoll in step with what the client's transport wants. Registrations are never
  // deleted: a closed descriptor leaves the epoll set by itself, and deleting by number could
  // remove a new socket that reused it.
  void updateInterest(SimClient& client) {
    const PollInterest want = client.pollInterest();
    PollInterest& have = client.registeredInterest;
    if (!client.forceRegister && want.fd == have.fd && want.events == have.events) return;
    client.forceRegister = false;
    have = want;
    if (want.fd < 0) return;
    epoll_event ev{};
    ev.events = toEpollEvents(want.events);
    ev.data.ptr = &client;
    if (::epoll_ctl(epoll_, EPOLL_CTL_MOD, want.fd, &ev) != 0 && errno == ENOENT) {
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, want.fd, &ev);
    }
  }

  void startClients(Nanos now) {
    const std::size_t window = shared_.config.connectWindow;
    while (nextStart_ < clients_.size()) {
      if (window != 0 && shared_.connecting.load(std::memory_order_acquire) >= window) return;
      SimClient& c = *clients_[nextStart_++].client;
      shared_.connecting.fetch_add(1, std::memory_order_acq_rel);
      c.startedAt = now;
      c.lastPump = now;
      c.start();
      updateInterest(c);
    }
  }

  bool limitReached() { return shared_.tracker.begun() >= shared_.config.maxMessages; }

  // Sends message `seq` from `sender`, whose room has `members` members.
  void send(SimClient& sender, std::uint64_t seq, std::uint32_t members, Nanos now) {
    ++stats_.sent;
    stats_.expectedDeliveries += members;
    if (!sender.sendChat(messageText(seq, shared_.config.messageBytes))) ++stats_.sendFailures;
    sender.lastPump = now;
    updateInterest(sender);
  }

  // Fanout: keep the window full, senders taken round-robin from this worker's clients.
  void issueFanout(Nanos now) {
    const std::size_t n = clients_.size();
    for (std::size_t tried = 0; tried < n;) {
      if (limitReached()) return;
      SimClient& sender = *clients_[cursor_ % n].client;
      if (sender.status() != SimClient::Status::In) {
        ++cursor_;
        ++tried;
        continue;
      }
      const std::uint32_t members = shared_.roomMembers[sender.identity().room];
      const auto seq = shared_.tracker.begin(shared_.config.window, members, monoNanos());
      if (!seq) return;  // window full
      ++cursor_;
      tried = 0;
      send(sender, *seq, members, now);
    }
  }

  // Rate: every client sends on its own pacer; the pacers are spread over one period so the
  // clients do not send in step.
  void issueRate(Nanos now) {
    if (now < nextPacing_) return;
    const LoadConfig& config = shared_.config;
    if (!pacersReady_) {
      const Nanos start = shared_.runStart.load(std::memory_order_relaxed);
      const double period = 1e9 / config.ratePerClient;
      for (auto& e : clients_) {
        const double offset = period * static_cast<double>(e.client->identity().index) /
                              static_cast<double>(config.clients);
        e.pacer.emplace(config.ratePerClient, start + static_cast<Nanos>(offset));
      }
      pacersReady_ = true;
    }
    Nanos earliest = std::numeric_limits<Nanos>::max();
    for (auto& e : clients_) {
      SimClient& c = *e.client;
      if (c.status() != SimClient::Status::In) continue;
      const std::uint64_t due = e.pacer->dueBy(now);
      for (std::uint64_t burst = 0; e.paced < due && burst < kMaxCatchUpPerTurn; ++burst) {
        if (limitReached()) return;
        ++e.paced;
        const std::uint32_t members = shared_.roomMembers[c.identity().room];
        const auto seq = shared_.tracker.begin(CompletionTracker::kUnlimited, members, monoNanos());
        if (!seq) {
          ++stats_.skipped;
          continue;
        }
        send(c, *seq, members, now);
      }
      earliest = std::min(earliest, e.pacer->dueAt(e.paced));
    }
    nextPacing_ = earliest;
  }

  Shared& shared_;
  int epoll_;
  std::vector<Entry> clients_;
  std::thread thread_;
  std::atomic<bool> allFinished_{false};
  WorkerStats stats_;
  std::size_t nextStart_ = 0;
  std::size_t cursor_ = 0;
  bool pacersReady_ = false;
  Nanos nextPacing_ = 0;
};

void raiseDescriptorLimit(std::size_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur >= needed) return;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, std::max<rlim_t>(needed, limit.rlim_cur));
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < needed) {
    throw std::runtime_error("need " + std::to_string(needed) + " file descriptors; the limit is " +
                             std::to_string(limit.rlim_cur) + " (raise it with ulimit -n)");
  }
}

double selfCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void sleepUntil(Nanos when) {
  const Nanos now = monoNanos();
  if (when > now) std::this_thread::sleep_for(std::chrono::nanoseconds(when - now));
}

// Waits until `done()` or the deadline, looking every 2 ms. True when done.
template <class F>
bool waitFor(F done, Nanos deadline) {
  while (!done()) {
    if (monoNanos() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::size_t trackerSlots(const LoadConfig& c, std::size_t maxMembers) {
  std::size_t slots = kMinTrackerSlots;
  if (c.workload == Workload::Fanout) slots = std::max(slots, 2 * c.window);
  if (c.workload == Workload::Rate) {
    // Ten seconds of messages may be in flight before the tracker refuses more.
    const double perSecond = c.ratePerClient * static_cast<double>(c.clients);
    slots = std::max(slots, static_cast<std::size_t>(std::min(perSecond * 10, 1e7)));
  }
  const std::size_t words = (maxMembers + 63) / 64;
  return std::min(slots, std::max<std::size_t>(kMinTrackerSlots, kMaxTrackerBitWords / words));
}

}  // namespace

namespace {

// The CPU time of the server and of every process measured with it.
std::optional<CpuTimes> serverCpu(const LoadTarget& target) {
  auto total = readCpuTimes(target.serverPid);
  for (pid_t pid : target.alsoMeasured) {
    auto more = readCpuTimes(pid);
    if (!total || !more) return std::nullopt;
    total->user += more->user;
    total->system += more->system;
  }
  return total;
}

}  // namespace

RunReport runLoad(const LoadConfig& config, const LoadTarget& target) {
  const std::string transportName = config.reference ? "enet" : config.transport;
  const Millis connectTimeoutMs = static_cast<Millis>(config.connectTimeoutSeconds * 1000.0);
  if (!client::makeClientTransport(transportName, connectTimeoutMs)) {
    throw std::runtime_error("transport \"" + transportName +
                             "\" is not built yet: makeClientTransport() has no such transport");
  }
  const std::string label =
      !config.label.empty() ? config.label : config.reference ? "reference" : "chat";
  auto progress = [&](const std::string& line) {
    if (config.progress) std::cerr << "udpchat-bench: " << label << ": " << line << std::endl;
  };
  raiseDescriptorLimit(config.clients * 2 + 64);

  const std::size_t rooms = std::max<std::size_t>(config.rooms, 1);
  const std::size_t maxMembers = (config.clients + rooms - 1) / rooms;
  Shared shared(config, trackerSlots(config, maxMembers), maxMembers);

  const std::size_t threads = std::clamp<std::size_t>(config.threads, 1, config.clients);
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t t = 0; t < threads; ++t) workers.push_back(std::make_unique<Worker>(shared));
  for (std::size_t i = 0; i < config.clients; ++i) {
    ClientIdentity id;
    id.index = i;
    id.room = i % rooms;
    id.member = static_cast<std::uint32_t>(i / rooms);
    id.nick = config.nickPrefix + std::to_string(i);
    id.roomName = rooms == 1 ? config.roomPrefix : config.roomPrefix + std::to_string(id.room);
    Worker& worker = *workers[i % threads];
    const auto& [host, port] = target.spread.empty()
                                   ? std::pair<std::string, std::uint16_t>{target.host, target.port}
                                   : target.spread[i % target.spread.size()];
    auto transport = client::makeClientTransport(transportName, connectTimeoutMs);
    if (config.reference) {
      // Pad so the echoed frame is as long as the ChatEvent this sender's text becomes on the
      // chat server: both servers then deliver the same bytes per delivery.
      const std::size_t pad = config.referenceSameText
                                  ? 0
                                  : chatEventBytes(id.roomName, id.nick, config.messageBytes) -
                                        sendChatBytes(id.roomName, config.messageBytes);
      worker.add(makeRawSimClient(std::move(id), worker, host, port,
                                  std::move(transport), pad));
    } else if (config.clientStack == "core") {
      worker.add(
          makeCoreSimClient(std::move(id), worker, host, port, std::move(transport)));
    } else {
      worker.add(makeProtocolSimClient(std::move(id), worker, host, port,
                                       std::move(transport)));
    }
  }

  RunReport report;
  report.server = label;
  report.transport = transportName;
  report.clients = config.clients;
  {
    const std::string room0 = rooms == 1 ? config.roomPrefix : config.roomPrefix + "0";
    const std::string nick0 = config.nickPrefix + "0";
    report.deliveredFrameBytes = config.reference && config.referenceSameText
                                     ? sendChatBytes(room0, config.messageBytes)
                                     : chatEventBytes(room0, nick0, config.messageBytes);
  }
  const bool measureServer = target.serverPid > 0;

  progress("connecting " + std::to_string(config.clients) + " clients to " + target.host + ":" +
           std::to_string(target.port));
  const auto cpuBeforeConnect = measureServer ? serverCpu(target) : std::nullopt;
  const double benchBeforeConnect = selfCpuSeconds();
  const auto machineBeforeConnect = readMachineBusySeconds();
  const Nanos connectStart = monoNanos();
  for (auto& w : workers) w->start();
  const auto settled = [&] {
    return shared.clientsIn.load() + shared.clientsFailed.load() >= config.clients;
  };
  const bool allSettled =
      waitFor(settled, connectStart + fromSeconds(config.connectTimeoutSeconds));
  const Nanos connectSeen = monoNanos();
  const auto cpuAfterConnect = measureServer ? serverCpu(target) : std::nullopt;
  const double benchAfterConnect = selfCpuSeconds();
  const auto machineAfterConnect = readMachineBusySeconds();
  const Nanos lastIn = shared.lastIn.load();
  report.connectMs = lastIn > connectStart ? toMillis(lastIn - connectStart) : 0.0;
  progress(std::to_string(shared.clientsIn.load()) + " in, " +
           std::to_string(shared.clientsFailed.load()) + " failed" +
           (allSettled ? "" : ", others still connecting at the deadline") + " after " +
           std::to_string(static_cast<long long>(report.connectMs)) + " ms");

  std::optional<CpuTimes> cpuA, cpuB;
  std::optional<double> machineA = machineBeforeConnect, machineB = machineAfterConnect;
  Nanos tA = connectStart, tB = connectSeen;
  double benchA = benchBeforeConnect, benchB = benchAfterConnect;
  cpuA = cpuBeforeConnect;
  cpuB = cpuAfterConnect;

  if (config.workload != Workload::Connect && shared.clientsIn.load() > 0) {
    shared.roomMembers.resize(rooms);
    for (std::size_t r = 0; r < rooms; ++r) shared.roomMembers[r] = shared.roomIn[r].load();
    const Nanos runStart = monoNanos();
    const Nanos measureStart = runStart + fromSeconds(config.warmupSeconds);
    const Nanos measureEnd = measureStart + fromSeconds(config.durationSeconds);
    shared.runStart.store(runStart);
    shared.measureStart.store(measureStart);
    shared.measureEnd.store(measureEnd);
    shared.phase.store(Phase::Running, std::memory_order_release);
    char line[128];
    std::snprintf(line, sizeof line, "running %s: %.1f s warm-up + %.1f s measured",
                  std::string(toString(config.workload)).c_str(), config.warmupSeconds,
                  config.durationSeconds);
    progress(line);
    sleepUntil(measureStart);
    tA = monoNanos();
    cpuA = measureServer ? serverCpu(target) : std::nullopt;
    benchA = selfCpuSeconds();
    machineA = readMachineBusySeconds();
    sleepUntil(measureEnd);
    tB = monoNanos();
    cpuB = measureServer ? serverCpu(target) : std::nullopt;
    benchB = selfCpuSeconds();
    machineB = readMachineBusySeconds();
    shared.phase.store(Phase::Draining, std::memory_order_release);
    report.measuredSeconds = toSeconds(measureEnd - measureStart);
    const bool drained = waitFor([&] { return shared.tracker.inFlight() == 0; },
                                 monoNanos() + fromSeconds(config.drainTimeoutSeconds));
    if (!drained) progress(std::to_string(shared.tracker.inFlight()) + " messages never completed");
  }
  report.clientUdpDrops = readUdpDrops(::getpid());
  if (measureServer) {
    report.serverUdpDrops = readUdpDrops(target.serverPid);
    report.serverPeakRssKb = readStatusKb(target.serverPid, "VmHWM").value_or(0);
    report.serverRssKb = readStatusKb(target.serverPid, "VmRSS").value_or(0);
  }
  if (config.quitAtEnd) {
    shared.phase.store(Phase::Quitting, std::memory_order_release);
    waitFor(
        [&] {
          return std::all_of(workers.begin(), workers.end(),
                             [](const auto& w) { return w->allFinished(); });
        },
        monoNanos() + kQuitTimeout);
  }
  shared.phase.store(Phase::Done, std::memory_order_release);
  for (auto& w : workers) w->join();

  // Everything below reads what the joined workers left.
  std::vector<Nanos> latencies, connectLatencies;
  std::uint64_t unparsable = 0;
  for (auto& w : workers) {
    WorkerStats& s = w->stats();
    report.sendFailures += s.sendFailures;
    report.expectedDeliveries += s.expectedDeliveries;
    report.deliveries += s.deliveries;
    report.completedDeliveries += s.completedDeliveries;
    report.windowDeliveries += s.windowDeliveries;
    report.windowCompleted += s.windowCompleted;
    report.serverErrors += s.serverErrors;
    unparsable += s.unparsable;
    latencies.insert(latencies.end(), s.latencies.begin(), s.latencies.end());
    connectLatencies.insert(connectLatencies.end(), s.connectLatencies.begin(),
                            s.connectLatencies.end());
    for (const auto& [reason, count] : s.failures) report.failureReasons[reason] += count;
  }
  const CompletionTracker& tracker = shared.tracker;
  report.clientsIn = shared.clientsIn.load();
  report.clientsFailed = shared.clientsFailed.load();
  report.clientsLost = shared.clientsLost.load();
  report.messagesSent = tracker.begun();
  report.messagesCompleted = tracker.completed();
  report.messagesIncomplete = tracker.inFlight();
  report.partialDeliveries = tracker.partialDeliveries();
  report.missingDeliveries = tracker.missingDeliveries();
  report.duplicates = tracker.duplicates();
  report.strays = tracker.unknown() + unparsable;
  report.latency = summarize(latencies);
  report.connectLatency = summarize(connectLatencies);
  if (report.measuredSeconds > 0) {
    report.deliveriesPerSecond =
        static_cast<double>(report.windowDeliveries) / report.measuredSeconds;
    report.messagesPerSecond = static_cast<double>(report.windowCompleted) / report.measuredSeconds;
  }
  if (config.workload == Workload::Rate) {
    report.targetMessagesPerSecond = config.ratePerClient * static_cast<double>(config.clients);
  }
  const double span = toSeconds(tB - tA);
  if (cpuA && cpuB && span > 0) {
    report.serverMeasured = true;
    report.serverCpuSeconds = std::max(0.0, cpuB->total() - cpuA->total());
    report.serverCpuPerSecond = report.serverCpuSeconds / span;
  }
  if (span > 0) report.benchCpuPerSecond = std::max(0.0, benchB - benchA) / span;
  if (machineA && machineB && span > 0 && report.serverMeasured) {
    // Clock ticks make this coarse (10 ms per CPU per sample): it is a warning light, no more.
    report.otherMeasured = true;
    const double machine = std::max(0.0, *machineB - *machineA) / span;
    report.otherCpuPerSecond =
        std::max(0.0, machine - report.serverCpuPerSecond - report.benchCpuPerSecond);
  }
  progress("done");
  return report;
}

}  // namespace udpchat::bench
