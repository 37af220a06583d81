#include "main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCompleter>
#include <QDateTime>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QKeyEvent>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QScrollBar>
#include <QShortcut>
#include <QSplitter>
#include <QStatusBar>
#include <QTextBlock>
#include <QVBoxLayout>
#include <algorithm>

#include "udpchat/client_core.hpp"
#include "udpchat/time.hpp"

namespace udpchat::gui {

namespace {

std::string u(const QString& s) {
  return s.toUtf8().toStdString();
}

QString html(const QString& text) {
  QString out = text.toHtmlEscaped();
  out.replace(u'\n', QStringLiteral("<br>"));
  return out;
}

QString nickColour(const QString& nick, bool darkBackground) {
  return QColor::fromHsl(nickHue(nick), 200, darkBackground ? 170 : 85).name();
}

QString presenceText(const Member& m) {
  switch (m.state) {
    case protocol::PresenceState::Away:
      return MainWindow::tr("away");
    case protocol::PresenceState::Lagging:
      return MainWindow::tr("lagging");
    case protocol::PresenceState::Active:
      break;
  }
  return MainWindow::tr("active");
}

}  // namespace

MainWindow::MainWindow(ChatModel& model, QWidget* parent)
    : QMainWindow(parent),
      model_(model),
      bar_(new QLabel(this)),
      conversations_(new QListWidget(this)),
      topic_(new QLabel(this)),
      view_(new QTextBrowser(this)),
      typing_(new QLabel(this)),
      users_(new QListWidget(this)),
      recipient_(new QComboBox(this)),
      subject_(new QLineEdit(this)),
      message_(new QPlainTextEdit(this)),
      send_(new QPushButton(tr("&Send"), this)),
      clear_(new QPushButton(tr("C&lear"), this)) {
  bar_->setObjectName(QStringLiteral("connectionBar"));
  conversations_->setObjectName(QStringLiteral("conversations"));
  topic_->setObjectName(QStringLiteral("topic"));
  view_->setObjectName(QStringLiteral("view"));
  typing_->setObjectName(QStringLiteral("typing"));
  users_->setObjectName(QStringLiteral("users"));
  recipient_->setObjectName(QStringLiteral("recipient"));
  subject_->setObjectName(QStringLiteral("subject"));
  message_->setObjectName(QStringLiteral("message"));
  send_->setObjectName(QStringLiteral("send"));
  clear_->setObjectName(QStringLiteral("clear"));

  // The bar: the palette's tooltip colours stand out from the window in every theme.
  bar_->setAutoFillBackground(true);
  bar_->setBackgroundRole(QPalette::ToolTipBase);
  bar_->setForegroundRole(QPalette::ToolTipText);
  bar_->setMargin(fontMetrics().height() / 3);
  bar_->setWordWrap(true);
  bar_->hide();

  topic_->setWordWrap(true);
  topic_->setTextFormat(Qt::PlainText);
  topic_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  view_->setOpenLinks(false);
  view_->setContextMenuPolicy(Qt::CustomContextMenu);
  view_->setAccessibleName(tr("Messages"));
  typing_->setTextFormat(Qt::PlainText);
  QFont italic = typing_->font();
  italic.setItalic(true);
  typing_->setFont(italic);
  users_->setContextMenuPolicy(Qt::CustomContextMenu);
  users_->setAccessibleName(tr("Users in this room"));
  conversations_->setContextMenuPolicy(Qt::CustomContextMenu);
  conversations_->setAccessibleName(tr("Conversations"));

  recipient_->setEditable(true);
  recipient_->setInsertPolicy(QComboBox::NoInsert);
  recipient_->completer()->setCaseSensitivity(Qt::CaseInsensitive);
  recipient_->completer()->setCompletionMode(QCompleter::PopupCompletion);
  recipient_->setToolTip(tr("A room (#name) or a nickname; empty: the conversation shown"));
  subject_->setPlaceholderText(tr("optional"));
  message_->setTabChangesFocus(true);
  message_->setPlaceholderText(tr("Enter sends, Shift+Enter starts a new line"));
  message_->setFixedHeight(message_->fontMetrics().lineSpacing() * 4 + 2 * message_->frameWidth() +
                           8);
  message_->installEventFilter(this);
  send_->setToolTip(tr("Send (Enter)"));
  clear_->setToolTip(tr("Empty the conversation shown (Ctrl+L)"));

  // Layout.
  auto* middle = new QWidget(this);
  auto* middleLayout = new QVBoxLayout(middle);
  middleLayout->setContentsMargins(0, 0, 0, 0);
  middleLayout->addWidget(topic_);
  middleLayout->addWidget(view_, 1);
  middleLayout->addWidget(typing_);

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(conversations_);
  split->addWidget(middle);
  split->addWidget(users_);
  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 1);
  split->setStretchFactor(2, 0);
  const int em = fontMetrics().horizontalAdvance(u'M');
  split->setSizes({em * 9, em * 38, em * 15});
  users_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  users_->setTextElideMode(Qt::ElideRight);
  conversations_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  conversations_->setTextElideMode(Qt::ElideRight);

