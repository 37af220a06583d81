// The full-screen udpchat-client inside tmux against a real udpchat-server: keys go in with
// `tmux send-keys`, the screen comes back with `tmux capture-pane -p`. A second client in JSON
// line mode talks to it. Every wait polls the screen (or the JSON client) against a deadline.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "subprocess.hpp"
#include "tmux_session.hpp"

namespace udpchat::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Stream = Subprocess::Stream;

constexpr auto kStep = 10s;
constexpr int kWidth = 100;
constexpr int kHeight = 30;

const char* const kServerBin = UDPCHAT_SERVER_BIN;
const char* const kClientBin = UDPCHAT_CLIENT_BIN;
const char* const kTmuxBin = UDPCHAT_TMUX_BIN;

// Code points, and the column of `needle` on a row counting wide characters as the terminal did.
std::size_t codePointIndex(const std::string& s, std::size_t byteOffset) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < byteOffset && i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::optional<std::string> lastRow(const ScreenLines& lines) {
  if (lines.empty()) return std::nullopt;
  return lines.back();
}

class ServerProcess {
 public:
  ServerProcess()
      : proc_(kServerBin,
              {"--host", "127.0.0.1", "--port", "0", "--rate-burst", "200", "--rate", "200",
               "--no-store"}) {
    static const std::regex kListening(R"(listening on 127\.0\.0\.1:(\d+))");
    const auto line = proc_.readLine(Stream::Stdout, after(kStep));
    std::smatch m;
    if (line && std::regex_search(*line, m, kListening)) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
    } else {
      ADD_FAILURE() << "no 'listening on' line; got: " << line.value_or("<nothing>");
    }
  }
  std::uint16_t port() const { return port_; }
  Subprocess& proc() { return proc_; }

 private:
  Subprocess proc_;
  std::uint16_t port_ = 0;
};

std::optional<Json> waitForEvent(Subprocess& p, const Json& want) {
  const Deadline deadline = after(kStep);
  while (auto line = p.readLine(Stream::Stdout, deadline)) {
    const Json j = Json::parse(*line, nullptr, false);
    if (!j.is_object()) continue;
    bool matches = true;
    for (const auto& [key, value] : want.items()) {
      if (!j.contains(key) || j[key] != value) matches = false;
    }
    if (matches) return j;
  }
  return std::nullopt;
}

class TuiTmuxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // tmux reads and writes UTF-8 only under a UTF-8 locale; a tmux around the test run must
    // not be mistaken for the one the test starts.
    ::setenv("LANG", "C.UTF-8", 1);
    ::unsetenv("LC_ALL");
    ::unsetenv("TMUX");
  }

  void SetUp() override {
    ASSERT_EQ(::access(kTmuxBin, X_OK), 0)
        << "tmux not found (" << kTmuxBin << "); tools/deps.sh installs it";
    ASSERT_NE(server_.port(), 0);
    const std::string port = std::to_string(server_.port());
    bob_ = std::make_unique<Subprocess>(
        kClientBin,
        std::vector<std::string>{"--host", "127.0.0.1", "--port", port, "--nick", "bob", "--json"});
    ASSERT_TRUE(waitForEvent(*bob_, {{"type", "join"}, {"nick", "bob"}})) << "bob did not join";
    const std::string command = "env TERM=screen-256color LANG=C.UTF-8 " + std::string(kClientBin) +
                                " --host 127.0.0.1 --port " + port + " --nick alice";
    tmux_ = std::make_unique<Tmux>(kTmuxBin, command, kWidth, kHeight);
    ASSERT_TRUE(tmux_->ok());
    // Registered, in #lobby, with bob in the nick list.
    tmux_->waitFor(
        [](const ScreenLines& s) {
          return s.size() == kHeight && contains(s[0], "#lobby") && anyContains(s, "2 users") &&
                 contains(s[kHeight - 2], "[alice]") && contains(s[kHeight - 2], "connected");
        },
        "alice in #lobby");
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(waitForEvent(*bob_, {{"type", "join"}, {"nick", "alice"}}));
  }

  void bobSays(const std::string& line) { ASSERT_TRUE(bob_->write(line + "\n")); }

  ServerProcess server_;
  std::unique_ptr<Subprocess> bob_;
  std::unique_ptr<Tmux> tmux_;
};

