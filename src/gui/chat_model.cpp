#include "chat_model.hpp"

#include <algorithm>
#include <utility>
#include <variant>

#include "udpchat/command_parser.hpp"
#include "udpchat/text.hpp"

namespace udpchat::gui {

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

QString q(std::string_view s) {
  return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}
std::string u(const QString& s) {
  return s.toUtf8().toStdString();
}
bool same(const QString& a, const QString& b) {
  return a.compare(b, Qt::CaseInsensitive) == 0;
}

bool isNickChar(QChar c) {
  return c.isLetterOrNumber() || c == u'_' || c == u'-';
}

// True when `text` names `nick` as a whole word.
bool mentions(const QString& text, const QString& nick) {
  if (nick.isEmpty()) return false;
  qsizetype from = 0;
  while (true) {
    const qsizetype at = text.indexOf(nick, from, Qt::CaseInsensitive);
    if (at < 0) return false;
    const qsizetype end = at + nick.size();
    const bool startOk = at == 0 || !isNickChar(text[at - 1]);
    const bool endOk = end == text.size() || !isNickChar(text[end]);
    if (startOk && endOk) return true;
    from = end;
  }
}

QString reasonSuffix(const std::string& reason) {
  return reason.empty() ? QString() : QStringLiteral(" (%1)").arg(q(reason));
}

QString errorText(const protocol::ErrorReply& e) {
  switch (e.code) {
    case protocol::ErrorCode::NickInUse:
      return ChatModel::tr("that nickname is taken, choose another");
    case protocol::ErrorCode::ServerFull:
      return ChatModel::tr("the server is full");
    default:
      break;
  }
  QString text = e.message.empty() ? q(protocol::toString(e.code)) : q(e.message);
  if (!e.context.empty() && e.message.find(e.context) == std::string::npos) {
    text += QStringLiteral(" (%1)").arg(q(e.context));
  }
  return text;
}

}  // namespace

int nickHue(const QString& nick) {
  // FNV-1a over the case-folded UTF-8, so Bob and bob share a colour.
  std::uint32_t h = 2166136261u;
  for (char c : nick.toLower().toUtf8()) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return static_cast<int>(h % 360u);
}

ChatModel::ChatModel(QObject* parent) : QObject(parent) {
  conversations_.push_back(Conversation{});
}

int ChatModel::find(ConversationKind kind, const QString& name) const {
  for (int i = 0; i < count(); ++i) {
    const Conversation& c = at(i);
    if (c.kind == kind && same(c.name, name)) return i;
  }
  return -1;
}

int ChatModel::ensure(ConversationKind kind, const QString& name) {
  if (kind == ConversationKind::Server) return 0;
  if (int i = find(kind, name); i >= 0) return i;
  Conversation c;
  c.kind = kind;
  c.name = name;
  conversations_.push_back(std::move(c));
  emit conversationsChanged();
  return count() - 1;
}

void ChatModel::setCurrent(int index) {
  if (index < 0 || index >= count()) return;
  Conversation& c = conversations_[static_cast<std::size_t>(index)];
  const bool hadUnread = c.unread != 0 || c.mentioned;
  c.unread = 0;
  c.mentioned = false;
  if (index != current_) {
    current_ = index;
    emit currentChanged(index);
  }
  if (hadUnread) emit conversationsChanged();
}

int ChatModel::openPrivate(const QString& nick) {
  const int i = ensure(ConversationKind::Private, nick);
  setCurrent(i);
  return i;
}

void ChatModel::clearLines(int index) {
  if (index < 0 || index >= count()) return;
  conversations_[static_cast<std::size_t>(index)].lines.clear();
  emit linesChanged(index);
}

void ChatModel::close(int index) {
  if (index <= 0 || index >= count()) return;
  if (at(index).kind == ConversationKind::Room) return;
  conversations_.erase(conversations_.begin() + index);
  if (current_ >= index) {
    current_ = std::max(0, current_ - 1);
    emit currentChanged(current_);
  }
  emit conversationsChanged();
}

