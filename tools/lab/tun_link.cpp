#include "lab/tun_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <queue>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "lab/pcapng_writer.hpp"

namespace udpchat::lab {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kReadBatch = 64;  // packets read from one TUN per wake-up, for fairness
constexpr std::size_t kMaxPacket = 65536;

std::system_error systemError(int error, const std::string& what) {
  return std::system_error(error, std::generic_category(), what);
}

sockaddr_in ipv4(const char* address) {
  sockaddr_in out{};
  out.sin_family = AF_INET;
  ::inet_pton(AF_INET, address, &out.sin_addr);
  return out;
}

void setAddress(int sock, const char* device, unsigned long request, const char* address,
                const char* what) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, device, IFNAMSIZ - 1);
  const sockaddr_in addr = ipv4(address);
  std::memcpy(&ifr.ifr_addr, &addr, sizeof addr);
  if (::ioctl(sock, request, &ifr) != 0) {
    throw systemError(errno, std::string(what) + " on " + device);
  }
}

// Runs inside the namespace: a TUN device with `local` as its address and a point-to-point
// /32 route to `peer`, MTU kLinkMtu, up.
UniqueFd openTun(const char* device, const char* local, const char* peer) {
  UniqueFd tun(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!tun) throw systemError(errno, "open /dev/net/tun");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, device, IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;  // bare IP packets, no extra header
  if (::ioctl(tun.get(), TUNSETIFF, &ifr) != 0) throw systemError(errno, "TUNSETIFF");

  const UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throw systemError(errno, "socket for interface set-up");
  setAddress(sock.get(), device, SIOCSIFADDR, local, "setting the address");
  setAddress(sock.get(), device, SIOCSIFNETMASK, "255.255.255.255", "setting the netmask");
  // On a point-to-point device the kernel adds the route to the peer itself.
  setAddress(sock.get(), device, SIOCSIFDSTADDR, peer, "setting the peer address");
  ifreq mtu{};
  std::strncpy(mtu.ifr_name, device, IFNAMSIZ - 1);
  mtu.ifr_mtu = kLinkMtu;
  if (::ioctl(sock.get(), SIOCSIFMTU, &mtu) != 0) throw systemError(errno, "setting the MTU");
  ifreq flags{};
  std::strncpy(flags.ifr_name, device, IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &flags) != 0) throw systemError(errno, "SIOCGIFFLAGS");
  flags.ifr_flags = static_cast<short>(flags.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &flags) != 0) {
    throw systemError(errno, std::string("bringing ") + device + " up");
  }
  return tun;
}

std::string millis(Micros us) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f ms", static_cast<double>(us) / 1000.0);
  return text;
}

std::string dropComment(const Decision& d) {
  std::string what = d.fate == Fate::kLost        ? "dropped: loss"
                     : d.fate == Fate::kBurstLost ? "dropped: burst loss (Gilbert-Elliott)"
                                                  : "dropped: queue full";
  return what + "; " + std::string(to_string(d.direction)) + " #" + std::to_string(d.index);
}

std::string nameFor(std::uint64_t link) {
  return "udpchat-lab-" + std::to_string(::getpid()) + "-" + std::to_string(link);
}

std::atomic<std::uint64_t> linksMade{0};

// A copy waiting for its departure time.
struct Scheduled {
  Micros due = 0;
  std::uint64_t order = 0;  // ties leave in the order they were scheduled
  Direction direction = Direction::kClientToServer;
  std::uint64_t index = 0;
  Micros arrival = 0;
  bool duplicate = false;
  bool reordered = false;
  std::shared_ptr<const std::vector<std::byte>> packet;
};

struct LeavesLater {
  bool operator()(const Scheduled& a, const Scheduled& b) const {
    return a.due != b.due ? a.due > b.due : a.order > b.order;
  }
};

DirectionStats& statsOf(LinkStats& stats, Direction d) {
  return d == Direction::kClientToServer ? stats.clientToServer : stats.serverToClient;
}

}  // namespace

