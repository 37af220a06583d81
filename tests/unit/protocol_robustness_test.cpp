// The decoder under hostile input. For every message type: truncations, trailing bytes, lengths
// past their limit or past the frame end, invalid UTF-8, out-of-range enums and booleans, wrong
// versions, unknown types and oversized frames are each rejected with the expected DecodeError.
// Then a seeded fuzz: random bytes and mutated valid frames either decode canonically or are
// rejected, and never crash (run it under AddressSanitizer and UBSan too).
//
// Every frame is decoded from its own exactly-sized buffer, so a read past the end is a heap
// overflow that AddressSanitizer reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "udpchat/limits.hpp"
#include "udpchat/overlong_field.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/text.hpp"
#include "unit/message_types.hpp"

namespace udpchat::protocol {

using ::udpchat::testing::TypesOf;
namespace {

std::string hex(ByteSpan frame, std::size_t maxBytes = 64) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < frame.size() && i < maxBytes; ++i) {
    const auto v = std::to_integer<unsigned>(frame[i]);
    out += kDigits[v >> 4];
    out += kDigits[v & 0xF];
    out += ' ';
  }
  if (frame.size() > maxBytes) out += "... (" + std::to_string(frame.size()) + " bytes)";
  return out;
}

void putU16(Bytes& frame, std::size_t offset, std::size_t value) {
  frame.at(offset) = static_cast<std::byte>((value >> 8) & 0xFF);
  frame.at(offset + 1) = static_cast<std::byte>(value & 0xFF);
}

Bytes prefix(const Bytes& frame, std::size_t length) {
  return Bytes(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(length));
}

// The DecodeError a frame produces; a frame that decodes yields "decoded".
::testing::AssertionResult rejectedWith(const Bytes& frame, DecodeError expected) {
  const auto result = decode(frame);
  if (result.ok()) {
    return ::testing::AssertionFailure()
           << "decoded, expected " << toString(expected) << ": " << hex(frame);
  }
  if (result.error() != expected) {
    return ::testing::AssertionFailure()
           << "got \"" << toString(result.error()) << "\", expected \"" << toString(expected)
           << "\": " << hex(frame);
  }
  return ::testing::AssertionSuccess();
}

// ---- where each field sits in a frame --------------------------------------------------------

enum class Kind { U8, U16, U32, U64, Bool, Enum, Code, Str, StrList, List };

struct FieldPos {
  Kind kind;
  std::size_t offset;     // of the field, or of the length/count prefix
  std::size_t limit = 0;  // bytes for strings, entries for lists
  std::size_t size = 0;   // bytes of a string, entries of a list
  int enumCount = 0;
};

// Walks fields() like the encoder does, independently of it, and records every field's offset.
class LayoutWalker {
 public:
  std::vector<FieldPos> fields;
  std::size_t offset = 2;  // after version and type

  void u8(const std::uint8_t&) { add(Kind::U8, 1); }
  void u16(const std::uint16_t&) { add(Kind::U16, 2); }
  void u32(const std::uint32_t&) { add(Kind::U32, 4); }
  void u64(const std::uint64_t&) { add(Kind::U64, 8); }
  void boolean(const bool&) { add(Kind::Bool, 1); }
  template <class E>
  void enumeration(const E&) {
    fields.push_back({Kind::Enum, offset, 0, 0, enumCount(E{})});
    offset += 1;
  }
  void errorCode(const ErrorCode&) { add(Kind::Code, 2); }
  void str(const std::string& s, std::size_t maxBytes) {
    fields.push_back({Kind::Str, offset, maxBytes, s.size()});
    offset += 2 + s.size();
  }
  void strList(const std::vector<std::string>& list, std::size_t maxCount, std::size_t maxBytes) {
    fields.push_back({Kind::StrList, offset, maxCount, list.size()});
    offset += 2;
    for (const auto& s : list) str(s, maxBytes);
  }
  template <class T>
  void list(const std::vector<T>& items, std::size_t maxCount) {
    fields.push_back({Kind::List, offset, maxCount, items.size()});
    offset += 2;
    for (const auto& item : items) T::fields(item, *this);
  }

 private:
  void add(Kind kind, std::size_t width) {
    fields.push_back({kind, offset});
    offset += width;
  }
};