  auto* compose = new QFormLayout;
  auto* recipientLabel = new QLabel(tr("&Recipient:"), this);
  recipientLabel->setBuddy(recipient_);
  auto* subjectLabel = new QLabel(tr("S&ubject:"), this);
  subjectLabel->setBuddy(subject_);
  auto* messageLabel = new QLabel(tr("&Message:"), this);
  messageLabel->setBuddy(message_);
  compose->addRow(recipientLabel, recipient_);
  compose->addRow(subjectLabel, subject_);
  compose->addRow(messageLabel, message_);
  auto* buttons = new QVBoxLayout;
  buttons->addWidget(send_);
  buttons->addWidget(clear_);
  buttons->addStretch(1);
  auto* bottom = new QHBoxLayout;
  bottom->addLayout(compose, 1);
  bottom->addLayout(buttons);

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->addWidget(bar_);
  layout->addWidget(split, 1);
  layout->addLayout(bottom);
  setCentralWidget(central);

  setTabOrder(message_, send_);
  setTabOrder(send_, clear_);
  setTabOrder(clear_, recipient_);
  setTabOrder(recipient_, subject_);
  setTabOrder(subject_, conversations_);
  setTabOrder(conversations_, view_);
  setTabOrder(view_, users_);
  setTabOrder(users_, message_);

  buildMenus();

