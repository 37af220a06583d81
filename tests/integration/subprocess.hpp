// A child process with pipes on its stdin, stdout and stderr, for tests that drive the real
// binaries. Every wait has a deadline; nothing sleeps. The child is killed (SIGKILL) and reaped
// when the object is destroyed, so a failing test leaves no process behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace udpchat::test {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline Deadline after(std::chrono::milliseconds ms) {
  return Clock::now() + ms;
}

class Subprocess {
 public:
  enum class Stream { Stdout, Stderr };

  // Starts `path` with `args` (argv[1..]). Throws std::runtime_error if it cannot fork or the
  // pipes cannot be made; an exec failure shows as exit status 127.
  Subprocess(std::string path, std::vector<std::string> args);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // Writes everything to the child's stdin; false if stdin is closed or the child is gone.
  bool write(std::string_view data);
  void closeStdin();

  // The next whole line (without '\n') of `stream`, or nullopt at the deadline or at EOF. A last
  // line without a newline is returned at EOF.
  std::optional<std::string> readLine(Stream stream, Deadline deadline);
  // Lines of `stream` until one contains `needle`; that line, or nullopt. The lines read on the
  // way are kept in seen(stream).
  std::optional<std::string> waitForLine(Stream stream, std::string_view needle, Deadline deadline);
  // Every line read so far from `stream` (by readLine and waitForLine).
  const std::vector<std::string>& seen(Stream stream) const;

  // Exit status (0..255), or 128 + signal number, or nullopt when the deadline passed first.
  // Output arriving meanwhile is kept for readLine.
  std::optional<int> wait(Deadline deadline);
  // Reads both streams until EOF or the deadline; every line, a last partial one included, ends
  // up in seen().
  void drain(Deadline deadline);

  void kill(int signal);

 private:
  struct Pipe {
    int fd = -1;
    std::string buffer;  // bytes read, not yet returned as lines
    bool eof = false;
    std::vector<std::string> lines;
  };
  Pipe& pipe(Stream stream) { return stream == Stream::Stdout ? out_ : err_; }
  // Reads whatever is available on the open output pipes, waiting until `deadline` for at least
  // one of them (or the pidfd) to become readable. False when the deadline passed.
  bool pump(Deadline deadline);
  std::optional<std::string> takeLine(Pipe& p);
  bool reap(bool block);

  pid_t pid_ = -1;
  int stdin_ = -1;
  int pidfd_ = -1;  // readable once the child exits; -1 when the kernel has no pidfd_open
  Pipe out_, err_;
  std::optional<int> status_;
};

}  // namespace udpchat::test
