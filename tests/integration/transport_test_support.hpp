// Shared by the ENet and the TCP loopback tests: frames from text and back, and a
// SessionHandler that records what a server transport reported, in order, and runs code posted
// by the test thread on the server thread (at the next tick).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "udpchat/client_transport.hpp"
#include "udpchat/outbox.hpp"

namespace udpchat::test {

// A process's resident set, bytes (VmRSS in /proc/<pid>/status): this one's by default.
inline std::size_t residentBytes(const std::string& pid = "self") {
  std::ifstream status("/proc/" + pid + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      std::size_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  ADD_FAILURE() << "no VmRSS in /proc/" << pid << "/status";
  return 0;
}

inline protocol::Bytes bytesOf(std::string_view s) {
  protocol::Bytes out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline std::string textOf(const protocol::Bytes& b) {
  std::string out;
  for (std::byte x : b) out.push_back(static_cast<char>(x));
  return out;
}

class RecordingHandler final : public SessionHandler {
 public:
  enum class Kind { Connected, Disconnected, Received };
  struct Record {
    Kind kind;
    SessionId session = 0;
    std::uint8_t channel = 0;
    protocol::Bytes bytes;
  };

  explicit RecordingHandler(Outbox& outbox) : outbox_(outbox) {}

  using SessionHandler::connected;  // the address-aware overload forwards here
  void connected(SessionId session, Now) override { add({Kind::Connected, session, 0, {}}); }
  void disconnected(SessionId session, Now) override { add({Kind::Disconnected, session, 0, {}}); }
  void received(SessionId session, std::uint8_t channel, protocol::ByteSpan frame, Now) override {
    add({Kind::Received, session, channel, protocol::Bytes(frame.begin(), frame.end())});
  }
  void tick(Now) override {
    std::vector<std::function<void(Outbox&)>> actions;
    {
      std::lock_guard lock(mutex_);
      actions.swap(actions_);
    }
    for (auto& action : actions) action(outbox_);
    std::lock_guard lock(mutex_);
    ticksDone_ += actions.size();
  }
  Millis tickInterval() const override { return 2; }

  // Runs `action` on the server thread at the next tick.
  void post(std::function<void(Outbox&)> action) {
    std::lock_guard lock(mutex_);
    actions_.push_back(std::move(action));
    ++posted_;
  }
  bool postedDone() const {
    std::lock_guard lock(mutex_);
    return ticksDone_ == posted_;
  }
  std::vector<Record> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  std::vector<SessionId> sessions(Kind kind) const {
    std::vector<SessionId> out;
    for (const auto& r : records()) {
      if (r.kind == kind) out.push_back(r.session);
    }
    return out;
  }
  std::vector<Record> received() const {
    std::vector<Record> out;
    for (auto& r : records()) {
      if (r.kind == Kind::Received) out.push_back(r);
    }
    return out;
  }

 private:
  void add(Record r) {
    std::lock_guard lock(mutex_);
    records_.push_back(std::move(r));
  }

  Outbox& outbox_;
  mutable std::mutex mutex_;
  std::vector<Record> records_;
  std::vector<std::function<void(Outbox&)>> actions_;
  std::size_t posted_ = 0;
  std::size_t ticksDone_ = 0;
};

// The events a client transport reported, in order, with the questions tests ask of them.
struct RecordedEvents {
  std::vector<ClientTransportEvent> events;

  template <class T>
  std::size_t count() const {
    return static_cast<std::size_t>(std::count_if(
        events.begin(), events.end(), [](const auto& e) { return std::holds_alternative<T>(e); }));
  }
  std::vector<std::string> receivedTexts(std::uint8_t channel) const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (auto* r = std::get_if<transport_event::Received>(&e); r && r->channel == channel) {
        out.push_back(test::textOf(r->bytes));
      }
    }
    return out;
  }
};

// A server (a server transport, or the ServerLoop driving both) and its handler, run by their
// own thread until stop() or destruction. `Server` takes its options in its constructor and has
// port() and run(handler, stop); the handler is made from the server (its Outbox).
template <class Server, class Handler>
class ServerOnThread {
 public:
  template <class Options, class MakeHandler>
  ServerOnThread(Options options, MakeHandler makeHandler)
      : server_(std::move(options)), handler_(makeHandler(server_)) {
    thread_ = std::thread([this] { server_.run(*handler_, stop_); });
  }
  ~ServerOnThread() { stop(); }
  ServerOnThread(const ServerOnThread&) = delete;
  ServerOnThread& operator=(const ServerOnThread&) = delete;
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Fixed at construction, so safe to read from any thread.
  std::uint16_t port() const { return server_.port(); }
  Handler& handler() { return *handler_; }
  // Only after stop(): the server belongs to its thread while it runs.
  Server& server() { return server_; }
  const Server& server() const { return server_; }

 private:
  Server server_;
  std::unique_ptr<Handler> handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace udpchat::test
