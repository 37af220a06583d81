// A nats-server with JetStream that a test owns: a child process on loopback, its store in a
// temporary directory of its own (removed with the object), its port read from its log. It can
// be killed and started again on the same port and store, as a NATS restart.
#pragma once

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "restartable_port.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace udpchat::test {

class NatsProcess {
 public:
  // `extra`: more nats-server options (say "--user", "u", "--pass", "p").
  explicit NatsProcess(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    start(restartablePort());
  }

  std::uint16_t port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  // The same server asked for TLS (it must have been started with --tls).
  std::string tlsUrl() const { return "tls://127.0.0.1:" + std::to_string(port_); }

  // SIGKILL: JetStream keeps only what it had written.
  void kill() {
    proc_->kill(SIGKILL);
    proc_->wait(after(std::chrono::seconds(5)));
  }
  // On the same port, with the same store.
  void restart() { start(port_); }

 private:
  void start(int port) {
    std::vector<std::string> args = {"-js", "-a", "127.0.0.1", "-p", std::to_string(port),
                                     "-sd", dir_.path().string()};
    args.insert(args.end(), extra_.begin(), extra_.end());
    proc_ = std::make_unique<Subprocess>(UDPCHAT_NATS_SERVER_BIN, std::move(args));
    static const std::regex kListening(R"(Listening for client connections on 127\.0\.0\.1:(\d+))");
    const auto line = proc_->waitForLine(Subprocess::Stream::Stderr, "Listening for client",
                                         after(std::chrono::seconds(10)));
    std::smatch m;
    if (!line || !std::regex_search(*line, m, kListening)) {
      ADD_FAILURE() << "nats-server did not start; is the nats-server package installed?";
      return;
    }
    port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  }

  std::vector<std::string> extra_;
  TempDir dir_;  // outlives the process: members go in reverse order
  std::unique_ptr<Subprocess> proc_;
  std::uint16_t port_ = 0;
};

}  // namespace udpchat::test
