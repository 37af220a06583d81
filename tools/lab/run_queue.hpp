// Running a comparison's runs several at a time, and telling a person how far along it is.
// Each run has its own pair of namespaces and its own link, so runs share nothing but the
// machine's cores; results come back in the order the runs were planned, whatever order they
// finish in. No sockets and no clock of its own: time is passed in (tests/lab/lab_queue_test.cpp).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "lab/run_result.hpp"

namespace udpchat::lab {

// How far a comparison has got.
struct Progress {
  std::size_t total = 0;
  std::size_t done = 0;
  std::size_t running = 0;
  double elapsedS = 0;
};

// Seconds left, from the pace so far (runs finish at about the same rate throughout); a
// negative value while nothing has finished.
double secondsLeft(const Progress& p);

// "12/72 runs done, 4 under way, 3:05 elapsed, about 14:40 left", with a bar of `barWidth`
// characters in front when barWidth > 0.
std::string progressText(const Progress& p, std::size_t barWidth);

// How many runs at once when --jobs is not given: twice the cores, at most 8, at least 1. A run
// is mostly waiting (its messages are paced, its link sleeps until the next departure), so
// two per core leave each its own time; docs/LAB.md has the measurement.
unsigned defaultJobs(unsigned cores);

// Calls run(i) for every i < count on up to `jobs` threads, and returns the results in index
// order. onProgress(done, running, finished) is called, from one thread at a time, when a run
// starts (finished == count) and when run `finished` has ended (its result already counted). An exception from run stops further runs from starting; the first one is
// rethrown once those under way have finished.
std::vector<RunResult> runAll(std::size_t count, unsigned jobs,
                              const std::function<RunResult(std::size_t)>& run,
                              const std::function<void(std::size_t done, std::size_t running,
                                                       std::size_t finished)>& onProgress);

}  // namespace udpchat::lab