TEST_F(TuiTmuxTest, AMessageArrivingMidLineLeavesTheTypedTextIntact) {
  tmux_->text("half a li");
  tmux_->waitFor([](const ScreenLines& s) { return lastRow(s) == "[#lobby] half a li"; },
                 "the typed text");
  // Typing sent a typing notice.
  EXPECT_TRUE(waitForEvent(*bob_, {{"type", "typing"}, {"nick", "alice"}, {"active", true}}));

  bobSays("hello from bob");
  const ScreenLines screen = tmux_->waitForText("<bob> hello from bob");
  EXPECT_EQ(lastRow(screen), "[#lobby] half a li");
  EXPECT_EQ(tmux_->cursor(), std::make_pair(18, kHeight - 1));

  tmux_->text("ne");
  tmux_->keys({"Enter"});
  EXPECT_TRUE(
      waitForEvent(*bob_, {{"type", "message"}, {"from", "alice"}, {"text", "half a line"}}));
  tmux_->waitFor([](const ScreenLines& s) { return lastRow(s) == "[#lobby]"; }, "an empty input");
}

TEST_F(TuiTmuxTest, ALineTheServerHasNotConfirmedShowsAsSendingUntilItsEchoTakesItsPlace) {
  server_.proc().kill(SIGSTOP);  // the line leaves alice's client; nothing comes back
  tmux_->text("wait for me");
  tmux_->keys({"Enter"});
  tmux_->waitForText("<alice> wait for me  (sending)");
  server_.proc().kill(SIGCONT);
  const ScreenLines screen = tmux_->waitFor(
      [](const ScreenLines& s) {
        return anyContains(s, "<alice> wait for me #") && !anyContains(s, "(sending)");
      },
      "the echo in the unconfirmed line's place");
  EXPECT_TRUE(anyContains(screen, "<alice> wait for me #")) << joined(screen);
  EXPECT_TRUE(
      waitForEvent(*bob_, {{"type", "message"}, {"from", "alice"}, {"text", "wait for me"}}));
}

TEST_F(TuiTmuxTest, PageUpShowsOlderLinesWithAMarkerAndPageDownReturns) {
  for (int i = 1; i <= 40; ++i)
    bobSays("scroll " + std::string(i < 10 ? "0" : "") + std::to_string(i));
  tmux_->waitForText("<bob> scroll 40");

  tmux_->keys({"PPage"});
  ScreenLines screen = tmux_->waitFor(
      [](const ScreenLines& s) {
        return anyContains(s, "more below") && !anyContains(s, "scroll 40");
      },
      "the marker after PgUp");
  EXPECT_TRUE(anyContains(screen, "scroll 10")) << joined(screen);

  // A new line while reading back does not move the view; the marker counts it.
  bobSays("scroll 41");
  screen = tmux_->waitForText("1 new");
  EXPECT_FALSE(anyContains(screen, "scroll 41"));
  EXPECT_TRUE(anyContains(screen, "scroll 10")) << joined(screen);

  tmux_->keys({"NPage"});
  tmux_->keys({"NPage"});
  screen = tmux_->waitFor(
      [](const ScreenLines& s) {
        return anyContains(s, "scroll 41") && !anyContains(s, "more below");
      },
      "the newest line after PgDn");
}

TEST_F(TuiTmuxTest, TabCompletesANickAndCyclesThroughCommands) {
  tmux_->text("bo");
  tmux_->keys({"Tab"});
  tmux_->waitFor([](const ScreenLines& s) { return lastRow(s) == "[#lobby] bob:"; },
                 "the completed nick");
  tmux_->text("hi");
  tmux_->keys({"Enter"});
  EXPECT_TRUE(waitForEvent(*bob_, {{"type", "message"}, {"from", "alice"}, {"text", "bob: hi"}}));

  tmux_->text("/wh");
  tmux_->keys({"Tab"});
  tmux_->waitFor([](const ScreenLines& s) { return lastRow(s) == "[#lobby] /who"; }, "/who");
  tmux_->keys({"Tab"});
  tmux_->waitFor([](const ScreenLines& s) { return lastRow(s) == "[#lobby] /whois"; }, "/whois");
}

