// A cluster in one process, for tests: the log, the directory, the settings and the signals of cluster.hpp
// with NATS's semantics (one order for the log, compare-and-set on keys, revisions, watchers
// that catch up after a link comes back), applied at once when a bus is called and delivered
// when its server polls. Links can be cut and restored to exercise the failure paths.
// Thread affinity: one thread for the cluster and all its buses.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "udpchat/cluster.hpp"

namespace udpchat::cluster {

class MemoryCluster {
 public:
  MemoryCluster();
  ~MemoryCluster();
  MemoryCluster(const MemoryCluster&) = delete;
  MemoryCluster& operator=(const MemoryCluster&) = delete;

  // A bus for the server `id`; it must not outlive the cluster. Its first poll() delivers the
  // whole log and the directory as they stand.
  std::unique_ptr<Bus> connect(ServerId id);
  // Cuts or restores a server's link: while cut, its calls fail (AppendFailed, ClaimFailed,
  // puts and removes are lost), it hears nothing, and its next poll() says LinkLost; once
  // restored, LinkRestored, then what it missed.
  void setLinkUp(ServerId id, bool up);

  std::size_t logSize() const;
  // The directory record under `key`, if any.
  std::optional<UserRecord> record(const std::string& key) const;
  std::vector<std::string> keys() const;

  struct Hub;

 private:
  std::unique_ptr<Hub> hub_;
};

}  // namespace udpchat::cluster