template <class T>
LayoutWalker layoutOf(const T& message) {
  LayoutWalker walker;
  T::fields(message, walker);
  return walker;
}

// ---- instances of every type -----------------------------------------------------------------

constexpr std::string_view kShortText = "a\u00f1\U0001F389";  // 1-, 2- and 4-byte characters

// Every string kShortText (7 bytes: room for a longer length under every limit), every list two
// entries, every enum and bool 1, integers with every byte distinct.
class TypicalFiller {
 public:
  void u8(std::uint8_t& v) { v = 1; }
  void u16(std::uint16_t& v) { v = 0x1234; }
  void u32(std::uint32_t& v) { v = 0x12345678; }
  void u64(std::uint64_t& v) { v = 0x0123456789ABCDEFULL; }
  void boolean(bool& v) { v = true; }
  template <class E>
  void enumeration(E& v) {
    v = static_cast<E>(1);
  }
  void errorCode(ErrorCode& v) { v = ErrorCode::NickInUse; }
  void str(std::string& s, std::size_t) { s = kShortText; }
  void strList(std::vector<std::string>& list, std::size_t, std::size_t maxBytes) {
    list.resize(2);
    for (auto& s : list) str(s, maxBytes);
  }
  template <class T>
  void list(std::vector<T>& items, std::size_t) {
    items.resize(2);
    for (auto& item : items) T::fields(item, *this);
  }
};

// Every string at its limit in 4-byte characters, every list full.
class Maximizer {
 public:
  void u8(std::uint8_t& v) { v = 1; }
  void u16(std::uint16_t& v) { v = 0xFFFF; }
  void u32(std::uint32_t& v) { v = 0xFFFFFFFF; }
  void u64(std::uint64_t& v) { v = std::numeric_limits<std::uint64_t>::max(); }
  void boolean(bool& v) { v = true; }
  template <class E>
  void enumeration(E& v) {
    v = static_cast<E>(enumCount(E{}) - 1);
  }
  void errorCode(ErrorCode& v) { v = static_cast<ErrorCode>(kLastErrorCode); }
  void str(std::string& s, std::size_t maxBytes) {
    s.clear();
    while (s.size() + 4 <= maxBytes) s += "\U0001D11E";
    while (s.size() < maxBytes) s += 'x';
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
};

// Valid messages with random contents: any code point but surrogates (controls included: the
// wire accepts them, servers refuse them), lengths from empty to the limit.
class RandomFiller {
 public:
  explicit RandomFiller(std::mt19937& rng) : rng_(rng) {}

  void u8(std::uint8_t& v) { v = static_cast<std::uint8_t>(uniform(0, 0xFF)); }
  void u16(std::uint16_t& v) { v = static_cast<std::uint16_t>(uniform(0, 0xFFFF)); }
  void u32(std::uint32_t& v) { v = static_cast<std::uint32_t>(rng_()); }
  void u64(std::uint64_t& v) { v = (std::uint64_t{rng_()} << 32) | rng_(); }
  void boolean(bool& v) { v = uniform(0, 1) == 1; }
  template <class E>
  void enumeration(E& v) {
    v = static_cast<E>(uniform(0, enumCount(E{}) - 1));
  }
  void errorCode(ErrorCode& v) { v = static_cast<ErrorCode>(uniform(1, kLastErrorCode)); }
  void str(std::string& s, std::size_t maxBytes) { s = text(pickLength(maxBytes)); }
  void strList(std::vector<std::string>& list, std::size_t maxCount, std::size_t maxBytes) {
    list.resize(pickCount(maxCount));
    for (auto& s : list) str(s, maxBytes);
  }
  template <class T>
  void list(std::vector<T>& items, std::size_t maxCount) {
    items.resize(pickCount(maxCount));
    for (auto& item : items) T::fields(item, *this);
  }

