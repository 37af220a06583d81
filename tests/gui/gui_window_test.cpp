// The desktop client's windows against a real udpchat-server on loopback, rendered offscreen:
// connecting through the connect window, chatting with in-process peers (ChatSession, the same
// session the window uses, without widgets), private messages and unread counts, subjects, the
// user list, a taken nick, a server restart, the Portuguese translation, and the screenshot
// of the README (written when UDPCHAT_SCREENSHOT names a file).
//
// Every wait is QTRY_*_WITH_TIMEOUT on a condition; nothing sleeps.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTranslator>
#include <QTreeWidget>
#include <QtTest>
#include <csignal>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "chat_session.hpp"
#include "connect_window.hpp"
#include "gui_app.hpp"
#include "integration/restartable_port.hpp"
#include "integration/subprocess.hpp"
#include "main_window.hpp"
#include "udpchat/unique_fd.hpp"

using namespace std::chrono_literals;
using udpchat::test::after;
using udpchat::test::Subprocess;
namespace gui = udpchat::gui;
namespace protocol = udpchat::protocol;

namespace {

constexpr int kStepMs = 10000;  // per step; loopback answers in milliseconds

class Server {
 public:
  explicit Server(std::uint16_t port = 0, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--host",        "127.0.0.1",  "--port", std::to_string(port),
        "--server-name", "Office LAN", "--motd", "Welcome to the office chat",
        "--no-store"};  // tests run side by side: none shares a store
    args.insert(args.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<Subprocess>(UDPCHAT_SERVER_BIN, args);
    static const std::regex kUdp(
        R"(^udpchat-server listening on 127\.0\.0\.1:(\d+) \(UDP, ENet\)$)");
    const auto udp = proc_->readLine(Subprocess::Stream::Stdout, after(5s));
    const auto tcp = proc_->readLine(Subprocess::Stream::Stdout, after(5s));
    std::smatch m;
    if (udp && tcp && std::regex_match(*udp, m, kUdp))
      port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  }
  std::uint16_t port() const { return port_; }
  bool stop() {
    proc_->kill(SIGTERM);
    return proc_->wait(after(10s)).has_value();
  }

 private:
  std::unique_ptr<Subprocess> proc_;
  std::uint16_t port_ = 0;
};

// A second person, without windows: a ChatSession and what it received.
struct Peer {
  std::vector<udpchat::ClientEvent> events;
  std::unique_ptr<gui::ChatSession> session;

  Peer(std::uint16_t port, const std::string& nick, const std::string& transport = "enet") {
    gui::SessionOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.nick = nick;
    o.transport = transport;
    session = std::make_unique<gui::ChatSession>(
        o, [this](const udpchat::ClientEvent& e) { events.push_back(e); });
    session->start();
  }
  bool registered() const { return session->state() == udpchat::ConnectionState::Registered; }
  void say(const std::string& line) { session->input(line); }
  // A chat or private message with this text arrived.
  template <class T>
  const T* got(const std::string& text) const {
    for (const auto& e : events) {
      if (const auto* m = std::get_if<T>(&e); m != nullptr && m->text == text) return m;
    }
    return nullptr;
  }
};

template <class W>
W* child(QWidget& parent, const char* name) {
  return parent.findChild<W*>(QString::fromLatin1(name));
}

QStringList itemTexts(QListWidget* list) {
  QStringList out;
  for (int i = 0; i < list->count(); ++i) out << list->item(i)->text();
  return out;
}

bool anyContains(const QStringList& items, const QString& needle) {
  for (const QString& s : items) {
    if (s.contains(needle)) return true;
  }
  return false;
}

QString viewText(gui::MainWindow& w) {
  return child<QTextBrowser>(w, "view")->toPlainText();
}

void typeMessage(gui::MainWindow& w, const QString& text) {
  auto* message = child<QPlainTextEdit>(w, "message");
  message->setFocus();
  QTest::keyClicks(message, text);
}

void fillConnectWindow(gui::ConnectWindow& c, std::uint16_t port, const QString& nick) {
  child<QLineEdit>(c, "host")->setText(QStringLiteral("127.0.0.1"));
  child<QSpinBox>(c, "port")->setValue(port);
  child<QLineEdit>(c, "nick")->setText(nick);
}

}  // namespace

