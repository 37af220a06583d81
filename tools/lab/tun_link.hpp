// The real emulated link, in the manner of Mahimahi: two network namespaces (client side and
// server side), a TUN device in each, and a pump thread that reads every IP packet from one
// TUN, asks the LinkModel what happens to it, and writes it to the other TUN at its departure
// time. Real kernel TCP and UDP cross it, so no transport gets special treatment.
//
//   client namespace                                         server namespace
//   198.18.0.1 dev udpchat-c  <-- pump (LinkModel) -->  dev udpchat-s 198.18.1.1
//
// Each side reaches the other only through its TUN (a point-to-point /32 route); the link
// carries only what processes inside the two namespaces send.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lab/link_config.hpp"
#include "lab/link_model.hpp"
#include "lab/netns.hpp"

namespace udpchat::lab {

inline constexpr char kClientAddress[] = "198.18.0.1";  // inside the client namespace
inline constexpr char kServerAddress[] = "198.18.1.1";  // inside the server namespace
inline constexpr char kClientDevice[] = "udpchat-c";
inline constexpr char kServerDevice[] = "udpchat-s";
inline constexpr int kLinkMtu = 1500;  // bytes

struct LinkOptions {
  LinkConfig config;
  std::string pcapPath;  // pcapng of everything that crossed or was dropped; empty = none
  std::string logPath;   // the decision log as text; empty = kept in memory only
  // As root, also name the namespaces under /run/netns (udpchat-lab-<pid>-<n>-c and -s) so
  // `ip netns exec` reaches them while the link lives.
  bool publishNamespaces = true;
};

struct DirectionStats {
  std::uint64_t offered = 0;       // IPv4 packets read from the sending side's TUN
  std::uint64_t written = 0;       // copies written to the receiving side (duplicates count)
  std::uint64_t lost = 0;          // Fate::kLost
  std::uint64_t burstLost = 0;     // Fate::kBurstLost
  std::uint64_t queueFull = 0;     // Fate::kQueueFull
  std::uint64_t duplicated = 0;    // decisions with a second copy
  std::uint64_t reordered = 0;     // decisions held back by the reorder delay
  std::uint64_t writeErrors = 0;   // the receiving TUN refused a packet
  std::uint64_t bytesOffered = 0;  // bytes of the offered packets (whole IP packets)
  std::uint64_t bytesWritten = 0;  // bytes of the written copies: what crossed the wire
  Micros maxLateUs = 0;  // the worst lateness of a write past its departure time (accuracy)
};

struct LinkStats {
  DirectionStats clientToServer;
  DirectionStats serverToClient;
  std::uint64_t ignored = 0;  // non-IPv4 packets, not carried and not offered to the model
  std::size_t scheduled = 0;  // copies decided but not yet written

  const DirectionStats& operator[](Direction d) const {
    return d == Direction::kClientToServer ? clientToServer : serverToClient;
  }
};

class TunLink {
 public:
  // Creates both namespaces and TUN devices and starts the pump. Call acquireNetnsPrivileges()
  // first. Throws std::invalid_argument for a configuration validate() rejects,
  // std::system_error when a namespace or device cannot be made, std::runtime_error when the
  // pcap or log file cannot be opened.
  explicit TunLink(LinkOptions options);
  // Stops the pump, finishes the pcap and log files, and deletes both namespaces (processes
  // still running inside keep theirs alive until they exit).
  ~TunLink();
  TunLink(const TunLink&) = delete;
  TunLink& operator=(const TunLink&) = delete;

  const Namespace& clientSide() const;
  const Namespace& serverSide() const;
  const LinkConfig& config() const;  // as the link started (setLossPct does not change it)
  // Changes both directions' independent loss from the next packet on (LinkModel::setLossPct);
  // false outside 0 to 100. Thread-safe.
  bool setLossPct(double lossPct);

  // The emulator's clock: microseconds since the link started. Thread-safe.
  Micros now() const;

  // Thread-safe snapshots.
  LinkStats stats() const;
  std::vector<Decision> decisions() const;

  // Waits until at least `count` packets have been offered in `direction`; false on timeout.
  bool waitForOffered(Direction direction, std::uint64_t count,
                      std::chrono::milliseconds timeout) const;
  // Waits until every decided copy has been written (packets still unread in a TUN's queue are
  // not seen: wait for them with waitForOffered first); false on timeout.
  bool waitUntilIdle(std::chrono::milliseconds timeout) const;

  // Stops the pump: nothing crosses afterwards; copies still scheduled are recorded in the pcap
  // as not delivered. Idempotent; the destructor calls it.
  void stop();

 private:
  struct Pump;
  std::unique_ptr<Pump> pump_;
};

}  // namespace udpchat::lab
