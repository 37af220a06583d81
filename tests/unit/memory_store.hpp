// A Store in memory with the same batch rule as the real one (a failed commit keeps nothing of
// its batch), and a switch that makes commits fail, for the core's tests.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "udpchat/store.hpp"

namespace udpchat::testing {

class MemoryStore final : public Store {
 public:
  // Committed state, for assertions.
  std::map<protocol::MessageId, StoredChat> messages;
  std::map<protocol::MessageId, StoredPrivate> privates;
  std::map<std::string, StoredTopic, std::less<>> topics;
  std::map<std::uint64_t, std::int64_t> tokens;
  protocol::MessageId next = 1;
  bool failCommits = false;
  std::size_t commits = 0;

  protocol::MessageId nextMessageId() override { return next; }
  std::vector<StoredChat> messagesBefore(std::string_view room, protocol::MessageId before,
                                         std::size_t count) override {
    std::vector<StoredChat> out;
    for (auto it = messages.rbegin(); it != messages.rend() && out.size() < count; ++it) {
      if (it->second.event.room == room && (before == 0 || it->first < before)) {
        out.push_back(it->second);
      }
    }
    std::reverse(out.begin(), out.end());
    return out;
  }
  // A plain substring match per word, enough for the core's tests.
  std::vector<StoredChat> search(std::string_view room, std::string_view words,
                                 std::size_t limit) override {
    std::vector<StoredChat> out;
    for (auto it = messages.rbegin(); it != messages.rend() && out.size() < limit; ++it) {
      if (it->second.event.room == room &&
          it->second.event.text.find(words) != std::string::npos) {
        out.push_back(it->second);
      }
    }
    return out;
  }
  std::optional<StoredTopic> topic(std::string_view room) override {
    auto it = topics.find(room);
    return it == topics.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<std::uint64_t> tokensSeenSince(std::int64_t since) override {
    std::vector<std::uint64_t> out;
    for (auto [token, seen] : tokens) {
      if (seen >= since) out.push_back(token);
    }
    return out;
  }
  std::vector<std::pair<std::uint64_t, StoredAccepted>> acceptedSince(std::int64_t since) override {
    std::vector<std::pair<std::uint64_t, StoredAccepted>> out;
    for (auto& [id, m] : messages) {
      if (m.event.clientId != 0 && static_cast<std::int64_t>(m.event.ts) >= since) {
        out.push_back({m.authorToken, {m.event.clientId, id, m.event.ts, m.event.room}});
      }
    }
    for (auto& [id, m] : privates) {
      if (m.event.clientId != 0 && static_cast<std::int64_t>(m.event.ts) >= since) {
        out.push_back({m.authorToken, {m.event.clientId, id, m.event.ts, m.event.to}});
      }
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.second.id < b.second.id; });
    return out;
  }

  void addMessage(const StoredChat& m) override {
    batch_.push_back([this, m] {
      messages[m.event.id] = m;
      next = std::max(next, m.event.id + 1);
    });
  }
  void addPrivate(const StoredPrivate& m) override {
    batch_.push_back([this, m] {
      privates[m.event.id] = m;
      next = std::max(next, m.event.id + 1);
    });
  }
  void markDeleted(std::string_view, protocol::MessageId id, std::string_view) override {
    batch_.push_back([this, id] { messages.erase(id); });
  }
  void setTopic(std::string_view room, const StoredTopic& t) override {
    batch_.push_back([this, r = std::string(room), t] { topics[r] = t; });
  }
  void touchToken(std::uint64_t token, std::int64_t wall) override {
    batch_.push_back([this, token, wall] { tokens[token] = std::max(tokens[token], wall); });
  }
  std::map<std::string, protocol::BanEntry, std::less<>> banned;
  std::vector<protocol::BanEntry> bans() override {
    std::vector<protocol::BanEntry> out;
    for (auto& [key, ban] : banned) out.push_back(ban);
    return out;
  }
  void addBan(std::string_view key, const protocol::BanEntry& ban) override {
    batch_.push_back([this, k = std::string(key), ban] { banned[k] = ban; });
  }
  void removeBan(std::string_view key) override {
    batch_.push_back([this, k = std::string(key)] { banned.erase(k); });
  }
  std::map<std::string, StoredAccount, std::less<>> accountsByKey;
  std::map<std::string, std::vector<protocol::PrivateEvent>, std::less<>> kept;
  std::vector<StoredAccount> accounts() override {
    std::vector<StoredAccount> out;
    for (auto& [key, a] : accountsByKey) out.push_back(a);
    return out;
  }
  std::vector<protocol::PrivateEvent> offlineFor(std::string_view key) override {
    auto it = kept.find(key);
    return it == kept.end() ? std::vector<protocol::PrivateEvent>{} : it->second;
  }
  void putAccount(std::string_view key, const StoredAccount& a) override {
    batch_.push_back([this, k = std::string(key), a] { accountsByKey[k] = a; });
  }
  void removeAccount(std::string_view key) override {
    batch_.push_back([this, k = std::string(key)] {
      accountsByKey.erase(k);
      kept.erase(k);
    });
  }
  void addOffline(std::string_view key, const protocol::PrivateEvent& m) override {
    batch_.push_back([this, k = std::string(key), m] {
      kept[k].push_back(m);
      next = std::max(next, m.id + 1);
    });
  }
  void clearOffline(std::string_view key) override {
    batch_.push_back([this, k = std::string(key)] { kept.erase(k); });
  }
  std::uint64_t position = 0;  // committed cluster position
  std::uint64_t clusterPosition() override { return position; }
  void setClusterPosition(std::uint64_t sequence) override {
    batch_.push_back([this, sequence] { position = sequence; });
  }
  bool pending() const override { return !batch_.empty(); }
  bool commit(std::int64_t) override {
    auto batch = std::move(batch_);
    batch_.clear();
    if (failCommits) return false;
    for (auto& write : batch) write();
    ++commits;
    return true;
  }
  std::string lastError() const override { return failCommits ? "disk is full (test)" : ""; }

 private:
  std::vector<std::function<void()>> batch_;
};

}  // namespace udpchat::testing