void ChatModel::add(int index, ChatLine line, bool counts) {
  Conversation& c = conversations_[static_cast<std::size_t>(index)];
  const bool mention = line.mention;
  c.lines.push_back(std::move(line));
  if (c.lines.size() > kMaxLinesPerConversation) {
    c.lines.erase(c.lines.begin());
    emit linesChanged(index);
  } else {
    emit lineAppended(index);
  }
  if (counts && index != current_) {
    ++c.unread;
    if (mention || c.kind == ConversationKind::Private) c.mentioned = true;
    emit conversationsChanged();
  }
}

void ChatModel::event(int index, const QString& text, Millis ts, ChatLine::Kind kind) {
  ChatLine line;
  line.kind = kind;
  line.ts = ts;
  line.text = text;
  add(index, std::move(line), false);
}

// Errors and answers to what the person just did go where they are looking.
void ChatModel::eventHere(const QString& text, Millis ts, ChatLine::Kind kind) {
  event(current_, text, ts, kind);
}

void ChatModel::addMember(int index, Member member) {
  auto& members = conversations_[static_cast<std::size_t>(index)].members;
  auto it = std::find_if(members.begin(), members.end(),
                         [&](const Member& m) { return same(m.nick, member.nick); });
  if (it != members.end()) return;
  const QString key = member.nick.toLower();
  auto pos = std::find_if(members.begin(), members.end(),
                          [&](const Member& m) { return m.nick.toLower() > key; });
  members.insert(pos, std::move(member));
  emit membersChanged(index);
}

void ChatModel::removeMember(int index, const QString& nick) {
  auto& members = conversations_[static_cast<std::size_t>(index)].members;
  if (std::erase_if(members, [&](const Member& m) { return same(m.nick, nick); }) > 0) {
    emit membersChanged(index);
  }
}

bool ChatModel::settle(int index, protocol::ClientId clientId, const ChatLine& confirmed) {
  if (clientId == 0) return false;
  auto& lines = conversations_[static_cast<std::size_t>(index)].lines;
  for (ChatLine& l : lines) {
    if (l.clientId == clientId && l.pending) {
      l = confirmed;
      emit linesChanged(index);
      return true;
    }
  }
  return false;
}

void ChatModel::markFailed(protocol::ClientId clientId, const QString& why) {
  for (int i = 0; i < count(); ++i) {
    for (ChatLine& l : conversations_[static_cast<std::size_t>(i)].lines) {
      if (l.clientId == clientId && l.pending) {
        l.pending = false;
        l.failure = why;
        emit linesChanged(i);
        return;
      }
    }
  }
}

void ChatModel::setTyping(const QString& nick, const QString& target, bool isPrivate, bool active) {
  if (isPrivate) {
    const int i = find(ConversationKind::Private, nick);
    if (i < 0) return;
    Conversation& c = conversations_[static_cast<std::size_t>(i)];
    if (c.peerTyping != active) {
      c.peerTyping = active;
      emit typingChanged(i);
    }
    return;
  }
  const int i = find(ConversationKind::Room, target);
  if (i < 0) return;
  for (Member& m : conversations_[static_cast<std::size_t>(i)].members) {
    if (same(m.nick, nick) && m.typing != active) {
      m.typing = active;
      emit membersChanged(i);
      emit typingChanged(i);
    }
  }
}