 private:
  std::size_t uniform(std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_);
  }
  std::size_t pickLength(std::size_t max) {
    const std::size_t r = uniform(0, 9);
    if (r < 5) return uniform(0, std::min<std::size_t>(max, 8));
    if (r < 9) return uniform(0, max);
    return max;
  }
  std::size_t pickCount(std::size_t max) {
    return uniform(0, 9) < 7 ? uniform(0, std::min<std::size_t>(max, 3)) : uniform(0, max);
  }
  std::string text(std::size_t bytes) {
    std::string s;
    while (s.size() < bytes) {
      const std::size_t room = bytes - s.size();
      char32_t cp = 0;
      switch (uniform(0, 3)) {
        case 0:
          cp = static_cast<char32_t>(uniform(0, 0x7F));
          break;
        case 1:
          cp = static_cast<char32_t>(uniform(0x80, 0x7FF));
          break;
        case 2:
          cp = static_cast<char32_t>(uniform(0x800, 0xFFFF));
          break;
        default:
          cp = static_cast<char32_t>(uniform(0x10000, 0x10FFFF));
          break;
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
      const std::size_t need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (need > room) cp = static_cast<char32_t>(uniform(0x20, 0x7E));
      text::appendUtf8(s, cp);
    }
    return s;
  }

  std::mt19937& rng_;
};

template <class T, class Filler>
T filled(Filler filler) {
  T message;
  T::fields(message, filler);
  return message;
}

template <class T>
T typical() {
  return filled<T>(TypicalFiller{});
}

template <class T>
T largest() {
  return filled<T>(Maximizer{});
}

// ---- typed tests over every alternative of Message -------------------------------------------

struct TypeCodeNames {
  template <class T>
  static std::string GetName(int) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    const auto code = static_cast<unsigned>(T::kType);
    return std::string("type0x") + kDigits[code >> 4] + kDigits[code & 0xF];
  }
};

template <class T>
class Robustness : public ::testing::Test {
 protected:
  // The typical frame, checked to decode to the typical message before any test mutates it.
  static Bytes validFrame() {
    const T message = typical<T>();
    Bytes frame = encode(message);
    const auto decoded = decode(frame);
    EXPECT_TRUE(decoded.ok() && std::get<T>(*decoded) == message) << hex(frame);
    return frame;
  }
};
TYPED_TEST_SUITE(Robustness, TypesOf<Message>::type, TypeCodeNames);

TYPED_TEST(Robustness, LayoutWalkerAgreesWithTheEncoder) {
  // The offsets the tests below poke at are only meaningful if this holds.
  const TypeParam message = typical<TypeParam>();
  EXPECT_EQ(layoutOf(message).offset, encode(message).size());
  const TypeParam big = largest<TypeParam>();
  EXPECT_EQ(layoutOf(big).offset, encode(big).size());
}

TYPED_TEST(Robustness, EveryStrictPrefixIsRejected) {
  for (const Bytes& frame : {this->validFrame(), encode(largest<TypeParam>())}) {
    ASSERT_TRUE(decode(frame).ok());
    EXPECT_TRUE(rejectedWith(prefix(frame, 0), DecodeError::Empty));
    for (std::size_t length = 1; length < frame.size(); ++length) {
      ASSERT_TRUE(rejectedWith(prefix(frame, length), DecodeError::Truncated))
          << "prefix of " << length << " of " << frame.size() << " bytes";
    }
  }
}

TYPED_TEST(Robustness, OneExtraByteIsTrailingBytes) {
  for (int extra : {0x00, 0x01, 0xFF}) {
    Bytes frame = this->validFrame();
    frame.push_back(static_cast<std::byte>(extra));
    EXPECT_TRUE(rejectedWith(frame, DecodeError::TrailingBytes)) << "extra byte " << extra;
  }
  Bytes big = encode(largest<TypeParam>());
  big.push_back(std::byte{0});
  EXPECT_TRUE(rejectedWith(big, DecodeError::TrailingBytes));
}

TYPED_TEST(Robustness, LengthPastItsLimitIsFieldTooLong) {
  const Bytes frame = this->validFrame();
  for (const FieldPos& field : layoutOf(typical<TypeParam>()).fields) {
    if (field.kind != Kind::Str && field.kind != Kind::StrList && field.kind != Kind::List) {
      continue;
    }
    for (std::size_t length : {field.limit + 1, std::size_t{0xFFFF}}) {
      Bytes bad = frame;
      putU16(bad, field.offset, length);
      EXPECT_TRUE(rejectedWith(bad, DecodeError::FieldTooLong))
          << "length " << length << " at offset " << field.offset;
    }
  }
}

