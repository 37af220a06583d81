#include "server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace udpchat::bench {
namespace {

using Clock = std::chrono::steady_clock;

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

std::optional<std::uint16_t> parseListeningPort(std::string_view line, std::string_view marker) {
  const auto at = line.find(marker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view address = line.substr(at + marker.size());
  address = address.substr(0, address.find_first_of(" \t\r"));
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view digits = address.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

ServerProcess::ServerProcess(std::string path, std::vector<std::string> args, std::vector<int> cpus,
                             bool showStderr, std::chrono::milliseconds startTimeout,
                             ReadyLine ready)
    : path_(std::move(path)) {
  if (::access(path_.c_str(), X_OK) != 0) {
    throw std::runtime_error("cannot run " + path_ + ": " + std::strerror(errno));
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  // Everything the child needs is prepared before fork: it may only make system calls.
  std::vector<char*> argv;
  argv.push_back(path_.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  // The ready line is read from whichever stream carries it; the other one is discarded unless
  // `showStderr` (stdout always is then: the line's stream is the pipe).
  const int devNull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const int target = ready.onStderr ? STDERR_FILENO : STDOUT_FILENO;
  const int other = ready.onStderr ? STDOUT_FILENO : STDERR_FILENO;
  const bool quietOther = ready.onStderr || !showStderr;

  pid_ = ::fork();
  if (pid_ < 0) {
    const int err = errno;
    ::close(out[0]);
    ::close(out[1]);
    if (devNull >= 0) ::close(devNull);
    throw std::runtime_error(std::string("fork: ") + std::strerror(err));
  }
  if (pid_ == 0) {
    if (!cpus.empty() && ::sched_setaffinity(0, sizeof set, &set) != 0) ::_exit(126);
    ::dup2(out[1], target);  // dup2 clears O_CLOEXEC on the copy
    if (devNull >= 0 && quietOther) ::dup2(devNull, other);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  if (devNull >= 0) ::close(devNull);
  stdoutFd_ = out[0];

  // Read lines until the listening line, the deadline, or EOF.
  const auto deadline = Clock::now() + startTimeout;
  std::string buffer;
  for (;;) {
    const auto nl = buffer.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (auto port = parseListeningPort(line, ready.marker)) {
        port_ = *port;
        listeningLine_ = std::move(line);
        return;
      }
      continue;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      stop(std::chrono::milliseconds(1000));
      throw std::runtime_error(path_ + " printed no \"" + ready.marker + "\" line within " +
                               std::to_string(startTimeout.count()) + " ms");
    }
    pollfd fd{stdoutFd_, POLLIN, 0};
    const int polled = ::poll(&fd, 1, static_cast<int>(left));
    if (polled < 0 && errno != EINTR) break;
    if (polled <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::read(stdoutFd_, chunk, sizeof chunk);
    if (n <= 0) break;  // EOF: the child exited
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  const int status = stop(std::chrono::milliseconds(1000));
  throw std::runtime_error(path_ + " exited (status " + std::to_string(status) +
                           ") before listening" + (buffer.empty() ? "" : ": " + buffer));
}

ServerProcess::~ServerProcess() {
  stop();
}

int ServerProcess::stop(std::chrono::milliseconds grace) {
  if (status_) return *status_;
  if (pid_ <= 0) return *(status_ = 255);
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) {
      status = 255 << 8;
      break;
    }
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (stdoutFd_ >= 0) ::close(stdoutFd_);
  stdoutFd_ = -1;
  status_ = decodeStatus(status);
  return *status_;
}

}  // namespace udpchat::bench