  connect(send_, &QPushButton::clicked, this, &MainWindow::send);
  connect(clear_, &QPushButton::clicked, this, [this] { model_.clearLines(model_.current()); });
  connect(conversations_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (!updatingList_ && row >= 0) model_.setCurrent(row);
  });
  connect(users_, &QListWidget::itemActivated, this,
          [this](QListWidgetItem* item) { privateMessage(item->data(Qt::UserRole).toString()); });
  connect(users_, &QListWidget::customContextMenuRequested, this, &MainWindow::userMenu);
  connect(view_, &QTextBrowser::customContextMenuRequested, this, &MainWindow::viewMenu);
  connect(conversations_, &QListWidget::customContextMenuRequested, this,
          &MainWindow::conversationMenu);
  connect(message_, &QPlainTextEdit::textChanged, this, [this] {
    const QString text = message_->toPlainText();
    if (!session_ || text.isEmpty() || text.startsWith(u'/')) return;
    auto [target, isPrivate] = model_.typingTarget(recipient_->currentText());
    if (target.empty()) return;
    // Only where we are: a room being typed into the recipient field is not joined yet.
    const auto& rooms = session_->rooms();
    if (!isPrivate && std::find(rooms.begin(), rooms.end(), target) == rooms.end()) return;
    session_->typing(target, isPrivate);
  });

  connect(&model_, &ChatModel::conversationsChanged, this, [this] {
    refreshConversations();
    refreshRecipients();
  });
  connect(&model_, &ChatModel::currentChanged, this, &MainWindow::showConversation);
  connect(&model_, &ChatModel::linesChanged, this, [this](int i) {
    if (i == model_.current()) refreshView();
  });
  connect(&model_, &ChatModel::lineAppended, this, [this](int i) {
    if (i == model_.current()) appendLine();
  });
  connect(&model_, &ChatModel::membersChanged, this, [this](int i) {
    if (i == model_.current()) refreshUsers();
    refreshRecipients();
  });
  connect(&model_, &ChatModel::topicChanged, this, [this](int i) {
    if (i == model_.current()) refreshTopic();
  });
  connect(&model_, &ChatModel::typingChanged, this, [this](int i) {
    if (i == model_.current()) refreshTyping();
  });
  connect(&model_, &ChatModel::connectionChanged, this, [this] {
    // The first round-trip times are measured within a few pings of registering.
    const bool registered = model_.connection().registered;
    if (registered && !wasRegistered_) QTimer::singleShot(3000, this, &MainWindow::askWho);
    wasRegistered_ = registered;
    refreshConnection();
    refreshTitle();
    if (away_ != nullptr) away_->setChecked(model_.away());
  });

  barTimer_.setInterval(250);
  connect(&barTimer_, &QTimer::timeout, this, &MainWindow::refreshConnection);
  // Round-trip times and presence in the user list come from /who answers; ask again now and
  // then for the room shown (the answer only updates the list).
  whoTimer_.setInterval(15000);
  connect(&whoTimer_, &QTimer::timeout, this, &MainWindow::askWho);
  whoTimer_.start();

  const int lineHeight = fontMetrics().height();
  resize(em * 70, lineHeight * 32);
  refreshConversations();
  showConversation(model_.current());
  refreshTitle();
}

void MainWindow::buildMenus() {
  QMenu* chat = menuBar()->addMenu(tr("&Chat"));
  chat->addAction(tr("&Join a room..."), QKeySequence(tr("Ctrl+J")), this, &MainWindow::joinRoom);
  chat->addAction(tr("&Leave room / close conversation"), QKeySequence(tr("Ctrl+W")), this,
                  &MainWindow::leaveCurrent);
  chat->addAction(tr("&Private message..."), QKeySequence(tr("Ctrl+P")), this,
                  &MainWindow::askPrivateMessage);
  // Ctrl+Enter in the message box (the event filter); the menu entry is for the mouse.
  chat->addAction(tr("Send as an &action (/me)") + QStringLiteral("\t") +
                      QKeySequence(Qt::CTRL | Qt::Key_Return).toString(QKeySequence::NativeText),
                  this, [this] { send(true); });
  chat->addSeparator();
  chat->addAction(tr("Change &nickname..."), QKeySequence(tr("Ctrl+Shift+N")), this,
                  &MainWindow::changeNick);
  away_ = chat->addAction(tr("&Away"));
  away_->setCheckable(true);
  away_->setShortcut(QKeySequence(tr("Ctrl+Shift+A")));
  connect(away_, &QAction::triggered, this,
          [this](bool on) { runOne(on ? std::string("/away") : std::string("/back")); });
  chat->addAction(tr("Set the &topic..."), QKeySequence(tr("Ctrl+Shift+T")), this,
                  &MainWindow::setTopic);
  chat->addAction(tr("Become an &operator..."), this, &MainWindow::becomeOperator);
  chat->addSeparator();
  chat->addAction(tr("&Quit"), QKeySequence::Quit, this, &MainWindow::close);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(tr("&Next conversation"), QKeySequence(Qt::CTRL | Qt::Key_PageDown), this,
                  [this] { model_.setCurrent((model_.current() + 1) % model_.count()); });
  view->addAction(
      tr("&Previous conversation"), QKeySequence(Qt::CTRL | Qt::Key_PageUp), this,
      [this] { model_.setCurrent((model_.current() + model_.count() - 1) % model_.count()); });
  view->addAction(tr("&Clear this conversation"), QKeySequence(tr("Ctrl+L")), this,
                  [this] { model_.clearLines(model_.current()); });
  view->addAction(tr("Go to the &message box"), QKeySequence(tr("F6")), this,
                  &MainWindow::focusMessage);
  for (int i = 1; i <= 9; ++i) {
    auto* shortcut =
        new QShortcut(QKeySequence(Qt::ALT | static_cast<Qt::Key>(Qt::Key_0 + i)), this);
    connect(shortcut, &QShortcut::activated, this, [this, i] {
      if (i - 1 < model_.count()) model_.setCurrent(i - 1);
    });
  }

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Keyboard shortcuts"), QKeySequence::HelpContents, this,
                  &MainWindow::showShortcuts);
}

