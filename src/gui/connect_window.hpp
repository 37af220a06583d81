// The first window: the servers found on the LAN (refreshed every few seconds), or an address
// typed by hand; the nick; the transport. What was typed is remembered (QSettings) for next
// time. The window only collects the choice and shows what became of it; GuiApp connects.
#pragma once

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTreeWidget>
#include <QWidget>

#include "chat_session.hpp"
#include "lan_servers.hpp"

namespace udpchat::gui {

class ConnectWindow : public QWidget {
  Q_OBJECT

 public:
  explicit ConnectWindow(QWidget* parent = nullptr);

  SessionOptions options() const;
  void setOptions(const SessionOptions& options);
  void loadSettings();
  void saveSettings() const;

  // While connecting the button waits; an error re-enables it and says what went wrong.
  void setBusy(const QString& status);
  void showError(const QString& message);
  // The nick was refused while the connection stays open: the person types another one.
  void askForOtherNick(const QString& message);

  LanServers& lanServers() { return lan_; }

 signals:
  void connectRequested();
  void closed();  // the person closed the window

 protected:
  void closeEvent(QCloseEvent* event) override;
  void showEvent(QShowEvent* event) override;  // the server list is refreshed while shown
  void hideEvent(QHideEvent* event) override;

 private:
  void serversChanged();
  void serverChosen(QTreeWidgetItem* item);

  LanServers lan_;
  QTreeWidget* servers_;
  QLineEdit* host_;
  QSpinBox* port_;
  QLineEdit* nick_;
  QLineEdit* password_;  // a registered nick's; never saved
  QComboBox* transport_;
  QPushButton* connect_;
  QLabel* status_;
  bool rebuilding_ = false;  // the list is being refilled: selection changes are not choices
};

}  // namespace udpchat::gui
