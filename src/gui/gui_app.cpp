#include "gui_app.hpp"

#include <QApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>
#include <stdexcept>

#include "udpchat/time.hpp"

namespace udpchat::gui {

QString installTranslations(QApplication& app, const QString& language) {
  auto* translator = new QTranslator(&app);
  const QLocale locale = language.isEmpty() ? QLocale::system() : QLocale(language);
  // load(locale, ...) tries pt_BR, then pt, in the locale's UI languages order.
  if (!translator->load(locale, QStringLiteral("udpchat-gui"), QStringLiteral("_"),
                        QStringLiteral(":/i18n"))) {
    delete translator;
    return QStringLiteral("en");
  }
  QApplication::installTranslator(translator);
  const QString file = translator->filePath();
  const qsizetype from = file.indexOf(u'_') + 1;
  const QString picked = file.mid(from, file.lastIndexOf(u'.') - from);
  // Qt's own strings (the standard dialog buttons: OK, Cancel) from Qt's translations, when the
  // system has them (qt6-translations-l10n).
  if (picked != QStringLiteral("en")) {
    auto* qt = new QTranslator(&app);
    if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
      QApplication::installTranslator(qt);
    } else {
      delete qt;
    }
  }
  return picked;
}

GuiApp::GuiApp()
    : model_(std::make_unique<ChatModel>()),
      connect_(std::make_unique<ConnectWindow>()),
      main_(std::make_unique<MainWindow>(*model_)) {
  connect(connect_.get(), &ConnectWindow::connectRequested, this, &GuiApp::connectClicked);
  connect(connect_.get(), &ConnectWindow::closed, this, [this] {
    // Closing the connect window while the chat window is up only closes the connect window.
    if (!main_->isVisible()) quit();
  });
  connect(main_.get(), &MainWindow::quitRequested, this, &GuiApp::quit);
}

GuiApp::~GuiApp() {
  delete session_.data();
}

void GuiApp::start(const std::optional<SessionOptions>& direct) {
  connect_->loadSettings();
  if (direct) {
    connect_->setOptions(*direct);
    main_->show();
    main_->focusMessage();
    connectTo(*direct);
  } else {
    connect_->show();
  }
}

void GuiApp::connectClicked() {
  const SessionOptions options = connect_->options();
  if (session_ && nickRefused_ && session_->state() == ConnectionState::Registering) {
    // Same connection, second Hello: the core sends it for "/nick" while registering.
    nickRefused_ = false;
    connect_->setBusy(
        tr("asking for the nickname %1...").arg(QString::fromStdString(options.nick)));
    session_->input("/nick " + options.nick);
    return;
  }
  connect_->saveSettings();
  connectTo(options);
}

void GuiApp::connectTo(const SessionOptions& requested) {
  SessionOptions options = requested;
  options.connectTimeout = connectTimeout_;
  if (session_) {
    session_->disconnect(this);
    session_->deleteLater();
  }
  registered_ = false;
  nickRefused_ = false;
  serverFull_ = false;
  connect_->setBusy(
      tr("connecting to %1:%2...").arg(QString::fromStdString(options.host)).arg(options.port));
  try {
    session_ = new ChatSession(options, [this](const ClientEvent& e) { onEvent(e); });
  } catch (const std::exception& e) {
    connect_->showError(QString::fromStdString(e.what()));
    connect_->show();
    return;
  }
  connect(session_.data(), &ChatSession::finishedChanged, this, &GuiApp::sessionFinished);
  main_->setSession(session_);
  session_->start();
}

void GuiApp::onEvent(const ClientEvent& event) {
  if (!session_) return;
  const Now now = readClocks();
  model_->handle(event, *session_, now.wall, now.mono);
  if (std::holds_alternative<client_event::Welcome>(event)) {
    registered_ = true;
    nickRefused_ = false;
    if (!main_->isVisible()) main_->show();
    if (connect_->isVisible()) {
      connect_->saveSettings();  // the nick that worked
      connect_->hide();
      main_->focusMessage();
    }
  } else if (const auto* e = std::get_if<protocol::ErrorReply>(&event)) {
    if (e->code == protocol::ErrorCode::ServerFull) serverFull_ = true;
    if (!registered_ && session_->state() == ConnectionState::Registering &&
        (e->code == protocol::ErrorCode::NickInUse ||
         e->code == protocol::ErrorCode::NickInvalid)) {
      nickRefused_ = true;
      const QString text = e->code == protocol::ErrorCode::NickInUse
                               ? tr("that nickname is taken, choose another")
                               : tr("that nickname is not allowed (%1), choose another")
                                     .arg(QString::fromStdString(e->message));
      connect_->askForOtherNick(text);
      if (!connect_->isVisible()) {
        main_->hide();
        connect_->show();
      }
    }
  } else if (const auto* l = std::get_if<client_event::LocalError>(&event)) {
    if (nickRefused_ && l->code == "nick_invalid") {
      connect_->askForOtherNick(tr("that nickname is not allowed (%1), choose another")
                                    .arg(QString::fromStdString(l->message)));
    }
  } else if (const auto* f = std::get_if<client_event::Finished>(&event)) {
    if (!registered_ && !quitting_) {
      const SessionOptions& o = session_->options();
      const QString where = QStringLiteral("%1:%2").arg(QString::fromStdString(o.host)).arg(o.port);
      QString text;
      if (serverFull_) {
        text = tr("the server is full");
      } else if (f->exitStatus == kExitCannotConnect &&
                 f->reason.find("refused") != std::string::npos) {
        text = tr("nothing is listening at %1 (connection refused)").arg(where);
      } else if (f->exitStatus == kExitCannotConnect &&
                 f->reason.find("no answer") != std::string::npos) {
        text = tr("nobody answered at %1").arg(where);
      } else {
        text = tr("could not connect to %1: %2").arg(where, QString::fromStdString(f->reason));
      }
      main_->hide();
      connect_->showError(text);
      connect_->show();
    }
  }
}

void GuiApp::sessionFinished() {
  if (session_) exitStatus_ = session_->core().exitStatus();
  main_->setSession(nullptr);
  if (session_) session_->deleteLater();
  if (quitting_) emit finished(exitStatus_);
}

void GuiApp::quit() {
  if (quitting_) return;
  quitting_ = true;
  if (session_ && !session_->finished()) {
    session_->quit("");  // sessionFinished() follows, within the core's quit timeout
    return;
  }
  emit finished(exitStatus_);
}

}  // namespace udpchat::gui
