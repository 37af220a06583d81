// The wire protocol: a round trip for every message type, exact byte layouts written out by hand,
// type codes, channels and directions, the limits (the largest instance of every type fits one
// frame), and the names of error codes.
#include "udpchat/protocol.hpp"
#include "unit/message_types.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "udpchat/limits.hpp"

namespace udpchat::protocol {

using ::udpchat::testing::TypesOf;

// Walks fields() and records every field's value as text: used to print messages in failures
// and to compare a sample with a default-constructed struct field by field.
class FieldRecorder {
 public:
  std::vector<std::string> values;
  std::vector<std::size_t> listSizes;

  void u8(const std::uint8_t& v) { values.push_back(std::to_string(v)); }
  void u16(const std::uint16_t& v) { values.push_back(std::to_string(v)); }
  void u32(const std::uint32_t& v) { values.push_back(std::to_string(v)); }
  void u64(const std::uint64_t& v) { values.push_back(std::to_string(v)); }
  void boolean(const bool& v) { values.push_back(v ? "true" : "false"); }
  template <class E>
  void enumeration(const E& v) {
    values.push_back("enum " + std::to_string(static_cast<int>(v)));
  }
  void errorCode(const ErrorCode& v) { values.push_back(std::string(toString(v))); }
  void str(const std::string& s, std::size_t /*maxBytes*/) { values.push_back('"' + s + '"'); }
  void strList(const std::vector<std::string>& list, std::size_t /*maxCount*/,
               std::size_t /*maxBytes*/) {
    std::string all = "[";
    for (const auto& s : list) all += '"' + s + "\" ";
    values.push_back(all + "]");
    listSizes.push_back(list.size());
  }
  template <class T>
  void list(const std::vector<T>& items, std::size_t /*maxCount*/) {
    std::string all = "[";
    for (const auto& item : items) {
      FieldRecorder inner;
      T::fields(item, inner);
      all += "{";
      for (const auto& v : inner.values) all += v + " ";
      all += "} ";
    }
    values.push_back(all + "]");
    listSizes.push_back(items.size());
  }
};

template <class T>
std::vector<std::string> fieldValues(const T& message) {
  FieldRecorder recorder;
  T::fields(message, recorder);
  return recorder.values;
}

// GoogleTest finds this by argument-dependent lookup, so failures show the fields.
template <class T>
requires requires {
  T::kType;
}
void PrintTo(const T& message, std::ostream* os) {
  *os << "{ ";
  for (const auto& v : fieldValues(message)) *os << v << ", ";
  *os << "}";
}

namespace {

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

std::string hex(const Bytes& frame) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::byte b : frame) {
    const auto v = std::to_integer<unsigned>(b);
    out += kDigits[v >> 4];
    out += kDigits[v & 0xF];
    out += ' ';
  }
  return out;
}

// ---- samples: one per message type, every field non-default ----------------------------------

// A message type without a specialisation here does not compile in the typed tests below, which
// run over every alternative of protocol::Message.
template <class T>
struct Sample;

#define UDPCHAT_SAMPLE(Type, ...)                    \
  template <>                                        \
  struct Sample<Type> {                              \
    static constexpr std::string_view kName = #Type; \
    static Type make() { return Type __VA_ARGS__; }  \
  }

UDPCHAT_SAMPLE(Hello, {"alice_77",
                       0x0123456789ABCDEFULL,
                       {"lobby", "#dev", "caf\u00e9-\u2615"},
                       "udpchat-client 0.1 \u2713"});
UDPCHAT_SAMPLE(SendChat,
               {"lobby", "\u00dcn\u00efc\u00f6d\u00e9 \u2713",
                "Hello, w\u00f6rld! \u65e5\u672c\u8a9e \U0001F389\nline two\ttab", kFlagAction,
                0x1111222233334444ULL});
UDPCHAT_SAMPLE(SendPrivate,
               {"bob", "re: \U0001F355", "\u00e7a va? \U0001F44B", kFlagAction, 0x5555ULL});