void MainWindow::askWho() {
  const Conversation& c = model_.at(model_.current());
  if (session_ && c.kind == ConversationKind::Room &&
      session_->state() == ConnectionState::Registered) {
    session_->input("/who #" + u(c.name));
  }
}

void MainWindow::setSession(ChatSession* session) {
  session_ = session;
  refreshConnection();
  refreshTitle();
}

void MainWindow::focusMessage() {
  activateWindow();
  message_->setFocus(Qt::OtherFocusReason);
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
  if (watched == message_ && event->type() == QEvent::KeyPress) {
    auto* key = static_cast<QKeyEvent*>(event);
    if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) &&
        !(key->modifiers() & Qt::ShiftModifier)) {
      send((key->modifiers() & Qt::ControlModifier) != 0);  // Ctrl+Enter: as an action (/me)
      return true;
    }
  }
  return QMainWindow::eventFilter(watched, event);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  emit quitRequested();
  event->accept();
}

void MainWindow::run(const std::vector<std::string>& lines) {
  if (!session_) return;
  for (const std::string& line : lines) session_->input(line);
}

void MainWindow::send(bool asAction) {
  if (!session_) return;
  const QString recipient = recipient_->currentText().trimmed();
  QString message = message_->toPlainText();
  if (asAction && !message.trimmed().isEmpty()) message.prepend(QStringLiteral("/me "));
  const auto lines = model_.compose(recipient, subject_->text(), message, *session_);
  if (lines.empty()) return;
  run(lines);
  message_->clear();
  subject_->clear();
  // A message to someone new opens the private conversation it goes to.
  if (!recipient.isEmpty() && !recipient.startsWith(u'#') && !message.startsWith(u'/')) {
    model_.openPrivate(recipient);
  }
}

void MainWindow::showConversation(int index) {
  updatingList_ = true;
  conversations_->setCurrentRow(index);
  updatingList_ = false;
  recipient_->setEditText(model_.recipientFor(index));
  refreshView();
  refreshUsers();
  refreshTopic();
  refreshTyping();
}

void MainWindow::refreshConversations() {
  updatingList_ = true;
  conversations_->clear();
  for (int i = 0; i < model_.count(); ++i) {
    const Conversation& c = model_.at(i);
    QString name;
    switch (c.kind) {
      case ConversationKind::Server:
        name = model_.serverName().isEmpty() ? tr("Server") : model_.serverName();
        break;
      case ConversationKind::Room:
        name = QStringLiteral("#") + c.name;
        break;
      case ConversationKind::Private:
        name = c.name;
        break;
    }
    if (i < 9) name = QStringLiteral("%1  %2").arg(i + 1).arg(name);
    if (c.unread > 0) name += QStringLiteral(" (%1)").arg(c.unread);
    auto* item = new QListWidgetItem(name, conversations_);
    if (c.unread > 0) {
      QFont f = item->font();
      f.setBold(true);
      item->setFont(f);
    }
    if (c.mentioned) item->setForeground(palette().color(QPalette::Highlight));
    item->setToolTip(tr("%n unread", nullptr, c.unread));
  }
  conversations_->setCurrentRow(model_.current());
  updatingList_ = false;
}

