#include "rebroadcast_handler.hpp"

#include <algorithm>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "udpchat/enet_server_transport.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/stop_signal.hpp"

namespace udpchat::bench {

void RebroadcastHandler::connected(SessionId session, Now) {
  sessions_.push_back(session);
  static const SharedFrame welcome = share(protocol::encode(protocol::Welcome{}));
  outbox_.send(std::span<const SessionId>(&session, 1), kChannelReliable, welcome);
}

void RebroadcastHandler::disconnected(SessionId session, Now) {
  std::erase(sessions_, session);
}

void RebroadcastHandler::received(SessionId, std::uint8_t channel, protocol::ByteSpan frame, Now) {
  ++frames_;
  outbox_.send(sessions_, channel, share(protocol::Bytes(frame.begin(), frame.end())));
}

int runReferenceServer(const std::string& host, std::uint16_t port, std::size_t maxClients) {
  std::unique_ptr<EnetServerTransport> transport;
  EnetServerOptions options;
  options.host = host;
  options.port = port;
  options.maxClients = maxClients;
  options.bundle = false;  // bare ENet: one packet per frame
  // ENet's own socket buffer and first round trip, not the chat server's (docs/ARCHITECTURE.md).
  options.receiveBufferBytes = 0;
  options.initialRttMs = 0;
  try {
    transport = std::make_unique<EnetServerTransport>(options);
  } catch (const std::exception& e) {
    std::cerr << "udpchat-bench reference server: " << e.what() << "\n";
    return 1;
  }
  RebroadcastHandler handler(*transport);
  const std::atomic<bool>& stop = installStopSignals();
  std::cout << "udpchat-bench reference server listening on " << transport->boundAddress()
            << " (UDP, ENet)" << std::endl;
  transport->run(handler, stop);
  transport->shutdown(200);
  std::cerr << "udpchat-bench reference server: stopped; " << handler.framesRebroadcast()
            << " frames rebroadcast, " << transport->stats().packetsSent << " packets out\n";
  return 0;
}

}  // namespace udpchat::bench
