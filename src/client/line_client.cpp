#include "line_client.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>

#include "client_runner.hpp"
#include "udpchat/client_core.hpp"
#include "udpchat/event_format.hpp"

namespace udpchat::client {
namespace {

// Bytes read from stdin per read(): lines longer than this are assembled across reads.
constexpr std::size_t kReadChunkBytes = 4096;

void printLine(std::FILE* stream, const std::string& line) {
  if (line.empty()) return;
  std::fwrite(line.data(), 1, line.size(), stream);
  std::fputc('\n', stream);
  // Flushed per line: a reader (a person, a script, a test) sees each event when it happens.
  std::fflush(stream);
}

class LineClient {
 public:
  LineClient(const LineClientOptions& options, int inputFd, std::FILE* out, std::FILE* err)
      : options_(options),
        inputFd_(inputFd),
        out_(out),
        err_(err),
        runner_(options.host, options.port, options.core,
                makeClientTransport(options.transport, options.connectTimeout),
                [this](const ClientEvent& e) { show(e); }) {}

  int run(const std::atomic<bool>& stop) {
    runner_.start();
    while (!runner_.finished()) {
      const PollInterest net = runner_.pollInterest();
      pollfd fds[2] = {{net.fd, net.events, 0}, {inputFd_, POLLIN, 0}};
      const nfds_t count = inputOpen_ ? 2 : 1;
      if (::poll(fds, count, kPollTimeoutMs) < 0 && errno != EINTR) {
        printError(err_, options_.json, "poll",
                   std::string("poll failed: ") + std::strerror(errno));
        break;
      }
      if (inputOpen_ && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) readInput();
      if (stop.load() && !quitRequested_) quit();
      runner_.pump();
    }
    runner_.closeTransport();
    return runner_.finished() ? runner_.exitStatus() : kExitGaveUp;
  }

 private:
  void show(const ClientEvent& event) {
    const Millis wall = readClocks().wall;
    printLine(out_, options_.json ? format::jsonLine(event, wall) : format::humanLine(event, wall));
    if (const auto* done = std::get_if<client_event::Finished>(&event)) {
      if (done->exitStatus == kExitCannotConnect) {
        const std::string& reason =
            runner_.lastLossReason().empty() ? done->reason : runner_.lastLossReason();
        printError(err_, options_.json, "cannot_connect",
                   "cannot connect to " + options_.host + ":" + std::to_string(options_.port) +
                       ": " + reason);
      }
    }
  }

  void readInput() {
    char buffer[kReadChunkBytes];
    const ssize_t n = ::read(inputFd_, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      // EOF (or an unreadable stdin): a last line without a newline still counts.
      if (!partial_.empty()) runner_.input(std::exchange(partial_, {}));
      inputOpen_ = false;
      quit();
      return;
    }
    partial_.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl = partial_.find('\n'); nl != std::string::npos;
         nl = partial_.find('\n', start)) {
      std::string_view line(partial_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      runner_.input(line);
      start = nl + 1;
    }
    partial_.erase(0, start);
  }

  void quit() {
    if (quitRequested_) return;
    quitRequested_ = true;
    runner_.quit("");
  }

  const LineClientOptions& options_;
  int inputFd_;
  std::FILE* out_;
  std::FILE* err_;
  ClientRunner runner_;
  std::string partial_;
  bool inputOpen_ = true;
  bool quitRequested_ = false;
};

}  // namespace

void printError(std::FILE* err, bool json, const std::string& code, const std::string& message) {
  if (json) {
    printLine(err, format::jsonLine(client_event::LocalError{code, message}, readClocks().wall));
  } else {
    printLine(err, "udpchat-client: " + message);
  }
}

int runLineClient(const LineClientOptions& options, int inputFd, std::FILE* out, std::FILE* err,
                  const std::atomic<bool>& stop) {
  LineClient client(options, inputFd, out, err);
  return client.run(stop);
}

}  // namespace udpchat::client