MainWindow::Colours MainWindow::colours() const {
  Colours c;
  c.dark = palette().color(QPalette::Base).lightness() < 128;
  // Halfway between the text and the background: legible, and clearly secondary in any theme.
  const QColor text = palette().color(QPalette::Text);
  const QColor base = palette().color(QPalette::Base);
  c.dim = QColor((text.red() + base.red()) / 2, (text.green() + base.green()) / 2,
                 (text.blue() + base.blue()) / 2)
              .name();
  c.error = c.dark ? QStringLiteral("#ff7070") : QStringLiteral("#b00000");
  c.mark = c.dark ? QStringLiteral("#5a4a00") : QStringLiteral("#fff0a0");
  return c;
}

// One line's contents, without its paragraph: the paragraph (margins, the mention's background)
// is the text block's format.
QString MainWindow::lineHtml(const ChatLine& l, const Colours& k) const {
  const QString time = l.ts == 0
                           ? QString()
                           : QDateTime::fromMSecsSinceEpoch(l.ts).toString(QStringLiteral("HH:mm"));
  QString body;
  switch (l.kind) {
    case ChatLine::Kind::Message:
    case ChatLine::Kind::Action: {
      const QString nick = QStringLiteral("<span style=\"color:%1;font-weight:bold\">%2</span>")
                               .arg(nickColour(l.nick, k.dark), l.nick.toHtmlEscaped());
      // A subject reads like an e-mail's: a header line of its own, the text below.
      if (!l.subject.isEmpty() && !l.deleted) {
        body += QStringLiteral("%1 <span style=\"color:%2\">&mdash;</span> <b>%3 %4</b><br>")
                    .arg(nick, k.dim, tr("Subject:").toHtmlEscaped(), l.subject.toHtmlEscaped());
        body += html(l.text);
      } else if (l.deleted) {
        body += QStringLiteral("%1 <i>%2</i>").arg(nick, html(l.text));
      } else if (l.kind == ChatLine::Kind::Action) {
        body += QStringLiteral("<i>* %1 %2</i>").arg(nick, html(l.text));
      } else {
        body += QStringLiteral("%1: %2").arg(nick, html(l.text));
      }
      break;
    }
    case ChatLine::Kind::Event:
      body = QStringLiteral("<span style=\"color:%1\">-- %2</span>").arg(k.dim, html(l.text));
      break;
    case ChatLine::Kind::Error:
      body = QStringLiteral("<span style=\"color:%1\">! %2</span>").arg(k.error, html(l.text));
      break;
  }
  if (l.pending) {
    body = QStringLiteral("<span style=\"color:%1\">%2 <i>(%3)</i></span>")
               .arg(k.dim, body, tr("sending").toHtmlEscaped());
  }
  if (!l.failure.isEmpty()) {
    body += QStringLiteral(" <span style=\"color:%1\">(%2)</span>")
                .arg(k.error, l.failure.toHtmlEscaped());
  }
  QString prefix = QStringLiteral("<span style=\"color:%1\">%2</span> ").arg(k.dim, time);
  if (l.history) {
    prefix += QStringLiteral("<span style=\"color:%1\">[%2]</span> ")
                  .arg(k.dim, tr("history").toHtmlEscaped());
    body = QStringLiteral("<span style=\"color:%1\">%2</span>").arg(k.dim, body);
  }
  return prefix + body;
}

QString MainWindow::renderLines(int index) const {
  const Colours k = colours();
  QString out;
  for (const ChatLine& l : model_.at(index).lines) {
    QString style = QStringLiteral("margin-top:0;margin-bottom:3px");
    if (l.mention) style += QStringLiteral(";background-color:") + k.mark;
    out += QStringLiteral("<p style=\"%1\">%2</p>").arg(style, lineHtml(l, k));
  }
  return out;
}

