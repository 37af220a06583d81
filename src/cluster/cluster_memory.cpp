#include "udpchat/cluster_memory.hpp"

#include <deque>
#include <stdexcept>

namespace udpchat::cluster {

namespace memory_detail {

// One change to the directory, as a watcher sees it.
struct DirectoryChange {
  std::string key;
  std::uint64_t revision = 0;
  bool deleted = false;
  protocol::Bytes record;
};

struct Member {
  bool up = true;
  std::size_t logSeen = 0;        // entries of the log delivered
  std::size_t directorySeen = 0;  // changes delivered
  std::size_t settingsSeen = 0;   // setting changes delivered
  std::deque<BusEvent> results;   // its own calls' outcomes and the signals it heard
  std::map<std::string, std::uint64_t> owned;  // key -> the revision this server wrote last
};

}  // namespace memory_detail

using memory_detail::DirectoryChange;
using memory_detail::Member;

struct MemoryCluster::Hub {
  std::vector<protocol::Bytes> log;
  std::vector<DirectoryChange> changes;
  std::map<std::string, DirectoryChange> current;  // live keys
  std::vector<DirectoryChange> settingChanges;     // puts and deletions, last writer wins
  std::uint64_t revision = 0;
  std::map<ServerId, Member> members;

  Member& member(ServerId id) {
    auto it = members.find(id);
    if (it == members.end()) throw std::logic_error("MemoryCluster: unknown server");
    return it->second;
  }

  // The last revision the key was written at, deletions included; 0: never written.
  std::uint64_t lastRevision(const std::string& key) const {
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
      if (it->key == key) return it->revision;
    }
    return 0;
  }

  std::uint64_t write(const std::string& key, bool deleted, protocol::Bytes record) {
    DirectoryChange change{key, ++revision, deleted, std::move(record)};
    if (deleted) {
      current.erase(key);
    } else {
      current[key] = change;
    }
    changes.push_back(std::move(change));
    return revision;
  }
};

namespace {

class MemoryBus final : public Bus {
 public:
  MemoryBus(MemoryCluster::Hub& hub, ServerId id) : hub_(hub), id_(id) {}
  ~MemoryBus() override { hub_.members.erase(id_); }

  ServerId serverId() const override { return id_; }

  void append(std::uint64_t tag, protocol::Bytes entry) override {
    Member& me = hub_.member(id_);
    if (!me.up) return fail(me, BusEvent::Kind::AppendFailed, tag);
    hub_.log.push_back(std::move(entry));
  }

  void claim(std::uint64_t tag, std::string key, protocol::Bytes record) override {
    Member& me = hub_.member(id_);
    if (!me.up) return fail(me, BusEvent::Kind::ClaimFailed, tag);
    BusEvent result;
    result.tag = tag;
    result.key = key;
    if (hub_.current.contains(key)) {
      result.kind = BusEvent::Kind::ClaimFailed;
      result.taken = true;
      result.reason = "the nick is held";
    } else {
      result.kind = BusEvent::Kind::Claimed;
      me.owned[key] = hub_.write(key, false, std::move(record));
    }
    me.results.push_back(std::move(result));
  }

  void put(std::string key, protocol::Bytes record) override {
    Member& me = hub_.member(id_);
    if (!me.up) return;
    auto owned = me.owned.find(key);
    if (owned == me.owned.end() || hub_.lastRevision(key) != owned->second) {
      return lost(me, std::move(key));
    }
    owned->second = hub_.write(key, false, std::move(record));
  }

  void remove(std::string key, std::uint64_t revision, protocol::Bytes record) override {
    Member& me = hub_.member(id_);
    if (!me.up) return;
    auto owned = me.owned.find(key);
    if (revision == 0) {
      if (owned == me.owned.end()) return;
      revision = owned->second;
    }
    if (!hub_.current.contains(key) || hub_.lastRevision(key) != revision) {
      if (owned != me.owned.end()) lost(me, key);
      return;
    }
    hub_.write(key, true, std::move(record));
    if (owned != me.owned.end()) me.owned.erase(owned);
  }