UDPCHAT_SAMPLE(JoinRoom, {"#g\u00e9n\u00e9ral"});
UDPCHAT_SAMPLE(PartRoom, {"lobby", "bye for now \U0001F44B"});
UDPCHAT_SAMPLE(SetTopic, {"dev", "Release 1.0 \u2014 ship it \U0001F680"});
UDPCHAT_SAMPLE(ChangeNick, {"carol-3"});
UDPCHAT_SAMPLE(WhoRequest, {"lobby"});
UDPCHAT_SAMPLE(WhoisRequest, {"dave"});
UDPCHAT_SAMPLE(SetAway, {true, "lunch \U0001F35C, back at 14:00"});
UDPCHAT_SAMPLE(DeleteMessage, {"lobby", 0xFEDCBA9876543210ULL});
UDPCHAT_SAMPLE(OperRequest, {"s3cret-p\u00e4ssw\u00f6rd"});
UDPCHAT_SAMPLE(KickRequest, {"mallory", "spam \U0001F96B"});
UDPCHAT_SAMPLE(QuitRequest, {"gute Nacht \U0001F319"});
UDPCHAT_SAMPLE(HistoryRequest, {"g\u00e9n\u00e9ral", 0x0102030405ULL, 120});
UDPCHAT_SAMPLE(SearchRequest, {"dev", "build \u00e9chou\u00e9"});
UDPCHAT_SAMPLE(BanRequest, {"192.0.2.7", "flooding \U0001F30A"});
UDPCHAT_SAMPLE(UnbanRequest, {"mallory"});
UDPCHAT_SAMPLE(BansRequest, {"192.0."});
UDPCHAT_SAMPLE(RegisterRequest, {"correct horse \u00e9"});
UDPCHAT_SAMPLE(IdentifyRequest, {"alice", "battery staple"});
UDPCHAT_SAMPLE(UnregisterRequest, {"correct horse"});
UDPCHAT_SAMPLE(PasswordChange, {"old one", "new one \U0001F511"});
UDPCHAT_SAMPLE(PresencePing, {0xDEADBEEF, 0x0011223344556677ULL, PresenceState::Away,
                              0x8899AABBCCDDEEFFULL, 0x01020304});
UDPCHAT_SAMPLE(TypingNotice, {"lobby", true, false});
UDPCHAT_SAMPLE(Welcome, {"user12", 0xA5A5A5A55A5A5A5AULL, "B\u00fcro-Server \u2615",
                         "Willkommen!\nBe nice. \U0001F642", 3999, 2, 24, 1000, 12, 7, 1500});
UDPCHAT_SAMPLE(ErrorReply,
               {ErrorCode::RateLimited, 1250, "lobby", "slow down \u2014 one message per 200 ms",
                0x0A0B0C0D0E0F1011ULL});
UDPCHAT_SAMPLE(ChatEvent,
               {0x0102030405060708ULL, 1732170000123ULL, "lobby", "alice", "\U0001F4E3 news",
                "na\u00efve caf\u00e9 \U0001F389", kFlagAction | kFlagHistory, 0x7777ULL});
UDPCHAT_SAMPLE(PrivateEvent, {42, 1732170000456ULL, "alice", "bob", "\u00bfqu\u00e9?",
                              "\u043f\u0440\u0438\u0432\u0435\u0442 \U0001F44B", kFlagAction,
                              0x8888ULL});
UDPCHAT_SAMPLE(JoinEvent, {"lobby", "alice"});
UDPCHAT_SAMPLE(PartEvent, {"lobby", "bob", "off to bed \U0001F634"});
UDPCHAT_SAMPLE(QuitEvent, {"dev", "carol", "connection lost \u26A1"});
UDPCHAT_SAMPLE(NickEvent, {"alice", "alice_away"});
UDPCHAT_SAMPLE(TopicEvent, {"dev", "Sprint 42 \U0001F3C3", "bob", 1732170000999ULL});
UDPCHAT_SAMPLE(DeletedEvent, {"lobby", 77, "oper"});
UDPCHAT_SAMPLE(KickEvent, {"lobby", "mallory", "oper", "flooding \U0001F30A"});
UDPCHAT_SAMPLE(WhoReply,
               {"lobby",
                {{"alice", PresenceState::Away, 12, kUserOperator},
                 {"bob", PresenceState::Lagging, 250, kUserTyping},
                 {"zo\u00eb", PresenceState::Away, 0x01020304, kUserOperator | kUserTyping}},
                true});
