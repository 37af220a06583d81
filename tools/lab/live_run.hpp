// `udpchat-lab live`: TCP and ENet reliable chat side by side, each over a link of its own with
// the same settings and seed, each with the real udpchat-server and a sender and a receiver
// client (threads of this process, so send and arrival times share one clock). Messages go out
// at one rate, at the same moments on both lanes, until stopped. The loss can change while it
// runs (both links, from the next packet on). Needs the privileges of acquireNetnsPrivileges().
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "lab/live_board.hpp"
#include "udpchat/time.hpp"

namespace udpchat::lab {

struct LiveOptions {
  double lossPct = 10;  // each way, at the start
  double delayMs = 20;  // one way
  double jitterMs = 0;
  double rate = 5;               // messages a second
  std::size_t messageBytes = 100;
  std::optional<double> durationS;  // nullopt: until stopped
  std::uint64_t seed = 1;
  std::string serverBinary;
  Millis attemptTimeoutMs = 10'000;
  unsigned connectAttempts = 4;
};

// What is wrong with `options`, or nullopt.
std::optional<std::string> validate(const LiveOptions& options);

class LiveLab {
 public:
  // Makes both links and starts both servers. Throws std::runtime_error with the reason.
  explicit LiveLab(LiveOptions options);
  // Stops everything (as stop()).
  ~LiveLab();
  LiveLab(const LiveLab&) = delete;
  LiveLab& operator=(const LiveLab&) = delete;

  // Connects the four clients (blocks; `cancel` set ends the wait) and starts sending. The
  // reason when a client could not connect.
  std::optional<std::string> start(const std::atomic<bool>& cancel);

  // Both links lose `lossPct` each way from now on; false (nothing changed) outside 0..100.
  bool setLossPct(double lossPct);
  double lossPct() const;

  // No new messages from now on; the receivers go on.
  void stopSending();
  // Every message sent has arrived (or a connection is gone).
  bool settled() const;
  // A connection that ended while running, for people; empty while all are up.
  std::string failure() const;

  // The board as of now (copied under the lock).
  LiveBoard board() const;

  // Ends the clients, the servers and the links. Idempotent.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace udpchat::lab
