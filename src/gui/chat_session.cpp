#include "chat_session.hpp"

#include <stdexcept>
#include <utility>

namespace udpchat::gui {

ChatSession::ChatSession(const SessionOptions& options, EventSink sink, QObject* parent)
    : QObject(parent), options_(options) {
  auto transport = client::makeClientTransport(options_.transport, options_.connectTimeout);
  if (!transport) throw std::invalid_argument("unknown transport: " + options_.transport);
  ClientConfig config;
  config.nick = options_.nick;
  config.password = options_.password;
  config.clientName = options_.clientName;
  runner_ = std::make_unique<client::ClientRunner>(options_.host, options_.port, std::move(config),
                                                   std::move(transport), std::move(sink));
  timer_.setInterval(client::kPollTimeoutMs);
  connect(&timer_, &QTimer::timeout, this, &ChatSession::pump);
}

ChatSession::~ChatSession() {
  timer_.stop();
  notifier_.reset();
}

void ChatSession::start() {
  runner_->start();
  timer_.start();
  pump();
}

void ChatSession::input(const std::string& line) {
  if (closed_) return;
  runner_->input(line);
  pump();  // what the core queued leaves now, not at the next timer tick
}

void ChatSession::typing(const std::string& target, bool isPrivate) {
  if (closed_) return;
  runner_->typing(target, isPrivate);
}

void ChatSession::quit(const std::string& reason) {
  if (closed_) return;
  runner_->quit(reason);
  pump();
}

void ChatSession::pump() {
  // The sink may run a nested event loop (a message box); the notifier or timer firing inside
  // it must not re-enter the runner.
  if (pumping_ || closed_) return;
  pumping_ = true;
  runner_->pump();
  pumping_ = false;
  if (runner_->finished()) {
    closed_ = true;
    timer_.stop();
    notifier_.reset();
    // Bounded by the transport's own disconnect deadline.
    runner_->closeTransport();
    emit finishedChanged();
    return;
  }
  watchDescriptor();
}

// The descriptor changes whenever a transport reconnects (each attempt is made on a new
// socket). Only readability is watched: a TCP connect in progress and queued output
// are finished by the timer's pumps.
void ChatSession::watchDescriptor() {
  const int fd = runner_->pollInterest().fd;
  if (fd == watchedFd_) return;
  notifier_.reset();
  watchedFd_ = fd;
  if (fd < 0) return;
  notifier_ = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
  connect(notifier_.get(), &QSocketNotifier::activated, this, &ChatSession::pump);
}

}  // namespace udpchat::gui
