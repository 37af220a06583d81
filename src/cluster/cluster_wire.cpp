// The cluster's byte layouts (docs/PROTOCOL.md, "Between servers"): a version byte, then the
// fields in order through the same writer and bounds-checked reader as client frames, so every
// string keeps its protocol limit and is checked for UTF-8 before anything uses it.
#include <cstring>

#include "../protocol/wire.hpp"
#include "udpchat/cluster.hpp"
#include "udpchat/limits.hpp"

namespace udpchat::cluster {

using protocol::Bytes;
using protocol::ByteSpan;
using protocol::DecodeError;

namespace {

// A log entry: kind, origin, tag, then the message's own fields.
template <class E, class V>
void entryFields(E& e, V& v) {
  v.enumeration(e.kind);
  v.u64(e.origin);
  v.u64(e.tag);
  switch (e.kind) {
    case EntryKind::Chat: return protocol::ChatEvent::fields(e.chat, v);
    case EntryKind::Private: return protocol::PrivateEvent::fields(e.pm, v);
    case EntryKind::Topic: return protocol::TopicEvent::fields(e.topic, v);
    case EntryKind::Delete: return protocol::DeletedEvent::fields(e.deleted, v);
    case EntryKind::Kick: return protocol::KickEvent::fields(e.kick, v);
  }
}

template <class R, class V>
void recordFields(R& r, V& v) {
  v.u64(r.server);
  v.str(r.serverName, kMaxNameBytes);
  v.str(r.nick, kMaxNickBytes);
  v.strList(r.rooms, kMaxRoomsPerUser, kMaxRoomBytes);
  v.boolean(r.away);
  v.str(r.awayMessage, kMaxAwayBytes);
  v.u8(r.flags);
  v.u64(r.signonTs);
  v.boolean(r.gone);
  v.str(r.reason, kMaxReasonBytes);
  v.str(r.formerNick, kMaxNickBytes);
}

template <class S, class V>
void settingFields(S& s, V& v) {
  v.enumeration(s.kind);
  v.u64(s.origin);
  if (s.kind == SettingKind::Account) {
    v.str(s.nick, kMaxNickBytes);
    v.str(s.hash, kMaxHashBytes);
    v.u64(s.createdTs);
  } else {
    protocol::BanEntry::fields(s.ban, v);
  }
}

template <class S, class V>
void signalFields(S& s, V& v) {
  v.enumeration(s.kind);
  v.u64(s.from);
  v.u64(s.to);
  v.u64(s.tag);
  v.str(s.serverName, kMaxNameBytes);
  if (s.kind == SignalKind::WhoisAsk) v.str(s.nick, kMaxNickBytes);
  if (s.kind == SignalKind::WhoisAnswer) protocol::WhoisReply::fields(s.whois, v);
}

template <class T, class F>
Bytes encodeWith(const T& value, F fields) {
  Bytes out;
  protocol::wire::Writer w(out);
  w.u8(kClusterWireVersion);
  fields(value, w);
  return out;
}

template <class T, class F>
Result<T, DecodeError> decodeWith(ByteSpan bytes, F fields) {
  if (bytes.empty()) return fail(DecodeError::Empty);
  if (bytes.size() > kMaxFrameBytes) return fail(DecodeError::TooLarge);
  protocol::wire::Reader r(bytes);
  std::uint8_t version = 0;
  r.u8(version);
  if (version != kClusterWireVersion) return fail(DecodeError::BadVersion);
  T value;
  fields(value, r);
  if (r.failed()) return fail(r.error());
  if (r.remaining() != 0) return fail(DecodeError::TrailingBytes);
  return value;
}

}  // namespace

std::optional<std::string> clusterNameProblem(std::string_view name) {
  if (name.empty() || name.size() > kMaxClusterNameBytes) {
    return "a cluster name is 1 to " + std::to_string(kMaxClusterNameBytes) + " characters";
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return std::string("a cluster name may hold only letters, digits, '_' and '-'");
  }
  return std::nullopt;
}

namespace {
constexpr std::string_view kAccountPrefix = "account.";
constexpr std::string_view kBanPrefix = "ban.";
}  // namespace

std::string settingKey(SettingKind kind, std::string_view key) {
  return std::string(kind == SettingKind::Account ? kAccountPrefix : kBanPrefix) + std::string(key);
}

std::optional<std::pair<SettingKind, std::string>> parseSettingKey(std::string_view key) {
  for (auto [kind, prefix] : {std::pair{SettingKind::Account, kAccountPrefix},
                              std::pair{SettingKind::Ban, kBanPrefix}}) {
    if (key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix) {
      return std::pair{kind, std::string(key.substr(prefix.size()))};
    }
  }
  return std::nullopt;
}

Bytes encode(const LogEntry& entry) {
  return encodeWith(entry, [](const LogEntry& e, auto& w) { entryFields(e, w); });
}
Bytes encode(const UserRecord& record) {
  return encodeWith(record, [](const UserRecord& r, auto& w) { recordFields(r, w); });
}
Bytes encode(const Setting& setting) {
  return encodeWith(setting, [](const Setting& s, auto& w) { settingFields(s, w); });
}
Bytes encode(const Signal& signal) {
  return encodeWith(signal, [](const Signal& s, auto& w) { signalFields(s, w); });
}

Result<LogEntry, DecodeError> decodeLogEntry(ByteSpan bytes) {
  return decodeWith<LogEntry>(bytes, [](LogEntry& e, auto& r) { entryFields(e, r); });
}
Result<UserRecord, DecodeError> decodeUserRecord(ByteSpan bytes) {
  return decodeWith<UserRecord>(bytes, [](UserRecord& u, auto& r) { recordFields(u, r); });
}
Result<Setting, DecodeError> decodeSetting(ByteSpan bytes) {
  return decodeWith<Setting>(bytes, [](Setting& s, auto& r) { settingFields(s, r); });
}
Result<Signal, DecodeError> decodeSignal(ByteSpan bytes) {
  return decodeWith<Signal>(bytes, [](Signal& s, auto& r) { signalFields(s, r); });
}

}  // namespace udpchat::cluster
