// The full-screen client: ClientRunner (transport + chat core) in the same loop as the line
// client, with a TuiModel drawing on the terminal through ncursesw.
// Private to udpchat-client.
#pragma once

#include <atomic>

#include "line_client.hpp"

namespace udpchat::client {

// Runs until the core finishes and returns its exit status, like runLineClient; options.json is
// ignored. Setting `stop` quits. When the terminal cannot be driven (unknown TERM), says so on
// standard error and runs the line client instead.
int runTuiClient(const LineClientOptions& options, const std::atomic<bool>& stop);

}  // namespace udpchat::client
