#include "udpchat/overlong_field.hpp"

#include <initializer_list>
#include <utility>
#include <variant>

#include "wire.hpp"

namespace udpchat::protocol {
namespace {

// A Reader that also remembers which string or list field failed, by its address in the
// message being filled.
class Probe : public wire::Reader {
 public:
  using Reader::Reader;

  const void* field() const { return field_; }

  void str(std::string& s, std::size_t maxBytes) {
    watch(&s, [&] { Reader::str(s, maxBytes); });
  }
  void strList(std::vector<std::string>& list, std::size_t maxCount, std::size_t maxBytes) {
    watch(&list, [&] { Reader::strList(list, maxCount, maxBytes); });
    inList_ = field_ == &list && !overlong().entries;
  }
  bool inList() const { return inList_; }

 private:
  template <class Read>
  void watch(const void* address, Read read) {
    const bool before = failed();
    read();
    if (!before && failed() && error() == DecodeError::FieldTooLong) field_ = address;
  }
  const void* field_ = nullptr;
  bool inList_ = false;
};

using Names = std::initializer_list<std::pair<const void*, std::string_view>>;

std::string_view pick(const void* field, Names names) {
  for (const auto& [address, name] : names) {
    if (address == field) return name;
  }
  return {};
}

// Client-to-server types, the fields spelled as in docs/PROTOCOL.md section 4.1.
std::string_view nameOf(const Hello& m, const void* f) {
  return pick(f, {{&m.nick, "nick"}, {&m.rooms, "rooms"}, {&m.client, "client"}});
}
std::string_view nameOf(const SendChat& m, const void* f) {
  return pick(f, {{&m.room, "room"}, {&m.subject, "subject"}, {&m.text, "text"}});
}
std::string_view nameOf(const SendPrivate& m, const void* f) {
  return pick(f, {{&m.to, "to"}, {&m.subject, "subject"}, {&m.text, "text"}});
}
std::string_view nameOf(const JoinRoom& m, const void* f) { return pick(f, {{&m.room, "room"}}); }
std::string_view nameOf(const PartRoom& m, const void* f) {
  return pick(f, {{&m.room, "room"}, {&m.reason, "reason"}});
}
std::string_view nameOf(const SetTopic& m, const void* f) {
  return pick(f, {{&m.room, "room"}, {&m.topic, "topic"}});
}
std::string_view nameOf(const ChangeNick& m, const void* f) { return pick(f, {{&m.nick, "nick"}}); }
std::string_view nameOf(const WhoRequest& m, const void* f) { return pick(f, {{&m.room, "room"}}); }
std::string_view nameOf(const WhoisRequest& m, const void* f) {
  return pick(f, {{&m.nick, "nick"}});
}
std::string_view nameOf(const SetAway& m, const void* f) {
  return pick(f, {{&m.message, "message"}});
}
std::string_view nameOf(const DeleteMessage& m, const void* f) {
  return pick(f, {{&m.room, "room"}});
}
std::string_view nameOf(const HistoryRequest& m, const void* f) {
  return pick(f, {{&m.room, "room"}});
}
std::string_view nameOf(const SearchRequest& m, const void* f) {
  return pick(f, {{&m.room, "room"}, {&m.words, "search text"}});
}
std::string_view nameOf(const BanRequest& m, const void* f) {
  return pick(f, {{&m.target, "target"}, {&m.reason, "reason"}});
}
std::string_view nameOf(const UnbanRequest& m, const void* f) {
  return pick(f, {{&m.target, "target"}});
}
std::string_view nameOf(const BansRequest& m, const void* f) {
  return pick(f, {{&m.prefix, "prefix"}});
}
std::string_view nameOf(const RegisterRequest& m, const void* f) {
  return pick(f, {{&m.password, "password"}});
}
std::string_view nameOf(const IdentifyRequest& m, const void* f) {
  return pick(f, {{&m.nick, "nick"}, {&m.password, "password"}});
}
std::string_view nameOf(const UnregisterRequest& m, const void* f) {
  return pick(f, {{&m.password, "password"}});
}
std::string_view nameOf(const PasswordChange& m, const void* f) {
  return pick(f, {{&m.oldPassword, "old password"}, {&m.newPassword, "new password"}});
}
std::string_view nameOf(const OperRequest& m, const void* f) {
  return pick(f, {{&m.password, "password"}});
}
std::string_view nameOf(const KickRequest& m, const void* f) {
  return pick(f, {{&m.nick, "nick"}, {&m.reason, "reason"}});
}
std::string_view nameOf(const QuitRequest& m, const void* f) {
  return pick(f, {{&m.reason, "reason"}});
}
std::string_view nameOf(const TypingNotice& m, const void* f) {
  return pick(f, {{&m.target, "target"}});
}
template <class T>
std::string_view nameOf(const T&, const void*) {
  return {};
}

template <class T>
std::optional<OverlongField> probe(ByteSpan body) {
  T message;
  Probe reader(body);
  T::fields(message, reader);
  if (!reader.failed() || reader.error() != DecodeError::FieldTooLong) return std::nullopt;
  const auto& what = reader.overlong();
  return OverlongField{nameOf(message, reader.field()), what.claimed, what.limit, what.entries,
                       reader.inList()};
}

template <std::size_t... I>
std::optional<OverlongField> probeType(std::uint8_t type, ByteSpan body, std::index_sequence<I...>) {
  std::optional<OverlongField> out;
  static_cast<void>(
      ((static_cast<std::uint8_t>(std::variant_alternative_t<I, Message>::kType) == type
            ? (out = probe<std::variant_alternative_t<I, Message>>(body), true)
            : false) ||
       ...));
  return out;
}

}  // namespace

std::optional<OverlongField> findOverlongField(ByteSpan frame) {
  // The same checks as decode() makes before it reads fields.
  if (frame.size() < 2 || frame.size() > kMaxFrameBytes) return std::nullopt;
  if (std::to_integer<std::uint8_t>(frame[0]) != kProtocolVersion) return std::nullopt;
  return probeType(std::to_integer<std::uint8_t>(frame[1]), frame.subspan(2),
                   std::make_index_sequence<std::variant_size_v<Message>>{});
}

}  // namespace udpchat::protocol
