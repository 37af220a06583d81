// One connection to a server for the desktop client: a ClientRunner (transport plus ClientCore)
// serviced from Qt's event loop, on the GUI thread. A QSocketNotifier on the transport's
// descriptor pumps as soon as a datagram or record arrives; a QTimer pumps at least every
// kPollTimeoutMs, for ENet's retransmissions and the core's timers (pings, pacing, reconnect
// countdown, typing expiry). Nothing blocks and there is no second thread.
#pragma once

#include <QObject>
#include <QSocketNotifier>
#include <QTimer>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "chat_model.hpp"
#include "client_runner.hpp"
#include "udpchat/client_core.hpp"

namespace udpchat::gui {

struct SessionOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string nick;
  std::string password;  // of a registered nick; empty: none (never saved)
  std::string transport = "enet";  // "enet" or "tcp"
  Millis connectTimeout = 5000;    // milliseconds
  std::string clientName = "udpchat-gui";
};

class ChatSession : public QObject, public ChatStatus {
  Q_OBJECT

 public:
  using EventSink = std::function<void(const ClientEvent&)>;

  // Throws std::invalid_argument for an unknown transport name. Call start() to connect.
  ChatSession(const SessionOptions& options, EventSink sink, QObject* parent = nullptr);
  ~ChatSession() override;

  void start();
  void input(const std::string& line);
  void typing(const std::string& target, bool isPrivate);
  void quit(const std::string& reason);

  const SessionOptions& options() const { return options_; }
  const ClientCore& core() const { return runner_->core(); }
  bool finished() const { return runner_->finished(); }

  // ChatStatus
  ConnectionState state() const override { return runner_->core().state(); }
  const std::string& nick() const override { return runner_->core().nick(); }
  const std::vector<std::string>& rooms() const override { return runner_->core().rooms(); }
  const std::string& currentRoom() const override { return runner_->core().currentRoom(); }

 signals:
  void finishedChanged();  // the core finished; the transport has been closed

 private:
  void pump();
  void watchDescriptor();

  SessionOptions options_;
  std::unique_ptr<client::ClientRunner> runner_;
  std::unique_ptr<QSocketNotifier> notifier_;
  int watchedFd_ = -1;
  QTimer timer_;
  bool pumping_ = false;
  bool closed_ = false;
};

}  // namespace udpchat::gui