TYPED_TEST(Robustness, TheOverlongFieldIsFoundWithItsOwnLimit) {
  // What lets a server's text_too_long name the field: every string and list over its limit is
  // reported with what the frame claimed and that field's limit, and named in every request.
  const Bytes frame = this->validFrame();
  EXPECT_FALSE(findOverlongField(frame).has_value());
  for (const FieldPos& field : layoutOf(typical<TypeParam>()).fields) {
    if (field.kind != Kind::Str && field.kind != Kind::StrList && field.kind != Kind::List) {
      continue;
    }
    Bytes bad = frame;
    putU16(bad, field.offset, field.limit + 1);
    const auto found = findOverlongField(bad);
    ASSERT_TRUE(found.has_value()) << "offset " << field.offset;
    EXPECT_EQ(found->claimed, field.limit + 1) << "offset " << field.offset;
    EXPECT_EQ(found->limit, field.limit) << "offset " << field.offset;
    EXPECT_EQ(found->entries, field.kind != Kind::Str) << "offset " << field.offset;
    if (isClientToServer(TypeParam::kType)) {
      EXPECT_FALSE(found->name.empty()) << "offset " << field.offset;
    }
  }
}

TYPED_TEST(Robustness, LengthPastTheFrameEndIsTruncated) {
  const Bytes frame = this->validFrame();
  for (const FieldPos& field : layoutOf(typical<TypeParam>()).fields) {
    if (field.kind == Kind::Str) {
      // The frame ends right after the string's bytes; the length claims more, within its limit.
      const Bytes cut = prefix(frame, field.offset + 2 + field.size);
      for (std::size_t length : {field.size + 1, field.limit}) {
        Bytes bad = cut;
        putU16(bad, field.offset, length);
        EXPECT_TRUE(rejectedWith(bad, DecodeError::Truncated))
            << "length " << length << " at offset " << field.offset;
      }
      // In the whole frame, when the limit allows a length one past the frame's end.
      const std::size_t remaining = frame.size() - field.offset - 2;
      if (remaining + 1 <= field.limit) {
        Bytes bad = frame;
        putU16(bad, field.offset, remaining + 1);
        EXPECT_TRUE(rejectedWith(bad, DecodeError::Truncated)) << "offset " << field.offset;
      }
    } else if (field.kind == Kind::StrList || field.kind == Kind::List) {
      // The frame ends right after the count; the count claims entries.
      for (std::size_t count : {std::size_t{1}, field.limit}) {
        Bytes bad = prefix(frame, field.offset + 2);
        putU16(bad, field.offset, count);
        EXPECT_TRUE(rejectedWith(bad, DecodeError::Truncated))
            << "count " << count << " at offset " << field.offset;
      }
    }
  }
}

TYPED_TEST(Robustness, InvalidUtf8InAnyStringIsRejected) {
  const Bytes frame = this->validFrame();
  // Each replaces the first bytes of a string; kShortText is long enough for all of them.
  const std::vector<std::vector<int>> invalid = {
      {0xFF},                    // never valid
      {0x80},                    // continuation byte without a lead
      {0xC0, 0xAF},              // overlong '/'
      {0xE0, 0x80, 0xAF},        // overlong '/'
      {0xED, 0xA0, 0x80},        // surrogate U+D800
      {0xF4, 0x90, 0x80, 0x80},  // U+110000
      {0xC3, 0x41},              // lead byte followed by ASCII
  };
  int tested = 0;
  for (const FieldPos& field : layoutOf(typical<TypeParam>()).fields) {
    if (field.kind != Kind::Str) continue;
    for (const auto& sequence : invalid) {
      ASSERT_GE(field.size, sequence.size());
      Bytes bad = frame;
      for (std::size_t i = 0; i < sequence.size(); ++i) {
        bad[field.offset + 2 + i] = static_cast<std::byte>(sequence[i]);
      }
      EXPECT_TRUE(rejectedWith(bad, DecodeError::InvalidUtf8)) << "offset " << field.offset;
      ++tested;
    }
    // The lead byte of a 2-byte character as the string's last byte: validation stops at the
    // string's end, whatever bytes follow in the frame.
    Bytes bad = frame;
    for (std::size_t i = 0; i < field.size; ++i) bad[field.offset + 2 + i] = std::byte{'x'};
    bad[field.offset + 2 + field.size - 1] = std::byte{0xC3};
    EXPECT_TRUE(rejectedWith(bad, DecodeError::InvalidUtf8)) << "offset " << field.offset;
  }
  const bool hasStrings = tested > 0;
  const bool isPingOrPong = TypeParam::kType == MessageType::PresencePing ||
                            TypeParam::kType == MessageType::PresencePong;
  EXPECT_NE(hasStrings, isPingOrPong) << "only pings and pongs carry no string";
}

