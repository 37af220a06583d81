// udpchat-lab: the chat's transports side by side over one seeded, emulated lossy link
// (docs/LAB.md). `udpchat-lab compare` runs a scenario for every transport and loss rate, each
// cell --repeat times, and prints a table (or --json, --csv), optionally with SVG plots and the
// captures of every run. `udpchat-lab report --from FILE` prints or plots a saved --json run.
//
// Exit statuses: 0 every run connected; 1 some run failed (see its row); 2 network namespaces
// cannot be made (the reason names the fix); 64 bad command line.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "lab/lab_options.hpp"
#include "lab/lab_plots.hpp"
#include "lab/lab_report.hpp"
#include "lab/lab_run.hpp"
#include "lab/run_queue.hpp"
#include "lab/netns.hpp"

namespace {

namespace lab = udpchat::lab;

constexpr int kExitRunFailed = 1;
constexpr int kExitNoNamespaces = 2;
constexpr int kExitUsage = 64;

// The server next to this program (the build tree, or an installation), else the one the
// build named.
std::string defaultServer() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    for (const auto& candidate :
         {self.parent_path() / "udpchat-server",
          self.parent_path().parent_path().parent_path() / "src" / "udpchat-server"}) {
      if (std::filesystem::exists(candidate, error)) return candidate.string();
    }
  }
  return UDPCHAT_LAB_SERVER_BIN;
}

bool writeFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

