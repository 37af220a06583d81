#include "subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace udpchat::test {
namespace {

// Closes a descriptor unless released; keeps the constructor leak-free when it throws.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

struct PipePair {
  Fd read, write;
};

PipePair makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  return PipePair{Fd(fds[0]), Fd(fds[1])};
}

int msUntil(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, 60'000));
}

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

Subprocess::Subprocess(std::string path, std::vector<std::string> args) {
  // Writing to the stdin of a child that already exited must fail with EPIPE, not kill the test.
  static const bool sigpipeIgnored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  static_cast<void>(sigpipeIgnored);

  PipePair in = makePipe(), out = makePipe(), err = makePipe();
  // argv is built before fork: the child only calls async-signal-safe functions.
  std::vector<char*> argv;
  argv.push_back(path.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::dup2(in.read.get(), STDIN_FILENO);
    ::dup2(out.write.get(), STDOUT_FILENO);
    ::dup2(err.write.get(), STDERR_FILENO);
    // Sockets of the test process (ENet's are not close-on-exec) must not leak into the child.
#ifdef SYS_close_range
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
#endif
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  stdin_ = in.write.release();
  out_.fd = out.read.release();
  err_.fd = err.read.release();
  ::fcntl(out_.fd, F_SETFL, O_NONBLOCK);
  ::fcntl(err_.fd, F_SETFL, O_NONBLOCK);
#ifdef SYS_pidfd_open
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
#endif
}

Subprocess::~Subprocess() {
  closeFd(stdin_);
  if (!status_) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  closeFd(out_.fd);
  closeFd(err_.fd);
  closeFd(pidfd_);
}

bool Subprocess::write(std::string_view data) {
  while (!data.empty()) {
    if (stdin_ < 0) return false;
    const ssize_t n = ::write(stdin_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void Subprocess::closeStdin() {
  closeFd(stdin_);
}

void Subprocess::kill(int signal) {
  if (!status_) ::kill(pid_, signal);
}

bool Subprocess::reap(bool block) {
  if (status_) return true;
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return true;
}

bool Subprocess::pump(Deadline deadline) {
  std::array<pollfd, 3> fds{};
  std::array<Pipe*, 3> owners{};
  nfds_t n = 0;
  for (Pipe* p : {&out_, &err_}) {
    if (p->eof) continue;
    owners[n] = p;
    fds[n++] = pollfd{p->fd, POLLIN, 0};
  }
  // Wake when the child exits even if it leaves its output pipes open to a grandchild.
  if (pidfd_ >= 0 && !status_) fds[n++] = pollfd{pidfd_, POLLIN, 0};
  if (n == 0) return false;
  int ready;
  do {
    ready = ::poll(fds.data(), n, msUntil(deadline));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return false;
  for (nfds_t i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    if (owners[i] == nullptr) {
      reap(false);
      continue;
    }
    Pipe& p = *owners[i];
    char buffer[4096];
    for (;;) {
      const ssize_t got = ::read(p.fd, buffer, sizeof buffer);
      if (got > 0) {
        p.buffer.append(buffer, static_cast<std::size_t>(got));
      } else if (got < 0 && errno == EINTR) {
        continue;
      } else {
        if (got == 0 || errno != EAGAIN) p.eof = true;
        break;
      }
    }
  }
  return true;
}

std::optional<std::string> Subprocess::takeLine(Pipe& p) {
  const auto nl = p.buffer.find('\n');
  if (nl == std::string::npos) {
    if (!p.eof || p.buffer.empty()) return std::nullopt;
    p.lines.push_back(std::exchange(p.buffer, {}));
    return p.lines.back();
  }
  p.lines.push_back(p.buffer.substr(0, nl));
  p.buffer.erase(0, nl + 1);
  return p.lines.back();
}

std::optional<std::string> Subprocess::readLine(Stream stream, Deadline deadline) {
  Pipe& p = pipe(stream);
  for (;;) {
    if (auto line = takeLine(p)) return line;
    if (p.eof) return std::nullopt;
    if (!pump(deadline) && Clock::now() >= deadline) return takeLine(p);
  }
}

std::optional<std::string> Subprocess::waitForLine(Stream stream, std::string_view needle,
                                                   Deadline deadline) {
  while (auto line = readLine(stream, deadline)) {
    if (line->find(needle) != std::string::npos) return line;
  }
  return std::nullopt;
}

const std::vector<std::string>& Subprocess::seen(Stream stream) const {
  return stream == Stream::Stdout ? out_.lines : err_.lines;
}

std::optional<int> Subprocess::wait(Deadline deadline) {
  for (;;) {
    if (reap(false)) return status_;
    if (pidfd_ < 0 && out_.eof && err_.eof) {
      // No pidfd (old kernel): with both pipes closed, poll briefly between checks, still
      // bounded by the deadline.
      if (Clock::now() >= deadline) return std::nullopt;
      ::poll(nullptr, 0, std::min(msUntil(deadline), 10));
      continue;
    }
    if (!pump(deadline) && Clock::now() >= deadline) return reap(false) ? status_ : std::nullopt;
  }
}

void Subprocess::drain(Deadline deadline) {
  while ((!out_.eof || !err_.eof) && (pump(deadline) || Clock::now() < deadline)) {
  }
  for (Pipe* p : {&out_, &err_}) {
    while (takeLine(*p)) {
    }
    if (!p->buffer.empty()) p->lines.push_back(std::exchange(p->buffer, {}));
  }
}

}  // namespace udpchat::test
