// Session ids handed out by every transport of one server, so that an id names one connection
// whichever transport carries it.
//
// Thread affinity: the thread that drives the transports (one allocator, one thread).
#pragma once

#include "udpchat/outbox.hpp"

namespace udpchat {

class SessionIdAllocator {
 public:
  // 1, 2, 3, ...: never 0 (0 means "no session" to the transports), never reused while the
  // allocator lives (a wrap-around needs 2^32 connections).
  SessionId next() {
    const SessionId id = next_++;
    if (next_ == 0) next_ = 1;
    return id;
  }

 private:
  SessionId next_ = 1;
};

}  // namespace udpchat
