#include "udpchat/tcp_framing.hpp"

#include <algorithm>

namespace udpchat::tcp {
namespace {

std::size_t lengthOf(const std::byte* header) {
  return (static_cast<std::size_t>(header[0]) << 8) | static_cast<std::size_t>(header[1]);
}

}  // namespace

std::string_view toString(FramingError error) {
  switch (error) {
    case FramingError::ZeroLength:
      return "record of length 0";
    case FramingError::TooLong:
      static_assert(kMaxRecordLength == 8193, "update the message");
      return "record longer than 8193 bytes";
    case FramingError::BadChannel:
      return "record on a channel that does not exist";
  }
  return "framing error";
}

RecordHeader recordHeader(std::uint8_t channel, std::size_t frameBytes) {
  const std::size_t length = frameBytes + 1;
  return RecordHeader{static_cast<std::byte>((length >> 8) & 0xFF),
                      static_cast<std::byte>(length & 0xFF), static_cast<std::byte>(channel)};
}

void appendRecord(protocol::Bytes& out, std::uint8_t channel, protocol::ByteSpan frame) {
  const RecordHeader header = recordHeader(channel, frame.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), frame.begin(), frame.end());
}

std::optional<FramingError> RecordReader::check(const std::byte* header, std::size_t have) const {
  const std::size_t length = lengthOf(header);
  if (length == 0) return FramingError::ZeroLength;
  if (length > kMaxRecordLength) return FramingError::TooLong;
  if (have > kLengthBytes && static_cast<std::size_t>(header[kLengthBytes]) >= channelCount_) {
    return FramingError::BadChannel;
  }
  return std::nullopt;
}

RecordReader::Next RecordReader::next(protocol::ByteSpan& input) {
  if (failed_) return fail(*failed_);
  if (partialDelivered_) {
    partial_.clear();
    partialDelivered_ = false;
  }
  auto stop = [this](FramingError error) {
    failed_ = error;
    partial_.clear();
    return fail(error);
  };
  const Next none{std::optional<Record>{}};

  if (partial_.empty()) {
    // The common case: the whole record is in this piece, and is returned in place.
    if (input.size() >= kLengthBytes) {
      if (auto error = check(input.data(), std::min(input.size(), kRecordHeaderBytes))) {
        return stop(*error);
      }
      const std::size_t length = lengthOf(input.data());
      if (input.size() >= kLengthBytes + length) {
        const Record record{static_cast<std::uint8_t>(input[kLengthBytes]),
                            input.subspan(kRecordHeaderBytes, length - 1)};
        input = input.subspan(kLengthBytes + length);
        return Next{std::optional<Record>{record}};
      }
    }
    // Checked above as far as it goes, and shorter than one record: bounded.
    partial_.assign(input.begin(), input.end());
    input = {};
    return none;
  }

  // An incomplete record is waiting: complete its length field first, then the rest.
  while (partial_.size() < kLengthBytes && !input.empty()) {
    partial_.push_back(input.front());
    input = input.subspan(1);
  }
  if (partial_.size() < kLengthBytes) return none;
  // The length is checked before any of the body is taken, so a bogus one allocates nothing.
  if (auto error = check(partial_.data(), kLengthBytes)) return stop(*error);
  const std::size_t total = kLengthBytes + lengthOf(partial_.data());
  const std::size_t take = std::min(total - std::min(total, partial_.size()), input.size());
  partial_.insert(partial_.end(), input.begin(), input.begin() + static_cast<std::ptrdiff_t>(take));
  input = input.subspan(take);
  if (auto error = check(partial_.data(), std::min(partial_.size(), kRecordHeaderBytes))) {
    return stop(*error);
  }
  if (partial_.size() < total) return none;
  partialDelivered_ = true;
  return Next{std::optional<Record>{Record{
      static_cast<std::uint8_t>(partial_[kLengthBytes]),
      protocol::ByteSpan(partial_).subspan(kRecordHeaderBytes, total - kRecordHeaderBytes)}}};
}

}  // namespace udpchat::tcp