  void putSetting(std::string key, protocol::Bytes setting) override {
    if (!hub_.member(id_).up) return;
    hub_.settingChanges.push_back({std::move(key), 0, false, std::move(setting)});
  }

  void deleteSetting(std::string key) override {
    if (!hub_.member(id_).up) return;
    hub_.settingChanges.push_back({std::move(key), 0, true, {}});
  }

  void signal(protocol::Bytes bytes) override {
    if (!hub_.member(id_).up) return;
    for (auto& [id, member] : hub_.members) {
      if (!member.up) continue;
      BusEvent event;
      event.kind = BusEvent::Kind::Signal;
      event.data = bytes;
      member.results.push_back(std::move(event));
    }
  }

  void poll(std::vector<BusEvent>& out) override {
    Member& me = hub_.member(id_);
    drainResults(me, out);
    if (!me.up) return;
    for (; me.directorySeen < hub_.changes.size(); ++me.directorySeen) {
      const DirectoryChange& change = hub_.changes[me.directorySeen];
      BusEvent event;
      event.kind = change.deleted ? BusEvent::Kind::DirectoryDeleted : BusEvent::Kind::DirectoryPut;
      event.key = change.key;
      event.sequence = change.revision;
      event.data = change.record;
      out.push_back(std::move(event));
    }
    for (; me.settingsSeen < hub_.settingChanges.size(); ++me.settingsSeen) {
      const DirectoryChange& change = hub_.settingChanges[me.settingsSeen];
      BusEvent event;
      event.kind = change.deleted ? BusEvent::Kind::SettingDeleted : BusEvent::Kind::SettingPut;
      event.key = change.key;
      event.data = change.record;
      out.push_back(std::move(event));
    }
    for (; me.logSeen < hub_.log.size(); ++me.logSeen) {
      BusEvent event;
      event.kind = BusEvent::Kind::Logged;
      event.sequence = me.logSeen + 1;
      event.data = hub_.log[me.logSeen];
      out.push_back(std::move(event));
    }
  }

 private:
  static void fail(Member& me, BusEvent::Kind kind, std::uint64_t tag) {
    BusEvent event;
    event.kind = kind;
    event.tag = tag;
    event.reason = "the cluster cannot be reached";
    me.results.push_back(std::move(event));
  }
  static void lost(Member& me, std::string key) {
    me.owned.erase(key);
    BusEvent event;
    event.kind = BusEvent::Kind::KeyLost;
    event.key = std::move(key);
    me.results.push_back(std::move(event));
  }
  static void drainResults(Member& me, std::vector<BusEvent>& out) {
    while (!me.results.empty()) {
      out.push_back(std::move(me.results.front()));
      me.results.pop_front();
    }
  }

  MemoryCluster::Hub& hub_;
  ServerId id_;
};

}  // namespace

MemoryCluster::MemoryCluster() : hub_(std::make_unique<Hub>()) {}
MemoryCluster::~MemoryCluster() = default;

std::unique_ptr<Bus> MemoryCluster::connect(ServerId id) {
  if (!hub_->members.try_emplace(id).second) {
    throw std::logic_error("MemoryCluster: server id connected twice");
  }
  return std::make_unique<MemoryBus>(*hub_, id);
}

void MemoryCluster::setLinkUp(ServerId id, bool up) {
  Member& m = hub_->member(id);
  if (m.up == up) return;
  m.up = up;
  BusEvent event;
  event.kind = up ? BusEvent::Kind::LinkRestored : BusEvent::Kind::LinkLost;
  if (!up) event.reason = "link cut by the test";
  m.results.push_back(std::move(event));
}

std::size_t MemoryCluster::logSize() const { return hub_->log.size(); }

std::optional<UserRecord> MemoryCluster::record(const std::string& key) const {
  auto it = hub_->current.find(key);
  if (it == hub_->current.end()) return std::nullopt;
  auto decoded = decodeUserRecord(it->second.record);
  if (!decoded) return std::nullopt;
  return std::move(decoded.value());
}

std::vector<std::string> MemoryCluster::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, change] : hub_->current) out.push_back(key);
  return out;
}

}  // namespace udpchat::cluster
