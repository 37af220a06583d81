#include "discover.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "line_client.hpp"
#include "udpchat/client_core.hpp"
#include "udpchat/discovery.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/text.hpp"
#include "udpchat/unique_fd.hpp"

namespace udpchat::client {
namespace {

std::string ipText(std::uint32_t hostOrder) {
  in_addr a{htonl(hostOrder)};
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

bool loopback(std::uint32_t hostOrder) {
  return (hostOrder >> 24) == 127;
}

// Where the probe goes: the limited broadcast, every broadcast-capable IPv4 interface's
// broadcast address (the limited one leaves only by the default route, and a LAN without one
// would never hear it), and this machine.
std::vector<std::uint32_t> probeTargets() {
  std::vector<std::uint32_t> out{INADDR_BROADCAST, INADDR_LOOPBACK};
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_BROADCAST) == 0) continue;
      if (i->ifa_broadaddr == nullptr) continue;
      const auto* b = reinterpret_cast<const sockaddr_in*>(i->ifa_broadaddr);
      const std::uint32_t address = ntohl(b->sin_addr.s_addr);
      if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
    }
    ::freeifaddrs(list);
  }
  return out;
}

std::string humanLine(const FoundServer& f) {
  const discovery::Answer& a = f.answer;
  std::string line = text::sanitizeForTerminal(a.name, false) + "  " + ipText(f.address) + ":" +
                     std::to_string(a.port) + "  " + std::to_string(a.users) +
                     (a.users == 1 ? " user" : " users");
  if (a.full) line += ", full";
  if (a.protocolVersion != kProtocolVersion) {
    line += ", protocol " + std::to_string(a.protocolVersion) + " (this client speaks " +
            std::to_string(kProtocolVersion) + ")";
  }
  return line;
}

std::string jsonLine(const FoundServer& f) {
  const discovery::Answer& a = f.answer;
  nlohmann::ordered_json j;
  j["type"] = "server";
  j["name"] = a.name;
  j["host"] = ipText(f.address);
  j["port"] = a.port;
  j["users"] = a.users;
  j["max_clients"] = a.maxClients;
  j["full"] = a.full;
  j["protocol"] = a.protocolVersion;
  j["compatible"] = a.protocolVersion == kProtocolVersion;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void say(std::FILE* stream, const std::string& line) {
  std::fputs(line.c_str(), stream);
  std::fputc('\n', stream);
  std::fflush(stream);
}

}  // namespace

std::string FoundServer::host() const {
  return ipText(address);
}

DiscoveryProbe::DiscoveryProbe()
    : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {
  const int on = 1;
  if (!fd_ || ::setsockopt(fd_.get(), SOL_SOCKET, SO_BROADCAST, &on, sizeof on) != 0) {
    error_ = std::string("cannot open a UDP socket: ") + std::strerror(errno);
    fd_.reset();
  }
}

bool DiscoveryProbe::send(std::uint16_t port) {
  if (!fd_) return false;
  std::random_device device;
  nonce_ = device();
  found_.clear();
  const discovery::Bytes probe = discovery::encodeProbe(nonce_);
  int sent = 0;
  for (std::uint32_t target : targets_.empty() ? probeTargets() : targets_) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(target);
    // A target without a route (the limited broadcast, often) fails alone.
    if (::sendto(fd_.get(), probe.data(), probe.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) == static_cast<ssize_t>(probe.size())) {
      ++sent;
    }
  }
  if (sent == 0) {
    error_ = "could not send a discovery probe on any interface";
    return false;
  }
  return true;
}

bool DiscoveryProbe::readAnswers() {
  bool changed = false;
  while (fd_) {
    std::byte buffer[1500];
    sockaddr_in from{};
    socklen_t fromLength = sizeof from;
    const ssize_t n = ::recvfrom(fd_.get(), buffer, sizeof buffer, 0,
                                 reinterpret_cast<sockaddr*>(&from), &fromLength);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EAGAIN: nothing more waiting
    auto answer = discovery::decodeAnswer(discovery::ByteView(buffer, static_cast<std::size_t>(n)));
    if (!answer || answer->nonce != nonce_) continue;
    const std::uint32_t address = ntohl(from.sin_addr.s_addr);
    // One server heard on two addresses (loopback and the LAN) is listed once, by its LAN one.
    auto same = std::find_if(found_.begin(), found_.end(), [&](const FoundServer& f) {
      return f.answer.serverId == answer->serverId && f.answer.port == answer->port;
    });
    if (same == found_.end()) {
      found_.push_back({std::move(*answer), address});
      changed = true;
    } else if (loopback(same->address) && !loopback(address)) {
      same->address = address;
      changed = true;
    } else if (!(same->answer == *answer)) {
      same->answer = std::move(*answer);
      changed = true;
    }
  }
  std::sort(found_.begin(), found_.end(), [](const FoundServer& a, const FoundServer& b) {
    return a.answer.name != b.answer.name ? a.answer.name < b.answer.name : a.address < b.address;
  });
  return changed;
}

int runDiscovery(const DiscoverOptions& options, std::FILE* out, std::FILE* err) {
  DiscoveryProbe probe;
  if (probe.fd() < 0 || !probe.send(options.port)) {
    printError(err, options.json, "discover", probe.error());
    return kExitCannotConnect;
  }
  const Millis deadline = readClocks().mono + options.wait;
  for (Millis now = readClocks().mono; now < deadline; now = readClocks().mono) {
    pollfd p{probe.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(deadline - now)) <= 0) continue;
    probe.readAnswers();
  }
  if (probe.found().empty()) {
    printError(err, options.json, "no_servers",
         "no udpchat server answered on UDP port " + std::to_string(options.port) + " within " +
             std::to_string(options.wait) + " ms");
    return kExitCannotConnect;
  }
  for (const FoundServer& f : probe.found()) say(out, options.json ? jsonLine(f) : humanLine(f));
  return 0;
}

}  // namespace udpchat::client
