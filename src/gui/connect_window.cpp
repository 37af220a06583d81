#include "connect_window.hpp"

#include <QCloseEvent>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QSettings>
#include <QVBoxLayout>

#include "udpchat/limits.hpp"

namespace udpchat::gui {

namespace {
QString q(const std::string& s) {
  return QString::fromStdString(s);
}
}  // namespace

ConnectWindow::ConnectWindow(QWidget* parent)
    : QWidget(parent),
      lan_(kDefaultPort),
      servers_(new QTreeWidget(this)),
      host_(new QLineEdit(this)),
      port_(new QSpinBox(this)),
      nick_(new QLineEdit(this)),
      password_(new QLineEdit(this)),
      transport_(new QComboBox(this)),
      connect_(new QPushButton(tr("&Connect"), this)),
      status_(new QLabel(this)) {
  setWindowTitle(tr("udpchat: connect"));
  servers_->setObjectName(QStringLiteral("servers"));
  host_->setObjectName(QStringLiteral("host"));
  port_->setObjectName(QStringLiteral("port"));
  nick_->setObjectName(QStringLiteral("nick"));
  password_->setObjectName(QStringLiteral("password"));
  password_->setEchoMode(QLineEdit::Password);
  password_->setMaxLength(static_cast<int>(kMaxPasswordBytes));
  password_->setPlaceholderText(tr("only for a registered nickname"));
  transport_->setObjectName(QStringLiteral("transport"));
  connect_->setObjectName(QStringLiteral("connect"));
  status_->setObjectName(QStringLiteral("status"));

  servers_->setHeaderLabels({tr("Server"), tr("Address"), tr("Users"), tr("Full")});
  servers_->setRootIsDecorated(false);
  // The name takes the room left; the other columns are as wide as their contents.
  servers_->header()->setStretchLastSection(false);
  servers_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  for (int column = 1; column < 4; ++column) {
    servers_->header()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
  }
  servers_->setAccessibleName(tr("Servers on the local network"));
  port_->setRange(1, 65535);
  port_->setValue(kDefaultPort);
  transport_->addItem(tr("ENet (UDP)"), QStringLiteral("enet"));
  transport_->addItem(tr("TCP"), QStringLiteral("tcp"));
  nick_->setMaxLength(static_cast<int>(kMaxNickBytes));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  connect_->setDefault(true);

  auto* form = new QFormLayout;
  auto* serverLabel = new QLabel(tr("Servers found on the &local network:"), this);
  serverLabel->setBuddy(servers_);
  form->addRow(tr("&Host:"), host_);
  form->addRow(tr("&Port:"), port_);
  form->addRow(tr("&Nickname:"), nick_);
  form->addRow(tr("Pass&word:"), password_);
  form->addRow(tr("&Transport:"), transport_);

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(status_, 1);
  buttons->addWidget(connect_);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(serverLabel);
  layout->addWidget(servers_, 1);
  layout->addLayout(form);
  layout->addLayout(buttons);

  setTabOrder(servers_, host_);
  setTabOrder(host_, port_);
  setTabOrder(port_, nick_);
  setTabOrder(nick_, password_);
  setTabOrder(password_, transport_);
  setTabOrder(transport_, connect_);

  connect(&lan_, &LanServers::changed, this, &ConnectWindow::serversChanged);
  // Moving through the list with the keys or clicking an entry chooses it; the periodic refill
  // does not, so an address typed by hand is never overwritten.
  connect(servers_, &QTreeWidget::currentItemChanged, this,
          [this](QTreeWidgetItem* item, QTreeWidgetItem*) {
            if (!rebuilding_) serverChosen(item);
          });
  connect(servers_, &QTreeWidget::itemClicked, this,
          [this](QTreeWidgetItem* item, int) { serverChosen(item); });
  connect(servers_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item, int) {
    serverChosen(item);
    connect_->click();
  });
  connect(port_, &QSpinBox::valueChanged, this,
          [this](int port) { lan_.setPort(static_cast<std::uint16_t>(port)); });
  connect(connect_, &QPushButton::clicked, this, [this] {
    if (host_->text().trimmed().isEmpty()) {
      showError(tr("type the server's address, or choose a server from the list"));
      host_->setFocus();
      return;
    }
    emit connectRequested();
  });
  connect(nick_, &QLineEdit::returnPressed, connect_, &QPushButton::click);
  connect(password_, &QLineEdit::returnPressed, connect_, &QPushButton::click);
  connect(host_, &QLineEdit::returnPressed, connect_, &QPushButton::click);
  resize(sizeHint().expandedTo(
      QSize(fontMetrics().horizontalAdvance(u'M') * 40, fontMetrics().height() * 22)));
}

