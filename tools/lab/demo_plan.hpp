// What `udpchat-lab demo` runs: three comparisons small enough to finish together in about a
// minute, each the shortest that still shows its lesson (docs/LAB.md, "The demo"). Pure.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "lab/lab_options.hpp"

namespace udpchat::lab {

// Chat (TCP and ENet reliable at 0, 5 and 10 % loss), head-of-line (the same two beside a bulk
// transfer at 5 %) and presence (TCP and ENet's unreliable channel at 5 %), all with 20 ms each
// way, one repetition each, seeds from `seed`.
std::vector<CompareOptions> demoPlan(std::uint64_t seed);

// Whether the demo keeps the capture of this run: one per transport, the chat at 10 % loss,
// where the difference is plainest.
bool demoKeepsCapture(const CompareOptions& part, std::string_view transport, double lossPct);

}  // namespace udpchat::lab
