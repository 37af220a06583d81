// The front of `udpchat-lab live`: runs a LiveLab and shows its board on the terminal (ncursesw,
// through the full-screen client's Terminal), or, when standard input or output is not a
// terminal, one line per arrival. Keys: + and - walk the loss through liveLossSteps(), 0 sets
// no loss, q, Escape or Ctrl-C end it. Prints liveSummary() when it ends.
#pragma once

#include <atomic>

#include "lab/live_run.hpp"

namespace udpchat::lab {

// The exit status: 0 when it ended as asked (a key, a signal, --duration), 1 when the options are
// invalid or a link, a server or a connection failed (the reason on stderr). `stopRequested` is the flag of
// installStopSignals(), installed before any thread started.
int runLiveView(const LiveOptions& options, const std::atomic<bool>& stopRequested);

}  // namespace udpchat::lab
