// udpchat-bench: a load generator for udpchat-server. See docs/PERFORMANCE.md.
//
// Exit statuses: 0 report printed; 1 the run could not be made (server did not start, transport
// missing, too few file descriptors); 3 report printed but its own counts do not add up (see
// stderr); 64 bad command line.
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client_runner.hpp"
#include "cpu_list.hpp"
#include "load_runner.hpp"
#include "rebroadcast_handler.hpp"
#include "report.hpp"
#include "server_process.hpp"
#include "target.hpp"
#include "udpchat/enet_server_transport.hpp"
#include "udpchat/limits.hpp"

namespace {

using namespace udpchat;
using namespace udpchat::bench;

constexpr int kExitCannotRun = 1;
constexpr int kExitInconsistent = 3;
constexpr int kExitUsage = 64;
// udpchat-server refuses --max-clients above this (ServerConfig::validate).
constexpr std::size_t kMaxClients = 4000;
// Sessions the spawned server accepts beyond the bench's clients.
constexpr std::size_t kSpareClients = 16;
constexpr std::chrono::milliseconds kServerStartTimeout{10'000};

std::filesystem::path selfPath() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : p;
}

// udpchat-server next to this binary, else the one this binary was built with.
// A folder under the system's temporary directory, removed with what is in it.
struct TempFolder {
  explicit TempFolder(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot make a temporary folder");
    path = pattern;
  }
  TempFolder(TempFolder&& other) noexcept : path(std::exchange(other.path, {})) {}
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  TempFolder& operator=(TempFolder&&) = delete;
  ~TempFolder() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

// nats-server from PATH (Debian puts it in /usr/sbin).
std::string findNats() {
  std::string path = "/usr/sbin:/usr/bin";
  if (const char* env = std::getenv("PATH")) path = std::string(env) + ":" + path;
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = std::min(path.find(':', start), path.size());
    const auto candidate = std::filesystem::path(path.substr(start, colon - start)) / "nats-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == path.size()) break;
    start = colon + 1;
  }
  throw std::runtime_error("--cluster needs nats-server (Debian package nats-server); none on PATH");
}

std::string findServer() {
  const auto next = selfPath().parent_path() / "udpchat-server";
  if (::access(next.c_str(), X_OK) == 0) return next.string();
#ifdef UDPCHAT_BENCH_SERVER_BIN
  if (::access(UDPCHAT_BENCH_SERVER_BIN, X_OK) == 0) return UDPCHAT_BENCH_SERVER_BIN;
#endif
  return next.string();
}

std::vector<int> currentAffinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

}  // namespace