void ConnectWindow::closeEvent(QCloseEvent* event) {
  emit closed();
  event->accept();
}

void ConnectWindow::showEvent(QShowEvent* event) {
  lan_.start();
  QWidget::showEvent(event);
}

void ConnectWindow::hideEvent(QHideEvent* event) {
  lan_.stop();
  QWidget::hideEvent(event);
}

void ConnectWindow::serversChanged() {
  QTreeWidgetItem* current = servers_->currentItem();
  const QString selected = current == nullptr ? QString() : current->text(1);
  rebuilding_ = true;
  servers_->clear();
  for (const client::FoundServer& f : lan_.servers()) {
    const QString address = q(f.host()) + u':' + QString::number(f.answer.port);
    auto* item =
        new QTreeWidgetItem(servers_, {q(f.answer.name), address, QString::number(f.answer.users),
                                       f.answer.full ? tr("full") : QString()});
    item->setData(0, Qt::UserRole, q(f.host()));
    item->setData(1, Qt::UserRole, f.answer.port);
    if (f.answer.protocolVersion != kProtocolVersion) {
      item->setToolTip(0, tr("speaks protocol %1; this client speaks %2")
                              .arg(f.answer.protocolVersion)
                              .arg(kProtocolVersion));
      item->setDisabled(true);
    }
    if (address == selected) servers_->setCurrentItem(item);
  }
  rebuilding_ = false;
}

void ConnectWindow::serverChosen(QTreeWidgetItem* item) {
  if (item == nullptr) return;
  host_->setText(item->data(0, Qt::UserRole).toString());
  port_->setValue(item->data(1, Qt::UserRole).toInt());
}

SessionOptions ConnectWindow::options() const {
  SessionOptions o;
  o.host = host_->text().trimmed().toStdString();
  o.port = static_cast<std::uint16_t>(port_->value());
  o.nick = nick_->text().trimmed().toStdString();
  o.password = password_->text().toStdString();
  o.transport = transport_->currentData().toString().toStdString();
  return o;
}

void ConnectWindow::setOptions(const SessionOptions& o) {
  host_->setText(q(o.host));
  if (o.port != 0) port_->setValue(o.port);
  nick_->setText(q(o.nick));
  const int t = transport_->findData(q(o.transport));
  if (t >= 0) transport_->setCurrentIndex(t);
}

void ConnectWindow::loadSettings() {
  QSettings s;
  SessionOptions o;
  o.host =
      s.value(QStringLiteral("connect/host"), QStringLiteral("127.0.0.1")).toString().toStdString();
  o.port =
      static_cast<std::uint16_t>(s.value(QStringLiteral("connect/port"), kDefaultPort).toInt());
  o.nick = s.value(QStringLiteral("connect/nick")).toString().toStdString();
  o.transport =
      s.value(QStringLiteral("connect/transport"), QStringLiteral("enet")).toString().toStdString();
  setOptions(o);
}

void ConnectWindow::saveSettings() const {
  QSettings s;
  const SessionOptions o = options();
  s.setValue(QStringLiteral("connect/host"), q(o.host));
  s.setValue(QStringLiteral("connect/port"), o.port);
  s.setValue(QStringLiteral("connect/nick"), q(o.nick));
  s.setValue(QStringLiteral("connect/transport"), q(o.transport));
}

void ConnectWindow::setBusy(const QString& status) {
  status_->setText(status);
  connect_->setEnabled(false);
  host_->setEnabled(false);
  port_->setEnabled(false);
  transport_->setEnabled(false);
  servers_->setEnabled(false);
}

void ConnectWindow::showError(const QString& message) {
  status_->setText(message);
  connect_->setEnabled(true);
  host_->setEnabled(true);
  port_->setEnabled(true);
  transport_->setEnabled(true);
  servers_->setEnabled(true);
}

void ConnectWindow::askForOtherNick(const QString& message) {
  // The connection stays open; only the nick can change for the second try.
  status_->setText(message);
  connect_->setEnabled(true);
  nick_->setEnabled(true);
  nick_->setFocus();
  nick_->selectAll();
}

}  // namespace udpchat::gui