class GuiWindowTest : public QObject {
  Q_OBJECT

 private slots:
  void connectChatAndScreenshot();
  void takenNickIsAnsweredInTheWindow();
  void aRegisteredNickIsProvedWithThePasswordField();
  void nobodyAnsweringIsSaidInWords();
  void aFullServerIsSaidInWords();
  void operatorKicksFromTheUserList();
  void theProgramConnectsFromItsFlagsAndQuitsOnSigterm();
  void reconnectKeepsTypedText();
  void portugueseStrings();
};

void GuiWindowTest::connectChatAndScreenshot() {
  Server server;
  QVERIFY(server.port() != 0);
  Peer bob(server.port(), "bob");
  QTRY_VERIFY_WITH_TIMEOUT(bob.registered(), kStepMs);
  bob.say("/topic Friday planning: lunch and the demo");
  bob.say("who is in for lunch on Friday?");  // before alice joins: replayed to her as history
  QTRY_VERIFY_WITH_TIMEOUT(
      bob.got<protocol::ChatEvent>("who is in for lunch on Friday?") != nullptr, kStepMs);

  gui::GuiApp app;
  app.connectWindow().lanServers().setTargets({INADDR_LOOPBACK});  // probes stay on loopback
  app.start(std::nullopt);
  gui::ConnectWindow& cw = app.connectWindow();
  QVERIFY(cw.isVisible());

  // The server answers the connect window's probe; choosing it fills in the address.
  child<QSpinBox>(cw, "port")->setValue(server.port());
  auto* servers = child<QTreeWidget>(cw, "servers");
  QTRY_VERIFY_WITH_TIMEOUT(servers->topLevelItemCount() == 1, kStepMs);
  QTreeWidgetItem* found = servers->topLevelItem(0);
  QCOMPARE(found->text(0), QStringLiteral("Office LAN"));
  QCOMPARE(found->text(1), QStringLiteral("127.0.0.1:%1").arg(server.port()));
  QCOMPARE(found->text(2), QStringLiteral("1"));  // bob
  QCOMPARE(found->text(3), QString());            // not full
  child<QLineEdit>(cw, "host")->clear();
  QTest::mouseClick(servers->viewport(), Qt::LeftButton, {},
                    servers->visualItemRect(found).center());
  QCOMPARE(child<QLineEdit>(cw, "host")->text(), QStringLiteral("127.0.0.1"));
  child<QLineEdit>(cw, "nick")->setText(QStringLiteral("alice"));
  QTest::mouseClick(child<QPushButton>(cw, "connect"), Qt::LeftButton);

  gui::MainWindow& w = app.mainWindow();
  QTRY_VERIFY_WITH_TIMEOUT(w.isVisible(), kStepMs);
  QVERIFY(!cw.isVisible());
  auto* users = child<QListWidget>(w, "users");
  QTRY_VERIFY_WITH_TIMEOUT(anyContains(itemTexts(users), QStringLiteral("bob")), kStepMs);
  QTRY_VERIFY_WITH_TIMEOUT(
      child<QLabel>(w, "topic")->text().contains(QStringLiteral("Friday planning")), kStepMs);

  // History on join is marked as such.
  QTRY_VERIFY_WITH_TIMEOUT(
      viewText(w).contains(QStringLiteral("[history] bob: who is in for lunch")), kStepMs);

  // Received in the room, with the mention of our nick marked.
  bob.say("morning alice, are you coming to lunch?");
  QTRY_VERIFY_WITH_TIMEOUT(viewText(w).contains(QStringLiteral("are you coming to lunch?")),
                           kStepMs);
  const gui::Conversation& lobby = app.model().at(app.model().current());
  QCOMPARE(lobby.name, QStringLiteral("lobby"));
  QVERIFY(lobby.lines.back().mention);

  // Sent from the compose area with Enter; the subject goes with it. Typing is announced.
  child<QLineEdit>(w, "subject")->setText(QStringLiteral("Lunch"));
  typeMessage(w, QStringLiteral("yes, at noon"));
  QTRY_VERIFY_WITH_TIMEOUT(
      bob.session->core().typingIn("lobby", false) == std::vector<std::string>{"alice"}, kStepMs);
  QTest::keyClick(child<QPlainTextEdit>(w, "message"), Qt::Key_Return);
  QTRY_VERIFY_WITH_TIMEOUT(bob.got<protocol::ChatEvent>("yes, at noon") != nullptr, kStepMs);
  QCOMPARE(bob.got<protocol::ChatEvent>("yes, at noon")->subject, std::string("Lunch"));
  QCOMPARE(child<QPlainTextEdit>(w, "message")->toPlainText(), QString());
  // Confirmed by the echo: no longer shown as sending.
  QTRY_VERIFY_WITH_TIMEOUT(!app.model().at(app.model().current()).lines.back().pending, kStepMs);

  // A line of ours is deleted from its context menu: found under the mouse, deleted for all.
  {
    typeMessage(w, QStringLiteral("typo in this one"));
    QTest::keyClick(child<QPlainTextEdit>(w, "message"), Qt::Key_Return);
    const int room = app.model().current();
    auto confirmed = [&] {
      const auto& lines = app.model().at(room).lines;
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].text == QStringLiteral("typo in this one") && lines[i].id != 0) {
          return static_cast<int>(i);
        }
      }
      return -1;
    };
    QTRY_VERIFY_WITH_TIMEOUT(confirmed() >= 0, kStepMs);
    const int line = confirmed();
    const protocol::MessageId id = app.model().at(room).lines[static_cast<std::size_t>(line)].id;
    auto* view = child<QTextBrowser>(w, "view");
    const QTextBlock block = view->document()->findBlockByNumber(line);
    QVERIFY(block.isValid());
    const QRectF r = view->document()->documentLayout()->blockBoundingRect(block);
    const QPoint at = r.center().toPoint() - QPoint(view->horizontalScrollBar()->value(),
                                                    view->verticalScrollBar()->value());
    QCOMPARE(w.lineAt(at), line);
    bool triggered = false;
    QTimer::singleShot(0, [&] {
      auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
      if (menu == nullptr) return;
      for (QAction* a : menu->actions()) {
        if (a->text() == QStringLiteral("&Delete this message")) {
          triggered = true;
          a->trigger();
        }
      }
      menu->close();
    });
    emit view->customContextMenuRequested(at);
    QVERIFY(triggered);
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          for (const auto& e : bob.events) {
            if (const auto* d = std::get_if<protocol::DeletedEvent>(&e);
                d != nullptr && d->id == id) {
              return true;
            }
          }
          return false;
        }(),
        kStepMs);
    QTRY_VERIFY_WITH_TIMEOUT(viewText(w).contains(QStringLiteral("(message deleted by alice)")),
                             kStepMs);
    // The menu is gone; the window is active again, for the window shortcuts below.
    QTRY_VERIFY_WITH_TIMEOUT(QApplication::activePopupWidget() == nullptr, kStepMs);
    w.activateWindow();
    QTRY_VERIFY_WITH_TIMEOUT(w.isActiveWindow(), kStepMs);
  }

  // Ctrl+Enter sends it as an action (/me).
  typeMessage(w, QStringLiteral("nods"));
  QTest::keyClick(child<QPlainTextEdit>(w, "message"), Qt::Key_Return, Qt::ControlModifier);
  QTRY_VERIFY_WITH_TIMEOUT(bob.got<protocol::ChatEvent>("nods") != nullptr, kStepMs);
  QCOMPARE(bob.got<protocol::ChatEvent>("nods")->flags & protocol::kFlagAction,
           protocol::kFlagAction);

  // A subject from someone else shows as a subject line.
  bob.say("/subject Demo");
  bob.say("the projector is booked for 3 pm");
  QTRY_VERIFY_WITH_TIMEOUT(viewText(w).contains(QStringLiteral("Subject: Demo")), kStepMs);

  // A join and a part update the user list.
  {
    Peer carol(server.port(), "carol");
    QTRY_VERIFY_WITH_TIMEOUT(anyContains(itemTexts(users), QStringLiteral("carol")), kStepMs);
    carol.say("/part");
    QTRY_VERIFY_WITH_TIMEOUT(!anyContains(itemTexts(users), QStringLiteral("carol")), kStepMs);
  }

  // Typing is shown.
  bob.session->typing("lobby", false);
  QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(w, "typing")->text() == QStringLiteral("bob is typing"),
                           kStepMs);

  // A private message opens its conversation and raises its unread count.
  auto* conversations = child<QListWidget>(w, "conversations");
  bob.say("/msg alice [Slides] can you bring the slides?");
  QTRY_VERIFY_WITH_TIMEOUT(
      app.model().find(gui::ConversationKind::Private, QStringLiteral("bob")) >= 0, kStepMs);
  const int privateIndex = app.model().find(gui::ConversationKind::Private, QStringLiteral("bob"));
  QCOMPARE(app.model().at(privateIndex).unread, 1);
  QTRY_VERIFY_WITH_TIMEOUT(
      conversations->item(privateIndex)->text().endsWith(QStringLiteral("bob (1)")), kStepMs);
  QVERIFY(app.model().current() != privateIndex);  // it does not take the focus

  // Alt+N shows it; its count goes back to 0 and the answer goes to bob privately.
  QTest::keyClick(&w, static_cast<Qt::Key>(Qt::Key_1 + privateIndex), Qt::AltModifier);
  QTRY_COMPARE_WITH_TIMEOUT(app.model().current(), privateIndex, kStepMs);
  QCOMPARE(app.model().at(privateIndex).unread, 0);
  QVERIFY(viewText(w).contains(QStringLiteral("Subject: Slides")));
  QCOMPARE(child<QComboBox>(w, "recipient")->currentText(), QStringLiteral("bob"));
  // Shift+Enter starts a new line; the Send button sends both.
  typeMessage(w, QStringLiteral("sure,"));
  QTest::keyClick(child<QPlainTextEdit>(w, "message"), Qt::Key_Return, Qt::ShiftModifier);
  QTest::keyClicks(child<QPlainTextEdit>(w, "message"), QStringLiteral("on a stick"));
  QCOMPARE(child<QPlainTextEdit>(w, "message")->toPlainText(), QStringLiteral("sure,\non a stick"));
  QTest::mouseClick(child<QPushButton>(w, "send"), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(bob.got<protocol::PrivateEvent>("sure,\non a stick") != nullptr,
                           kStepMs);

  // Clear empties the conversation shown, and only that one.
  QTRY_VERIFY_WITH_TIMEOUT(viewText(w).contains(QStringLiteral("on a stick")), kStepMs);
  QTest::mouseClick(child<QPushButton>(w, "clear"), Qt::LeftButton);
  QCOMPARE(viewText(w), QString());
  QVERIFY(app.model().at(privateIndex).lines.empty());

  // Back to the room for the screenshot, with a line of bob's being typed.
  QTest::keyClick(&w, Qt::Key_PageUp, Qt::ControlModifier);
  QTRY_VERIFY_WITH_TIMEOUT(app.model().at(app.model().current()).name == QStringLiteral("lobby"),
                           kStepMs);
  bob.say("/me waves");
  QTRY_VERIFY_WITH_TIMEOUT(viewText(w).contains(QStringLiteral("* bob waves")), kStepMs);
  // Lines appended one by one show exactly what a full redraw shows, one text block each.
  {
    QTextDocument fresh;
    fresh.setHtml(w.renderLines(app.model().current()));
    QCOMPARE(w.viewText(), fresh.toPlainText());
    QCOMPARE(static_cast<std::size_t>(child<QTextBrowser>(w, "view")->document()->blockCount()),
             app.model().at(app.model().current()).lines.size());
  }
  bob.session->typing("lobby", false);
  const QByteArray shot = qgetenv("UDPCHAT_SCREENSHOT");
  if (!shot.isEmpty()) {
    // A fuller picture: someone away, and round-trip times in the user list (measured from
    // presence pings, reported by /who; asked for once a second until they show).
    Peer dave(server.port(), "dave");
    QTRY_VERIFY_WITH_TIMEOUT(dave.registered(), kStepMs);
    dave.say("/away at the dentist");
    QTimer who;
    QObject::connect(&who, &QTimer::timeout, [&] { app.session()->input("/who #lobby"); });
    who.start(1000);
    QTRY_VERIFY_WITH_TIMEOUT(anyContains(itemTexts(users), QStringLiteral("dave  away")) &&
                                 anyContains(itemTexts(users), QStringLiteral(" ms")),
                             3 * kStepMs);
    who.stop();
    bob.session->typing("lobby", false);
    typeMessage(w, QStringLiteral("see you at noon"));
    w.resize(w.fontMetrics().horizontalAdvance(u'M') * 68, w.fontMetrics().height() * 34);
    QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(w, "typing")->text() == QStringLiteral("bob is typing"),
                             kStepMs);
    QVERIFY(w.grab().save(QString::fromLocal8Bit(shot)));
  }
}

