// The connect window's list of servers on the LAN: sends a discovery probe (discover.hpp) every
// kRefreshMs and collects the answers as they arrive, from Qt's event loop (a QSocketNotifier on
// the probe's socket), so the window never waits for the network.
#pragma once

#include <QObject>
#include <QSocketNotifier>
#include <QTimer>
#include <cstdint>
#include <memory>
#include <vector>

#include "discover.hpp"

namespace udpchat::gui {

class LanServers : public QObject {
  Q_OBJECT

 public:
  static constexpr int kRefreshMs = 3000;  // milliseconds between probes

  explicit LanServers(std::uint16_t port, QObject* parent = nullptr);
  // Probing runs between start() and stop() (while the connect window is shown).
  void start();
  void stop();
  void setPort(std::uint16_t port);
  // Probe only these IPv4 addresses (host order) instead of the broadcast ones; tests use
  // loopback.
  void setTargets(std::vector<std::uint32_t> targets) { probe_.setTargets(std::move(targets)); }
  void refresh();  // probe now
  // Servers that answered the latest or the previous probe (so the list does not blink empty
  // at each refresh).
  const std::vector<client::FoundServer>& servers() const { return shown_; }

 signals:
  void changed();

 private:
  void readable();

  std::uint16_t port_;
  client::DiscoveryProbe probe_;
  std::unique_ptr<QSocketNotifier> notifier_;
  QTimer timer_;
  std::vector<client::FoundServer> shown_;
};

}  // namespace udpchat::gui