TYPED_TEST(Robustness, OutOfRangeEnumsAndBooleansAreBadValue) {
  const Bytes frame = this->validFrame();
  for (const FieldPos& field : layoutOf(typical<TypeParam>()).fields) {
    std::vector<std::size_t> badValues;
    std::vector<std::size_t> goodValues;
    switch (field.kind) {
      case Kind::Bool:
        badValues = {2, 0x80, 0xFF};
        goodValues = {0, 1};
        break;
      case Kind::Enum:
        badValues = {static_cast<std::size_t>(field.enumCount), 0xFF};
        goodValues = {0, static_cast<std::size_t>(field.enumCount - 1)};
        break;
      case Kind::Code:
        badValues = {0, kLastErrorCode + 1u, 0x0100, 0xFFFF};
        goodValues = {1, kLastErrorCode};
        break;
      default:
        continue;
    }
    const std::size_t width = field.kind == Kind::Code ? 2 : 1;
    auto withValue = [&](std::size_t value) {
      Bytes changed = frame;
      if (width == 2) {
        putU16(changed, field.offset, value);
      } else {
        changed[field.offset] = static_cast<std::byte>(value);
      }
      return changed;
    };
    for (std::size_t value : badValues) {
      EXPECT_TRUE(rejectedWith(withValue(value), DecodeError::BadValue))
          << "value " << value << " at offset " << field.offset;
    }
    for (std::size_t value : goodValues) {
      const auto decoded = decode(withValue(value));
      EXPECT_TRUE(decoded.ok()) << "value " << value << " at offset " << field.offset << ": "
                                << toString(decoded.error());
    }
  }
}

TYPED_TEST(Robustness, WrongVersionIsBadVersion) {
  for (int version : {0x00, 0x01, 0x03, 0x7F, 0xFF}) {
    Bytes frame = this->validFrame();
    frame[0] = static_cast<std::byte>(version);
    EXPECT_TRUE(rejectedWith(frame, DecodeError::BadVersion)) << "version " << version;
    EXPECT_TRUE(rejectedWith(prefix(frame, 1), DecodeError::BadVersion)) << "version " << version;
  }
}

TYPED_TEST(Robustness, FramesOverTheMaximumAreTooLarge) {
  Bytes frame = this->validFrame();
  frame.resize(kMaxFrameBytes, std::byte{0});
  EXPECT_TRUE(rejectedWith(frame, DecodeError::TrailingBytes)) << "exactly the maximum";
  frame.push_back(std::byte{0});
  EXPECT_TRUE(rejectedWith(frame, DecodeError::TooLarge));
  frame.resize(1 << 20, std::byte{0x41});
  EXPECT_TRUE(rejectedWith(frame, DecodeError::TooLarge));
}

std::set<int> knownTypeCodes() {
  std::set<int> codes;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (codes.insert(static_cast<int>(std::variant_alternative_t<I, Message>::kType)), ...);
  }
  (std::make_index_sequence<std::variant_size_v<Message>>{});
  return codes;
}

TEST(RobustnessFrame, UnknownTypeBytesAreUnknownType) {
  const std::set<int> known = knownTypeCodes();
  ASSERT_EQ(known.size(), std::variant_size_v<Message>) << "two types share a code";
  for (int type = 0; type <= 0xFF; ++type) {
    const Bytes header = {std::byte{kProtocolVersion}, static_cast<std::byte>(type)};
    Bytes withBody = header;
    withBody.resize(12, std::byte{0});
    if (known.count(type) != 0) {
      EXPECT_TRUE(rejectedWith(header, DecodeError::Truncated)) << "known type " << type;
      continue;
    }
    EXPECT_TRUE(rejectedWith(header, DecodeError::UnknownType)) << "type " << type;
    EXPECT_TRUE(rejectedWith(withBody, DecodeError::UnknownType)) << "type " << type;
  }
}

