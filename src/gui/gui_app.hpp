// The desktop client's top level: the connect window, the chat window, the model they share
// and the session (connection) of the moment. It routes the session's events to the model and
// decides which window shows: the chat window once the server has welcomed us, the connect
// window again, with the reason in words, when the first connection fails.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <memory>
#include <optional>

#include "chat_model.hpp"
#include "chat_session.hpp"
#include "connect_window.hpp"
#include "main_window.hpp"

class QApplication;

namespace udpchat::gui {

// Loads the translations for `language` ("pt_BR", "en"; empty: the system locale's) from the
// resources built into the program. Returns the language picked, "en" when there is no
// translation for it (English is the source language).
QString installTranslations(QApplication& app, const QString& language);

class GuiApp : public QObject {
  Q_OBJECT

 public:
  GuiApp();
  ~GuiApp() override;

  // Shows the connect window, or, with `direct`, connects at once and shows the chat window.
  void start(const std::optional<SessionOptions>& direct);

  // Leaves: quits through the server (what was typed is delivered first), then emits finished().
  void requestQuit() { quit(); }

  // How long a connect may go unanswered before the connect window says so, ms.
  void setConnectTimeout(Millis ms) { connectTimeout_ = ms; }

  ChatModel& model() { return *model_; }
  ConnectWindow& connectWindow() { return *connect_; }
  MainWindow& mainWindow() { return *main_; }
  ChatSession* session() { return session_; }

 signals:
  void finished(int exitStatus);  // the person quit (or closed the connect window)

 private:
  void connectClicked();
  void connectTo(const SessionOptions& options);
  void onEvent(const ClientEvent& event);
  void sessionFinished();
  void quit();

  std::unique_ptr<ChatModel> model_;
  std::unique_ptr<ConnectWindow> connect_;
  std::unique_ptr<MainWindow> main_;
  QPointer<ChatSession> session_;
  bool registered_ = false;   // this session got a Welcome
  bool nickRefused_ = false;  // registering, waiting for another nick
  bool serverFull_ = false;
  bool quitting_ = false;
  int exitStatus_ = 0;
  Millis connectTimeout_ = 5000;
};

}  // namespace udpchat::gui