UDPCHAT_SAMPLE(WhoisReply, {"bob",
                            PresenceState::Away,
                            1732170000000ULL,
                            65000,
                            "im Urlaub \U0001F3D6",
                            42,
                            17,
                            830,
                            kUserOperator,
                            {"lobby", "dev", "g\u00e9n\u00e9ral"},
                            "campus-b\u00e2timent-2"});
UDPCHAT_SAMPLE(PresenceEvent, {"bob", PresenceState::Lagging, "brb \u2615"});
UDPCHAT_SAMPLE(AwayReply, {"bob", "on holiday \U0001F3DD"});
UDPCHAT_SAMPLE(NoticeEvent, {NoticeKind::OperGranted, "you are now an operator \u2713"});
UDPCHAT_SAMPLE(BanListReply, {{{"mallory", "spam", "oper", 1732170000000ULL},
                               {"192.0.2.7", "flood \u26A1", "op2", 1732170000001ULL}},
                              true});
UDPCHAT_SAMPLE(HistoryEnd, {"lobby", true, 17, 0x0A0B0C0D0E0FULL, true});
UDPCHAT_SAMPLE(PresencePong, {0x00C0FFEE, 0x1122334455667788ULL, 0x99AABBCCDDEEFF00ULL});
UDPCHAT_SAMPLE(TypingEvent, {"alice", "bob", true, false});

#undef UDPCHAT_SAMPLE

// ---- the largest instance of a type, built from its own fields() list ------------------------

// `bytes` bytes of UTF-8, 4-byte characters where they fit.
std::string fourByteText(std::size_t bytes) {
  std::string out;
  while (out.size() + 4 <= bytes) out += "\U0001D11E";  // MUSICAL SYMBOL G CLEF, 4 bytes
  while (out.size() < bytes) out += 'x';
  return out;
}

// Every string at its limit, every list at its maximum count with maximal elements. Integers are
// fixed width, so their values do not change the size; they are set high where any value is
// valid and to 1 in u8 fields, which are flags or small counts.
class Maximizer {
 public:
  void u8(std::uint8_t& v) { v = 1; }
  void u16(std::uint16_t& v) { v = std::numeric_limits<std::uint16_t>::max(); }
  void u32(std::uint32_t& v) { v = std::numeric_limits<std::uint32_t>::max(); }
  void u64(std::uint64_t& v) { v = std::numeric_limits<std::uint64_t>::max(); }
  void boolean(bool& v) { v = true; }
  template <class E>
  void enumeration(E& v) {
    v = static_cast<E>(enumCount(E{}) - 1);
  }
  void errorCode(ErrorCode& v) { v = static_cast<ErrorCode>(kLastErrorCode); }
  void str(std::string& s, std::size_t maxBytes) {
    s = fourByteText(maxBytes);
    ++strings;
  }
  void strList(std::vector<std::string>& list, std::size_t maxCount, std::size_t maxBytes) {
    list.resize(maxCount);
    for (auto& s : list) str(s, maxBytes);
  }
  template <class T>
  void list(std::vector<T>& items, std::size_t maxCount) {
    items.resize(maxCount);
    for (auto& item : items) T::fields(item, *this);
  }

  std::size_t strings = 0;
};

template <class T>
T largest() {
  T message;
  Maximizer maximizer;
  T::fields(message, maximizer);
  return message;
}

// Visits the strings and lists of a message in wire order; the `target`-th one is made one
// element or one byte longer than its limit. With no target it only counts them.
class Overfill {
 public:
  explicit Overfill(std::size_t target) : target_(target) {}