// Prints the report of `runs` in `o.format` and writes the plots; the exit status.
int emit(const lab::CompareOptions& o, const std::vector<lab::RunResult>& runs,
         const lab::HostLoad& host) {
  // Cells in report order: loss rate, then transport (the runs went repetition by repetition).
  std::vector<lab::RunResult> ordered;
  for (double lossPct : o.lossPct) {
    for (const std::string& name : o.transports) {
      for (const lab::RunResult& r : runs) {
        if (r.lossPct == lossPct && r.transport == name) ordered.push_back(r);
      }
    }
  }
  const std::vector<lab::CellSummary> cells = lab::summarizeCells(ordered);
  switch (o.format) {
    case lab::OutputFormat::kTable:
      std::cout << lab::formatTable(o, cells, host);
      break;
    case lab::OutputFormat::kJson:
      std::cout << lab::toJson(o, ordered, cells, host).dump(2) << "\n";
      break;
    case lab::OutputFormat::kCsv:
      std::cout << lab::toCsv(ordered);
      break;
  }
  if (!o.plotDir.empty()) {
    for (const lab::PlotFile& plot : lab::makePlots(o, ordered, cells)) {
      const auto path = std::filesystem::path(o.plotDir) / plot.name;
      if (!writeFile(path, plot.svg)) {
        std::cerr << "udpchat-lab: cannot write " << path << "\n";
        return kExitRunFailed;
      }
      if (!o.quiet) std::cerr << "udpchat-lab: wrote " << path.string() << "\n";
    }
  }
  for (const lab::RunResult& r : ordered) {
    if (!r.connected || !r.error.empty()) return kExitRunFailed;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // First, while the process has one thread: a user namespace can only be entered then.
  const auto privileges = lab::acquireNetnsPrivileges();

  lab::CompareOptions o;
  o.serverBinary = defaultServer();
  CLI::App app{
      "udpchat-lab: TCP and ENet side by side on the real chat, over one seeded, "
      "emulated lossy link (docs/LAB.md)"};
  app.require_subcommand(1);
  CLI::App* compare = app.add_subcommand(
      "compare", "run a scenario for every transport and loss rate, --repeat times per cell");

  CLI::App* report = app.add_subcommand(
      "report",
      "print or plot a comparison saved with compare --json (CDFs and timelines need "
      "--samples in the saved run)");
  std::string from;
  bool reportJson = false;
  bool reportCsv = false;
  std::string reportPlots;
  report->add_option("--from", from, "the saved JSON document")->required();
  report->add_flag("--json", reportJson, "print it as JSON again (after re-summarising)");
  report->add_flag("--csv", reportCsv, "print CSV, one line per run");
  report->add_option("--plot", reportPlots, "write the SVG plots into this directory");

  std::string loss = "0,1,2,5,10,20";
  std::string transports = "tcp,enet-reliable,enet-unreliable,enet-unsequenced";
  std::string scenario = "chat";
  std::string gilbert;
  bool json = false;
  bool csv = false;
  std::uint64_t bulkAfter = 0;
  compare->add_option("--scenario", scenario, "chat, presence or hol (head-of-line)")
      ->capture_default_str();
  compare
      ->add_option("--transports", transports,
                   "comma-separated: tcp, enet-reliable, enet-unreliable, enet-unsequenced")
      ->capture_default_str();
  compare->add_option("--loss", loss, "loss rates to sweep, percent per direction")
      ->capture_default_str();
  compare->add_option("--delay", o.delayMs, "one-way delay per direction, ms")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  compare->add_option("--jitter", o.jitterMs, "delay varies by +- this, ms (no reordering)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  compare->add_option("--duplicate", o.duplicatePct, "percent of packets delivered twice")
      ->check(CLI::Range(0.0, 100.0));
  compare->add_option("--reorder", o.reorderPct, "percent of packets held back 10 ms")
      ->check(CLI::Range(0.0, 100.0));
  compare->add_option("--gilbert", gilbert,
                      "bursty loss on top of --loss: p,r[,lossGood,lossBad] in percent");
  compare->add_option("--rate-kbit", o.rateKbit, "bottleneck rate per direction, kbit/s");
  compare->add_option("--queue-packets", o.queuePackets,
                      "bottleneck queue bound, packets (needs --rate-kbit)");
  compare->add_option("--messages", o.messages, "measured chat messages per run")
      ->capture_default_str();
  compare->add_option("--rate", o.rate, "chat messages per second")->capture_default_str();
  compare->add_option("--size", o.messageBytes, "bytes of text per chat message")
      ->capture_default_str();
  compare->add_option("--warmup", o.warmup, "unmeasured chat messages sent first")
      ->capture_default_str();
  compare->add_option("--repeat", o.repeat, "runs per cell")->capture_default_str();
  compare->add_option("--seed", o.seed, "base seed; repetition k uses a seed derived from it")
      ->capture_default_str();
  compare->add_option("--bulk-bytes", o.bulkBytes, "hol: bytes of the bulk transfer")
      ->capture_default_str();
  compare->add_option("--bulk-frame", o.bulkFrameBytes, "hol: text bytes per bulk message")
      ->capture_default_str();
  compare
      ->add_option("--bulk-window", o.bulkWindowBytes,
                   "hol: bulk bytes sent but not yet received, at most; 0 = no limit")
      ->capture_default_str();
  compare->add_option("--bulk-after", bulkAfter,
                      "hol: chat messages sent before the bulk starts (default: a quarter)");
  compare->add_option("--ping-interval", o.pingIntervalMs,
                      "presence: ms between pings (default: the server's, from Welcome)");
  compare->add_option("--duration", o.durationS, "presence: seconds of pinging")
      ->capture_default_str();
  compare
      ->add_option("--whois-interval", o.whoisIntervalMs,
                   "presence: mean ms between the receiver's WhoisRequests (each interval "
                   "drawn from 0.5 to 1.5 times it)")
      ->capture_default_str();
  compare->add_option("--connect-attempts", o.connectAttempts, "connect attempts per client")
      ->capture_default_str();
  compare
      ->add_option("--attempt-timeout", o.attemptTimeoutMs,
                   "ms one connect attempt (and its Hello) may take")
      ->capture_default_str();
  compare
      ->add_option("--drain", o.drainLimitS,
                   "longest wait, s, for reliable transports' last messages")
      ->capture_default_str();
  compare->add_flag("--json", json, "print one JSON document instead of the table");
  compare->add_flag("--csv", csv, "print CSV, one line per run, instead of the table");
  compare->add_flag("--samples", o.samples, "with --json: every message's latency too");
  compare->add_option("--plot", o.plotDir, "write SVG plots into this directory");
  compare->add_option("--pcap", o.pcapDir, "keep every run's capture (pcapng) in this directory");
  compare->add_option("--server", o.serverBinary, "the udpchat-server to run")
      ->capture_default_str();
  compare->add_flag("--quiet", o.quiet, "no progress lines on stderr");
  compare->add_option("--jobs", o.jobs,
                      "runs at once, each on a link of its own (default: twice the cores, at most 8)")
      ->check(CLI::Range(1u, 64u));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "udpchat-lab: " << e.what() << "\nRun with --help for the options.\n";
    return kExitUsage;
  }
  const auto usage = [](const std::string& message) {
    std::cerr << "udpchat-lab: " << message << "\n";
    return kExitUsage;
  };
  if (report->parsed()) {
    if (reportJson && reportCsv) return usage("--json and --csv exclude each other");
    std::ifstream in(from);
    if (!in) return usage("cannot read " + from);
    const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded()) return usage(from + " is not JSON");
    auto saved = lab::fromJson(doc);
    if (!saved) return usage(from + ": " + saved.error());
    lab::CompareOptions& ro = saved->options;
    ro.format = reportJson  ? lab::OutputFormat::kJson
                : reportCsv ? lab::OutputFormat::kCsv
                            : lab::OutputFormat::kTable;
    ro.plotDir = reportPlots;
    std::error_code error;
    if (!reportPlots.empty()) std::filesystem::create_directories(reportPlots, error);
    if (error) return usage("cannot create " + reportPlots + ": " + error.message());
    ro.samples = std::any_of(saved->runs.begin(), saved->runs.end(),
                             [](const lab::RunResult& r) { return !r.arrivals.empty(); });
    ro.quiet = true;
    return emit(ro, saved->runs, saved->host);
  }
  if (json && csv) return usage("--json and --csv exclude each other");
  o.format = json  ? lab::OutputFormat::kJson
             : csv ? lab::OutputFormat::kCsv
                   : lab::OutputFormat::kTable;
  const auto parsedScenario = lab::parseScenario(scenario);
  if (!parsedScenario) return usage("unknown scenario \"" + scenario + "\" (chat, presence, hol)");
  o.scenario = *parsedScenario;
  auto lossList = lab::parseNumberList(loss);
  if (!lossList) return usage("--loss: " + lossList.error());
  o.lossPct = *lossList;
  auto transportList = lab::parseTransportList(transports);
  if (!transportList) return usage("--transports: " + transportList.error());
  o.transports = *transportList;
  if (!gilbert.empty()) {
    auto parsed = lab::parseGilbert(gilbert);
    if (!parsed) return usage("--gilbert: " + parsed.error());
    o.gilbert = *parsed;
  }
  if (compare->count("--bulk-after") > 0) o.bulkAfter = bulkAfter;
  if (auto problem = lab::validate(o)) return usage(*problem);
  if (::access(o.serverBinary.c_str(), X_OK) != 0) {
    return usage("cannot run the server \"" + o.serverBinary + "\" (give it with --server)");
  }
  if (!privileges) {
    std::cerr << "udpchat-lab: " << privileges.error() << "\n";
    return kExitNoNamespaces;
  }
  for (const std::string& dir : {o.plotDir, o.pcapDir}) {
    std::error_code error;
    if (!dir.empty()) std::filesystem::create_directories(dir, error);
    if (error) return usage("cannot create " + dir + ": " + error.message());
  }

  lab::HostLoad host = lab::describeHost();
  host.cpus = std::thread::hardware_concurrency();
  host.loadBefore = lab::readLoadAverage();
  struct Planned {
    lab::TransportSpec transport;
    double lossPct;
    unsigned repetition;
    std::string label;
    std::string pcap;  // empty: a scratch file of the run's own, removed after it
  };
  std::vector<Planned> plan;
  for (unsigned repetition = 1; repetition <= o.repeat; ++repetition) {
    for (double lossPct : o.lossPct) {
      for (const std::string& name : o.transports) {
        const std::string label = lab::runLabel(o.scenario, name, lossPct, repetition);
        plan.push_back({*lab::findTransport(name), lossPct, repetition, label,
                        o.pcapDir.empty()
                            ? std::string()
                            : (std::filesystem::path(o.pcapDir) / (label + ".pcapng")).string()});
      }
    }
  }
  const unsigned jobs = o.jobs > 0 ? o.jobs : lab::defaultJobs(host.cpus);
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  const auto began = std::chrono::steady_clock::now();
  std::vector<lab::RunResult> finished(plan.size());  // read by the progress lines only
  const auto onProgress = [&](std::size_t done, std::size_t running, std::size_t which) {
    if (o.quiet) return;
    lab::Progress p{plan.size(), done, running,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count()};
    std::string line;
    if (which < plan.size()) {
      const lab::RunResult& r = finished[which];
      line = "udpchat-lab: " + plan[which].label + ": ";
      char figures[160];
      if (r.connected) {
        std::snprintf(figures, sizeof figures, "%llu/%llu delivered, p99 %.1f ms, %.1f s",
                      static_cast<unsigned long long>(r.delivered),
                      static_cast<unsigned long long>(r.sent), r.latency.p99, r.seconds);
        line += figures;
        if (!r.error.empty()) line += "; " + r.error;
      } else {
        line += "failed: " + r.error;
      }
    }
    if (terminal) {  // finished runs scroll above; the bar stays on the last line
      if (!line.empty()) std::fprintf(stderr, "\r\033[K%s\n", line.c_str());
      std::fprintf(stderr, "\r\033[K%s", lab::progressText(p, 30).c_str());
      if (done == plan.size()) std::fputc('\n', stderr);
    } else if (!line.empty()) {
      std::fprintf(stderr, "%s (%s)\n", line.c_str(), lab::progressText(p, 0).c_str());
    }
    std::fflush(stderr);
  };
  const std::string scratchStem = (std::filesystem::temp_directory_path() /
                                   ("udpchat-lab-" + std::to_string(::getpid()) + "-"))
                                      .string();
  std::vector<lab::RunResult> runs;
  try {
    runs = lab::runAll(
        plan.size(), jobs,
        [&](std::size_t i) {
          const Planned& r = plan[i];
          const std::string pcap =
              r.pcap.empty() ? scratchStem + std::to_string(i) + ".pcapng" : r.pcap;
          lab::RunResult result = lab::runOnce(o, r.transport, r.lossPct, r.repetition, pcap);
          if (r.pcap.empty()) std::filesystem::remove(pcap);
          finished[i] = result;  // before this thread takes the lock to report it
          return result;
        },
        onProgress);
  } catch (const std::exception& e) {
    std::cerr << "\nudpchat-lab: cannot set up the link: " << e.what() << "\n";
    return kExitNoNamespaces;
  }
  host.loadAfter = lab::readLoadAverage();

  return emit(o, runs, host);
}
