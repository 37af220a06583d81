// ClientCore fed arbitrary server frames, with typed lines, ticks and connection losses among
// them. Every frame it sends must decode, be a client-to-server type on its channel and fit.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "udpchat/client_core.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/protocol.hpp"

namespace {

using namespace udpchat;

class CheckingHost final : public ClientHost {
 public:
  void connect() override { connects++; }
  void send(std::uint8_t channel, protocol::Bytes frame) override {
    UDPCHAT_FUZZ_CHECK(frame.size() <= kMaxFrameBytes);
    auto decoded = protocol::decode(frame);
    if (!decoded) {
      std::fprintf(stderr, "the client sent an undecodable frame (%s):",
                   std::string(protocol::toString(decoded.error())).c_str());
      for (std::byte b : frame) std::fprintf(stderr, " %02x", std::to_integer<unsigned>(b));
      std::fprintf(stderr, "\n");
    }
    UDPCHAT_FUZZ_CHECK(decoded.ok());
    const protocol::MessageType type = protocol::typeOf(*decoded);
    UDPCHAT_FUZZ_CHECK(protocol::isClientToServer(type));
    UDPCHAT_FUZZ_CHECK(channel == protocol::channelOf(type));
  }
  void disconnect() override {}
  void event(const ClientEvent&) override {}
  int connects = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ClientConfig config;
  config.nick = "alice";
  config.clientIdSeed = 1000;
  CheckingHost host;
  ClientCore core(config, host);
  Now now{10'000, 1'700'000'000'000};
  core.start(now);
  core.connected(now);
  std::size_t pos = 0;
  auto byte = [&] { return pos < size ? data[pos++] : std::uint8_t{0}; };
  while (pos < size) {
    const std::uint8_t op = byte();
    switch (op % 5) {
      case 0:
      case 1: {  // a frame from the server on channel 0 or 1
        const std::size_t low = byte();  // two statements: the order of the reads is fixed
        const std::size_t length = low | (static_cast<std::size_t>(byte() & 0x1F) << 8);
        const std::size_t n = std::min(length, size - pos);
        core.received(op % 2, protocol::ByteSpan(reinterpret_cast<const std::byte*>(data + pos), n),
                      now);
        pos += n;
        break;
      }
      case 2: {  // the person types a line
        const std::size_t n = std::min<std::size_t>(byte(), size - pos);
        core.input(std::string_view(reinterpret_cast<const char*>(data + pos), n), now);
        pos += n;
        break;
      }
      case 3: {  // time passes
        const Millis step = Millis{byte()} * 20;
        now.mono += step;
        now.wall += step;
        core.tick(now);
        break;
      }
      case 4:  // the connection drops, or comes back
        if (op & 0x80) {
          core.disconnected("lost", now);
        } else {
          core.connected(now);
        }
        break;
    }
  }
  return 0;
}