  template <class X>
  void u8(X&) {}
  template <class X>
  void u16(X&) {}
  template <class X>
  void u32(X&) {}
  template <class X>
  void u64(X&) {}
  template <class X>
  void boolean(X&) {}
  template <class X>
  void enumeration(X&) {}
  template <class X>
  void errorCode(X&) {}
  void str(std::string& s, std::size_t maxBytes) {
    if (seen++ == target_) s = fourByteText(maxBytes) + "y";
  }
  void strList(std::vector<std::string>& list, std::size_t maxCount, std::size_t maxBytes) {
    if (seen++ == target_) list.resize(maxCount + 1, "z");
    for (auto& s : list) str(s, maxBytes);
  }
  template <class T>
  void list(std::vector<T>& items, std::size_t maxCount) {
    if (seen++ == target_) items.resize(maxCount + 1);
    for (auto& item : items) T::fields(item, *this);
  }

  std::size_t seen = 0;

 private:
  std::size_t target_;
};

// ---- typed tests over every alternative of Message -------------------------------------------

struct MessageNames {
  template <class T>
  static std::string GetName(int) {
    return std::string(Sample<T>::kName);
  }
};

template <class T>
class MessageTest : public ::testing::Test {};
TYPED_TEST_SUITE(MessageTest, TypesOf<Message>::type, MessageNames);

TYPED_TEST(MessageTest, SampleSetsEveryFieldToANonDefaultValue) {
  const TypeParam sample = Sample<TypeParam>::make();
  const auto values = fieldValues(sample);
  const auto defaults = fieldValues(TypeParam{});
  ASSERT_EQ(values.size(), defaults.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_NE(values[i], defaults[i]) << "field " << i << " of the sample holds its default";
  }
  FieldRecorder recorder;
  TypeParam::fields(sample, recorder);
  for (std::size_t size : recorder.listSizes) EXPECT_GE(size, 2u) << "lists need several entries";
}

TYPED_TEST(MessageTest, RoundTripsThroughEncodeAndDecode) {
  const TypeParam sample = Sample<TypeParam>::make();
  const Bytes frame = encode(sample);
  ASSERT_GE(frame.size(), 2u);
  EXPECT_EQ(std::to_integer<int>(frame[0]), kProtocolVersion);
  EXPECT_EQ(std::to_integer<int>(frame[1]), static_cast<int>(TypeParam::kType));

  const auto decoded = decode(frame);
  ASSERT_TRUE(decoded.ok()) << toString(decoded.error()) << " in " << hex(frame);
  ASSERT_TRUE(std::holds_alternative<TypeParam>(*decoded));
  EXPECT_EQ(std::get<TypeParam>(*decoded), sample);
}

TYPED_TEST(MessageTest, VariantEncoderMatchesTypedEncoder) {
  const TypeParam sample = Sample<TypeParam>::make();
  EXPECT_EQ(encode(Message{sample}), encode(sample));
  EXPECT_EQ(typeOf(Message{sample}), TypeParam::kType);
}

TYPED_TEST(MessageTest, LargestInstanceFitsOneFrameAndRoundTrips) {
  const TypeParam big = largest<TypeParam>();
  const Bytes frame = encode(big);
  EXPECT_LE(frame.size(), kMaxFrameBytes) << Sample<TypeParam>::kName << " can exceed a frame";
  EXPECT_GE(frame.size(), encode(Sample<TypeParam>::make()).size());

  const auto decoded = decode(frame);
  ASSERT_TRUE(decoded.ok()) << toString(decoded.error());
  ASSERT_TRUE(std::holds_alternative<TypeParam>(*decoded));
  EXPECT_EQ(std::get<TypeParam>(*decoded), big);
  ::testing::Test::RecordProperty("largest_frame_bytes", static_cast<int>(frame.size()));
}