QString MainWindow::viewText() const {
  return view_->toPlainText();
}

void MainWindow::refreshView() {
  QScrollBar* bar = view_->verticalScrollBar();
  const bool atBottom = bar->value() >= bar->maximum() - 4;
  const int keep = bar->value();
  view_->setHtml(renderLines(model_.current()));
  renderedLines_ = model_.at(model_.current()).lines.size();
  bar->setValue(atBottom ? bar->maximum() : keep);
}

// A new line at the end is one more block, not a new document: a busy room costs the same per
// line however long its scrollback is.
void MainWindow::appendLine() {
  const auto& lines = model_.at(model_.current()).lines;
  if (renderedLines_ == 0 || renderedLines_ + 1 != lines.size()) {
    refreshView();
    return;
  }
  QScrollBar* bar = view_->verticalScrollBar();
  const bool atBottom = bar->value() >= bar->maximum() - 4;
  const Colours k = colours();
  const ChatLine& l = lines.back();
  QTextBlockFormat block;
  block.setTopMargin(0);
  block.setBottomMargin(3);
  if (l.mention) block.setBackground(QColor(k.mark));
  QTextCursor cursor(view_->document());
  cursor.movePosition(QTextCursor::End);
  cursor.insertBlock(block, QTextCharFormat());
  cursor.insertHtml(lineHtml(l, k));
  ++renderedLines_;
  if (atBottom) bar->setValue(bar->maximum());
}

int MainWindow::lineAt(const QPoint& pos) const {
  const QTextCursor cursor = view_->cursorForPosition(pos);
  const int block = cursor.block().blockNumber();
  const int lines = static_cast<int>(model_.at(model_.current()).lines.size());
  return block < lines ? block : -1;
}

void MainWindow::refreshUsers() {
  users_->clear();
  const Conversation& c = model_.at(model_.current());
  users_->setVisible(c.kind == ConversationKind::Room);
  const bool dark = palette().color(QPalette::Base).lightness() < 128;
  for (const Member& m : c.members) {
    QString text = (m.isOperator ? QStringLiteral("@") : QString()) + m.nick;
    QStringList notes;
    if (m.state != protocol::PresenceState::Active) notes << presenceText(m);
    if (m.typing) notes << tr("typing");
    if (m.rttMs != 0) notes << tr("%1 ms").arg(m.rttMs);
    if (!notes.isEmpty()) text += QStringLiteral("  ") + notes.join(QStringLiteral(", "));
    auto* item = new QListWidgetItem(text, users_);
    item->setData(Qt::UserRole, m.nick);
    item->setForeground(QColor(nickColour(m.nick, dark)));
    if (m.state == protocol::PresenceState::Away) {
      QFont f = item->font();
      f.setItalic(true);
      item->setFont(f);
    }
    item->setToolTip(tr("%1: %2, round trip %3")
                         .arg(m.nick, presenceText(m),
                              m.rttMs == 0 ? tr("not measured") : tr("%1 ms").arg(m.rttMs)));
  }
}

void MainWindow::refreshTopic() {
  const Conversation& c = model_.at(model_.current());
  QString text;
  if (c.kind == ConversationKind::Room) {
    text = c.topic.isEmpty() ? tr("#%1: no topic").arg(c.name) : tr("#%1: %2").arg(c.name, c.topic);
  } else if (c.kind == ConversationKind::Private) {
    text = tr("Private conversation with %1").arg(c.name);
  } else {
    text = tr("Messages from the server");
  }
  topic_->setText(text);
}

void MainWindow::refreshTyping() {
  const QString text = model_.typingText(model_.current());
  typing_->setText(text.isEmpty() ? QStringLiteral(" ") : text);
}

