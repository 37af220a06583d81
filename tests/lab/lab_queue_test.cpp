// Running a comparison's runs several at a time (tools/lab/run_queue.hpp), with the run itself
// replaced by functions that wait on each other: no namespaces, no sockets, no sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "lab/run_queue.hpp"
#include "lab/run_result.hpp"

namespace udpchat::lab {
namespace {

using namespace std::chrono_literals;

RunResult numbered(std::size_t i) {
  RunResult r;
  r.repetition = static_cast<unsigned>(i);
  r.connected = true;
  return r;
}

TEST(LabQueue, RunsAtOnceFinishInAnyOrderAndComeBackInPlanOrder) {
  // Run i may finish only after run i + 1 has: with four at once they end 3, 2, 1, 0, which
  // is possible only if all four are under way together.
  constexpr std::size_t kRuns = 4;
  std::mutex m;
  std::condition_variable cv;
  std::vector<bool> ended(kRuns, false);
  std::vector<std::size_t> order;
  const auto results = runAll(
      kRuns, 4,
      [&](std::size_t i) {
        std::unique_lock lock(m);
        if (i + 1 < kRuns) {
          const bool next = cv.wait_for(lock, 10s, [&] { return ended[i + 1]; });
          EXPECT_TRUE(next) << "run " << i + 1 << " never ran beside run " << i;
        }
        ended[i] = true;
        order.push_back(i);
        cv.notify_all();
        return numbered(i);
      },
      [](std::size_t, std::size_t, std::size_t) {});
  EXPECT_EQ(order, (std::vector<std::size_t>{3, 2, 1, 0}));
  ASSERT_EQ(results.size(), kRuns);
  for (std::size_t i = 0; i < kRuns; ++i) EXPECT_EQ(results[i].repetition, i);
}

TEST(LabQueue, NoMoreThanJobsRunAtOnceAndProgressCountsEveryRun) {
  std::atomic<int> now{0}, most{0};
  std::vector<std::size_t> finished;
  std::size_t starts = 0, lastDone = 0;
  const auto results = runAll(
      25, 3,
      [&](std::size_t i) {
        const int running = ++now;
        int seen = most.load();
        while (running > seen && !most.compare_exchange_weak(seen, running)) {
        }
        --now;
        return numbered(i);
      },
      [&](std::size_t done, std::size_t running, std::size_t which) {
        EXPECT_LE(running, 3u);
        EXPECT_GE(done, lastDone);  // reported from one thread at a time, never backwards
        lastDone = done;
        if (which == 25) {
          ++starts;
        } else {
          finished.push_back(which);
        }
      });
  EXPECT_EQ(results.size(), 25u);
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(starts, 25u);
  EXPECT_EQ(finished.size(), 25u);
  EXPECT_EQ(lastDone, 25u);
}

TEST(LabQueue, AFailureStopsNewRunsAndIsRethrownOnceTheOthersHaveEnded) {
  std::vector<std::size_t> called;
  EXPECT_THROW(runAll(
                   6, 1,
                   [&](std::size_t i) {
                     called.push_back(i);
                     if (i == 2) throw std::runtime_error("no namespaces");
                     return numbered(i);
                   },
                   [](std::size_t, std::size_t, std::size_t) {}),
               std::runtime_error);
  EXPECT_EQ(called, (std::vector<std::size_t>{0, 1, 2}));
}

TEST(LabQueue, OneJobRunsThemInPlanOrder) {
  std::vector<std::size_t> called;
  runAll(
      5, 1,
      [&](std::size_t i) {
        called.push_back(i);
        return numbered(i);
      },
      [](std::size_t, std::size_t, std::size_t) {});
  EXPECT_EQ(called, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
}

TEST(LabProgress, TimeLeftFollowsThePaceSoFar) {
  EXPECT_LT(secondsLeft({72, 0, 4, 30}), 0);  // nothing finished: unknown
  EXPECT_DOUBLE_EQ(secondsLeft({72, 12, 4, 185}), 185.0 / 12 * 60);
  EXPECT_DOUBLE_EQ(secondsLeft({72, 72, 0, 900}), 0);
}

TEST(LabProgress, TheLineSaysDoneUnderWayElapsedAndLeft) {
  EXPECT_EQ(progressText({72, 12, 4, 185}, 0),
            "12/72 runs done, 4 under way, 3:05 elapsed, about 15:25 left");
  EXPECT_EQ(progressText({72, 0, 4, 9}, 0), "0/72 runs done, 4 under way, 0:09 elapsed");
  EXPECT_EQ(progressText({10, 10, 0, 3725}, 0), "10/10 runs done, 1:02:05 elapsed");
  // The bar: # for runs done, > for runs under way, . for the rest.
  EXPECT_EQ(progressText({10, 3, 2, 60}, 10).substr(0, 13), "[###>>.....] ");
}

TEST(LabProgress, DefaultJobsAreTwicePerCoreUpToEight) {
  EXPECT_EQ(defaultJobs(0), 1u);
  EXPECT_EQ(defaultJobs(1), 2u);
  EXPECT_EQ(defaultJobs(2), 4u);
  EXPECT_EQ(defaultJobs(16), 8u);
}

TEST(LabReport, ARunWhoseLinkFellBehindIsLeftOutAndSaysWhy) {
  RunResult late = numbered(2);
  late.transport = "tcp";
  late.lossPct = 5;
  late.sent = late.delivered = 100;
  late.linkMaxLateMs = 25.4;
  RunResult fine = late;
  fine.repetition = 1;
  fine.linkMaxLateMs = kLinkLateBoundMs;  // at the bound still counts
  const auto cells = summarizeCells({fine, late});
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].completedRuns, 1u);
  ASSERT_EQ(cells[0].failures.size(), 1u);
  EXPECT_EQ(cells[0].failures[0],
            "rep 2: its link fell 25.4 ms behind (more than 20 ms), so its latencies are not the "
            "link's; run it again with fewer --jobs");
}

}  // namespace
}  // namespace udpchat::lab