TYPED_TEST(MessageTest, EveryStringOrListOverItsLimitThrows) {
  TypeParam probe = Sample<TypeParam>::make();
  Overfill counter(std::numeric_limits<std::size_t>::max());
  TypeParam::fields(probe, counter);
  for (std::size_t target = 0; target < counter.seen; ++target) {
    TypeParam message = Sample<TypeParam>::make();
    Overfill overfill(target);
    TypeParam::fields(message, overfill);
    EXPECT_THROW(encode(message), std::length_error) << "string or list #" << target;
    EXPECT_THROW(encode(Message{message}), std::length_error) << "string or list #" << target;
  }
}

// ---- exact byte layouts, written out by hand -------------------------------------------------

template <class T>
void expectLayout(const T& message, const Bytes& expected) {
  EXPECT_EQ(hex(encode(message)), hex(expected));
  const auto decoded = decode(expected);
  ASSERT_TRUE(decoded.ok()) << toString(decoded.error());
  ASSERT_TRUE(std::holds_alternative<T>(*decoded));
  EXPECT_EQ(std::get<T>(*decoded), message);
}

// This frame is the worked example in docs/PROTOCOL.md.
TEST(ByteLayout, SendChat) {
  SendChat m{"lobby", "", "h\u00e9llo", kFlagAction, 0x0A0B0C0D01020304ULL};
  expectLayout(m, bytes({
                      0x02, 0x02,                                      // version 2, SendChat
                      0x00, 0x05, 0x6C, 0x6F, 0x62, 0x62, 0x79,        // room "lobby"
                      0x00, 0x00,                                      // subject ""
                      0x00, 0x06, 0x68, 0xC3, 0xA9, 0x6C, 0x6C, 0x6F,  // text "héllo"
                      0x01,                                            // flags: action
                      0x0A, 0x0B, 0x0C, 0x0D, 0x01, 0x02, 0x03, 0x04,  // clientId
                  }));
}

TEST(ByteLayout, PresencePongIntegersAreBigEndian) {
  PresencePong m{0x01020304, 0x1122334455667788ULL, 0x00000000DEADBEEFULL};
  expectLayout(m, bytes({
                      0x02, 0x60,                                      // version 2, PresencePong
                      0x01, 0x02, 0x03, 0x04,                          // seq
                      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // echoClientTime
                      0x00, 0x00, 0x00, 0x00, 0xDE, 0xAD, 0xBE, 0xEF,  // serverTime
                  }));
}

TEST(ByteLayout, ErrorReplyCodeIsU16) {
  ErrorReply m{ErrorCode::NickInUse, 0x00010203, "bob", "taken", 0};
  expectLayout(m, bytes({
                      0x02, 0x41,                                // version 2, ErrorReply
                      0x00, 0x07,                                // code 7 nick_in_use
                      0x00, 0x01, 0x02, 0x03,                    // retryAfterMs
                      0x00, 0x03, 0x62, 0x6F, 0x62,              // context "bob"
                      0x00, 0x05, 0x74, 0x61, 0x6B, 0x65, 0x6E,  // message "taken"
                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // clientId: none
                  }));
}

TEST(ByteLayout, HelloStringListIsCountThenStrings) {
  Hello m{"al", 0x0102030405060708ULL, {"a", "#b"}, "c"};
  expectLayout(m, bytes({
                      0x02, 0x01,                                      // version 2, Hello
                      0x00, 0x02, 0x61, 0x6C,                          // nick "al"
                      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // resumeToken
                      0x00, 0x02,                                      // rooms: 2 entries
                      0x00, 0x01, 0x61,                                // "a"
                      0x00, 0x02, 0x23, 0x62,                          // "#b"
                      0x00, 0x01, 0x63,                                // client "c"
                  }));
}

TEST(ByteLayout, WhoReplyEntryLayout) {
  WhoReply m{"x", {{"al", PresenceState::Away, 300, kUserOperator | kUserTyping}}, false};
  expectLayout(m, bytes({
                      0x02, 0x4B,              // version 2, WhoReply
                      0x00, 0x01, 0x78,        // room "x"
                      0x00, 0x01,              // users: 1 entry
                      0x00, 0x02, 0x61, 0x6C,  //   nick "al"
                      0x01,                    //   state away
                      0x00, 0x00, 0x01, 0x2C,  //   rttMs 300
                      0x03,                    //   flags operator|typing
                      0x00,                    // more false
                  }));
}

