// udpchat-gui: the desktop client. Without --host it opens the connect window; with it, it
// connects at once (README, "Desktop client").
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

#include "gui_app.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/stop_signal.hpp"

namespace {

// --lang must be known before the parser's own texts are translated, so it is looked for first.
QString languageArgument(const QStringList& args) {
  for (qsizetype i = 1; i < args.size(); ++i) {
    if (args[i] == QStringLiteral("--lang") && i + 1 < args.size()) return args[i + 1];
    if (args[i].startsWith(QStringLiteral("--lang="))) return args[i].mid(7);
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  // SIGINT and SIGTERM leave as the Quit menu does, telling the server, instead of vanishing.
  const std::atomic<bool>& stop = udpchat::installStopSignals();
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("udpchat"));
  QApplication::setApplicationName(QStringLiteral("udpchat-gui"));
  QApplication::setApplicationVersion(QStringLiteral(UDPCHAT_VERSION));
  // The session ends with a quit to the server; the windows closing must not end the loop first.
  QApplication::setQuitOnLastWindowClosed(false);
  udpchat::gui::installTranslations(app, languageArgument(QApplication::arguments()));

  QCommandLineParser parser;
  parser.setApplicationDescription(
      QCoreApplication::translate("main",
                                  "udpchat desktop client. Without --host it opens the "
                                  "connect window."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption host(
      QStringLiteral("host"),
      QCoreApplication::translate("main", "Connect to this server at once."),
      QStringLiteral("host"));
  const QCommandLineOption port(
      QStringLiteral("port"),
      QCoreApplication::translate("main", "The server's port (default 7777)."),
      QStringLiteral("port"), QString::number(udpchat::kDefaultPort));
  const QCommandLineOption nick(
      QStringLiteral("nick"),
      QCoreApplication::translate("main", "Nickname (default: the server picks one)."),
      QStringLiteral("nick"));
  const QCommandLineOption password(
      QStringLiteral("password"),
      QCoreApplication::translate("main",
                                  "The password of a registered --nick (also from "
                                  "UDPCHAT_PASSWORD)."),
      QStringLiteral("password"));
  const QCommandLineOption transport(QStringLiteral("transport"),
                                     QCoreApplication::translate("main", "enet (default) or tcp."),
                                     QStringLiteral("name"), QStringLiteral("enet"));
  const QCommandLineOption lang(
      QStringLiteral("lang"),
      QCoreApplication::translate("main",
                                  "Language of the windows, e.g. en or pt_BR (default: the "
                                  "system's)."),
      QStringLiteral("language"));
  parser.addOptions({host, port, nick, password, transport, lang});
  parser.process(app);

  std::optional<udpchat::gui::SessionOptions> direct;
  if (parser.isSet(host)) {
    udpchat::gui::SessionOptions o;
    o.host = parser.value(host).toStdString();
    bool ok = false;
    const int p = parser.value(port).toInt(&ok);
    if (!ok || p < 1 || p > 65535) {
      std::fprintf(stderr, "udpchat-gui: --port must be 1 to 65535\n");
      return 1;
    }
    o.port = static_cast<std::uint16_t>(p);
    o.nick = parser.value(nick).toStdString();
    o.password = parser.isSet(password) ? parser.value(password).toStdString()
                                        : qEnvironmentVariable("UDPCHAT_PASSWORD").toStdString();
    o.transport = parser.value(transport).toStdString();
    if (o.transport != "enet" && o.transport != "tcp") {
      std::fprintf(stderr, "udpchat-gui: --transport must be enet or tcp\n");
      return 1;
    }
    direct = o;
  }

  udpchat::gui::GuiApp gui;
  QObject::connect(&gui, &udpchat::gui::GuiApp::finished, &app,
                   [](int status) { QCoreApplication::exit(status); });
  gui.start(direct);
  QTimer stopWatch;
  QObject::connect(&stopWatch, &QTimer::timeout, &gui, [&] {
    if (stop.load()) {
      stopWatch.stop();
      gui.requestQuit();
    }
  });
  stopWatch.start(100);
  return QApplication::exec();
}
