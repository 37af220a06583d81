// Which field made decode() refuse a frame with DecodeError::FieldTooLong, so a reply can name
// the field and its own limit instead of a generic one.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "udpchat/protocol.hpp"

namespace udpchat::protocol {

struct OverlongField {
  // The field as docs/PROTOCOL.md section 4.1 names it ("subject", "topic", "rooms", ...);
  // empty for fields of server-to-client types, which a server has no reason to explain.
  std::string_view name;
  std::size_t claimed = 0;  // what the frame claimed: bytes, or entries when `entries`
  std::size_t limit = 0;    // the field's wire limit, in the same unit
  bool entries = false;  // a list with more entries than allowed
  bool inList = false;   // one string of the list `name` is longer than allowed
};

// The first field of `frame` over its wire limit; nullopt when decode() would not fail with
// FieldTooLong (the frame decodes, or fails for another reason first).
std::optional<OverlongField> findOverlongField(ByteSpan frame);

}  // namespace udpchat::protocol
