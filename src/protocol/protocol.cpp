#include "udpchat/protocol.hpp"

#include <array>
#include <utility>

#include "wire.hpp"

namespace udpchat::protocol {
namespace {

template <class T>
Result<Message, DecodeError> decodeBody(wire::Reader& reader) {
  T message;
  T::fields(message, reader);
  if (reader.failed()) return fail(reader.error());
  if (reader.remaining() != 0) return fail(DecodeError::TrailingBytes);
  return Message{std::move(message)};
}

using BodyDecoder = Result<Message, DecodeError> (*)(wire::Reader&);

// Type byte -> decoder of that type, built from the Message variant so that adding a type to
// the variant is all it takes.
template <std::size_t... I>
constexpr std::array<BodyDecoder, 256> makeDecoderTable(std::index_sequence<I...>) {
  std::array<BodyDecoder, 256> table{};
  ((table[static_cast<std::uint8_t>(std::variant_alternative_t<I, Message>::kType)] =
        &decodeBody<std::variant_alternative_t<I, Message>>),
   ...);
  return table;
}

constexpr auto kDecoders = makeDecoderTable(std::make_index_sequence<std::variant_size_v<Message>>{});

}  // namespace

Result<Message, DecodeError> decode(ByteSpan frame) {
  if (frame.empty()) return fail(DecodeError::Empty);
  if (frame.size() > kMaxFrameBytes) return fail(DecodeError::TooLarge);
  if (std::to_integer<std::uint8_t>(frame[0]) != kProtocolVersion) return fail(DecodeError::BadVersion);
  if (frame.size() < 2) return fail(DecodeError::Truncated);
  BodyDecoder decoder = kDecoders[std::to_integer<std::uint8_t>(frame[1])];
  if (decoder == nullptr) return fail(DecodeError::UnknownType);
  wire::Reader reader(frame.subspan(2));
  return decoder(reader);
}

template <class T>
Bytes encode(const T& message) {
  Bytes out;
  out.reserve(64);
  wire::Writer writer(out);
  writer.u8(kProtocolVersion);
  writer.u8(static_cast<std::uint8_t>(T::kType));
  T::fields(message, writer);
  return out;
}

Bytes encode(const Message& message) {
  return std::visit([](const auto& m) { return encode(m); }, message);
}

MessageType typeOf(const Message& message) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, message);
}

const ClientId* clientIdOf(const Message& message) {
  if (const auto* chat = std::get_if<SendChat>(&message)) return &chat->clientId;
  if (const auto* priv = std::get_if<SendPrivate>(&message)) return &priv->clientId;
  return nullptr;
}

ClientId* clientIdOf(Message& message) {
  return const_cast<ClientId*>(clientIdOf(static_cast<const Message&>(message)));
}

bool isClientToServer(MessageType type) { return static_cast<std::uint8_t>(type) < 0x40; }

std::uint8_t channelOf(MessageType type) {
  switch (type) {
    case MessageType::PresencePing:
    case MessageType::TypingNotice:
    case MessageType::PresencePong:
    case MessageType::TypingEvent:
      return kChannelUnreliable;
    default:
      return kChannelReliable;
  }
}

