// udpchat-server: the chat server, over ENet (UDP) and TCP on the same port number.
//
// Exit statuses: 0 stopped by SIGINT/SIGTERM; 1 cannot start: cannot listen (address named on
// stderr), cannot use the store (file and reason named) or cannot join the cluster (NATS
// unreachable, credentials refused, no JetStream); 64 bad command line (EX_USAGE from
// sysexits.h).
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "udpchat/cluster_nats.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/server_core.hpp"
#include "udpchat/server_loop.hpp"
#include "udpchat/sqlite_store.hpp"
#include "udpchat/stop_signal.hpp"

namespace {

constexpr int kExitCannotStart = 1;
constexpr int kExitUsage = 64;
// How long a stopping server waits for clients to confirm the disconnect: closing them tells
// them at once instead of leaving them to time out.
constexpr udpchat::Millis kShutdownGraceMs = 1000;

}  // namespace

int main(int argc, char** argv) {
  using namespace udpchat;
  ServerConfig config;
  ServerLoopOptions net;

  CLI::App app{"udpchat-server: a LAN chat server over UDP (ENet) and TCP"};
  app.add_option("--host", net.host, "IPv4 address to listen on (UDP and TCP)")
      ->capture_default_str();
  app.add_option("--port", net.port, "UDP port, and TCP port of the same number; 0 picks one")
      ->capture_default_str();
  app.add_option("--max-clients", config.maxClients, "sessions at once; more are refused")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, EnetServerTransport::kMaxClientsLimit));
  app.add_option("--motd", config.motd, "message of the day, sent on registration")
      ->check(CLI::Validator(
          [](std::string& s) {
            return s.size() <= kMaxMotdBytes
                       ? std::string{}
                       : "at most " + std::to_string(kMaxMotdBytes) + " bytes";
          },
          "TEXT"));
  app.add_option("--history", config.historySize, "messages replayed per room on join")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, kMaxHistory));
  app.add_option("--oper-password", config.operPassword,
                 "password for /oper; empty disables it (also from UDPCHAT_OPER_PASSWORD)")
      ->envname("UDPCHAT_OPER_PASSWORD");
  app.add_option("--nick-min", config.nickMin, "shortest nickname, in characters")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, kMaxNickBytes));
  app.add_option("--nick-max", config.nickMax, "longest nickname, in characters")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, kMaxNickBytes));
  app.add_option("--max-message-bytes", config.maxMessageBytes, "longest chat message, in bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, kMaxTextBytes));
  app.add_option("--server-name", config.serverName, "name sent to clients in the welcome")
      ->capture_default_str();
  app.add_option("--rate-burst", config.rateBurst,
                 "flood control: messages a client may send at once")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, kMaxRateLimit));
  app.add_option("--rate", config.ratePerSecond,
                 "flood control: messages per second a client may sustain")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, kMaxRateLimit));
  app.add_option("--max-per-address", config.maxSessionsPerAddress,
                 "connections one IPv4 address may hold at once; 0: no limit")
      ->capture_default_str();
  app.add_option("--max-unregistered-per-address", config.maxUnregisteredPerAddress,
                 "of those, how many may be waiting to register; also the ENet handshakes one "
                 "address may have in progress; 0: no limit")
      ->capture_default_str();
  app.add_option("--handshake-timeout", net.enetHandshakeTimeoutMs,
                 "ENet: a connection whose handshake has not finished after this long is "
                 "dropped, ms; 0 leaves it to ENet (about 30 s)")
      ->capture_default_str()
      ->check(CLI::Range(Millis{0}, Millis{60'000}));
  bool limitLoopback = false;
  app.add_flag("--limit-loopback", limitLoopback,
               "apply the per-address limits to 127.0.0.0/8 too (exempt by default)");
  app.add_flag("--lab-channels", config.labChannels,
               "udpchat-lab: accept chat on channels 2-4 and relay it on the same channel");
  app.add_option("--udp-rcvbuf", net.udpReceiveBufferBytes,
                 "UDP receive buffer asked for, bytes (SO_RCVBUF; the kernel caps it at "
                 "net.core.rmem_max); 0 keeps ENet's 256 KiB")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--initial-rtt", net.enetInitialRttMs,
                 "ENet: round trip assumed for a connecting client until one is measured, ms "
                 "(sets the first retransmission timeouts); 0 keeps ENet's 500 ms")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{0}, kMaxInitialRttMs));
  bool noDiscovery = false;
  app.add_flag("--no-discovery", noDiscovery,
               "do not answer LAN discovery probes (udpchat-client --discover)");
  std::string dataDir = "udpchat-data";
  app.add_option("--data-dir", dataDir,
                 "folder of the store (udpchat.db: history, topics, deletions); created on "
                 "first start")
      ->capture_default_str();
  bool noStore = false;
  app.add_flag("--no-store", noStore, "keep nothing on disk: everything is gone at a restart");
  SqliteStoreOptions storeOptions;
  app.add_option("--keep-messages", storeOptions.keepMessages,
                 "messages kept per room (and per private recipient); 0: no limit")
      ->capture_default_str();
  app.add_option("--keep-days", storeOptions.keepDays,
                 "messages older than this many days are dropped; 0: no limit by age")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000}));
  app.add_option("--max-store-bytes", storeOptions.maxBytes,
                 "the store never grows past this; when full, new messages are refused with "
                 "storage_unavailable; 0: no limit")
      ->capture_default_str();
  std::string storeSync = "normal";
  app.add_option("--store-sync", storeSync,
                 "normal: a confirmed message survives the server being killed or crashing, "
                 "and a power cut may take the last second back; full: it survives a power cut "
                 "too (an fsync per loop turn, about a fifth of the fan-out throughput)")
      ->capture_default_str()
      ->check(CLI::IsMember({"full", "normal"}));
  cluster::NatsBusOptions clusterOptions;
  app.add_option("--cluster", clusterOptions.url,
                 "share one chat with the other servers on this NATS (with JetStream): "
                 "nats://HOST:PORT, tls://HOST:PORT, or several separated by commas");
  app.add_option("--cluster-name", clusterOptions.clusterName,
                 "servers with the same name on the same NATS form one chat")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& s) { return cluster::clusterNameProblem(s).value_or(std::string{}); },
          "NAME"));
  app.add_option("--cluster-creds", clusterOptions.credsFile,
                 "NATS credentials file (JWT and seed) for the cluster link")
      ->check(CLI::ExistingFile);
  app.add_option("--cluster-user", clusterOptions.user, "NATS user for the cluster link");
  app.add_option("--cluster-password", clusterOptions.password,
                 "NATS password for --cluster-user (also from UDPCHAT_CLUSTER_PASSWORD)")
      ->envname("UDPCHAT_CLUSTER_PASSWORD");
  app.add_option("--cluster-ca", clusterOptions.caFile,
                 "TLS: CA certificate that signed the NATS server's (with a tls:// URL)")
      ->check(CLI::ExistingFile);
  bool noBundle = false;
  app.add_flag("--no-bundle", noBundle,
               "ENet: send every reliable frame in a packet of its own instead of bundling the "
               "frames queued to a client in one turn (for measurements)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "udpchat-server: " << e.what() << "\nRun with --help for the options.\n";
    return kExitUsage;
  }
  if (auto problem = config.validate()) {
    std::cerr << "udpchat-server: " << *problem << "\n";
    return kExitUsage;
  }
  const bool clustered = !clusterOptions.url.empty();
  if (clustered && config.labChannels) {
    std::cerr << "udpchat-server: --lab-channels is for a lab server alone; it cannot be "
                 "combined with --cluster\n";
    return kExitUsage;
  }
  config.exemptLoopback = !limitLoopback;
  net.exemptLoopback = config.exemptLoopback;
  net.enetMaxHandshakesPerAddress = config.maxUnregisteredPerAddress;
  config.log = [](std::string_view line) { std::cerr << "udpchat-server: " << line << std::endl; };
  net.maxClients = config.maxClients;
  net.enetBundle = !noBundle;
  net.labChannels = config.labChannels;
  net.tcpMaxQueuedBytes = tcpQueueLimitFor(config);

  std::unique_ptr<SqliteStore> store;
  if (!noStore) {
    storeOptions.synchronousFull = storeSync == "full";
    try {
      store = openStoreIn(dataDir, storeOptions);
    } catch (const StoreOpenError& e) {
      std::cerr << "udpchat-server: " << e.what() << "\n";
      return kExitCannotStart;
    }
    std::cerr << "udpchat-server: keeping history in " << (std::filesystem::path(dataDir) / "udpchat.db").string()
              << " (--no-store keeps nothing)" << std::endl;
  }

  // Before the bus, so that it ends after it: see NatsLibrary.
  std::optional<cluster::NatsLibrary> natsLibrary;
  std::unique_ptr<cluster::NatsBus> bus;
  if (clustered) {
    natsLibrary.emplace();
    if (store && store->clusterPosition() == 0 && store->nextMessageId() > 1) {
      std::cerr << "udpchat-server: the store in " << dataDir
                << " holds the messages of a server that ran alone; a server joining a cluster "
                   "needs a --data-dir of its own\n";
      return kExitCannotStart;
    }
    clusterOptions.serverName = config.serverName;
    // With a store, everything the log holds that the store does not; without, from now on.
    clusterOptions.startSequence = store ? store->clusterPosition() + 1 : 0;
    try {
      bus = std::make_unique<cluster::NatsBus>(clusterOptions);
    } catch (const cluster::NatsBusError& e) {
      std::cerr << "udpchat-server: cannot join the cluster: " << e.what() << "\n";
      return kExitCannotStart;
    }
    std::cerr << "udpchat-server: in cluster '" << clusterOptions.clusterName << "' through "
              << clusterOptions.url << " (subjects " << bus->subjectPrefix() << ".*)"
              << std::endl;
  }

  std::unique_ptr<ServerLoop> loop;
  try {
    loop = std::make_unique<ServerLoop>(net);
  } catch (const std::exception& e) {
    std::cerr << "udpchat-server: " << e.what() << "\n";
    return kExitCannotStart;
  }
  ServerCore core(config, *loop, store.get(), bus.get());
  if (bus) {
    loop->setSideWork(bus->wakeFd(), [&core](Now now) { return core.serviceCluster(now); });
  }
  if (!noDiscovery) {
    loop->enet().setDiscoveryInfo([&core] {
      const ServerConfig& c = core.config();
      return DiscoveryInfo{c.serverName, core.stats().registered, c.maxClients};
    });
  }

  const std::atomic<bool>& stopRequested = installStopSignals();
  // Flushed: scripts and tests wait for these lines. Both sockets are bound before either.
  std::cout << "udpchat-server listening on " << loop->enet().boundAddress() << " (UDP, ENet)\n"
            << "udpchat-server listening on " << loop->tcp().boundAddress() << " (TCP)"
            << std::endl;

  loop->run(core, stopRequested);
  // The other servers hear this one's users leave now, not after its heartbeat times out.
  core.leaveCluster(readClocks());
  loop->shutdown(kShutdownGraceMs);

  const EnetServerStats& s = loop->enet().stats();
  const TcpServerStats& t = loop->tcp().stats();
  const ServerStats cs = core.stats();
  std::cerr << "udpchat-server: stopped; " << cs.messagesRelayed << " messages relayed, "
            << s.packetsReceived << " packets in, " << s.framesSent << " frames out in "
            << s.packetsSent << " packets (" << s.bundlesCreated << " bundles built), "
            << s.serviceErrors << " service errors; TCP: " << t.accepted << " connections, "
            << t.recordsReceived << " records in, " << t.recordsSent << " records out, "
            << t.framingErrors << " framing errors, " << t.overflowCloses
            << " closed for not reading, " << t.acceptErrors << " accept errors";
  if (store) {
    std::cerr << "; store: " << cs.commits << " commits, " << cs.commitFailures << " failed";
  }
  std::cerr << "\n";
  return 0;
}
