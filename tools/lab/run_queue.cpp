#include "lab/run_queue.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

namespace udpchat::lab {
namespace {

std::string clock(double seconds) {
  const long s = std::lround(std::max(seconds, 0.0));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  }
  return text;
}

}  // namespace

double secondsLeft(const Progress& p) {
  if (p.done == 0) return -1;
  if (p.done >= p.total) return 0;
  return p.elapsedS / static_cast<double>(p.done) * static_cast<double>(p.total - p.done);
}

std::string progressText(const Progress& p, std::size_t barWidth) {
  std::string out;
  if (barWidth > 0) {
    const std::size_t filled = p.total == 0 ? barWidth : barWidth * p.done / p.total;
    const std::size_t busy = p.total == 0 ? 0 : std::min(barWidth - filled, barWidth * p.running / p.total);
    out = "[" + std::string(filled, '#') + std::string(busy, '>') +
          std::string(barWidth - filled - busy, '.') + "] ";
  }
  out += std::to_string(p.done) + "/" + std::to_string(p.total) + " runs done";
  if (p.running > 0) out += ", " + std::to_string(p.running) + " under way";
  out += ", " + clock(p.elapsedS) + " elapsed";
  const double left = secondsLeft(p);
  if (left > 0) out += ", about " + clock(left) + " left";
  return out;
}

unsigned defaultJobs(unsigned cores) { return std::clamp(cores * 2, 1u, 8u); }

std::vector<RunResult> runAll(std::size_t count, unsigned jobs,
                              const std::function<RunResult(std::size_t)>& run,
                              const std::function<void(std::size_t, std::size_t, std::size_t)>& onProgress) {
  std::vector<std::optional<RunResult>> results(count);
  std::mutex mutex;
  std::size_t next = 0, done = 0, running = 0;
  std::exception_ptr failure;
  const auto worker = [&] {
    std::unique_lock lock(mutex);
    while (next < count && !failure) {
      const std::size_t mine = next++;
      ++running;
      onProgress(done, running, count);  // `count` as "none finished": only a start
      lock.unlock();
      std::optional<RunResult> result;
      std::exception_ptr thrown;
      try {
        result = run(mine);
      } catch (...) {
        thrown = std::current_exception();
      }
      lock.lock();
      --running;
      if (thrown && !failure) failure = thrown;
      if (result) {
        results[mine] = std::move(result);
        ++done;
        onProgress(done, running, mine);
      }
    }
  };
  const unsigned threads = static_cast<unsigned>(std::clamp<std::size_t>(jobs, 1, std::max<std::size_t>(count, 1)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  std::vector<RunResult> out;
  out.reserve(count);
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

}  // namespace udpchat::lab