void ChatModel::handle(const ClientEvent& ev, const ChatStatus& st, Millis now, Millis mono) {
  const QString me = q(st.nick());
  auto roomsWith = [&](const QString& nick) {
    std::vector<int> out;
    for (int i = 0; i < count(); ++i) {
      const Conversation& c = at(i);
      if (c.kind != ConversationKind::Room) continue;
      for (const Member& m : c.members) {
        if (same(m.nick, nick)) {
          out.push_back(i);
          break;
        }
      }
    }
    return out;
  };

  std::visit(
      Overloaded{
          [&](const client_event::Welcome& w) {
            serverName_ = q(w.server.serverName);
            connection_.registered = true;
            connection_.lost = false;
            connection_.attempt = 0;
            emit connectionChanged();
            const QString text =
                w.reconnected ? tr("reconnected to %1 as %2").arg(serverName_, q(w.server.nick))
                              : tr("connected to %1 as %2").arg(serverName_, q(w.server.nick));
            event(0, text, now);
            if (!w.server.motd.empty()) event(0, q(w.server.motd), now);
            if (w.reconnected && current_ != 0) event(current_, text, now);
            if (!w.reconnected) focusOnJoin_ = q(w.room);
          },
          [&](const protocol::ErrorReply& e) {
            eventHere(errorText(e), now, ChatLine::Kind::Error);
            if (e.clientId != 0) {
              markFailed(e.clientId, tr("not sent: %1").arg(q(protocol::toString(e.code))));
            }
          },
          [&](const client_event::Sending& s) {
            const OutgoingMessage& m = s.message;
            const int i = ensure(m.isPrivate ? ConversationKind::Private : ConversationKind::Room,
                                 q(m.target));
            // A resend after a reconnect announces the same id again: it is already shown.
            // A line typed while not registered was shown when typed (showQueued): it takes
            // the id now.
            for (ChatLine& l : conversations_[static_cast<std::size_t>(i)].lines) {
              if (l.clientId == m.clientId && l.pending) return;
            }
            for (ChatLine& l : conversations_[static_cast<std::size_t>(i)].lines) {
              if (l.clientId == 0 && l.pending && l.text == q(m.text)) {
                l.clientId = m.clientId;
                l.subject = q(m.subject);
                l.ts = now;
                emit linesChanged(i);
                return;
              }
            }
            ChatLine line;
            line.kind = m.action ? ChatLine::Kind::Action : ChatLine::Kind::Message;
            line.ts = now;
            line.nick = me;
            line.subject = q(m.subject);
            line.text = q(m.text);
            line.self = true;
            line.pending = true;
            line.clientId = m.clientId;
            add(i, std::move(line), false);
          },
          [&](const client_event::Unconfirmed& uc) {
            if (uc.willResend) return;  // still shown as sending; they go again
            for (const OutgoingMessage& m : uc.messages) {
              markFailed(m.clientId, tr("not confirmed by the server"));
            }
          },
          [&](const protocol::ChatEvent& c) {
            const int i = ensure(ConversationKind::Room, q(c.room));
            ChatLine line;
            line.kind = (c.flags & protocol::kFlagAction) ? ChatLine::Kind::Action
                                                          : ChatLine::Kind::Message;
            line.ts = static_cast<Millis>(c.ts);
            line.nick = q(c.from);
            line.subject = q(c.subject);
            line.text = q(c.text);
            line.self = same(line.nick, me);
            line.history = (c.flags & protocol::kFlagHistory) != 0;
            line.mention = !line.self && mentions(line.text, me);
            line.id = c.id;
            line.clientId = c.clientId;
            if (line.self && settle(i, c.clientId, line)) return;
            add(i, std::move(line),
                !same(q(c.from), me) && (c.flags & protocol::kFlagHistory) == 0);
          },
          [&](const protocol::PrivateEvent& p) {
            const bool self = same(q(p.from), me);
            const int i = ensure(ConversationKind::Private, self ? q(p.to) : q(p.from));
            ChatLine line;
            line.kind = (p.flags & protocol::kFlagAction) ? ChatLine::Kind::Action
                                                          : ChatLine::Kind::Message;
            line.ts = static_cast<Millis>(p.ts);
            line.nick = q(p.from);
            line.subject = q(p.subject);
            line.text = q(p.text);
            line.self = self;
            line.mention = !self && mentions(line.text, me);
            line.id = p.id;
            line.clientId = p.clientId;
            if (self && settle(i, p.clientId, line)) return;
            if (!self) conversations_[static_cast<std::size_t>(i)].peerTyping = false;
            add(i, std::move(line), !self);
          },
          [&](const protocol::JoinEvent& j) {
            const int i = ensure(ConversationKind::Room, q(j.room));
            addMember(i, Member{q(j.nick)});
            event(i, tr("%1 joined #%2").arg(q(j.nick), q(j.room)), now);
            if (same(q(j.nick), me) && same(q(j.room), focusOnJoin_)) {
              focusOnJoin_.clear();
              setCurrent(i);
            }
          },
          [&](const protocol::PartEvent& p) {
            const int i = find(ConversationKind::Room, q(p.room));
            if (same(q(p.nick), me)) {
              event(0, tr("you left #%1").arg(q(p.room)) + reasonSuffix(p.reason), now);
              if (i > 0) {
                conversations_.erase(conversations_.begin() + i);
                if (current_ >= i) {
                  current_ = std::max(0, current_ - 1);
                  // Back to a room we are still in, rather than the server's conversation.
                  if (current_ == 0 && count() > 1) current_ = count() - 1;
                  emit currentChanged(current_);
                }
                emit conversationsChanged();
              }
              return;
            }
            if (i < 0) return;
            removeMember(i, q(p.nick));
            event(i, tr("%1 left").arg(q(p.nick)) + reasonSuffix(p.reason), now);
          },
          [&](const protocol::QuitEvent& qe) {
            const int i = find(ConversationKind::Room, q(qe.room));
            if (i < 0) return;
            removeMember(i, q(qe.nick));
            event(i, tr("%1 quit").arg(q(qe.nick)) + reasonSuffix(qe.reason), now);
          },
          [&](const protocol::NickEvent& n) {
            const QString oldNick = q(n.oldNick);
            const QString newNick = q(n.newNick);
            const QString text = tr("%1 is now known as %2").arg(oldNick, newNick);
            for (int i : roomsWith(oldNick)) {
              auto& members = conversations_[static_cast<std::size_t>(i)].members;
              Member moved;
              for (const Member& m : members) {
                if (same(m.nick, oldNick)) moved = m;
              }
              moved.nick = newNick;
              removeMember(i, oldNick);
              addMember(i, moved);
              event(i, text, now);
            }
            if (const int p = find(ConversationKind::Private, oldNick); p >= 0) {
              if (find(ConversationKind::Private, newNick) < 0) {
                conversations_[static_cast<std::size_t>(p)].name = newNick;
                emit conversationsChanged();
              }
              event(p, text, now);
            }
            if (same(newNick, me) || same(oldNick, me)) event(0, text, now);
          },
          [&](const protocol::TopicEvent& t) {
            const int i = ensure(ConversationKind::Room, q(t.room));
            Conversation& c = conversations_[static_cast<std::size_t>(i)];
            c.topic = q(t.topic);
            c.topicSetBy = q(t.setBy);
            emit topicChanged(i);
            if (!t.topic.empty() && !t.setBy.empty()) {
              event(i, tr("%1 set the topic: %2").arg(q(t.setBy), q(t.topic)), now);
            } else if (t.topic.empty() && !t.setBy.empty()) {
              event(i, tr("%1 cleared the topic").arg(q(t.setBy)), now);
            }
          },
          [&](const protocol::DeletedEvent& d) {
            const int i = find(ConversationKind::Room, q(d.room));
            if (i < 0) return;
            for (ChatLine& l : conversations_[static_cast<std::size_t>(i)].lines) {
              if (l.id == d.id && !l.deleted) {
                l.deleted = true;
                l.subject.clear();
                l.text = tr("(message deleted by %1)").arg(q(d.by));
                emit linesChanged(i);
                return;
              }
            }
          },
          [&](const protocol::KickEvent& k) {
            const QString text =
                tr("%1 was kicked by %2").arg(q(k.nick), q(k.by)) + reasonSuffix(k.reason);
            const int i = k.room.empty() ? -1 : find(ConversationKind::Room, q(k.room));
            if (i >= 0) {
              removeMember(i, q(k.nick));
              event(i, text, now);
            } else {
              for (int r : roomsWith(q(k.nick))) {
                removeMember(r, q(k.nick));
                event(r, text, now);
              }
            }
            if (same(q(k.nick), me)) event(0, text, now, ChatLine::Kind::Error);
          },
          [&](const protocol::WhoisReply& w) {
            QString text = tr("%1: %2").arg(q(w.nick), q(protocol::toString(w.state)));
            if (!w.awayMessage.empty()) text += QStringLiteral(" (%1)").arg(q(w.awayMessage));
            if (w.flags & protocol::kUserOperator) text += tr(", operator");
            if (!w.server.empty()) text += tr(", on server %1").arg(q(w.server));
            QStringList rooms;
            for (const auto& r : w.rooms) rooms << QStringLiteral("#") + q(r);
            text += tr("; rooms: %1").arg(rooms.isEmpty() ? tr("none") : rooms.join(u' '));
            text += w.rttMs == 0 ? tr("; round trip not measured")
                                 : tr("; round trip %1 ms").arg(w.rttMs);
            eventHere(text, now);
          },
          [&](const protocol::PresenceEvent& p) {
            if (same(q(p.nick), me) && p.state != protocol::PresenceState::Lagging) {
              away_ = p.state == protocol::PresenceState::Away;
              emit connectionChanged();
            }
            for (int i : roomsWith(q(p.nick))) {
              for (Member& m : conversations_[static_cast<std::size_t>(i)].members) {
                if (!same(m.nick, q(p.nick))) continue;
                const auto before = m.state;
                m.state = p.state;
                if (p.state == protocol::PresenceState::Away) {
                  event(i,
                        p.awayMessage.empty()
                            ? tr("%1 is away").arg(q(p.nick))
                            : tr("%1 is away: %2").arg(q(p.nick), q(p.awayMessage)),
                        now);
                } else if (before == protocol::PresenceState::Away &&
                           p.state == protocol::PresenceState::Active) {
                  event(i, tr("%1 is back").arg(q(p.nick)), now);
                }
              }
              emit membersChanged(i);
            }
          },
          [&](const protocol::AwayReply& a) {
            const int p = find(ConversationKind::Private, q(a.nick));
            const QString text = a.message.empty()
                                     ? tr("%1 is away").arg(q(a.nick))
                                     : tr("%1 is away: %2").arg(q(a.nick), q(a.message));
            event(p >= 0 ? p : current_, text, now);
          },
          [&](const protocol::NoticeEvent& n) {
            if (n.kind == protocol::NoticeKind::OperGranted) {
              isOperator_ = true;
              emit connectionChanged();
            }
            eventHere(tr("notice: %1").arg(q(n.text)), now);
          },
          [&](const protocol::HistoryEnd& h) {
            const int i = find(ConversationKind::Room, q(h.room));
            const QString n = QString::number(h.count);
            QString text;
            if (h.search) {
              text = h.count == 0 ? tr("no kept message matches")
                                  : tr("%1 messages match, newest first").arg(n);
            } else if (h.count == 0) {
              text = tr("no earlier messages");
            } else if (h.more) {
              text = tr("%1 earlier messages; /history before %2 for the ones before")
                         .arg(n, QString::number(h.oldestId));
            } else {
              text = tr("%1 earlier messages; that is the beginning").arg(n);
            }
            event(i >= 0 ? i : current_, text, now);
          },
          [&](const protocol::BanListReply& b) {
            QStringList bans;
            for (const auto& ban : b.bans) {
              bans << (ban.reason.empty()
                           ? tr("%1 (by %2)").arg(q(ban.target), q(ban.by))
                           : tr("%1 (by %2: %3)").arg(q(ban.target), q(ban.by), q(ban.reason)));
            }
            eventHere(bans.isEmpty() ? tr("no bans") : tr("bans: %1").arg(bans.join(QStringLiteral(", "))),
                      now);
          },
          [&](const client_event::WhoList& list) {
            const int i = ensure(ConversationKind::Room, q(list.room));
            auto& members = conversations_[static_cast<std::size_t>(i)].members;
            std::vector<Member> fresh;
            for (const auto& w : list.users) {
              Member m{q(w.nick), w.state, w.rttMs, (w.flags & protocol::kUserOperator) != 0,
                       (w.flags & protocol::kUserTyping) != 0};
              fresh.push_back(std::move(m));
            }
            std::sort(fresh.begin(), fresh.end(), [](const Member& a, const Member& b) {
              return a.nick.toLower() < b.nick.toLower();
            });
            members = std::move(fresh);
            emit membersChanged(i);
          },
          [&](const client_event::Typing& t) {
            setTyping(q(t.nick), q(t.target), t.isPrivate, t.active);
          },
          [&](const client_event::Connected&) {},
          [&](const client_event::ConnectionLost& c) {
            connection_.reason = c.reason.empty() ? tr("connection lost") : q(c.reason);
            if (connection_.registered) connection_.lost = true;
            connection_.registered = false;
            emit connectionChanged();
            event(0, tr("connection lost: %1").arg(connection_.reason), now, ChatLine::Kind::Error);
          },
          [&](const client_event::Reconnecting& r) {
            connection_.attempt = r.attempt;
            connection_.retryAtMono = mono + r.delay;
            emit connectionChanged();
          },
          [&](const client_event::LocalError& e) {
            eventHere(q(e.message), now, ChatLine::Kind::Error);
          },
          [&](const client_event::Info& i) {
            if (subjectInfos_ > 0 && (i.text.starts_with("subject of your next message") ||
                                      i.text == "subject cleared")) {
              --subjectInfos_;
              return;
            }
            eventHere(q(i.text), now);
          },
          [&](const client_event::Finished& f) {
            connection_.registered = false;
            connection_.lost = false;
            connection_.finished = true;
            connection_.finishedReason = q(f.reason);
            emit connectionChanged();
            if (f.exitStatus != kExitOk) {
              event(0, f.reason.empty() ? tr("disconnected") : q(f.reason), now,
                    ChatLine::Kind::Error);
            }
          },
      },
      ev);
}