TEST(ByteLayout, TypingNoticeBooleansAreOneByte) {
  TypingNotice m{"bob", true, false};
  expectLayout(m, bytes({0x02, 0x21, 0x00, 0x03, 0x62, 0x6F, 0x62, 0x01, 0x00}));
}

TEST(ByteLayout, EmptyStringsAndListsAreJustTheirPrefix) {
  Hello m{};
  expectLayout(m, bytes({0x02, 0x01, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00}));
}

// ---- type codes, channels, directions --------------------------------------------------------

struct TypeRow {
  MessageType type;
  int code;
  int channel;
  bool clientToServer;
};

// Written out by hand: these are part of the wire format.
constexpr TypeRow kTypeTable[] = {
    {MessageType::Hello, 0x01, 0, true},         {MessageType::SendChat, 0x02, 0, true},
    {MessageType::SendPrivate, 0x03, 0, true},   {MessageType::JoinRoom, 0x04, 0, true},
    {MessageType::PartRoom, 0x05, 0, true},      {MessageType::SetTopic, 0x06, 0, true},
    {MessageType::ChangeNick, 0x07, 0, true},    {MessageType::WhoRequest, 0x08, 0, true},
    {MessageType::WhoisRequest, 0x09, 0, true},  {MessageType::SetAway, 0x0A, 0, true},
    {MessageType::DeleteMessage, 0x0B, 0, true}, {MessageType::OperRequest, 0x0C, 0, true},
    {MessageType::KickRequest, 0x0D, 0, true},   {MessageType::QuitRequest, 0x0E, 0, true},
    {MessageType::HistoryRequest, 0x0F, 0, true}, {MessageType::SearchRequest, 0x10, 0, true},
    {MessageType::BanRequest, 0x11, 0, true},     {MessageType::UnbanRequest, 0x12, 0, true},
    {MessageType::BansRequest, 0x13, 0, true},    {MessageType::RegisterRequest, 0x14, 0, true},
    {MessageType::IdentifyRequest, 0x15, 0, true}, {MessageType::UnregisterRequest, 0x16, 0, true},
    {MessageType::PasswordChange, 0x17, 0, true},
    {MessageType::PresencePing, 0x20, 1, true},  {MessageType::TypingNotice, 0x21, 1, true},
    {MessageType::Welcome, 0x40, 0, false},      {MessageType::ErrorReply, 0x41, 0, false},
    {MessageType::ChatEvent, 0x42, 0, false},    {MessageType::PrivateEvent, 0x43, 0, false},
    {MessageType::JoinEvent, 0x44, 0, false},    {MessageType::PartEvent, 0x45, 0, false},
    {MessageType::QuitEvent, 0x46, 0, false},    {MessageType::NickEvent, 0x47, 0, false},
    {MessageType::TopicEvent, 0x48, 0, false},   {MessageType::DeletedEvent, 0x49, 0, false},
    {MessageType::KickEvent, 0x4A, 0, false},    {MessageType::WhoReply, 0x4B, 0, false},
    {MessageType::WhoisReply, 0x4C, 0, false},   {MessageType::PresenceEvent, 0x4D, 0, false},
    {MessageType::AwayReply, 0x4E, 0, false},    {MessageType::NoticeEvent, 0x4F, 0, false},
    {MessageType::HistoryEnd, 0x50, 0, false},   {MessageType::BanListReply, 0x51, 0, false},
    {MessageType::PresencePong, 0x60, 1, false}, {MessageType::TypingEvent, 0x61, 1, false},
};

static_assert(std::size(kTypeTable) == std::variant_size_v<Message>,
              "every message type needs a row in kTypeTable");

