// udpchat-client: the full-screen client on a terminal, else the line client (human lines or
// JSON Lines).
//
// Exit statuses: 0 quit normally (EOF, /quit); 2 cannot connect or resolve the server; 3 kicked;
// 4 gave up reconnecting; 5 refused by the server (full, bad version); 64 bad command line.
#include <unistd.h>

#include <termios.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client_runner.hpp"
#include "discover.hpp"
#include "line_client.hpp"
#include "tui/tui_client.hpp"
#include "udpchat/stop_signal.hpp"

namespace {

constexpr int kExitUsage = 64;

// Reads one line from the terminal with read(), not std::cin, so that no input is left in a
// stdio buffer the poll() loop cannot see.
std::string readLineFromFd(int fd) {
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Reads a password from the terminal without echoing it; nullopt when stdin is no terminal.
std::optional<std::string> readPasswordFromTerminal(const std::string& prompt) {
  if (::isatty(STDIN_FILENO) != 1) return std::nullopt;
  termios saved{};
  if (::tcgetattr(STDIN_FILENO, &saved) != 0) return std::nullopt;
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;  // the Enter still moves to the next line
  std::fputs(prompt.c_str(), stderr);
  std::fflush(stderr);
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::string password = readLineFromFd(STDIN_FILENO);
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  return password;
}

bool wantsJson(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--json") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace udpchat;
  client::LineClientOptions options;
  std::vector<std::string> rooms{"lobby"};
  double connectTimeoutSeconds = 5;
  bool plain = false;

  CLI::App app{"udpchat-client: chat over UDP (ENet), one line per event"};
  app.add_option("--host", options.host,
                 "server address or name; several separated by commas (a,b:7778,c), for servers "
                 "sharing one chat: a lost connection goes to the next")
      ->capture_default_str();
  app.add_option("--port", options.port, "server UDP port")->capture_default_str();
  auto* nickOption =
      app.add_option("--nick", options.core.nick, "nickname; empty lets the server choose");
  app.add_option("--password", options.core.password,
                 "the password of a registered --nick (also from UDPCHAT_PASSWORD): the client "
                 "proves the nick with it after connecting")
      ->envname("UDPCHAT_PASSWORD");
  bool askPassword = false;
  app.add_flag("--ask-password", askPassword,
               "ask for the password of the registered --nick on the terminal (not echoed)");
  app.add_option("--room", rooms, "room to join (repeat, or comma-separated)")
      ->delimiter(',')
      ->capture_default_str();
  auto* jsonFlag = app.add_flag("--json", options.json, "print JSON Lines instead of text");
  app.add_flag("--plain", plain, "print text lines, even on a terminal")->excludes(jsonFlag);
  app.add_option("--connect-timeout", connectTimeoutSeconds, "seconds to wait for the server")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  bool discover = false;
  app.add_flag("--discover", discover,
               "list the udpchat servers on the LAN that answer on --port within a second, "
               "then exit (0: some answered)");
  app.add_option("--transport", options.transport,
                 "enet (UDP) or tcp; the server listens on both, same port number")
      ->capture_default_str()
      ->check(CLI::IsMember({"enet", "tcp"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    client::printError(stderr, wantsJson(argc, argv), "usage",
                       std::string(e.what()) + " (run with --help for the options)");
    return kExitUsage;
  }
  if (!client::parseServerList(options.host, options.port)) {
    client::printError(stderr, wantsJson(argc, argv), "usage",
                       "--host: '" + options.host +
                           "' is not a server or a list of servers such as a,b:7778,c (run with "
                           "--help for the options)");
    return kExitUsage;
  }
  if (discover) {
    return client::runDiscovery({options.port, options.json, client::kDiscoverWaitMs}, stdout,
                                stderr);
  }
  options.core.rooms = rooms;
  options.connectTimeout = static_cast<Millis>(connectTimeoutSeconds * 1000.0);

  // A person at a terminal gets the full-screen client; --plain, --json or a pipe keep the line
  // modes. Full-screen mode asks for no nick: the server picks one unless --nick is given.
  const bool fullScreen =
      !options.json && !plain && ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
  if (!fullScreen && nickOption->count() == 0 && ::isatty(STDIN_FILENO) == 1) {
    std::fputs("nickname (empty: let the server choose): ", stderr);
    std::fflush(stderr);
    options.core.nick = readLineFromFd(STDIN_FILENO);
  }

  if (askPassword) {
    auto password = readPasswordFromTerminal("password for " +
                                             (options.core.nick.empty() ? std::string("your nick")
                                                                        : options.core.nick) +
                                             ": ");
    if (!password) {
      std::fprintf(stderr,
                   "udpchat-client: --ask-password needs a terminal; give --password or "
                   "UDPCHAT_PASSWORD instead\n");
      return kExitUsage;
    }
    options.core.password = std::move(*password);
  }

  const std::atomic<bool>& stopRequested = installStopSignals();
  try {
    if (fullScreen) return client::runTuiClient(options, stopRequested);
    return client::runLineClient(options, STDIN_FILENO, stdout, stderr, stopRequested);
  } catch (const std::exception& e) {
    client::printError(stderr, options.json, "fatal", e.what());
    return kExitCannotConnect;
  }
}
