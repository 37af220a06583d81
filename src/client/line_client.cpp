#include "line_client.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>

#include "udpchat/client_core.hpp"
#include "udpchat/enet_client_transport.hpp"
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

class LineClient final : public ClientHost {
 public:
  LineClient(const LineClientOptions& options, int inputFd, std::FILE* out, std::FILE* err)
      : options_(options),
        inputFd_(inputFd),
        out_(out),
        err_(err),
        transport_(EnetClientOptions{options.connectTimeout}),
        core_(options.core, *this) {}

  int run(const std::atomic<bool>& stop) {
    core_.start(readClocks());
    while (!core_.finished()) {
      pollfd fds[2] = {{transport_.socketFd(), POLLIN, 0}, {inputFd_, POLLIN, 0}};
      const nfds_t count = inputOpen_ ? 2 : 1;
      if (::poll(fds, count, kPollTimeoutMs) < 0 && errno != EINTR) {
        printError(err_, options_.json, "poll",
                   std::string("poll failed: ") + std::strerror(errno));
        break;
      }
      Now now = readClocks();
      if (inputOpen_ && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) readInput(now);
      if (stop.load() && !quitRequested_) quit(now);
      dispatch(transport_.serviceOnce(0));
      now = readClocks();
      if (connectError_) {
        std::string reason = std::move(*connectError_);
        connectError_.reset();
        core_.connectFailed(std::move(reason), now);
      }
      core_.tick(now);
      // Frames the core queued in this turn (pings, paced lines, the quit) leave now, not after
      // the next poll() timeout.
      transport_.flush();
    }
    finishTransport();
    return core_.finished() ? core_.exitStatus() : kExitGaveUp;
  }

  // ClientHost. Called by the core from inside its own calls: nothing here calls back into it.
  void connect() override {
    // Reported on the next loop turn, not from inside the core's call.
    connectError_ = transport_.connect(options_.host, options_.port);
  }
  void send(std::uint8_t channel, protocol::Bytes frame) override {
    // A refused frame (not connected, oversized) is counted by the transport; the core learns
    // about the connection through the transport's events.
    static_cast<void>(transport_.send(channel, frame));
  }
  void disconnect() override { transport_.disconnectGracefully(); }
  void event(const ClientEvent& event) override {
    const Millis wall = readClocks().wall;
    printLine(out_, options_.json ? format::jsonLine(event, wall) : format::humanLine(event, wall));
    if (const auto* lost = std::get_if<client_event::ConnectionLost>(&event)) {
      lastLossReason_ = lost->reason;
    } else if (const auto* done = std::get_if<client_event::Finished>(&event)) {
      if (done->exitStatus == kExitCannotConnect) {
        const std::string& reason = lastLossReason_.empty() ? done->reason : lastLossReason_;
        printError(err_, options_.json, "cannot_connect",
                   "cannot connect to " + options_.host + ":" + std::to_string(options_.port) +
                       ": " + reason);
      }
    }
  }

 private:
  void dispatch(std::vector<ClientTransportEvent> events) {
    for (auto& e : events) {
      const Now now = readClocks();
      if (std::holds_alternative<transport_event::Connected>(e)) {
        core_.connected(now);
      } else if (auto* failed = std::get_if<transport_event::ConnectFailed>(&e)) {
        core_.connectFailed(std::move(failed->reason), now);
      } else if (auto* gone = std::get_if<transport_event::Disconnected>(&e)) {
        core_.disconnected(std::move(gone->reason), now);
      } else if (auto* received = std::get_if<transport_event::Received>(&e)) {
        core_.received(received->channel, received->bytes, now);
      }
    }
  }

  void readInput(Now now) {
    char buffer[kReadChunkBytes];
    const ssize_t n = ::read(inputFd_, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      // EOF (or an unreadable stdin): a last line without a newline still counts.
      if (!partial_.empty()) core_.input(std::exchange(partial_, {}), now);
      inputOpen_ = false;
      quit(now);
      return;
    }
    partial_.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl = partial_.find('\n'); nl != std::string::npos;
         nl = partial_.find('\n', start)) {
      std::string_view line(partial_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      core_.input(line, now);
      start = nl + 1;
    }
    partial_.erase(0, start);
  }

  void quit(Now now) {
    if (quitRequested_) return;
    quitRequested_ = true;
    core_.quit("", now);
  }

  // The core may finish while the transport still delivers its last frames (the QuitRequest):
  // keep servicing until the close completes or the transport's own deadline passes.
  void finishTransport() {
    if (transport_.busy()) transport_.disconnectGracefully();  // drops a pending connect
    while (transport_.busy()) {
      pollfd fd{transport_.socketFd(), POLLIN, 0};
      ::poll(&fd, 1, kPollTimeoutMs);
      static_cast<void>(transport_.serviceOnce(0));
    }
  }

  const LineClientOptions& options_;
  int inputFd_;
  std::FILE* out_;
  std::FILE* err_;
  EnetClientTransport transport_;
  ClientCore core_;  // after transport_: the core's host calls use it
  std::string partial_;
  bool inputOpen_ = true;
  bool quitRequested_ = false;
  std::optional<std::string> connectError_;
  std::string lastLossReason_;
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