QStringList ChatModel::knownNicks(const ChatStatus& st) const {
  QStringList out;
  const QString me = q(st.nick());
  auto addNick = [&](const QString& n) {
    if (same(n, me)) return;
    for (const QString& have : out) {
      if (same(have, n)) return;
    }
    out << n;
  };
  for (const Conversation& c : conversations_) {
    if (c.kind == ConversationKind::Private) addNick(c.name);
    for (const Member& m : c.members) addNick(m.nick);
  }
  out.sort(Qt::CaseInsensitive);
  return out;
}

QString ChatModel::typingText(int index) const {
  if (index < 0 || index >= count()) return {};
  const Conversation& c = at(index);
  QStringList who;
  if (c.kind == ConversationKind::Private && c.peerTyping) who << c.name;
  for (const Member& m : c.members) {
    if (m.typing) who << m.nick;
  }
  if (who.isEmpty()) return {};
  if (who.size() == 1) return tr("%1 is typing").arg(who[0]);
  if (who.size() == 2) return tr("%1 and %2 are typing").arg(who[0], who[1]);
  return tr("%n people are typing", nullptr, static_cast<int>(who.size()));
}

QString ChatModel::recipientFor(int index) const {
  if (index < 0 || index >= count()) return {};
  const Conversation& c = at(index);
  switch (c.kind) {
    case ConversationKind::Room:
      return QStringLiteral("#") + c.name;
    case ConversationKind::Private:
      return c.name;
    case ConversationKind::Server:
      break;
  }
  return {};
}