// One explicit instantiation per message type; the round-trip tests use every one, so a type
// missing here is a link error.
template Bytes encode<Hello>(const Hello&);
template Bytes encode<SendChat>(const SendChat&);
template Bytes encode<SendPrivate>(const SendPrivate&);
template Bytes encode<JoinRoom>(const JoinRoom&);
template Bytes encode<PartRoom>(const PartRoom&);
template Bytes encode<SetTopic>(const SetTopic&);
template Bytes encode<ChangeNick>(const ChangeNick&);
template Bytes encode<WhoRequest>(const WhoRequest&);
template Bytes encode<WhoisRequest>(const WhoisRequest&);
template Bytes encode<SetAway>(const SetAway&);
template Bytes encode<DeleteMessage>(const DeleteMessage&);
template Bytes encode<OperRequest>(const OperRequest&);
template Bytes encode<KickRequest>(const KickRequest&);
template Bytes encode<QuitRequest>(const QuitRequest&);
template Bytes encode<HistoryRequest>(const HistoryRequest&);
template Bytes encode<SearchRequest>(const SearchRequest&);
template Bytes encode<BanRequest>(const BanRequest&);
template Bytes encode<UnbanRequest>(const UnbanRequest&);
template Bytes encode<BansRequest>(const BansRequest&);
template Bytes encode<RegisterRequest>(const RegisterRequest&);
template Bytes encode<IdentifyRequest>(const IdentifyRequest&);
template Bytes encode<UnregisterRequest>(const UnregisterRequest&);
template Bytes encode<PasswordChange>(const PasswordChange&);
template Bytes encode<PresencePing>(const PresencePing&);
template Bytes encode<TypingNotice>(const TypingNotice&);
template Bytes encode<Welcome>(const Welcome&);
template Bytes encode<ErrorReply>(const ErrorReply&);
template Bytes encode<ChatEvent>(const ChatEvent&);
template Bytes encode<PrivateEvent>(const PrivateEvent&);
template Bytes encode<JoinEvent>(const JoinEvent&);
template Bytes encode<PartEvent>(const PartEvent&);
template Bytes encode<QuitEvent>(const QuitEvent&);
template Bytes encode<NickEvent>(const NickEvent&);
template Bytes encode<TopicEvent>(const TopicEvent&);
template Bytes encode<DeletedEvent>(const DeletedEvent&);
template Bytes encode<KickEvent>(const KickEvent&);
template Bytes encode<WhoReply>(const WhoReply&);
template Bytes encode<WhoisReply>(const WhoisReply&);
template Bytes encode<PresenceEvent>(const PresenceEvent&);
template Bytes encode<AwayReply>(const AwayReply&);
template Bytes encode<NoticeEvent>(const NoticeEvent&);
template Bytes encode<HistoryEnd>(const HistoryEnd&);
template Bytes encode<BanListReply>(const BanListReply&);
template Bytes encode<PresencePong>(const PresencePong&);
template Bytes encode<TypingEvent>(const TypingEvent&);

std::string_view toString(DecodeError error) {
  switch (error) {
    case DecodeError::Empty: return "empty frame";
    case DecodeError::TooLarge: return "frame larger than 8192 bytes";
    case DecodeError::BadVersion: return "unsupported protocol version";
    case DecodeError::UnknownType: return "unknown message type";
    case DecodeError::Truncated: return "frame ends inside a field";
    case DecodeError::FieldTooLong: return "a field is longer than its limit";
    case DecodeError::InvalidUtf8: return "a string is not valid UTF-8";
    case DecodeError::BadValue: return "a field holds a value outside its range";
    case DecodeError::TrailingBytes: return "bytes left after the last field";
  }
  return "unknown decode error";
}

std::string_view toString(ErrorCode code) {
  switch (code) {
    case ErrorCode::Malformed: return "malformed";
    case ErrorCode::UnsupportedVersion: return "unsupported_version";
    case ErrorCode::UnexpectedMessage: return "unexpected_message";
    case ErrorCode::NotRegistered: return "not_registered";
    case ErrorCode::AlreadyRegistered: return "already_registered";
    case ErrorCode::NickInvalid: return "nick_invalid";
    case ErrorCode::NickInUse: return "nick_in_use";
    case ErrorCode::NoSuchNick: return "no_such_nick";
    case ErrorCode::RoomInvalid: return "room_invalid";
    case ErrorCode::NotInRoom: return "not_in_room";
    case ErrorCode::TooManyRooms: return "too_many_rooms";
    case ErrorCode::TextTooLong: return "text_too_long";
    case ErrorCode::InvalidUtf8: return "invalid_utf8";
    case ErrorCode::ControlCharacter: return "control_character";
    case ErrorCode::EmptyText: return "empty_text";
    case ErrorCode::RateLimited: return "rate_limited";
    case ErrorCode::NotOperator: return "not_operator";
    case ErrorCode::BadPassword: return "bad_password";
    case ErrorCode::OperDisabled: return "oper_disabled";
    case ErrorCode::NoSuchMessage: return "no_such_message";
    case ErrorCode::NotYourMessage: return "not_your_message";
    case ErrorCode::ServerFull: return "server_full";
    case ErrorCode::RegistrationTimeout: return "registration_timeout";
    case ErrorCode::CannotKickSelf: return "cannot_kick_self";
    case ErrorCode::TooManyConnections: return "too_many_connections";
    case ErrorCode::StorageUnavailable: return "storage_unavailable";
    case ErrorCode::Banned: return "banned";
    case ErrorCode::NotBanned: return "not_banned";
    case ErrorCode::NickRegistered: return "nick_registered";
    case ErrorCode::AccountUnknown: return "account_unknown";
    case ErrorCode::PasswordInvalid: return "password_invalid";
    case ErrorCode::ClusterUnavailable: return "cluster_unavailable";
  }
  return "unknown";
}

std::string_view toString(PresenceState state) {
  switch (state) {
    case PresenceState::Active: return "active";
    case PresenceState::Away: return "away";
    case PresenceState::Lagging: return "lagging";
  }
  return "unknown";
}

}  // namespace udpchat::protocol
