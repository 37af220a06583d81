// Driving the real udpchat-server and udpchat-client binaries from tests: a server started on
// loopback (its port read from its "listening on" lines), JSON clients, and waits on what they
// print. Every wait has a deadline and a condition; nothing sleeps.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "restartable_port.hpp"
#include "subprocess.hpp"

namespace udpchat::test {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Stream = Subprocess::Stream;

inline constexpr auto kStep = 5s;  // per step; loopback answers in milliseconds

inline const char* const kServerBin = UDPCHAT_SERVER_BIN;
inline const char* const kClientBin = UDPCHAT_CLIENT_BIN;

class ServerProcess {
 public:
  // port 0: an ephemeral one, read back from the "listening on" lines.
  explicit ServerProcess(std::vector<std::string> extra = {}, std::uint16_t port = 0)
      : ServerProcess(kServerBin, args(extra, port)) {}
  // `program` with `argv`, for running the server under a wrapper (see
  // AcceptFailuresForWantOfDescriptorsDoNotSpinTheLoop).
  ServerProcess(std::string program, std::vector<std::string> argv)
      : proc_(std::move(program), std::move(argv)) {
    // Two lines, UDP first, then TCP on the same port number; both are bound before either.
    static const std::regex kUdp(
        R"(^udpchat-server listening on 127\.0\.0\.1:(\d+) \(UDP, ENet\)$)");
    static const std::regex kTcp(R"(^udpchat-server listening on 127\.0\.0\.1:(\d+) \(TCP\)$)");
    const auto udp = proc_.readLine(Stream::Stdout, after(kStep));
    const auto tcp = proc_.readLine(Stream::Stdout, after(kStep));
    std::smatch mu, mt;
    if (udp && tcp && std::regex_match(*udp, mu, kUdp) && std::regex_match(*tcp, mt, kTcp) &&
        mu[1] == mt[1]) {
      port_ = static_cast<std::uint16_t>(std::stoi(mu[1]));
    } else {
      ADD_FAILURE() << "no 'listening on' lines; got: " << udp.value_or("<nothing>") << " / "
                    << tcp.value_or("<nothing>");
    }
  }
  std::uint16_t port() const { return port_; }
  Subprocess& proc() { return proc_; }

  static std::vector<std::string> args(std::vector<std::string> extra, std::uint16_t port) {
    // Memory only unless a test gives a --data-dir of its own: tests run side by side.
    std::vector<std::string> a = {"--host", "127.0.0.1", "--port", std::to_string(port)};
    if (std::find(extra.begin(), extra.end(), "--data-dir") == extra.end()) a.push_back("--no-store");
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

 private:
  Subprocess proc_;
  std::uint16_t port_ = 0;
};

inline std::unique_ptr<Subprocess> startClient(std::uint16_t port, std::string nick,
                                        std::vector<std::string> extra = {"--json"},
                                        const std::string& transport = "enet") {
  std::vector<std::string> a = {
      "--host",        "127.0.0.1",         "--port", std::to_string(port), "--nick",
      std::move(nick), "--connect-timeout", "3",      "--transport",        transport};
  a.insert(a.end(), extra.begin(), extra.end());
  return std::make_unique<Subprocess>(kClientBin, std::move(a));
}

// Reads stdout lines until one is an event matching every key/value of `want`. In JSON mode
// every line must be a JSON object, and that is checked on the way.
inline std::optional<Json> waitForEvent(Subprocess& p, const Json& want,
                                 Deadline deadline = after(kStep)) {
  while (auto line = p.readLine(Stream::Stdout, deadline)) {
    const Json j = Json::parse(*line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << "not a JSON object: " << *line;
    if (!j.is_object()) continue;
    bool matches = true;
    for (const auto& [key, value] : want.items()) {
      if (!j.contains(key) || j[key] != value) matches = false;
    }
    if (matches) return j;
  }
  return std::nullopt;
}

// Waits until a JSON client is registered and in the lobby, so it sees what follows live.
inline void waitUntilInLobby(Subprocess& client, const std::string& nick) {
  ASSERT_TRUE(waitForEvent(client, {{"type", "welcome"}, {"nick", nick}}))
      << nick << " got no welcome";
  ASSERT_TRUE(waitForEvent(client, {{"type", "join"}, {"nick", nick}, {"room", "lobby"}}))
      << nick << " did not join the lobby";
}

inline bool anyLineContains(const std::vector<std::string>& lines, std::string_view needle) {
  for (const auto& l : lines) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

// The texts of every "message" event from `from` in a JSON client's output so far, with how
// often each was shown.
inline std::map<std::string, int> messagesFrom(const Subprocess& p, const std::string& from) {
  std::map<std::string, int> out;
  for (const auto& line : p.seen(Stream::Stdout)) {
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.value("type", "") == "message" && j.value("from", "") == from) {
      ++out[j.value("text", "")];
    }
  }
  return out;
}

// Reads a JSON client's output until it has shown every one of `texts` from `from`.
inline bool waitForAllFrom(Subprocess& p, const std::string& from, const std::vector<std::string>& texts,
                    Deadline deadline) {
  auto complete = [&] {
    const auto shown = messagesFrom(p, from);
    return std::all_of(texts.begin(), texts.end(),
                       [&](const std::string& t) { return shown.contains(t); });
  };
  while (!complete()) {
    if (!p.readLine(Stream::Stdout, deadline)) return false;
  }
  return true;
}

}  // namespace udpchat::test