TEST(RobustnessFrame, TooShortForAType) {
  EXPECT_TRUE(rejectedWith(Bytes{}, DecodeError::Empty));
  EXPECT_TRUE(rejectedWith(Bytes{std::byte{kProtocolVersion}}, DecodeError::Truncated));
}

TEST(RobustnessFrame, ZeroLengthSpanWithNullDataIsEmpty) {
  const auto result = decode(ByteSpan{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), DecodeError::Empty);
}

// ---- seeded fuzz -----------------------------------------------------------------------------

template <std::size_t... I>
Message randomMessage(std::size_t index, std::mt19937& rng, std::index_sequence<I...>) {
  Message out;
  (void)((index == I
              ? (out = filled<std::variant_alternative_t<I, Message>>(RandomFiller(rng)), true)
              : false) ||
         ...);
  return out;
}

Message randomMessage(std::size_t index, std::mt19937& rng) {
  return randomMessage(index, rng, std::make_index_sequence<std::variant_size_v<Message>>{});
}

TEST(RobustnessRandom, RandomValidMessagesRoundTrip) {
  std::mt19937 rng(0x5EED0001);
  for (int i = 0; i < 50 * static_cast<int>(std::variant_size_v<Message>); ++i) {
    const Message message = randomMessage(i % std::variant_size_v<Message>, rng);
    const Bytes frame = encode(message);
    ASSERT_LE(frame.size(), kMaxFrameBytes);
    const auto decoded = decode(frame);
    ASSERT_TRUE(decoded.ok()) << toString(decoded.error()) << ": " << hex(frame);
    ASSERT_TRUE(*decoded == message) << "iteration " << i << ": " << hex(frame);
  }
}

enum class Outcome { Accepted, Rejected };

// Either the frame decodes, and then its message re-encodes to exactly the same bytes (the
// encoding is canonical) which decode to an equal message; or it is rejected.
::testing::AssertionResult decodesCanonicallyOrIsRejected(const Bytes& frame, Outcome& outcome) {
  const auto decoded = decode(frame);
  if (!decoded.ok()) {
    outcome = Outcome::Rejected;
    return ::testing::AssertionSuccess();
  }
  outcome = Outcome::Accepted;
  Bytes again;
  try {
    again = encode(*decoded);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "decoded message does not re-encode (" << e.what() << "): " << hex(frame, 4096);
  }
  if (again != frame) {
    return ::testing::AssertionFailure()
           << "not canonical:\n  in:  " << hex(frame, 4096) << "\n  out: " << hex(again, 4096);
  }
  const auto redecoded = decode(again);
  if (!redecoded.ok() || !(*redecoded == *decoded)) {
    return ::testing::AssertionFailure()
           << "re-encoded frame decodes differently: " << hex(frame, 4096);
  }
  return ::testing::AssertionSuccess();
}

class Mutator {
 public:
  explicit Mutator(std::mt19937& rng) : rng_(rng) {}