void MainWindow::refreshRecipients() {
  const QString keep = recipient_->currentText();
  recipient_->blockSignals(true);
  recipient_->clear();
  for (int i = 0; i < model_.count(); ++i) {
    if (model_.at(i).kind == ConversationKind::Room) recipient_->addItem(model_.recipientFor(i));
  }
  if (session_) {
    for (const QString& nick : model_.knownNicks(*session_)) recipient_->addItem(nick);
  }
  recipient_->setEditText(keep);
  recipient_->blockSignals(false);
}

void MainWindow::refreshConnection() {
  const ConnectionView& c = model_.connection();
  QString text;
  if (c.lost) {
    const Millis now = readClocks().mono;
    const Millis left = c.retryAtMono - now;
    if (left > 0) {
      const int seconds = static_cast<int>((left + 999) / 1000);
      text = tr("Connection lost (%1). Reconnecting in %n s... (attempt %2)", nullptr, seconds)
                 .arg(c.reason)
                 .arg(c.attempt);
    } else {
      text = tr("Connection lost (%1). Reconnecting... (attempt %2)").arg(c.reason).arg(c.attempt);
    }
    text += QStringLiteral(" ") + tr("What you type is kept and sent once the connection is back.");
  } else if (c.finished) {
    text = c.finishedReason.isEmpty() ? tr("Disconnected.")
                                      : tr("Disconnected: %1").arg(c.finishedReason);
  } else if (!c.registered && session_) {
    text = tr("Connecting to %1:%2...")
               .arg(QString::fromStdString(session_->options().host))
               .arg(session_->options().port);
  }
  bar_->setText(text);
  bar_->setVisible(!text.isEmpty());
  if (c.lost && !barTimer_.isActive()) barTimer_.start();
  if (!c.lost && barTimer_.isActive()) barTimer_.stop();
}

void MainWindow::refreshTitle() {
  QString title = QStringLiteral("udpchat");
  if (session_ && !session_->nick().empty()) {
    title =
        tr("%1 on %2 - udpchat")
            .arg(QString::fromStdString(session_->nick()),
                 model_.serverName().isEmpty() ? QString::fromStdString(session_->options().host)
                                               : model_.serverName());
  }
  setWindowTitle(title);
}

QString MainWindow::selectedUser() const {
  QListWidgetItem* item = users_->currentItem();
  return item == nullptr ? QString() : item->data(Qt::UserRole).toString();
}

void MainWindow::userMenu(const QPoint& pos) {
  QListWidgetItem* item = users_->itemAt(pos);
  if (item == nullptr) return;
  const QString nick = item->data(Qt::UserRole).toString();
  QMenu menu(this);
  menu.addAction(tr("&Private message"), this, [this, nick] { privateMessage(nick); });
  menu.addAction(tr("&Who is this?"), this, [this, nick] { runOne("/whois " + u(nick)); });
  if (model_.isOperator()) {
    menu.addSeparator();
    menu.addAction(tr("&Kick..."), this, [this, nick] { kick(nick); });
  }
  menu.exec(users_->viewport()->mapToGlobal(pos));
}

void MainWindow::viewMenu(const QPoint& pos) {
  std::unique_ptr<QMenu> menu(view_->createStandardContextMenu(pos));
  const int index = model_.current();
  const int line = lineAt(pos);
  if (model_.canDelete(index, line)) {
    menu->addSeparator();
    menu->addAction(tr("&Delete this message"), this, [this, index, line] {
      if (session_) run(model_.deleteLine(index, line, *session_));
    });
  }
  menu->exec(view_->viewport()->mapToGlobal(pos));
}

void MainWindow::conversationMenu(const QPoint& pos) {
  QListWidgetItem* item = conversations_->itemAt(pos);
  if (item == nullptr) return;
  model_.setCurrent(conversations_->row(item));
  QMenu menu(this);
  menu.addAction(tr("&Leave room / close conversation"), this, &MainWindow::leaveCurrent);
  menu.exec(conversations_->viewport()->mapToGlobal(pos));
}

