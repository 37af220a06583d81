// The cluster bus over NATS (cluster.hpp): the log is a JetStream stream, the directory a
// JetStream key-value bucket, signals plain NATS subjects. See docs/ARCHITECTURE.md, "Cluster".
//
// Thread affinity: the core's thread calls the Bus methods; NATS's own threads and one worker
// (for the calls that wait for JetStream's answer) hand their results over through a queue,
// and wakeFd() becomes readable when it holds something.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "udpchat/cluster.hpp"
#include "udpchat/time.hpp"

namespace udpchat::cluster {

struct NatsBusOptions {
  // nats://HOST:PORT, or tls://HOST:PORT for TLS; several, separated by commas, for a NATS
  // cluster. User and password may be given in the URL as nats://USER:PASSWORD@HOST:PORT.
  std::string url;
  std::string clusterName = "udpchat";  // clusterNameProblem() must accept it
  std::string credsFile;                // NATS credentials file (JWT and seed); empty: none
  std::string user;                     // user and password; empty: none
  std::string password;
  std::string caFile;                   // TLS: the CA certificate to trust; empty: the system's
  std::string serverName;               // shown in NATS's monitoring
  // The first log entry wanted (the store's position + 1); 0: only entries from now on.
  std::uint64_t startSequence = 0;
  Millis connectTimeout = 2000;
  Millis requestTimeout = 2000;  // JetStream's answer to one write
  std::int64_t logMaxMessages = 10'000'000;  // the stream keeps at most this many entries
};

// NATS cannot be reached, refuses the credentials, or has no JetStream. what() says which,
// for people.
class NatsBusError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class NatsBus final : public Bus {
 public:
  // Connects, creates the stream and the bucket if they are missing, and subscribes.
  explicit NatsBus(NatsBusOptions options);
  ~NatsBus() override;
  NatsBus(const NatsBus&) = delete;
  NatsBus& operator=(const NatsBus&) = delete;

  int wakeFd() const;
  std::string subjectPrefix() const;  // "udpchat.NAME"

  ServerId serverId() const override;
  void append(std::uint64_t tag, protocol::Bytes entry) override;
  void claim(std::uint64_t tag, std::string key, protocol::Bytes record) override;
  void put(std::string key, protocol::Bytes record) override;
  void remove(std::string key, std::uint64_t revision = 0, protocol::Bytes record = {}) override;
  void putSetting(std::string key, protocol::Bytes setting) override;
  void deleteSetting(std::string key) override;
  void signal(protocol::Bytes signal) override;
  void poll(std::vector<BusEvent>& out) override;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// The NATS library's own threads (dispatchers, timers, the last holder of a connection) go on
// for a moment after the last NatsBus is destroyed. A process that uses NATS keeps one of these
// alive longer than every NatsBus (declare it before them): its destructor waits, at most
// 3 s, until those threads have ended, so that none is still freeing a connection's TLS
// state while the exit-time cleanup of OpenSSL runs on the main thread.
class NatsLibrary {
 public:
  NatsLibrary() = default;
  ~NatsLibrary();
  NatsLibrary(const NatsLibrary&) = delete;
  NatsLibrary& operator=(const NatsLibrary&) = delete;
};

}  // namespace udpchat::cluster