  std::size_t uniform(std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_);
  }
  std::byte randomByte() { return static_cast<std::byte>(uniform(0, 0xFF)); }

  void mutate(Bytes& frame) {
    switch (uniform(0, 7)) {
      case 0:  // flip one bit
        if (!frame.empty()) frame[uniform(0, frame.size() - 1)] ^= std::byte{1} << uniform(0, 7);
        break;
      case 1:  // overwrite one byte
        if (!frame.empty()) frame[uniform(0, frame.size() - 1)] = randomByte();
        break;
      case 2:  // insert a byte
        frame.insert(frame.begin() + static_cast<std::ptrdiff_t>(uniform(0, frame.size())),
                     randomByte());
        break;
      case 3:  // delete a byte
        if (!frame.empty()) {
          frame.erase(frame.begin() + static_cast<std::ptrdiff_t>(uniform(0, frame.size() - 1)));
        }
        break;
      case 4:  // truncate
        frame.resize(uniform(0, frame.size()));
        break;
      case 5: {  // a u16 that may be a length: set it to an edge value
        if (frame.size() < 2) break;
        static constexpr std::size_t kEdges[] = {0,   1,   2,   31,  32,   33,     64,
                                                 65,  127, 128, 300, 301,  4000,   4001,
                                                 255, 256, 16,  17,  8192, 0x7FFF, 0xFFFF};
        const std::size_t at = uniform(0, frame.size() - 2);
        putU16(frame, at, kEdges[uniform(0, std::size(kEdges) - 1)]);
        break;
      }
      case 6:  // append random bytes
        for (std::size_t n = uniform(1, 8); n > 0; --n) frame.push_back(randomByte());
        break;
      default:  // write a random byte into a string's bytes that may break its UTF-8
        if (!frame.empty()) {
          static constexpr int kTricky[] = {0x80, 0xBF, 0xC0, 0xC1, 0xC3, 0xE0, 0xED,
                                            0xF0, 0xF4, 0xF5, 0xFF, 0x00, 0x1B, 0x7F};
          frame[uniform(0, frame.size() - 1)] =
              static_cast<std::byte>(kTricky[uniform(0, std::size(kTricky) - 1)]);
        }
        break;
    }
  }

 private:
  std::mt19937& rng_;
};

TEST(RobustnessRandom, MutatedAndRandomFramesDecodeCanonicallyOrAreRejected) {
  std::mt19937 rng(0x0DD5EED5);
  Mutator mutator(rng);
  constexpr std::size_t kTypes = std::variant_size_v<Message>;
  constexpr std::size_t kMutatedPerType = 700;
  constexpr std::size_t kRandomFrames = 6000;

  std::size_t fuzzed = 0;  // mutated and random frames
  std::size_t accepted = 0;
  std::set<int> acceptedTypes;
  auto check = [&](const Bytes& frame, bool isFuzz, std::size_t iteration) {
    Outcome outcome = Outcome::Rejected;
    const auto verdict = decodesCanonicallyOrIsRejected(frame, outcome);
    if (!isFuzz) return verdict;
    ++fuzzed;
    if (outcome == Outcome::Accepted) {
      ++accepted;
      acceptedTypes.insert(std::to_integer<int>(frame[1]));
    }
    return ::testing::AssertionResult(verdict) << " (iteration " << iteration << ")";
  };

  // Mutations of valid frames of every type, one to four mutations each.
  for (std::size_t i = 0; i < kTypes * kMutatedPerType; ++i) {
    Bytes frame = encode(randomMessage(i % kTypes, rng));
    ASSERT_TRUE(check(frame, false, i)) << "unmutated";
    for (std::size_t n = mutator.uniform(1, 4); n > 0; --n) mutator.mutate(frame);
    ASSERT_TRUE(check(frame, true, i));
  }

  // Random bytes: half of them behind a valid version and type, so they reach the fields.
  const std::set<int> known = knownTypeCodes();
  const std::vector<int> codes(known.begin(), known.end());
  for (std::size_t i = 0; i < kRandomFrames; ++i) {
    const std::size_t length = mutator.uniform(0, 3) == 0 ? mutator.uniform(0, kMaxFrameBytes + 8)
                                                          : mutator.uniform(0, 48);
    Bytes frame(length);
    for (auto& b : frame) b = mutator.randomByte();
    if (frame.size() >= 2 && mutator.uniform(0, 1) == 0) {
      frame[0] = std::byte{kProtocolVersion};
      frame[1] = static_cast<std::byte>(codes[mutator.uniform(0, codes.size() - 1)]);
    }
    ASSERT_TRUE(check(frame, true, i));
  }

  EXPECT_GE(fuzzed, 20000u);
  // The fuzz is only worth something if both outcomes occur: mutated frames that still decode
  // (a flipped bit inside an integer or a string) reach the canonical-encoding check.
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, fuzzed);
  EXPECT_GE(acceptedTypes.size(), kTypes / 2);
  ::testing::Test::RecordProperty("fuzzed_frames", static_cast<int>(fuzzed));
  ::testing::Test::RecordProperty("accepted_frames", static_cast<int>(accepted));
}

}  // namespace
}  // namespace udpchat::protocol
