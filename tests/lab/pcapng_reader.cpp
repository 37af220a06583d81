#include "pcapng_reader.hpp"

#include <fstream>
#include <iterator>

namespace udpchat::lab::test {
namespace {

constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr std::uint32_t kInterfaceDescription = 1;
constexpr std::uint32_t kEnhancedPacket = 6;

// Little-endian reads at an offset; the emulator writes little-endian sections.
class Cursor {
 public:
  explicit Cursor(std::span<const std::byte> bytes) : bytes_(bytes) {}
  bool has(std::size_t n) const { return bytes_.size() - at_ >= n; }
  std::size_t at() const { return at_; }
  std::uint32_t u(int width) {
    std::uint32_t v = 0;
    for (int i = width - 1; i >= 0; --i) {
      v = (v << 8) | std::to_integer<std::uint32_t>(bytes_[at_ + static_cast<std::size_t>(i)]);
    }
    at_ += static_cast<std::size_t>(width);
    return v;
  }
  std::span<const std::byte> take(std::size_t n) {
    auto out = bytes_.subspan(at_, n);
    at_ += n;
    return out;
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;
};

std::string text(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

struct Option {
  std::uint16_t code;
  std::span<const std::byte> value;
};

// Options fill the rest of a block body; they must end with opt_endofopt or at the end.
std::optional<std::vector<Option>> parseOptions(std::span<const std::byte> body) {
  std::vector<Option> options;
  Cursor c(body);
  while (c.has(4)) {
    const auto code = static_cast<std::uint16_t>(c.u(2));
    const std::uint32_t length = c.u(2);
    if (code == 0) return length == 0 && !c.has(1) ? std::optional(options) : std::nullopt;
    const std::size_t padded = (length + 3) / 4 * 4;
    if (!c.has(padded)) return std::nullopt;
    options.push_back(Option{code, c.take(padded).first(length)});
  }
  return c.has(1) ? std::nullopt : std::optional(options);
}

}  // namespace

Result<PcapngFile, std::string> parsePcapng(std::span<const std::byte> bytes) {
  PcapngFile file;
  Cursor c(bytes);
  bool sawSection = false;
  auto problem = [&](const std::string& what) {
    return fail("offset " + std::to_string(c.at()) + ": " + what);
  };
  while (c.has(1)) {
    if (!c.has(12)) return problem("truncated block header");
    const std::uint32_t type = c.u(4);
    const std::uint32_t total = c.u(4);
    if (total < 12 || total % 4 != 0) return problem("bad block length " + std::to_string(total));
    if (!c.has(total - 8)) return problem("block runs past the end of the file");
    Cursor body(c.take(total - 12));
    const std::uint32_t trailer = c.u(4);
    if (trailer != total) return problem("trailing block length differs");
    const std::size_t bodyLength = total - 12;
    if (!sawSection && type != kSectionHeader) return problem("first block is not a section");

    if (type == kSectionHeader) {
      if (bodyLength < 16) return problem("short section header");
      if (body.u(4) != 0x1A2B3C4D) return problem("byte-order magic is not little-endian");
      file.major = static_cast<std::uint16_t>(body.u(2));
      file.minor = static_cast<std::uint16_t>(body.u(2));
      body.take(8);  // section length
      const auto options = parseOptions(body.take(bodyLength - 16));
      if (!options) return problem("malformed section options");
      for (const Option& o : *options) {
        if (o.code == 4) file.userApplication = text(o.value);
      }
      sawSection = true;
    } else if (type == kInterfaceDescription) {
      if (bodyLength < 8) return problem("short interface description");
      PcapngInterface idb;
      idb.linktype = static_cast<std::uint16_t>(body.u(2));
      body.u(2);
      idb.snapLength = body.u(4);
      const auto options = parseOptions(body.take(bodyLength - 8));
      if (!options) return problem("malformed interface options");
      for (const Option& o : *options) {
        if (o.code == 2) idb.name = text(o.value);
        if (o.code == 3) idb.description = text(o.value);
        if (o.code == 9 && o.value.size() == 1)
          idb.tsresol = std::to_integer<std::uint8_t>(o.value[0]);
      }
      file.interfaces.push_back(idb);
    } else if (type == kEnhancedPacket) {
      if (bodyLength < 20) return problem("short enhanced packet block");
      PcapngPacket p;
      p.interface = body.u(4);
      const std::uint64_t high = body.u(4);
      p.timestamp = (high << 32) | body.u(4);
      const std::uint32_t captured = body.u(4);
      p.originalLength = body.u(4);
      if (p.interface >= file.interfaces.size()) return problem("unknown interface id");
      if (captured > p.originalLength) return problem("captured more than the original");
      const std::size_t padded = (captured + 3u) / 4 * 4;
      if (bodyLength - 20 < padded) return problem("packet data runs past the block");
      const auto data = body.take(padded).first(captured);
      p.data.assign(data.begin(), data.end());
      const auto options = parseOptions(body.take(bodyLength - 20 - padded));
      if (!options) return problem("malformed packet options");
      for (const Option& o : *options) {
        if (o.code == 1) p.comment = text(o.value);
        if (o.code == 2) {
          if (o.value.size() != 4) return problem("epb_flags is not 4 bytes");
          p.flags = Cursor(o.value).u(4);
        }
      }
      file.packets.push_back(std::move(p));
    } else {
      return problem("unexpected block type " + std::to_string(type));
    }
  }
  if (!sawSection) return fail(std::string("empty file"));
  return file;
}

std::vector<std::byte> readBinaryFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) out[i] = static_cast<std::byte>(chars[i]);
  return out;
}

}  // namespace udpchat::lab::test
