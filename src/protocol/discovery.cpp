#include "udpchat/discovery.hpp"

#include <algorithm>
#include <string_view>

#include "udpchat/text.hpp"
#include "wire.hpp"

namespace udpchat::discovery {
namespace {

bool hasMagic(ByteView d, const std::array<std::uint8_t, 4>& magic) {
  return d.size() >= magic.size() &&
         std::equal(magic.begin(), magic.end(), d.begin(),
                    [](std::uint8_t m, std::byte b) { return std::byte{m} == b; });
}

// The answer's fixed fields after magic and version, listed once for the writer and the reader
// (as protocol.hpp's fields() lists do). M is Answer, const when writing.
template <class M, class V>
void answerFields(M& a, V& v) {
  v.u32(a.nonce);
  v.u64(a.serverId);
  v.u8(a.protocolVersion);
  v.u16(a.port);
  v.u16(a.users);
  v.u16(a.maxClients);
}

void putMagic(Bytes& out, const std::array<std::uint8_t, 4>& magic) {
  for (std::uint8_t m : magic) out.push_back(std::byte{m});
}

}  // namespace

bool startsLikeProbe(ByteView datagram) {
  return hasMagic(datagram, kProbeMagic);
}

Bytes encodeProbe(std::uint32_t nonce) {
  Bytes out;
  putMagic(out, kProbeMagic);
  protocol::wire::Writer w(out);
  w.u8(kVersion);
  w.u32(nonce);
  out.resize(kProbeBytes, std::byte{0});
  return out;
}

std::optional<Probe> decodeProbe(ByteView datagram) {
  if (!hasMagic(datagram, kProbeMagic) || datagram.size() < kMinProbeBytes ||
      datagram.size() > kMaxProbeBytes || datagram[4] != std::byte{kVersion}) {
    return std::nullopt;
  }
  Probe probe{0, datagram.size()};
  protocol::wire::Reader r(datagram.subspan(5));
  r.u32(probe.nonce);
  return probe;
}

std::optional<Bytes> encodeAnswer(const Answer& answer, std::size_t probeLength) {
  if (probeLength < kAnswerFixedBytes) return std::nullopt;
  const std::string name = text::truncateUtf8(
      answer.name, std::min(kMaxNameBytes, probeLength - kAnswerFixedBytes));
  Bytes out;
  putMagic(out, kAnswerMagic);
  protocol::wire::Writer w(out);
  w.u8(kVersion);
  answerFields(answer, w);
  w.u8(answer.full ? kFlagFull : 0);
  w.u8(static_cast<std::uint8_t>(name.size()));
  for (char c : name) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::optional<Answer> decodeAnswer(ByteView datagram) {
  if (!hasMagic(datagram, kAnswerMagic) || datagram.size() < kAnswerFixedBytes ||
      datagram[4] != std::byte{kVersion}) {
    return std::nullopt;
  }
  protocol::wire::Reader r(datagram.subspan(5));
  Answer a;
  std::uint8_t flags = 0;
  std::uint8_t nameLength = 0;
  answerFields(a, r);
  r.u8(flags);
  r.u8(nameLength);
  a.full = (flags & kFlagFull) != 0;
  if (r.failed() || nameLength > kMaxNameBytes || r.remaining() != nameLength) return std::nullopt;
  const ByteView name = datagram.subspan(kAnswerFixedBytes);
  a.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
  if (text::checkText(a.name, false) != text::TextProblem::None) return std::nullopt;
  return a;
}

}  // namespace udpchat::discovery