std::pair<std::string, bool> ChatModel::typingTarget(const QString& recipient) const {
  const QString r = recipient.trimmed().isEmpty() ? recipientFor(current_) : recipient.trimmed();
  if (r.isEmpty()) return {std::string(), false};
  if (r.startsWith(u'#')) {
    auto room = text::normalizeRoom(u(r));
    return {room.value_or(std::string()), false};
  }
  return {u(r), true};
}

std::vector<std::string> ChatModel::compose(const QString& recipient, const QString& subject,
                                            const QString& message, const ChatStatus& st) {
  std::vector<std::string> lines = composeLines(recipient, subject, message, st);
  if (st.state() != ConnectionState::Registered) showQueued(lines, st);
  return lines;
}

void ChatModel::showQueued(const std::vector<std::string>& lines, const ChatStatus& st) {
  std::string room = st.currentRoom();
  QString subject;
  for (const std::string& line : lines) {
    auto parsed = command::parse(line);
    if (!parsed) continue;
    ChatLine l;
    l.ts = 0;
    l.nick = q(st.nick());
    l.self = true;
    l.pending = true;
    int index = -1;
    std::visit(Overloaded{
                   [&](const command::Join& j) {
                     if (auto r = text::normalizeRoom(j.room)) room = *r;
                   },
                   [&](const command::Subject& s) { subject = q(s.text); },
                   [&](const command::Say& s) {
                     l.kind = ChatLine::Kind::Message;
                     l.text = q(s.text);
                     if (!room.empty()) index = ensure(ConversationKind::Room, q(room));
                   },
                   [&](const command::Me& s) {
                     l.kind = ChatLine::Kind::Action;
                     l.text = q(s.text);
                     if (!room.empty()) index = ensure(ConversationKind::Room, q(room));
                   },
                   [&](const command::Msg& m) {
                     l.kind = ChatLine::Kind::Message;
                     l.text = q(m.text);
                     if (!m.subject.empty()) subject = q(m.subject);
                     index = ensure(ConversationKind::Private, q(m.nick));
                   },
                   [&](const auto&) {},
               },
               parsed.value());
    if (index < 0) continue;
    l.subject = std::exchange(subject, QString());
    add(index, std::move(l), false);
  }
}