void MainWindow::joinRoom() {
  bool ok = false;
  const QString room = QInputDialog::getText(this, tr("Join a room"), tr("Room:"),
                                             QLineEdit::Normal, QStringLiteral("#"), &ok);
  if (!ok || room.trimmed().isEmpty() || room.trimmed() == QStringLiteral("#")) return;
  QString name = room.trimmed();
  if (!name.startsWith(u'#')) name.prepend(u'#');
  if (session_)
    run(model_.compose(QString(), QString(), QStringLiteral("/join ") + name, *session_));
}

void MainWindow::leaveCurrent() {
  const int index = model_.current();
  const Conversation& c = model_.at(index);
  if (c.kind == ConversationKind::Room) {
    runOne("/part #" + u(c.name));
  } else {
    model_.close(index);
  }
}

void MainWindow::privateMessage(const QString& nick) {
  if (nick.isEmpty()) return;
  model_.openPrivate(nick);
  focusMessage();
}

void MainWindow::askPrivateMessage() {
  bool ok = false;
  const QString nick =
      QInputDialog::getItem(this, tr("Private message"), tr("Nickname:"),
                            session_ ? model_.knownNicks(*session_) : QStringList(), 0, true, &ok);
  if (ok) privateMessage(nick.trimmed());
}

void MainWindow::changeNick() {
  bool ok = false;
  const QString nick =
      QInputDialog::getText(this, tr("Change nickname"), tr("New nickname:"), QLineEdit::Normal,
                            session_ ? QString::fromStdString(session_->nick()) : QString(), &ok);
  if (ok && !nick.trimmed().isEmpty()) runOne("/nick " + u(nick.trimmed()));
}

void MainWindow::setTopic() {
  const Conversation& c = model_.at(model_.current());
  if (c.kind != ConversationKind::Room) return;
  bool ok = false;
  const QString topic = QInputDialog::getText(
      this, tr("Set the topic"), tr("Topic of #%1:").arg(c.name), QLineEdit::Normal, c.topic, &ok);
  if (ok && !topic.trimmed().isEmpty() && session_) {
    run(model_.compose(QString(), QString(), QStringLiteral("/topic ") + topic.trimmed(),
                       *session_));
  }
}

void MainWindow::becomeOperator() {
  bool ok = false;
  const QString password =
      QInputDialog::getText(this, tr("Become an operator"), tr("Operator password:"),
                            QLineEdit::Password, QString(), &ok);
  if (ok && !password.isEmpty()) runOne("/oper " + u(password));
}

void MainWindow::kick(const QString& nick) {
  bool ok = false;
  const QString reason = QInputDialog::getText(
      this, tr("Kick %1").arg(nick), tr("Reason (optional):"), QLineEdit::Normal, QString(), &ok);
  if (ok)
    runOne("/kick " + u(nick) + (reason.trimmed().isEmpty() ? "" : " " + u(reason.trimmed())));
}

void MainWindow::showShortcuts() {
  QMessageBox::information(
      this, tr("Keyboard shortcuts"),
      tr("Enter: send the message\n"
         "Shift+Enter: new line in the message\n"
         "Ctrl+Enter: send the message as an action (/me)\n"
         "Tab, Shift+Tab: move between the fields\n"
         "Alt+1 ... Alt+9: show conversation 1 to 9\n"
         "Ctrl+PgDown, Ctrl+PgUp: next, previous conversation\n"
         "F6: go to the message box\n"
         "Ctrl+J: join a room\n"
         "Ctrl+W: leave the room, or close the private conversation\n"
         "Ctrl+P: private message\n"
         "Ctrl+Shift+N: change nickname\n"
         "Ctrl+Shift+A: away / back\n"
         "Ctrl+Shift+T: set the topic\n"
         "Ctrl+L: clear the conversation shown\n"
         "Ctrl+Q: quit\n"
         "Alt + the underlined letter: the field or button it names\n"
         "Commands typed in the message box (/join, /msg, /me, /nick, /away, ...) work as in "
         "the line client; /help lists them."));
}

}  // namespace udpchat::gui