const TypeRow* findRow(MessageType type) {
  for (const auto& row : kTypeTable) {
    if (row.type == type) return &row;
  }
  return nullptr;
}

TYPED_TEST(MessageTest, HasARowInTheTypeTable) {
  const TypeRow* row = findRow(TypeParam::kType);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(static_cast<int>(TypeParam::kType), row->code);
}

TEST(MessageTypes, CodesAreUniqueAndMatchTheTable) {
  std::set<int> codes;
  for (const auto& row : kTypeTable) {
    EXPECT_EQ(static_cast<int>(row.type), row.code);
    EXPECT_TRUE(codes.insert(row.code).second) << "duplicate code " << row.code;
  }
}

TEST(MessageTypes, ChannelOfEveryType) {
  for (const auto& row : kTypeTable) {
    EXPECT_EQ(channelOf(row.type), row.channel) << "type 0x" << std::hex << row.code;
  }
  EXPECT_EQ(channelOf(MessageType::PresencePing), kChannelUnreliable);
  EXPECT_EQ(channelOf(MessageType::TypingNotice), kChannelUnreliable);
  EXPECT_EQ(channelOf(MessageType::PresencePong), kChannelUnreliable);
  EXPECT_EQ(channelOf(MessageType::TypingEvent), kChannelUnreliable);
  EXPECT_EQ(channelOf(MessageType::SendChat), kChannelReliable);
}

TEST(MessageTypes, IsClientToServerForEveryType) {
  for (const auto& row : kTypeTable) {
    EXPECT_EQ(isClientToServer(row.type), row.clientToServer) << "type 0x" << std::hex << row.code;
  }
}

TEST(Limits, ChannelsAndVersion) {
  EXPECT_EQ(kProtocolVersion, 2);
  EXPECT_EQ(kChannelReliable, 0);
  EXPECT_EQ(kChannelUnreliable, 1);
  EXPECT_EQ(kChannelCount, 2u);
  EXPECT_EQ(kDefaultPort, 7777);
}

// ---- encoder limits at their edge ------------------------------------------------------------

TEST(EncodeLimits, TextAtItsLimitEncodesAndOneByteMoreThrows) {
  SendChat m{"lobby", "", std::string(kMaxTextBytes, 'a'), 0};
  EXPECT_NO_THROW(encode(m));
  m.text += 'a';
  EXPECT_THROW(encode(m), std::length_error);
}

TEST(EncodeLimits, MultibyteLimitCountsBytesNotCharacters) {
  // 9 four-byte characters are 36 bytes: over the 32-byte nick limit though only 9 characters.
  ChangeNick m{fourByteText(kMaxNickBytes)};
  EXPECT_NO_THROW(encode(m));
  m.nick += "\U0001F389";
  EXPECT_THROW(encode(m), std::length_error);
}

TEST(EncodeLimits, TooManyRoomsThrows) {
  Hello m{"alice", 0, std::vector<std::string>(kMaxRoomsPerUser, "r"), ""};
  EXPECT_NO_THROW(encode(m));
  m.rooms.push_back("r");
  EXPECT_THROW(encode(m), std::length_error);
}

TEST(EncodeLimits, TooManyWhoEntriesThrows) {
  WhoReply m{"lobby", std::vector<WhoEntry>(kMaxWhoEntriesPerFrame, WhoEntry{"a"}), false};
  EXPECT_NO_THROW(encode(m));
  m.users.push_back(WhoEntry{"b"});
  EXPECT_THROW(encode(m), std::length_error);
}

// ---- names -----------------------------------------------------------------------------------

