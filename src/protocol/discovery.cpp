#include "udpchat/discovery.hpp"

#include <algorithm>
#include <string_view>

#include "udpchat/text.hpp"

namespace udpchat::discovery {
namespace {

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  bool has(std::size_t n) const { return in_.size() - pos_ >= n; }
  std::uint8_t u8() { return in_[pos_++]; }
  std::uint16_t u16() {
    const auto hi = u8();
    return static_cast<std::uint16_t>(hi << 8 | u8());
  }
  std::uint32_t u32() {
    const std::uint32_t hi = u16();
    return hi << 16 | u16();
  }
  std::uint64_t u64() {
    const std::uint64_t hi = u32();
    return hi << 32 | u32();
  }
  std::string str(std::size_t n) {
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  std::size_t left() const { return in_.size() - pos_; }

 private:
  ByteView in_;
  std::size_t pos_ = 0;
};

void put16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}
void put64(Bytes& out, std::uint64_t v) {
  put32(out, static_cast<std::uint32_t>(v >> 32));
  put32(out, static_cast<std::uint32_t>(v));
}

bool hasMagic(ByteView d, const std::array<std::uint8_t, 4>& magic) {
  return d.size() >= magic.size() && std::equal(magic.begin(), magic.end(), d.begin());
}

// `s` cut to at most `maxBytes` without splitting a UTF-8 sequence.
std::string cutUtf8(const std::string& s, std::size_t maxBytes) {
  if (s.size() <= maxBytes) return s;
  std::size_t end = maxBytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

}  // namespace

bool startsLikeProbe(ByteView datagram) {
  return hasMagic(datagram, kProbeMagic);
}

Bytes encodeProbe(std::uint32_t nonce) {
  Bytes out(kProbeMagic.begin(), kProbeMagic.end());
  out.push_back(kVersion);
  put32(out, nonce);
  out.resize(kProbeBytes, 0);
  return out;
}

std::optional<Probe> decodeProbe(ByteView datagram) {
  if (!hasMagic(datagram, kProbeMagic) || datagram.size() < kMinProbeBytes ||
      datagram.size() > kMaxProbeBytes || datagram[4] != kVersion) {
    return std::nullopt;
  }
  Reader r(datagram.subspan(5));
  return Probe{r.u32(), datagram.size()};
}

std::optional<Bytes> encodeAnswer(const Answer& answer, std::size_t probeLength) {
  if (probeLength < kAnswerFixedBytes) return std::nullopt;
  const std::string name =
      cutUtf8(cutUtf8(answer.name, kMaxNameBytes), probeLength - kAnswerFixedBytes);
  Bytes out(kAnswerMagic.begin(), kAnswerMagic.end());
  out.push_back(kVersion);
  put32(out, answer.nonce);
  put64(out, answer.serverId);
  out.push_back(answer.protocolVersion);
  put16(out, answer.port);
  put16(out, answer.users);
  put16(out, answer.maxClients);
  out.push_back(answer.full ? kFlagFull : 0);
  out.push_back(static_cast<std::uint8_t>(name.size()));
  out.insert(out.end(), name.begin(), name.end());
  return out;
}

std::optional<Answer> decodeAnswer(ByteView datagram) {
  if (!hasMagic(datagram, kAnswerMagic) || datagram.size() < kAnswerFixedBytes ||
      datagram[4] != kVersion) {
    return std::nullopt;
  }
  Reader r(datagram.subspan(5));
  Answer a;
  a.nonce = r.u32();
  a.serverId = r.u64();
  a.protocolVersion = r.u8();
  a.port = r.u16();
  a.users = r.u16();
  a.maxClients = r.u16();
  const std::uint8_t flags = r.u8();
  a.full = (flags & kFlagFull) != 0;
  const std::size_t nameLength = r.u8();
  if (nameLength > kMaxNameBytes || r.left() != nameLength) return std::nullopt;
  a.name = r.str(nameLength);
  if (text::checkText(a.name, false) != text::TextProblem::None) return std::nullopt;
  return a;
}

}  // namespace udpchat::discovery
