// The rule every test that needs network namespaces follows: without the privileges it is
// skipped with the reason, except under CI=true, where it fails, so CI cannot skip the netns
// suite silently. Call UDPCHAT_REQUIRE_NETNS() first thing in a test or fixture SetUp, before
// the test starts any thread (acquireNetnsPrivileges may have to enter a user namespace).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "lab/netns.hpp"

namespace udpchat::lab::test {

inline bool inCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace udpchat::lab::test

#define UDPCHAT_REQUIRE_NETNS()                                                          \
  do {                                                                                   \
    const auto udpchatPrivileges = ::udpchat::lab::acquireNetnsPrivileges();             \
    if (!udpchatPrivileges) {                                                            \
      if (::udpchat::lab::test::inCi()) {                                                \
        FAIL() << "CI=true, so the netns tests must run: " << udpchatPrivileges.error(); \
      } else {                                                                           \
        GTEST_SKIP() << udpchatPrivileges.error();                                       \
      }                                                                                  \
    }                                                                                    \
  } while (false)
