// SIGINT and SIGTERM as a stop flag for the frontends' loops.
#pragma once

#include <atomic>

namespace udpchat {

// Installs handlers for SIGINT and SIGTERM that set the returned flag. The first signal asks
// the loop to stop politely (quit, close sessions); the handler then resets itself, so a second
// signal ends a process that does not stop. SIGPIPE is ignored: a closed pipe on stdout must
// surface as a write error, not kill the process before it says goodbye.
// Call once, from main, before starting any thread.
const std::atomic<bool>& installStopSignals();

}  // namespace udpchat
