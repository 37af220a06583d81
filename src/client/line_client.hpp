// The line client: stdin lines in, one printed line per event out.
// Private to udpchat-client.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "udpchat/client_core.hpp"
#include "udpchat/time.hpp"

namespace udpchat::client {

struct LineClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = kDefaultPort;
  ClientConfig core;
  bool json = false;             // JSON Lines on stdout (and on stderr) instead of human lines
  Millis connectTimeout = 5000;  // milliseconds, per connect attempt
  std::string transport = "enet";
};

// Prints a client-side error on `err`: a JSON object in JSON mode, "udpchat-client: message"
// otherwise.
void printError(std::FILE* err, bool json, const std::string& code, const std::string& message);

// Runs until the core finishes (EOF on `inputFd` quits) and returns the exit status: the core's
// (kExitOk, kExitCannotConnect, ...). Setting `stop` (e.g. from a signal handler) quits as EOF
// does. Thread affinity: runs entirely on the calling thread.
int runLineClient(const LineClientOptions& options, int inputFd, std::FILE* out, std::FILE* err,
                  const std::atomic<bool>& stop);

}  // namespace udpchat::client
