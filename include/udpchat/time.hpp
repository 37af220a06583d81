// Time as the cores see it: always passed in, never read from a clock.
#pragma once

#include <cstdint>

namespace udpchat {

using Millis = std::int64_t;  // milliseconds

// The two clocks a core needs. `mono` drives timers and never jumps (steady clock);
// `wall` stamps messages for people (milliseconds since the Unix epoch, UTC).
struct Now {
  Millis mono = 0;
  Millis wall = 0;
};

// Reads the real clocks. Only frontends and transports call this.
Now readClocks();

}  // namespace udpchat