void GuiWindowTest::takenNickIsAnsweredInTheWindow() {
  Server server;
  Peer first(server.port(), "alice");
  QTRY_VERIFY_WITH_TIMEOUT(first.registered(), kStepMs);

  gui::GuiApp app;
  app.connectWindow().lanServers().setTargets({INADDR_LOOPBACK});
  app.start(std::nullopt);
  gui::ConnectWindow& cw = app.connectWindow();
  fillConnectWindow(cw, server.port(), QStringLiteral("alice"));
  QTest::mouseClick(child<QPushButton>(cw, "connect"), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(child<QLabel>(cw, "status")->text(),
                            QStringLiteral("that nickname is taken, choose another"), kStepMs);
  QVERIFY(!app.mainWindow().isVisible());
  gui::ChatSession* firstTry = app.session();
  QVERIFY(firstTry != nullptr);

  child<QLineEdit>(cw, "nick")->setText(QStringLiteral("alice2"));
  QTest::mouseClick(child<QPushButton>(cw, "connect"), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(app.mainWindow().isVisible(), kStepMs);
  QCOMPARE(app.session(), firstTry);  // the same connection: no reconnect
  QCOMPARE(app.session()->nick(), std::string("alice2"));

  // Remembered for next time: the address and the nick that worked.
  {
    gui::ConnectWindow next;
    next.loadSettings();
    QCOMPARE(child<QLineEdit>(next, "nick")->text(), QStringLiteral("alice2"));
    QCOMPARE(child<QLineEdit>(next, "host")->text(), QStringLiteral("127.0.0.1"));
    QCOMPARE(child<QSpinBox>(next, "port")->value(), static_cast<int>(server.port()));
  }

  // Closing the window quits: the server is told (the others see a quit), then the app ends.
  QSignalSpy finished(&app, &gui::GuiApp::finished);
  app.mainWindow().close();
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kStepMs);
  QCOMPARE(finished.at(0).at(0).toInt(), udpchat::kExitOk);
  QTRY_VERIFY_WITH_TIMEOUT(
      [&] {
        for (const auto& e : first.events) {
          if (const auto* q = std::get_if<protocol::QuitEvent>(&e);
              q != nullptr && q->nick == "alice2") {
            return true;
          }
        }
        return false;
      }(),
      kStepMs);
}

void GuiWindowTest::aRegisteredNickIsProvedWithThePasswordField() {
  Server server;
  {
    gui::GuiApp app;
    app.connectWindow().lanServers().setTargets({INADDR_LOOPBACK});
    app.start(std::nullopt);
    fillConnectWindow(app.connectWindow(), server.port(), QStringLiteral("carol"));
    QTest::mouseClick(child<QPushButton>(app.connectWindow(), "connect"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(app.mainWindow().isVisible(), kStepMs);
    gui::MainWindow& w = app.mainWindow();
    typeMessage(w, QStringLiteral("/register correct-horse-x"));
    QTest::keyClick(child<QPlainTextEdit>(w, "message"), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(viewText(w).contains(QStringLiteral("is registered to you")), kStepMs);
    QSignalSpy finished(&app, &gui::GuiApp::finished);
    w.close();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kStepMs);
  }
  gui::GuiApp app;
  app.connectWindow().lanServers().setTargets({INADDR_LOOPBACK});
  app.start(std::nullopt);
  gui::ConnectWindow& cw = app.connectWindow();
  fillConnectWindow(cw, server.port(), QStringLiteral("carol"));
  QCOMPARE(child<QLineEdit>(cw, "password")->echoMode(), QLineEdit::Password);
  child<QLineEdit>(cw, "password")->setText(QStringLiteral("correct-horse-x"));
  QTest::mouseClick(child<QPushButton>(cw, "connect"), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(app.mainWindow().isVisible(), kStepMs);
  QTRY_COMPARE_WITH_TIMEOUT(app.session()->nick(), std::string("carol"), kStepMs);
  // The password is not remembered, the nick is.
  gui::ConnectWindow next;
  next.loadSettings();
  QCOMPARE(child<QLineEdit>(next, "nick")->text(), QStringLiteral("carol"));
  QCOMPARE(child<QLineEdit>(next, "password")->text(), QString());
}

void GuiWindowTest::nobodyAnsweringIsSaidInWords() {
  // A bound UDP socket that never answers.
  udpchat::UniqueFd silent(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof sin;
  QVERIFY(silent && ::bind(silent.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 &&
          ::getsockname(silent.get(), reinterpret_cast<sockaddr*>(&sin), &length) == 0);
  const std::uint16_t silentPort = ntohs(sin.sin_port);
  gui::GuiApp app;
  app.setConnectTimeout(500);
  app.connectWindow().lanServers().setTargets({INADDR_LOOPBACK});
  app.start(std::nullopt);
  gui::ConnectWindow& cw = app.connectWindow();
  fillConnectWindow(cw, silentPort, QStringLiteral("alice"));
  QTest::mouseClick(child<QPushButton>(cw, "connect"), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(child<QLabel>(cw, "status")->text(),
                            QStringLiteral("nobody answered at 127.0.0.1:%1").arg(silentPort),
                            kStepMs);
  QVERIFY(child<QPushButton>(cw, "connect")->isEnabled());
  QVERIFY(!app.mainWindow().isVisible());
}

void GuiWindowTest::aFullServerIsSaidInWords() {
  Server server(0, {"--max-clients", "1"});
  Peer first(server.port(), "bob");
  QTRY_VERIFY_WITH_TIMEOUT(first.registered(), kStepMs);
  gui::GuiApp app;
  app.connectWindow().lanServers().setTargets({INADDR_LOOPBACK});
  app.start(std::nullopt);
  gui::ConnectWindow& cw = app.connectWindow();
  fillConnectWindow(cw, server.port(), QStringLiteral("alice"));
  // The list says so before anyone tries.
  auto* servers = child<QTreeWidget>(cw, "servers");
  QTRY_VERIFY_WITH_TIMEOUT(servers->topLevelItemCount() == 1 &&
                               servers->topLevelItem(0)->text(3) == QStringLiteral("full"),
                           kStepMs);
  QTest::mouseClick(child<QPushButton>(cw, "connect"), Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(child<QLabel>(cw, "status")->text(),
                            QStringLiteral("the server is full"), kStepMs);
  QVERIFY(child<QPushButton>(cw, "connect")->isEnabled());
  QVERIFY(!app.mainWindow().isVisible());
}

// Operators: "/oper" typed in the message box works as in the line client, and the user list's
// context menu then offers Kick, which asks for a reason.
void GuiWindowTest::operatorKicksFromTheUserList() {
  Server server(0, {"--oper-password", "s3cret"});
  Peer bob(server.port(), "bob");
  QTRY_VERIFY_WITH_TIMEOUT(bob.registered(), kStepMs);
  gui::GuiApp app;
  gui::SessionOptions o;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.nick = "alice";
  app.start(o);
  gui::MainWindow& w = app.mainWindow();
  auto* users = child<QListWidget>(w, "users");
  QTRY_VERIFY_WITH_TIMEOUT(anyContains(itemTexts(users), QStringLiteral("bob")), kStepMs);

  typeMessage(w, QStringLiteral("/oper s3cret"));
  QTest::keyClick(child<QPlainTextEdit>(w, "message"), Qt::Key_Return);
  QTRY_VERIFY_WITH_TIMEOUT(app.model().isOperator(), kStepMs);

  QListWidgetItem* target = nullptr;
  for (int i = 0; i < users->count(); ++i) {
    if (users->item(i)->data(Qt::UserRole).toString() == QStringLiteral("bob"))
      target = users->item(i);
  }
  QVERIFY(target != nullptr);
  const QPoint at = users->visualItemRect(target).center();
  bool kicked = false;
  QTimer::singleShot(0, [&] {
    auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
    if (menu == nullptr) return;
    for (QAction* a : menu->actions()) {
      if (a->text() != QStringLiteral("&Kick...")) continue;
      // The reason dialog opens inside the action; answer it once it is up.
      QTimer::singleShot(0, [&] {
        auto* dialog = qobject_cast<QInputDialog*>(QApplication::activeModalWidget());
        if (dialog == nullptr) return;
        dialog->setTextValue(QStringLiteral("flooding"));
        dialog->accept();
        kicked = true;
      });
      a->trigger();
    }
    menu->close();
  });
  emit users->customContextMenuRequested(at);
  QTRY_VERIFY_WITH_TIMEOUT(kicked, kStepMs);
  QTRY_VERIFY_WITH_TIMEOUT(bob.session->finished(), kStepMs);
  QCOMPARE(bob.session->core().exitStatus(), udpchat::kExitKicked);
  QTRY_VERIFY_WITH_TIMEOUT(!anyContains(itemTexts(users), QStringLiteral("bob")), kStepMs);
  QVERIFY(viewText(w).contains(QStringLiteral("bob was kicked by alice (flooding)")));
}

// udpchat-gui itself: --host --port --nick --transport connect without the connect window, and
// SIGTERM leaves as the Quit menu does (the others see a quit; exit status 0).
void GuiWindowTest::theProgramConnectsFromItsFlagsAndQuitsOnSigterm() {
  Server server;
  Peer bob(server.port(), "bob");
  QTRY_VERIFY_WITH_TIMEOUT(bob.registered(), kStepMs);
  auto sawFrom = [&](const std::string& nick, auto tag) {
    using T = decltype(tag);
    for (const auto& e : bob.events) {
      if (const auto* m = std::get_if<T>(&e); m != nullptr && m->nick == nick) return true;
    }
    return false;
  };
  // The environment (offscreen, the scratch configuration directory) is inherited.
  Subprocess gui(UDPCHAT_GUI_BIN, {"--host", "127.0.0.1", "--port", std::to_string(server.port()),
                                   "--nick", "zoe", "--transport", "tcp"});
  QTRY_VERIFY_WITH_TIMEOUT(sawFrom("zoe", protocol::JoinEvent{}), kStepMs);
  gui.kill(SIGTERM);
  QCOMPARE(gui.wait(after(10s)), std::optional<int>(0));
  QTRY_VERIFY_WITH_TIMEOUT(sawFrom("zoe", protocol::QuitEvent{}), kStepMs);
}

void GuiWindowTest::reconnectKeepsTypedText() {
  // It comes back on the same port: one the kernel does not hand out meanwhile.
  auto server = std::make_unique<Server>(udpchat::test::restartablePort());
  const std::uint16_t port = server->port();
  QVERIFY(port != 0);

  // Started as by --host --port --nick: no connect window, focus in the message box.
  gui::GuiApp app;
  gui::SessionOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.nick = "alice";
  app.start(o);
  gui::MainWindow& w = app.mainWindow();
  QVERIFY(w.isVisible());
  QVERIFY(!app.connectWindow().isVisible());
  QTRY_VERIFY_WITH_TIMEOUT(app.model().connection().registered, kStepMs);
  QTRY_COMPARE_WITH_TIMEOUT(QApplication::focusWidget(),
                            static_cast<QWidget*>(child<QPlainTextEdit>(w, "message")), kStepMs);
  auto* bar = child<QLabel>(w, "connectionBar");
  QVERIFY(!bar->isVisible());

  QVERIFY(server->stop());
  server.reset();
  QTRY_VERIFY_WITH_TIMEOUT(bar->isVisible() && bar->text().contains(QStringLiteral("Reconnecting")),
                           kStepMs);

  // Sent during the outage: shown as sending, and delivered after the reconnect.
  typeMessage(w, QStringLiteral("written while the server was away"));
  QTest::keyClick(child<QPlainTextEdit>(w, "message"), Qt::Key_Return);
  const int lobby = app.model().find(gui::ConversationKind::Room, QStringLiteral("lobby"));
  QVERIFY(lobby > 0);
  QVERIFY(app.model().at(lobby).lines.back().pending);
  // Typed, not sent: it stays.
  typeMessage(w, QStringLiteral("half a thought"));

  server = std::make_unique<Server>(port);
  QCOMPARE(server->port(), port);
  QTRY_VERIFY_WITH_TIMEOUT(!bar->isVisible(), 3 * kStepMs);
  QVERIFY(app.model().connection().registered);
  QCOMPARE(child<QPlainTextEdit>(w, "message")->toPlainText(), QStringLiteral("half a thought"));
  QTRY_VERIFY_WITH_TIMEOUT(
      [&] {
        for (const auto& l : app.model().at(lobby).lines) {
          if (l.text == QStringLiteral("written while the server was away"))
            return !l.pending && l.id != 0;
        }
        return false;
      }(),
      kStepMs);
}

void GuiWindowTest::portugueseStrings() {
  // In the process, as --lang pt_BR does it.
  const QString picked = gui::installTranslations(*qApp, QStringLiteral("pt_BR"));
  QCOMPARE(picked, QStringLiteral("pt_BR"));
  {
    gui::ConnectWindow cw;
    QCOMPARE(child<QPushButton>(cw, "connect")->text(), QStringLiteral("&Conectar"));
    gui::ChatModel model;
    gui::MainWindow w(model);
    QCOMPARE(child<QPushButton>(w, "send")->text(), QStringLiteral("&Enviar"));
    // Qt's own buttons too (the kick and topic dialogs use them).
    QDialogButtonBox buttons(QDialogButtonBox::Cancel);
    QCOMPARE(buttons.button(QDialogButtonBox::Cancel)->text(), QStringLiteral("Cancelar"));
  }
  for (QTranslator* t : qApp->findChildren<QTranslator*>()) {
    QCoreApplication::removeTranslator(t);
    delete t;
  }
  gui::ConnectWindow english;
  QCOMPARE(child<QPushButton>(english, "connect")->text(), QStringLiteral("&Connect"));

  // The real program: from the locale, and from --lang over the locale.
  auto help = [](const char* lang, std::vector<std::string> args) {
    qputenv("LANG", lang);
    qunsetenv("LC_ALL");
    qunsetenv("LC_MESSAGES");
    qunsetenv("LANGUAGE");
    args.push_back("--help");
    Subprocess p(UDPCHAT_GUI_BIN, args);
    p.drain(after(10s));
    return p.seen(Subprocess::Stream::Stdout);
  };
  auto has = [](const std::vector<std::string>& lines, const std::string& needle) {
    for (const auto& l : lines) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  QVERIFY(has(help("pt_BR.UTF-8", {}), "cliente de desktop"));
  QVERIFY(has(help("C.UTF-8", {}), "desktop client"));
  QVERIFY(has(help("C.UTF-8", {"--lang", "pt_BR"}), "cliente de desktop"));
  QVERIFY(has(help("pt_BR.UTF-8", {"--lang", "en"}), "desktop client"));
}

int main(int argc, char** argv) {
  // Offscreen: no display needed, the same pixels every run. QSettings write to a scratch
  // directory, not the person's configuration.
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QTemporaryDir config;
  qputenv("XDG_CONFIG_HOME", config.path().toLocal8Bit());
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("udpchat-test"));
  QApplication::setApplicationName(QStringLiteral("udpchat-gui-test"));
  QApplication::setQuitOnLastWindowClosed(false);
  GuiWindowTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "gui_window_test.moc"
