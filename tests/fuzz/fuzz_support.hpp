// Shared by the libFuzzer targets: a failed invariant aborts with the reason, so the fuzzer
// keeps the input that broke it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define UDPCHAT_FUZZ_CHECK(condition)                                                   \
  do {                                                                                  \
    if (!(condition)) {                                                                 \
      std::fprintf(stderr, "invariant broken at %s:%d: %s\n", __FILE__, __LINE__,      \
                   #condition);                                                         \
      std::abort();                                                                     \
    }                                                                                   \
  } while (false)