std::vector<std::string> ChatModel::composeLines(const QString& recipientField,
                                                 const QString& subject, const QString& message,
                                                 const ChatStatus& st) {
  std::vector<std::string> out;
  if (message.trimmed().isEmpty()) return out;
  const std::string text = u(message);
  QString recipient = recipientField.trimmed();
  if (recipient.isEmpty()) recipient = recipientFor(current_);

  std::optional<std::string> room;
  std::string nick;
  if (recipient.startsWith(u'#')) {
    room = text::normalizeRoom(u(recipient));
    if (!room) {
      // The core names the rule for room names.
      out.push_back("/join " + u(recipient));
      return out;
    }
  } else if (!recipient.isEmpty()) {
    nick = u(recipient);
  }

  auto switchTo = [&](const std::string& r) {
    if (st.currentRoom() != r) out.push_back("/join #" + r);
  };

  const bool command = text.starts_with('/') && !text.starts_with("//");
  if (command) {
    auto parsed = command::parse(text);
    if (parsed && room) {
      const command::Command& cmd = parsed.value();
      // Lines that act on "the current room" act on the recipient's room.
      const bool roomDependent =
          std::holds_alternative<command::Say>(cmd) || std::holds_alternative<command::Me>(cmd) ||
          std::holds_alternative<command::Topic>(cmd) ||
          std::holds_alternative<command::Delete>(cmd) ||
          std::holds_alternative<command::Subject>(cmd) ||
          (std::holds_alternative<command::Part>(cmd) &&
           std::get<command::Part>(cmd).room.empty()) ||
          (std::holds_alternative<command::Who>(cmd) && std::get<command::Who>(cmd).room.empty());
      if (roomDependent) switchTo(*room);
    }
    if (parsed && std::holds_alternative<command::Join>(parsed.value())) {
      if (auto r = text::normalizeRoom(std::get<command::Join>(parsed.value()).room)) {
        if (const int i = find(ConversationKind::Room, q(*r)); i >= 0) {
          setCurrent(i);  // already in it: only a switch
        } else {
          focusOnJoin_ = q(*r);
        }
      }
    }
    if (parsed && !nick.empty() && std::holds_alternative<command::Me>(parsed.value())) {
      eventHere(tr("/me works in rooms only"), 0, ChatLine::Kind::Error);
      return out;
    }
    out.push_back(text);
    return out;
  }

  const std::string subj = u(subject.trimmed());
  if (room) {
    switchTo(*room);
    if (!subj.empty()) {
      out.push_back("/subject " + subj);
      ++subjectInfos_;
    }
    out.push_back(text);
    return out;
  }
  if (nick.empty()) {
    // The server's conversation has no recipient: the line goes to the core's current room,
    // as in the line client.
    out.push_back(text);
    return out;
  }
  // "/msg nick [subject] text" reads a leading "[...]" as the subject: a subject containing ']'
  // goes ahead with /subject, and an empty one is spelled "[]" so a '[' in the text stays text.
  if (subj.find(']') != std::string::npos) {
    out.push_back("/subject " + subj);
    ++subjectInfos_;
    out.push_back("/msg " + nick + " [] " + text);
  } else {
    out.push_back("/msg " + nick + " [" + subj + "] " + text);
  }
  return out;
}

bool ChatModel::canDelete(int index, int line) const {
  if (index < 0 || index >= count()) return false;
  const Conversation& c = at(index);
  if (c.kind != ConversationKind::Room || line < 0 || line >= static_cast<int>(c.lines.size())) {
    return false;
  }
  const ChatLine& l = c.lines[static_cast<std::size_t>(line)];
  return l.id != 0 && !l.deleted && (l.self || isOperator_);
}

std::vector<std::string> ChatModel::deleteLine(int index, int line, const ChatStatus& st) const {
  std::vector<std::string> out;
  if (!canDelete(index, line)) return out;
  const Conversation& c = at(index);
  if (st.currentRoom() != u(c.name)) out.push_back("/join #" + u(c.name));
  out.push_back("/delete " + std::to_string(c.lines[static_cast<std::size_t>(line)].id));
  return out;
}

}  // namespace udpchat::gui
