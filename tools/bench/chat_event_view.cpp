#include "chat_event_view.hpp"

#include <cstddef>

#include "udpchat/limits.hpp"

namespace udpchat::bench {
namespace {

// Reads the ChatEvent layout of docs/PROTOCOL.md (big-endian integers, strings as a u16 length
// and the bytes) left to right; the first shortfall makes every later read fail.
class InPlaceReader {
 public:
  explicit InPlaceReader(protocol::ByteSpan in) : in_(in) {}
  bool ok() const { return ok_; }
  bool atEnd() const { return pos_ == in_.size(); }

  void skip(std::size_t bytes) {
    if (!ok_ || bytes > in_.size() - pos_) {
      ok_ = false;
      return;
    }
    pos_ += bytes;
  }
  std::uint8_t u8() {
    if (!ok_ || pos_ >= in_.size()) {
      ok_ = false;
      return 0;
    }
    return std::to_integer<std::uint8_t>(in_[pos_++]);
  }
  std::string_view str(std::size_t maxBytes) {
    const std::size_t high = u8();
    const std::size_t length = high << 8 | u8();
    if (!ok_ || length > maxBytes || length > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    const std::string_view s(reinterpret_cast<const char*>(in_.data() + pos_), length);
    pos_ += length;
    return s;
  }

 private:
  protocol::ByteSpan in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

std::optional<ChatEventView> viewChatEvent(protocol::ByteSpan frame) {
  InPlaceReader r(frame);
  if (r.u8() != kProtocolVersion) return std::nullopt;
  if (r.u8() != static_cast<std::uint8_t>(protocol::MessageType::ChatEvent)) return std::nullopt;
  r.skip(8 + 8);  // id, ts
  ChatEventView view;
  view.room = r.str(kMaxRoomBytes);
  r.str(kMaxNickBytes);     // from
  r.str(kMaxSubjectBytes);  // subject
  view.text = r.str(kMaxTextBytes);
  view.flags = r.u8();
  r.skip(8);  // clientId
  if (!r.ok() || !r.atEnd()) return std::nullopt;
  return view;
}

}  // namespace udpchat::bench