struct TunLink::Pump {
  explicit Pump(LinkOptions opts)
      : options(std::move(opts)),
        name(nameFor(linksMade.fetch_add(1))),
        client(Namespace::create(name + "-c", options.publishNamespaces)),
        server(Namespace::create(name + "-s", options.publishNamespaces)),
        model(options.config) {
    clientTun =
        runIn(client, [] { return openTun(kClientDevice, kClientAddress, kServerAddress); });
    serverTun =
        runIn(server, [] { return openTun(kServerDevice, kServerAddress, kClientAddress); });
    wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake) throw systemError(errno, "eventfd");
    if (!options.pcapPath.empty()) {
      pcapFile.open(options.pcapPath, std::ios::binary | std::ios::trunc);
      if (!pcapFile) throw std::runtime_error("cannot write the pcap file " + options.pcapPath);
      pcap.emplace(pcapFile);
    }
    if (!options.logPath.empty()) {
      logFile.open(options.logPath, std::ios::trunc);
      if (!logFile) throw std::runtime_error("cannot write the log file " + options.logPath);
      logFile << "# udpchat link emulator decision log; seed " << options.config.seed << "\n"
              << "# c2s: " << describe(options.config.clientToServer) << "\n"
              << "# s2c: " << describe(options.config.serverToClient) << "\n";
      writeLog(logFile, {});
    }
    start = SteadyClock::now();
    wallStartMicros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    thread = std::thread([this] { run(); });
  }

  Micros now() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start)
        .count();
  }

  int tunOf(Direction from) const {
    return from == Direction::kClientToServer ? clientTun.get() : serverTun.get();
  }
  int tunTo(Direction to) const {
    return to == Direction::kClientToServer ? serverTun.get() : clientTun.get();
  }

  void record(Direction d, std::span<const std::byte> packet, const std::string& comment) {
    if (pcap) pcap->writePacket(d, wallStartMicros + now(), packet, comment);
  }

  void run() {
    // Departures are due to the microsecond: ask the kernel not to coalesce our wake-ups.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    std::vector<std::byte> buffer(kMaxPacket);
    for (;;) {
      writeDue();
      // A TUN in error (its device deleted from inside the namespace) is left out of the poll
      // instead of waking the pump forever; the other direction keeps working.
      pollfd fds[3] = {{broken[0] ? -1 : clientTun.get(), POLLIN, 0},
                       {broken[1] ? -1 : serverTun.get(), POLLIN, 0},
                       {wake.get(), POLLIN, 0}};
      timespec timeout{};
      timespec* wait = nullptr;
      if (!queue.empty()) {
        const Micros left = std::max<Micros>(0, queue.top().due - now());
        timeout.tv_sec = static_cast<time_t>(left / 1'000'000);
        timeout.tv_nsec = static_cast<long>(left % 1'000'000) * 1000;
        wait = &timeout;
      }
      if (::ppoll(fds, 3, wait, nullptr) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[2].revents != 0) break;
      for (int side = 0; side < 2; ++side) {
        if (fds[side].revents & POLLIN) {
          readFrom(side == 0 ? Direction::kClientToServer : Direction::kServerToClient, buffer);
        } else if (fds[side].revents & (POLLERR | POLLHUP | POLLNVAL)) {
          broken[side] = true;
        }
      }
    }
  }

  void readFrom(Direction direction, std::vector<std::byte>& buffer) {
    for (std::size_t n = 0; n < kReadBatch; ++n) {
      const ssize_t got = ::read(tunOf(direction), buffer.data(), buffer.size());
      if (got < 0) return;  // EAGAIN: drained
      const auto size = static_cast<std::size_t>(got);
      if (size < 20 || (std::to_integer<unsigned>(buffer[0]) >> 4) != 4) {
        const std::lock_guard lock(mutex);
        ++stats.ignored;
        continue;
      }
      const std::span<const std::byte> packet(buffer.data(), size);
      const Micros arrival = now();
      Decision d;
      {
        const std::lock_guard lock(mutex);
        d = model.offer(direction, static_cast<std::uint32_t>(size), arrival);
        DirectionStats& s = statsOf(stats, direction);
        ++s.offered;
        s.bytesOffered += size;
        s.lost += d.fate == Fate::kLost;
        s.burstLost += d.fate == Fate::kBurstLost;
        s.queueFull += d.fate == Fate::kQueueFull;
        s.duplicated += d.duplicate.has_value();
        s.reordered += d.reordered;
        stats.scheduled += d.delivered() + d.duplicate.has_value();
      }
      changed.notify_all();
      if (logFile.is_open()) logFile << formatDecision(d) << '\n';
      if (!d.delivered()) {
        record(direction, packet, dropComment(d));
        continue;
      }
      auto shared = std::make_shared<const std::vector<std::byte>>(packet.begin(), packet.end());
      queue.push(Scheduled{*d.departure, nextOrder++, direction, d.index, d.arrival, false,
                           d.reordered, shared});
      if (d.duplicate) {
        queue.push(Scheduled{*d.duplicate, nextOrder++, direction, d.index, d.arrival, true,
                             d.reordered, shared});
      }
    }
  }

  void writeDue() {
    std::size_t written = 0;
    Micros writeTime = 0;
    while (!queue.empty() && queue.top().due <= (writeTime = now())) {
      const Scheduled& s = queue.top();
      const bool ok = ::write(tunTo(s.direction), s.packet->data(), s.packet->size()) ==
                      static_cast<ssize_t>(s.packet->size());
      {
        const std::lock_guard lock(mutex);
        DirectionStats& st = statsOf(stats, s.direction);
        ++(ok ? st.written : st.writeErrors);
        if (ok) st.bytesWritten += s.packet->size();
        st.maxLateUs = std::max(st.maxLateUs, writeTime - s.due);
        --stats.scheduled;
      }
      if (pcap) {
        std::string comment = !ok           ? "dropped: the receiving TUN refused it"
                              : s.duplicate ? "duplicate"
                              : s.reordered ? "reordered"
                                            : "delivered";
        comment += "; " + std::string(to_string(s.direction)) + " #" + std::to_string(s.index) +
                   "; after " + millis(now() - s.arrival);
        record(s.direction, *s.packet, comment);
      }
      queue.pop();
      ++written;
    }
    if (written > 0) changed.notify_all();
  }

  void stop() {
    if (!thread.joinable()) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(wake.get(), &one, sizeof one);
    thread.join();
    while (!queue.empty()) {
      const Scheduled& s = queue.top();
      record(s.direction, *s.packet,
             "not delivered: the link stopped; " + std::string(to_string(s.direction)) + " #" +
                 std::to_string(s.index));
      queue.pop();
    }
    {
      const std::lock_guard lock(mutex);
      stats.scheduled = 0;
    }
    changed.notify_all();
    if (pcap) pcap->flush();
    if (logFile.is_open()) logFile.flush();
  }

  LinkOptions options;
  std::string name;
  Namespace client;
  Namespace server;
  UniqueFd clientTun;
  UniqueFd serverTun;
  UniqueFd wake;  // eventfd: stop()
  SteadyClock::time_point start;
  std::int64_t wallStartMicros = 0;  // the pcap's clock: Unix time of the link's start
  std::ofstream pcapFile;
  std::optional<PcapngWriter> pcap;  // pump thread only, then stop()
  std::ofstream logFile;             // pump thread only, then stop()
  std::priority_queue<Scheduled, std::vector<Scheduled>, LeavesLater> queue;  // pump only
  std::uint64_t nextOrder = 0;                                                // pump only
  bool broken[2] = {false, false};  // client TUN, server TUN; pump only

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  LinkModel model;  // offers under `mutex`, so decisions() can copy the log
  LinkStats stats;  // under `mutex`
  std::thread thread;
};