TEST(ErrorCodes, NamesArePinnedUniqueAndNonEmpty) {
  // The names appear in JSON output and docs/PROTOCOL.md: changing one breaks consumers.
  const std::vector<std::string_view> expected = {
      "malformed",          "unsupported_version", "unexpected_message",   "not_registered",
      "already_registered", "nick_invalid",        "nick_in_use",          "no_such_nick",
      "room_invalid",       "not_in_room",         "too_many_rooms",       "text_too_long",
      "invalid_utf8",       "control_character",   "empty_text",           "rate_limited",
      "not_operator",       "bad_password",        "oper_disabled",        "no_such_message",
      "not_your_message",   "server_full",         "registration_timeout", "cannot_kick_self",
      "too_many_connections",
      "storage_unavailable",  "banned",              "not_banned",
      "nick_registered",      "account_unknown",     "password_invalid",
      "cluster_unavailable",
  };
  ASSERT_EQ(expected.size(), kLastErrorCode);
  std::set<std::string_view> seen;
  for (std::uint16_t code = 1; code <= kLastErrorCode; ++code) {
    const std::string_view name = toString(static_cast<ErrorCode>(code));
    EXPECT_FALSE(name.empty()) << "code " << code;
    EXPECT_NE(name, "unknown") << "code " << code;
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
    EXPECT_EQ(name, expected[code - 1]) << "code " << code;
  }
}

TEST(ErrorCodes, NumbersArePinned) {
  EXPECT_EQ(static_cast<int>(ErrorCode::Malformed), 1);
  EXPECT_EQ(static_cast<int>(ErrorCode::UnsupportedVersion), 2);
  EXPECT_EQ(static_cast<int>(ErrorCode::RateLimited), 16);
  EXPECT_EQ(static_cast<int>(ErrorCode::ServerFull), 22);
  EXPECT_EQ(static_cast<int>(ErrorCode::CannotKickSelf), 24);
  EXPECT_EQ(static_cast<int>(ErrorCode::TooManyConnections), 25);
  EXPECT_EQ(static_cast<int>(ErrorCode::StorageUnavailable), 26);
  EXPECT_EQ(static_cast<int>(ErrorCode::Banned), 27);
  EXPECT_EQ(static_cast<int>(ErrorCode::NotBanned), 28);
  EXPECT_EQ(static_cast<int>(ErrorCode::PasswordInvalid), 31);
  EXPECT_EQ(static_cast<int>(ErrorCode::ClusterUnavailable), 32);
  EXPECT_EQ(kLastErrorCode, 32);
}

TEST(ErrorCodes, OutOfRangeCodeHasAFallbackName) {
  EXPECT_EQ(toString(static_cast<ErrorCode>(0)), "unknown");
  EXPECT_EQ(toString(static_cast<ErrorCode>(kLastErrorCode + 1)), "unknown");
}

TEST(DecodeErrors, NamesAreUniqueAndNonEmpty) {
  const DecodeError all[] = {
      DecodeError::Empty,       DecodeError::TooLarge,  DecodeError::BadVersion,
      DecodeError::UnknownType, DecodeError::Truncated, DecodeError::FieldTooLong,
      DecodeError::InvalidUtf8, DecodeError::BadValue,  DecodeError::TrailingBytes};
  std::set<std::string_view> seen;
  for (DecodeError e : all) {
    const std::string_view name = toString(e);
    EXPECT_FALSE(name.empty());
    EXPECT_NE(name, "unknown decode error");
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
  }
}

TEST(PresenceStates, Names) {
  EXPECT_EQ(toString(PresenceState::Active), "active");
  EXPECT_EQ(toString(PresenceState::Away), "away");
  EXPECT_EQ(toString(PresenceState::Lagging), "lagging");
  EXPECT_EQ(enumCount(PresenceState{}), 3);
  EXPECT_EQ(enumCount(NoticeKind{}), 2);
}

TEST(Flags, BitsArePinned) {
  EXPECT_EQ(kFlagAction, 0x01);
  EXPECT_EQ(kFlagHistory, 0x02);
  EXPECT_EQ(kFlagOffline, 0x04);
  EXPECT_EQ(kFlagPage, 0x08);
  EXPECT_EQ(kKnownMessageFlags, 0x0F);
  EXPECT_EQ(kUserOperator, 0x01);
  EXPECT_EQ(kUserTyping, 0x02);
  EXPECT_EQ(kKnownUserFlags, 0x03);
}

}  // namespace
}  // namespace udpchat::protocol