int main(int argc, char** argv) {
  LoadConfig config;
  std::string workloadName;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string serverBin;
  std::vector<std::string> serverArgs;
  int serverPid = -1;
  std::string serverCpusText, benchCpusText;
  bool reference = false;
  bool json = false;
  bool quiet = false;
  bool showServerStderr = false;
  bool serveReference = false;
  std::size_t referenceMaxClients = kMaxClients;

  CLI::App app{
      "udpchat-bench: drives N real clients (own socket each) against udpchat-server.\n"
      "Workloads: fanout (one room, a window of messages in flight), rate (every client sends\n"
      "at --rate), connect (time until all are registered), idle (presence pings only; server\n"
      "CPU and memory). By default it starts build/src/udpchat-server on 127.0.0.1, port 0."};
  app.add_option("workload", workloadName, "fanout | rate | connect | idle")
      ->check(CLI::IsMember({"fanout", "rate", "connect", "idle"}));
  app.add_option("--clients,-n", config.clients, "simulated clients, each with its own socket")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, kMaxClients));
  app.add_option("--threads", config.threads, "worker threads the clients are spread over")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{64}));
  app.add_option("--rooms", config.rooms, "rooms; client i joins room i % rooms")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, kMaxClients));
  app.add_option("--window,-w", config.window, "fanout: messages in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
  app.add_option("--rate,-r", config.ratePerClient, "rate: messages per second per client")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 100'000.0));
  app.add_option("--message-bytes", config.messageBytes, "chat text length, bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{8}, kMaxTextBytes));
  app.add_option("--duration,-d", config.durationSeconds, "measured window, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--warmup", config.warmupSeconds, "load before the measured window, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 600.0));
  app.add_option("--connect-timeout", config.connectTimeoutSeconds,
                 "longest the connect phase may take, seconds")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600.0));
  app.add_option("--connect-window", config.connectWindow,
                 "connects in progress at once; 0: all at once")
      ->capture_default_str();
  app.add_option("--service-interval-ms", config.serviceInterval,
                 "every client's transport is serviced at least this often (ENet retransmits "
                 "only when serviced)")
      ->capture_default_str()
      ->check(CLI::Range(Millis{1}, Millis{100}));
  app.add_option("--max-messages", config.maxMessages, "stop sending after this many")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  app.add_option("--transport", config.transport, "enet | tcp")
      ->capture_default_str()
      ->check(CLI::IsMember({"enet", "tcp"}));
  app.add_option("--client", config.clientStack,
                 "proto: a lean client speaking the protocol itself; core: udpchat-client's "
                 "ClientCore stack (heavier per message)")
      ->capture_default_str()
      ->check(CLI::IsMember({"proto", "core"}));
  app.add_flag("--reference", reference,
               "fanout: run the same load against a bare ENet rebroadcast server too, and "
               "report the ratio");
  app.add_flag("--reference-same-text", config.referenceSameText,
               "reference: send the same texts unpadded (by default they are padded so the "
               "echoed frame is as long as the chat server's ChatEvent)");
  auto* hostOpt =
      app.add_option("--host", host,
                     "load an existing server on this host instead of starting one (any host "
                     "named here is loaded; without it only loopback is)");
  auto* portOpt = app.add_option("--port", port, "port of the existing server");
  app.add_option("--server-pid", serverPid,
                 "with --host/--port: that server's pid, to read its CPU and memory from /proc");
  app.add_option("--server-bin", serverBin,
                 "udpchat-server to start (default: next to this "
                 "binary, else the one it was built with)");
  app.add_option("--server-arg", serverArgs,
                 "extra argument for the started server; repeat, e.g. --server-arg=--history "
                 "--server-arg=0")
      ->allow_extra_args(false);
  bool withStore = false;
  app.add_flag("--store", withStore,
               "the started server keeps its store (in a new temporary folder, removed after); "
               "by default it runs with --no-store");
  app.add_option("--server-cpus", serverCpusText, "pin the started servers to these CPUs (0,1-2)");
  app.add_option("--bench-cpus", benchCpusText, "pin the bench itself to these CPUs");
  app.add_option("--nick-prefix", config.nickPrefix, "nicknames are PREFIX0, PREFIX1, ...")
      ->capture_default_str();
  app.add_option("--room", config.roomPrefix, "room name (with --rooms > 1: ROOM0, ROOM1, ...)")
      ->capture_default_str();
  std::size_t clusterServers = 0;
  app.add_option("--cluster", clusterServers,
                 "also start N servers sharing one chat through a nats-server the bench starts, "
                 "spread the clients over them, and compare with one server in the same run")
      ->check(CLI::Range(std::size_t{2}, std::size_t{8}));
  std::string natsBin;
  app.add_option("--nats-bin", natsBin, "nats-server to start for --cluster (default: from PATH)");
  app.add_flag("--json", json, "print the report as JSON");
  app.add_flag("--quiet,-q", quiet, "no progress lines on stderr");
  app.add_flag("--server-stderr", showServerStderr, "let the started server write to stderr");
  // The reference server runs as a child of the bench, so its CPU and memory are measured the
  // same way as the chat server's.
  app.add_flag("--serve-reference", serveReference, "(internal) run the reference server")
      ->group("");
  app.add_option("--reference-max-clients", referenceMaxClients)->group("");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "udpchat-bench: " << e.what() << "\nRun with --help for the options.\n";
    return kExitUsage;
  }
  auto usage = [](const std::string& message) {
    std::cerr << "udpchat-bench: " << message << "\n";
    return kExitUsage;
  };

  if (serveReference) {
    if (auto refusal = targetRefusal(host, hostOpt->count() > 0)) return usage(*refusal);
    return runReferenceServer(host, port, referenceMaxClients);
  }
  if (workloadName.empty()) return usage("name a workload: fanout, rate, connect or idle");
  config.workload = workloadName == "fanout"    ? Workload::Fanout
                    : workloadName == "rate"    ? Workload::Rate
                    : workloadName == "connect" ? Workload::Connect
                                                : Workload::Idle;
  config.progress = !quiet;
  const bool external = hostOpt->count() > 0 || portOpt->count() > 0;
  if (auto refusal = targetRefusal(host, hostOpt->count() > 0)) return usage(*refusal);
  if (external && port == 0) return usage("--host needs --port");
  if (reference && config.workload != Workload::Fanout) {
    return usage("--reference applies to the fanout workload");
  }
  if (clusterServers != 0 && (reference || external)) {
    return usage("--cluster starts its own servers and compares them with one; drop --reference, "
                 "--host and --port");
  }
  if (clusterServers != 0 && (config.workload == Workload::Connect ||
                              config.workload == Workload::Idle)) {
    return usage("--cluster applies to the fanout and rate workloads");
  }
  if (reference && external) {
    return usage(
        "--reference compares against servers the bench starts itself; drop --host/--port");
  }
  if (config.rooms > config.clients) return usage("--rooms must not exceed --clients");
  if (config.connectWindow > config.clients) config.connectWindow = config.clients;
  std::optional<std::vector<int>> serverCpus, benchCpus;
  if (!serverCpusText.empty() && !(serverCpus = parseCpuList(serverCpusText))) {
    return usage("--server-cpus: not a CPU list: " + serverCpusText);
  }
  if (!benchCpusText.empty() && !(benchCpus = parseCpuList(benchCpusText))) {
    return usage("--bench-cpus: not a CPU list: " + benchCpusText);
  }
  if (!client::makeClientTransport(config.transport, 1000)) {
    std::cerr << "udpchat-bench: transport \"" << config.transport
              << "\" is not built yet (makeClientTransport has no such transport)\n";
    return kExitCannotRun;
  }

  // Servers get the CPUs asked for, else the ones the bench had before pinning itself.
  const std::vector<int> serverAffinity = serverCpus ? *serverCpus : currentAffinity();
  if (benchCpus && !pinCurrentThread(*benchCpus)) {
    std::cerr << "udpchat-bench: cannot pin to CPUs " << benchCpusText << "\n";
    return kExitCannotRun;
  }

  RunDescription description;
  description.workload = workloadName;
  description.transport = config.transport;
  description.clientStack = config.clientStack;
  description.clients = config.clients;
  description.rooms = config.rooms;
  description.threads = std::min(config.threads, config.clients);
  description.window = config.workload == Workload::Fanout ? config.window : 0;
  description.ratePerClient = config.workload == Workload::Rate ? config.ratePerClient : 0;
  description.messageBytes = config.messageBytes;
  description.warmupSeconds = config.warmupSeconds;
  description.durationSeconds = config.durationSeconds;
  description.serverCpus = serverCpusText;
  description.benchCpus = benchCpusText;

  const std::size_t maxClients = std::min(kMaxClients, config.clients + kSpareClients);
  std::optional<RunReport> chat, ref;
  try {
    if (external) {
      description.target = host + ":" + std::to_string(port);
      config.quitAtEnd = true;
      chat = runLoad(config, LoadTarget{host, port, serverPid, {}, {}});
    } else {
      if (serverBin.empty()) serverBin = findServer();
      description.target = "udpchat-server started on 127.0.0.1 (" + serverBin + ")";
      std::vector<std::string> args{
          "--host", "127.0.0.1", "--port", "0", "--max-clients", std::to_string(maxClients),
          // Flood control off: the load is the point.
          "--rate-burst", std::to_string(kMaxRateLimit), "--rate", std::to_string(kMaxRateLimit)};
      std::filesystem::path storeDir;
      if (withStore) {
        std::string pattern = (std::filesystem::temp_directory_path() / "udpchat-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot make a temporary folder");
        storeDir = pattern;
        args.insert(args.end(), {"--data-dir", storeDir.string()});
        description.target += ", with its store in " + storeDir.string();
      } else if (std::none_of(serverArgs.begin(), serverArgs.end(), [](const std::string& a) {
                   return a.starts_with("--data-dir");
                 })) {
        args.push_back("--no-store");  // unless a --server-arg names a store of its own
      }
      args.insert(args.end(), serverArgs.begin(), serverArgs.end());
      struct RemoveAfter {
        std::filesystem::path dir;
        ~RemoveAfter() {
          std::error_code ec;
          if (!dir.empty()) std::filesystem::remove_all(dir, ec);
        }
      } removeAfter{storeDir};
      {
        ServerProcess server(serverBin, args, serverAffinity, showServerStderr,
                             kServerStartTimeout);
        if (!quiet) std::cerr << "udpchat-bench: " << server.listeningLine() << "\n";
        chat = runLoad(config, LoadTarget{"127.0.0.1", server.port(), server.pid(), {}, {}});
      }
      if (clusterServers != 0) {
        // The run above was one server alone: it becomes the comparison, and the cluster's run
        // the main report.
        ref = std::move(chat);
        ref->server = "1 server";
        if (natsBin.empty()) natsBin = findNats();
        const TempFolder natsStore("udpchat-bench-nats-");
        ServerProcess nats(natsBin,
                           {"-js", "-a", "127.0.0.1", "-p", "-1", "-sd", natsStore.path.string()},
                           serverAffinity, false, kServerStartTimeout,
                           ReadyLine{"Listening for client connections on ", true});
        const std::string url = "nats://127.0.0.1:" + std::to_string(nats.port());
        if (!quiet) std::cerr << "udpchat-bench: nats-server on " << url << "\n";
        std::vector<std::unique_ptr<ServerProcess>> servers;
        std::vector<TempFolder> stores;
        LoadTarget target;
        for (std::size_t k = 0; k < clusterServers; ++k) {
          std::vector<std::string> a = args;
          if (withStore) {
            stores.emplace_back("udpchat-bench-");
            std::replace(a.begin(), a.end(), storeDir.string(), stores.back().path.string());
          }
          a.insert(a.end(), {"--cluster", url, "--cluster-name", "bench", "--server-name",
                             "bench-" + std::to_string(k)});
          servers.push_back(std::make_unique<ServerProcess>(serverBin, a, serverAffinity,
                                                            showServerStderr, kServerStartTimeout));
          if (!quiet) std::cerr << "udpchat-bench: " << servers.back()->listeningLine() << "\n";
          target.spread.emplace_back("127.0.0.1", servers.back()->port());
          if (k == 0) {
            target.serverPid = servers.back()->pid();
          } else {
            target.alsoMeasured.push_back(servers.back()->pid());
          }
        }
        target.alsoMeasured.push_back(nats.pid());
        target.host = "127.0.0.1";
        target.port = servers.front()->port();
        LoadConfig clusterConfig = config;
        clusterConfig.label = std::to_string(clusterServers) + " servers + NATS";
        chat = runLoad(clusterConfig, target);
        description.target += "; then " + std::to_string(clusterServers) +
                              " such servers sharing one chat through nats-server (" + natsBin +
                              "), the clients spread over them, CPU counted over all of them "
                              "and NATS";
      }
      if (reference) {
        LoadConfig refConfig = config;
        refConfig.reference = true;
        ServerProcess server(selfPath().string(),
                             {"--serve-reference", "--host", "127.0.0.1", "--port", "0",
                              "--reference-max-clients", std::to_string(maxClients)},
                             serverAffinity, showServerStderr, kServerStartTimeout);
        if (!quiet) std::cerr << "udpchat-bench: " << server.listeningLine() << "\n";
        ref = runLoad(refConfig, LoadTarget{"127.0.0.1", server.port(), server.pid(), {}, {}});
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "udpchat-bench: " << e.what() << "\n";
    return kExitCannotRun;
  }

  if (json) {
    std::cout << toJson(description, *chat, ref).dump(2) << std::endl;
  } else {
    std::cout << toTable(description, *chat, ref) << std::flush;
  }
  bool consistent = true;
  for (const RunReport* r : {&*chat, ref ? &*ref : nullptr}) {
    if (r == nullptr) continue;
    for (const auto& problem : consistencyProblems(*r)) {
      std::cerr << "udpchat-bench: " << r->server << " report inconsistent: " << problem << "\n";
      consistent = false;
    }
  }
  return consistent ? 0 : kExitInconsistent;
}
