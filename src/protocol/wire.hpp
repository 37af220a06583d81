// Byte-level encoder and decoder that walk a message's fields() list.
// Integers are written byte by byte, big-endian; nothing is read through a cast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "udpchat/protocol.hpp"
#include "udpchat/text.hpp"

namespace udpchat::protocol::wire {

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  template <class E>
  void enumeration(E v) {
    u8(static_cast<std::uint8_t>(v));
  }
  void errorCode(ErrorCode v) { u16(static_cast<std::uint16_t>(v)); }

  void str(const std::string& s, std::size_t maxBytes) {
    if (s.size() > maxBytes) throw std::length_error("udpchat: string field over its wire limit");
    u16(static_cast<std::uint16_t>(s.size()));
    for (char c : s) out_.push_back(static_cast<std::byte>(c));
  }
  void strList(const std::vector<std::string>& list, std::size_t maxCount, std::size_t maxBytes) {
    if (list.size() > maxCount) throw std::length_error("udpchat: list field over its wire limit");
    u16(static_cast<std::uint16_t>(list.size()));
    for (const auto& s : list) str(s, maxBytes);
  }
  template <class T>
  void list(const std::vector<T>& items, std::size_t maxCount) {
    if (items.size() > maxCount) throw std::length_error("udpchat: list field over its wire limit");
    u16(static_cast<std::uint16_t>(items.size()));
    for (const auto& item : items) T::fields(item, *this);
  }

 private:
  void put(std::uint64_t v, int bytes) {
    for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
      out_.push_back(static_cast<std::byte>((v >> shift) & 0xFF));
    }
  }
  Bytes& out_;
};

// Reads fields in order; the first failure sticks and every later read is a no-op, so a
// fields() list needs no error checks between its lines.
class Reader {
 public:
  explicit Reader(ByteSpan in) : in_(in) {}

  bool failed() const { return failed_; }
  DecodeError error() const { return error_; }
  std::size_t remaining() const { return in_.size() - pos_; }
  // After FieldTooLong: what the frame claimed (bytes, or entries when `entries`) and the limit
  // it broke.
  struct Overlong {
    std::size_t claimed = 0;
    std::size_t limit = 0;
    bool entries = false;
  };
  const Overlong& overlong() const { return overlong_; }

  void u8(std::uint8_t& v) { v = static_cast<std::uint8_t>(get(1)); }
  void u16(std::uint16_t& v) { v = static_cast<std::uint16_t>(get(2)); }
  void u32(std::uint32_t& v) { v = static_cast<std::uint32_t>(get(4)); }
  void u64(std::uint64_t& v) { v = get(8); }
  void boolean(bool& v) {
    std::uint8_t raw = 0;
    u8(raw);
    if (raw > 1) fail(DecodeError::BadValue);
    v = raw == 1;
  }
  template <class E>
  void enumeration(E& v) {
    std::uint8_t raw = 0;
    u8(raw);
    if (raw >= enumCount(E{})) fail(DecodeError::BadValue);
    v = failed_ ? E{} : static_cast<E>(raw);
  }
  void errorCode(ErrorCode& v) {
    std::uint16_t raw = 0;
    u16(raw);
    if (raw == 0 || raw > kLastErrorCode) fail(DecodeError::BadValue);
    v = failed_ ? ErrorCode::Malformed : static_cast<ErrorCode>(raw);
  }

  void str(std::string& s, std::size_t maxBytes) {
    std::uint16_t length = 0;
    u16(length);
    if (failed_) return;
    // Check against the field's limit and the bytes present before allocating anything.
    if (length > maxBytes) return tooLong({length, maxBytes, false});
    if (length > remaining()) return fail(DecodeError::Truncated);
    s.assign(reinterpret_cast<const char*>(in_.data() + pos_), length);
    pos_ += length;
    if (!text::isValidUtf8(s)) fail(DecodeError::InvalidUtf8);
  }
  void strList(std::vector<std::string>& list, std::size_t maxCount, std::size_t maxBytes) {
    std::uint16_t count = 0;
    u16(count);
    if (failed_) return;
    if (count > maxCount) return tooLong({count, maxCount, true});
    // Each element needs at least its 2-byte length: a count the frame cannot hold is truncated.
    if (count * std::size_t{2} > remaining()) return fail(DecodeError::Truncated);
    list.resize(count);
    for (auto& s : list) {
      str(s, maxBytes);
      if (failed_) return;
    }
  }
  template <class T>
  void list(std::vector<T>& items, std::size_t maxCount) {
    std::uint16_t count = 0;
    u16(count);
    if (failed_) return;
    if (count > maxCount) return tooLong({count, maxCount, true});
    if (count > remaining()) return fail(DecodeError::Truncated);  // every element is >= 1 byte
    items.resize(count);
    for (auto& item : items) {
      T::fields(item, *this);
      if (failed_) return;
    }
  }

  void fail(DecodeError e) {
    if (!failed_) {
      failed_ = true;
      error_ = e;
    }
  }

 private:
  void tooLong(Overlong what) {
    if (failed_) return;
    overlong_ = what;
    fail(DecodeError::FieldTooLong);
  }
  std::uint64_t get(std::size_t bytes) {
    if (failed_) return 0;
    if (bytes > remaining()) {
      fail(DecodeError::Truncated);
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(in_[pos_ + i]);
    pos_ += bytes;
    return v;
  }

  ByteSpan in_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  DecodeError error_ = DecodeError::Truncated;
  Overlong overlong_;
};

}  // namespace udpchat::protocol::wire
