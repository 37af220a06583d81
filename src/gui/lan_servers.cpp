#include "lan_servers.hpp"

namespace udpchat::gui {

LanServers::LanServers(std::uint16_t port, QObject* parent) : QObject(parent), port_(port) {
  if (probe_.fd() >= 0) {
    notifier_ = std::make_unique<QSocketNotifier>(probe_.fd(), QSocketNotifier::Read);
    connect(notifier_.get(), &QSocketNotifier::activated, this, &LanServers::readable);
  }
  timer_.setInterval(kRefreshMs);
  connect(&timer_, &QTimer::timeout, this, &LanServers::refresh);
}

void LanServers::start() {
  if (timer_.isActive()) return;
  timer_.start();
  refresh();
}

void LanServers::stop() {
  timer_.stop();
}

void LanServers::setPort(std::uint16_t port) {
  if (port == port_) return;
  port_ = port;
  shown_.clear();
  emit changed();
  refresh();
}

void LanServers::refresh() {
  // What answered the previous probe stays listed until this one's answers replace it; a
  // server that stopped answering disappears after one refresh.
  const bool hadAnswers = !probe_.found().empty();
  if (hadAnswers || !shown_.empty()) {
    shown_ = probe_.found();
    emit changed();
  }
  if (port_ != 0 && timer_.isActive()) probe_.send(port_);
}

void LanServers::readable() {
  if (!probe_.readAnswers()) return;
  // Merge: the newest answers, plus servers of the previous round not heard from yet.
  std::vector<client::FoundServer> merged = probe_.found();
  for (const auto& old : shown_) {
    bool there = false;
    for (const auto& f : merged) there = there || f.answer.serverId == old.answer.serverId;
    if (!there) merged.push_back(old);
  }
  shown_ = std::move(merged);
  emit changed();
}

}  // namespace udpchat::gui
