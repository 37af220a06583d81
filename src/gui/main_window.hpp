// The chat window: conversations (rooms and private ones, with unread counts) on the left, the
// current one's topic, lines and typing notice in the middle, its users with presence and
// round-trip time on the right, and the compose area (Recipient, Subject, Message; Send, Clear)
// below. A bar across the top tells about a lost connection and counts down to the next attempt.
//
// The window draws ChatModel and turns the person's actions into lines for the session's
// ClientCore (ChatModel::compose and friends); it keeps no chat state of its own.
#pragma once

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMainWindow>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QTextBrowser>
#include <QTimer>
#include <string>
#include <vector>

#include "chat_model.hpp"
#include "chat_session.hpp"

namespace udpchat::gui {

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(ChatModel& model, QWidget* parent = nullptr);

  // The session actions go to; nullptr while there is none.
  void setSession(ChatSession* session);
  void focusMessage();
  // Index into the model's lines of the current conversation at `pos` (view coordinates), or -1.
  int lineAt(const QPoint& pos) const;

  // The view's HTML for conversation `index` (what the message view shows).
  QString renderLines(int index) const;
  // What the message view shows now, as plain text.
  QString viewText() const;

 signals:
  void quitRequested();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildMenus();
  void send(bool asAction = false);
  void askWho();
  void run(const std::vector<std::string>& lines);
  void runOne(const std::string& line) { run({line}); }
  void refreshConversations();
  void refreshView();
  void appendLine();
  struct Colours {
    bool dark = false;
    QString dim, error, mark;
  };
  Colours colours() const;
  QString lineHtml(const ChatLine& line, const Colours& colours) const;
  void refreshUsers();
  void refreshTopic();
  void refreshTyping();
  void refreshConnection();
  void refreshRecipients();
  void refreshTitle();
  void showConversation(int index);
  void userMenu(const QPoint& pos);
  void viewMenu(const QPoint& pos);
  void conversationMenu(const QPoint& pos);
  void joinRoom();
  void leaveCurrent();
  void privateMessage(const QString& nick);
  void askPrivateMessage();
  void changeNick();
  void setTopic();
  void becomeOperator();
  void kick(const QString& nick);
  void showShortcuts();
  QString selectedUser() const;

  ChatModel& model_;
  QPointer<ChatSession> session_;
  QLabel* bar_;
  QListWidget* conversations_;
  QLabel* topic_;
  QTextBrowser* view_;
  QLabel* typing_;
  QListWidget* users_;
  QComboBox* recipient_;
  QLineEdit* subject_;
  QPlainTextEdit* message_;
  QPushButton* send_;
  QPushButton* clear_;
  QAction* away_ = nullptr;
  QTimer barTimer_;
  QTimer whoTimer_;
  bool updatingList_ = false;
  bool wasRegistered_ = false;
  std::size_t renderedLines_ = 0;  // lines of the current conversation in the view
};

}  // namespace udpchat::gui