TEST_F(TuiTmuxTest, WideCharactersAndEmojiTakeTwoColumns) {
  bobSays("wide 漢字 and 😀 ok");
  const ScreenLines screen = tmux_->waitForText("<bob> wide 漢字 and 😀 ok");
  // The nick list's separator stays in its column on the row with wide characters: three
  // characters there take two columns each, so it comes three code points earlier.
  std::optional<std::size_t> plainColumn, wideColumn;
  for (const auto& row : screen) {
    const std::size_t bar = row.find("\u2502");
    if (bar == std::string::npos) continue;
    if (contains(row, "漢字")) {
      wideColumn = codePointIndex(row, bar);
    } else if (!plainColumn) {
      plainColumn = codePointIndex(row, bar);
    }
  }
  ASSERT_TRUE(plainColumn && wideColumn) << joined(screen);
  EXPECT_EQ(*wideColumn + 3, *plainColumn) << joined(screen);
}

TEST_F(TuiTmuxTest, ResizingRedrawsEveryPartAtTheNewSize) {
  bobSays("before the resize");
  tmux_->waitForText("before the resize");
  tmux_->text("keep me");
  for (const auto& [width, height] : {std::pair{60, 15}, std::pair{120, 40}, std::pair{40, 10}}) {
    tmux_->resize(width, height);
    const ScreenLines screen = tmux_->waitFor(
        [&](const ScreenLines& s) {
          return static_cast<int>(s.size()) == height && lastRow(s) == "[#lobby] keep me" &&
                 contains(s[0], "#lobby") && contains(s[height - 2], "[alice]");
        },
        "the redrawn screen");
    for (const auto& row : screen) {
      EXPECT_LE(codePointIndex(row, row.size()), static_cast<std::size_t>(width)) << row;
    }
    EXPECT_TRUE(anyContains(screen, "before the resize")) << joined(screen);
    // The nick list needs 60 columns.
    EXPECT_EQ(anyContains(screen, "2 users"), width >= 60) << joined(screen);
    EXPECT_EQ(tmux_->cursor(), std::make_pair(16, height - 1));
  }
}

TEST_F(TuiTmuxTest, AskPasswordReadsItUnechoedAndProvesTheNick) {
  bobSays("/register bobs-secret-9");
  ASSERT_TRUE(waitForEvent(*bob_, {{"type", "notice"}}));
  const std::string command = "env TERM=screen-256color LANG=C.UTF-8 " + std::string(kClientBin) +
                              " --plain --host 127.0.0.1 --port " +
                              std::to_string(server_.port()) + " --nick bob --ask-password";
  Tmux other(kTmuxBin, command, kWidth, kHeight);
  ASSERT_TRUE(other.ok());
  other.waitForText("password for bob:");
  other.text("bobs-secret-9");
  other.keys({"Enter"});
  const ScreenLines screen = other.waitForText("you are identified as bob");
  EXPECT_FALSE(anyContains(screen, "bobs-secret-9")) << "the password was echoed: " << joined(screen);
  // The JSON bob was the same person on an older connection.
  EXPECT_TRUE(waitForEvent(*bob_, {{"type", "kick"}, {"nick", "bob"}}));
}

TEST_F(TuiTmuxTest, HelpJoinAndAltNumberSwitchWindows) {
  tmux_->text("/help");
  tmux_->keys({"Enter"});
  // The end of the list is on screen: the commands with their syntax, then the keys.
  const ScreenLines help = tmux_->waitForText("/window N|next|prev|close");
  EXPECT_TRUE(anyContains(help, "/quit [reason]")) << joined(help);
  EXPECT_TRUE(anyContains(help, "/passwd old new")) << joined(help);

  tmux_->text("/join #dev");
  tmux_->keys({"Enter"});
  tmux_->waitFor(
      [](const ScreenLines& s) {
        return contains(s[0], "#dev") && contains(s[kHeight - 2], "[3:#dev]");
      },
      "the #dev window");
  bobSays("lobby news");
  tmux_->waitForText("[Act: 2:#lobby(1)]");
  tmux_->keys({"M-2"});
  const ScreenLines screen = tmux_->waitFor(
      [](const ScreenLines& s) { return contains(s[kHeight - 2], "[2:#lobby]"); }, "#lobby again");
  EXPECT_TRUE(anyContains(screen, "<bob> lobby news"));
}

}  // namespace
}  // namespace udpchat::test