TunLink::TunLink(LinkOptions options) {
  if (auto error = validate(options.config)) throw std::invalid_argument(*error);
  pump_ = std::make_unique<Pump>(std::move(options));
}

TunLink::~TunLink() {
  stop();
}

const Namespace& TunLink::clientSide() const {
  return pump_->client;
}

const Namespace& TunLink::serverSide() const {
  return pump_->server;
}

const LinkConfig& TunLink::config() const {
  return pump_->options.config;
}

bool TunLink::setLossPct(double lossPct) {
  const std::lock_guard lock(pump_->mutex);
  return pump_->model.setLossPct(lossPct);
}

Micros TunLink::now() const {
  return pump_->now();
}

LinkStats TunLink::stats() const {
  const std::lock_guard lock(pump_->mutex);
  return pump_->stats;
}

std::vector<Decision> TunLink::decisions() const {
  const std::lock_guard lock(pump_->mutex);
  return pump_->model.log();
}

bool TunLink::waitForOffered(Direction direction, std::uint64_t count,
                             std::chrono::milliseconds timeout) const {
  std::unique_lock lock(pump_->mutex);
  return pump_->changed.wait_for(lock, timeout,
                                 [&] { return pump_->stats[direction].offered >= count; });
}

bool TunLink::waitUntilIdle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(pump_->mutex);
  return pump_->changed.wait_for(lock, timeout, [&] { return pump_->stats.scheduled == 0; });
}

void TunLink::stop() {
  if (pump_) pump_->stop();
}

}  // namespace udpchat::lab
