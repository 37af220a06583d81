// The server under test as a child process: started with its arguments (optionally pinned to
// some CPUs), its port read from its "listening on ADDRESS:PORT" line, stopped with SIGTERM.
//
// Thread affinity: one thread (the bench's main thread). Start servers before any worker thread
// exists: the child runs only async-signal-safe calls between fork and exec.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace udpchat::bench {

// The port of a line such as "udpchat-server listening on 127.0.0.1:40123 (UDP, ENet)": the
// ADDRESS:PORT after `marker`.
std::optional<std::uint16_t> parseListeningPort(std::string_view line,
                                                std::string_view marker = "listening on ");

// How a child says it is ready: a line holding `marker` and then ADDRESS:PORT, on its standard
// output (udpchat-server) or its standard error (nats-server's log).
struct ReadyLine {
  std::string marker = "listening on ";
  bool onStderr = false;
};

class ServerProcess {
 public:
  // Starts `path` with `args` (argv[1..]) pinned to `cpus` (empty: not pinned) and waits up to
  // `startTimeout` for its listening line. Its stderr is discarded unless `showStderr`.
  // Throws std::runtime_error naming the binary and what went wrong (no such file, exited,
  // no listening line in time); the child is then already gone.
  ServerProcess(std::string path, std::vector<std::string> args, std::vector<int> cpus,
                bool showStderr, std::chrono::milliseconds startTimeout,
                ReadyLine ready = {});
  ~ServerProcess();  // stop()s
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  const std::string& listeningLine() const { return listeningLine_; }

  // SIGTERM, then SIGKILL if it has not exited after `grace`. Returns its exit status (0..255,
  // or 128 + signal). Idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

 private:
  std::string path_;
  pid_t pid_ = -1;
  int stdoutFd_ = -1;
  std::uint16_t port_ = 0;
  std::string listeningLine_;
  std::optional<int> status_;
};

}  // namespace udpchat::bench
