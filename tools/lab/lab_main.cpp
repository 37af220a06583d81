// udpchat-lab: the chat's transports side by side over one seeded, emulated lossy link
// (docs/LAB.md). `udpchat-lab compare` runs a scenario for every transport and loss rate, each
// cell --repeat times, and prints a table (or --json, --csv), optionally with SVG plots and the
// captures of every run, and --html DIR writes one self-contained page of it all.
// `udpchat-lab report --from FILE` prints, plots or pages a saved --json run. `udpchat-lab demo`
// is the lesson in about a minute: chat, head-of-line and presence, TCP against ENet, with the
// tables, the plots, a capture per transport and the page written into one new folder.
//
// Exit statuses: 0 every run connected; 1 some run failed (see its row); 2 network namespaces
// cannot be made (the reason names the fix); 64 bad command line.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "lab/demo_plan.hpp"
#include "lab/html_report.hpp"
#include "lab/lab_options.hpp"
#include "lab/lab_plots.hpp"
#include "lab/lab_report.hpp"
#include "lab/lab_run.hpp"
#include "lab/live_view.hpp"
#include "lab/run_queue.hpp"
#include "lab/netns.hpp"
#include "udpchat/stop_signal.hpp"

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

// `runs` of one comparison in report order: loss rate, then transport (they were planned
// repetition by repetition).
std::vector<lab::RunResult> reportOrder(const lab::CompareOptions& o,
                                        const std::vector<lab::RunResult>& runs) {
  std::vector<lab::RunResult> ordered;
  for (double lossPct : o.lossPct) {
    for (const std::string& name : o.transports) {
      for (const lab::RunResult& r : runs) {
        if (r.scenario == o.scenario && r.lossPct == lossPct && r.transport == name) {
          ordered.push_back(r);
        }
      }
    }
  }
  return ordered;
}

// The local time now, through strftime's `format`.
std::string localTime(const char* format = "%Y-%m-%d %H:%M:%S %Z") {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  ::localtime_r(&now, &parts);
  char text[64];
  std::strftime(text, sizeof text, format, &parts);
  return text;
}

bool writePlots(const std::filesystem::path& dir, const std::vector<lab::PlotFile>& plots,
                bool quiet) {
  for (const lab::PlotFile& plot : plots) {
    const auto path = dir / plot.name;
    if (!writeFile(path, plot.svg)) {
      std::cerr << "udpchat-lab: cannot write " << path.string() << "\n";
      return false;
    }
    if (!quiet) std::cerr << "udpchat-lab: wrote " << path.string() << "\n";
  }
  return true;
}

// The captures in `pcapDir` of `runs`, as links relative to the page in `htmlDir`.
std::vector<lab::HtmlCapture> capturesOf(const std::vector<lab::RunResult>& runs,
                                         const std::string& pcapDir,
                                         const std::filesystem::path& htmlDir) {
  std::vector<lab::HtmlCapture> out;
  if (pcapDir.empty()) return out;
  for (const lab::RunResult& r : runs) {
    const std::string label = lab::runLabel(r.scenario, r.transport, r.lossPct, r.repetition);
    const auto file = std::filesystem::path(pcapDir) / (label + ".pcapng");
    std::error_code error;
    if (!std::filesystem::exists(file, error)) continue;
    const auto relative = std::filesystem::relative(file, htmlDir, error);
    out.push_back({(error || relative.empty() ? std::filesystem::absolute(file) : relative).string(),
                   label, r.transport == "tcp"});
  }
  return out;
}

bool writeHtml(const std::filesystem::path& dir, const lab::HtmlReport& page, bool quiet) {
  const auto path = dir / "index.html";
  if (!writeFile(path, lab::formatHtml(page))) {
    std::cerr << "udpchat-lab: cannot write " << path.string() << "\n";
    return false;
  }
  if (!quiet) std::cerr << "udpchat-lab: wrote " << path.string() << "\n";
  return true;
}

bool anyFailed(const std::vector<lab::RunResult>& runs) {
  return std::any_of(runs.begin(), runs.end(), [](const lab::RunResult& r) {
    return !r.connected || !r.error.empty();
  });
}

// Prints the report of `runs` in `o.format`, writes the plots and the page; the exit status.
// `command`: the words that produced it, for the page.
int emit(const lab::CompareOptions& o, const std::vector<lab::RunResult>& runs,
         const lab::HostLoad& host, const std::string& htmlDir, const std::string& command) {
  const std::vector<lab::RunResult> ordered = reportOrder(o, runs);
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
  const bool wantPlots = !o.plotDir.empty() || !htmlDir.empty();
  const std::vector<lab::PlotFile> plots =
      wantPlots ? lab::makePlots(o, ordered, cells) : std::vector<lab::PlotFile>{};
  if (!o.plotDir.empty() && !writePlots(o.plotDir, plots, o.quiet)) return kExitRunFailed;
  if (!htmlDir.empty()) {
    lab::HtmlReport page;
    page.heading = "udpchat-lab: " + std::string(lab::to_string(o.scenario));
    page.command = command;
    page.generatedAt = localTime();
    page.host = host;
    page.sections.push_back({o, cells, plots, lab::compareCommand(o)});
    page.captures = capturesOf(ordered, o.pcapDir, htmlDir);
    if (!writeHtml(htmlDir, page, o.quiet)) return kExitRunFailed;
  }
  return anyFailed(ordered) ? kExitRunFailed : 0;
}

// One run of a plan: which comparison it belongs to, and its cell.
struct Planned {
  const lab::CompareOptions* options;
  lab::TransportSpec transport;
  double lossPct;
  unsigned repetition;
  std::string label;
  std::string pcap;  // empty: a scratch file of the run's own, removed after it
};

std::vector<Planned> planOf(const lab::CompareOptions& o) {
  std::vector<Planned> plan;
  for (unsigned repetition = 1; repetition <= o.repeat; ++repetition) {
    for (double lossPct : o.lossPct) {
      for (const std::string& name : o.transports) {
        const std::string label = lab::runLabel(o.scenario, name, lossPct, repetition);
        plan.push_back({&o, *lab::findTransport(name), lossPct, repetition, label,
                        o.pcapDir.empty()
                            ? std::string()
                            : (std::filesystem::path(o.pcapDir) / (label + ".pcapng")).string()});
      }
    }
  }
  return plan;
}

// Runs `plan` on `jobs` threads with the progress on stderr; the results in plan order.
// Throws what runOnce throws when a link cannot be made.
std::vector<lab::RunResult> execute(const std::vector<Planned>& plan, unsigned jobs, bool quiet) {
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  const auto began = std::chrono::steady_clock::now();
  std::vector<lab::RunResult> finished(plan.size());  // read by the progress lines only
  const auto onProgress = [&](std::size_t done, std::size_t running, std::size_t which) {
    if (quiet) return;
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
  return lab::runAll(
      plan.size(), jobs,
      [&](std::size_t i) {
        const Planned& r = plan[i];
        const std::string pcap =
            r.pcap.empty() ? scratchStem + std::to_string(i) + ".pcapng" : r.pcap;
        lab::RunResult result =
            lab::runOnce(*r.options, r.transport, r.lossPct, r.repetition, pcap);
        if (r.pcap.empty()) std::filesystem::remove(pcap);
        finished[i] = result;  // before this thread takes the lock to report it
        return result;
      },
      onProgress);
}

}  // namespace

int main(int argc, char** argv) {
  // First, while the process has one thread: a user namespace can only be entered then.
  const auto privileges = lab::acquireNetnsPrivileges();

  const std::vector<std::string> words(argv, argv + argc);
  std::vector<std::string> typed = words;  // as a person would type it again
  if (!typed.empty()) typed[0] = "udpchat-lab";
  const std::string command = lab::shellQuote(typed);

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
  std::string reportHtml;
  report->add_option("--html", reportHtml,
                     "write one self-contained page (index.html) of it into this directory");

  CLI::App* demo = app.add_subcommand(
      "demo",
      "the lesson in about a minute: TCP against ENet for chat at 0, 5 and 10 % loss, "
      "head-of-line blocking and presence, with tables, plots, captures and a page in a new "
      "folder");
  std::string demoOut;
  std::uint64_t demoSeed = 1;
  unsigned demoJobs = 0;
  bool demoQuiet = false;
  demo->add_option("--out", demoOut,
                   "the folder to write (default: udpchat-lab-demo-<date>-<time> here)");
  demo->add_option("--seed", demoSeed, "seed of the emulated link")->capture_default_str();
  demo->add_option("--jobs", demoJobs, "runs at once (default: all of them)")
      ->check(CLI::Range(1u, 64u));
  demo->add_flag("--quiet", demoQuiet, "no progress lines on stderr");
  demo->add_option("--server", o.serverBinary, "the udpchat-server to run")
      ->capture_default_str();

  CLI::App* live = app.add_subcommand(
      "live",
      "TCP and ENet reliable chat side by side as it happens, one bar per message; keys change "
      "the loss while it runs (+ more, - less, 0 none, q quit)");
  lab::LiveOptions lo;
  double liveDuration = 0;
  live->add_option("--loss", lo.lossPct, "loss at the start, percent per direction")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  live->add_option("--delay", lo.delayMs, "one-way delay per direction, ms")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10000.0));
  live->add_option("--jitter", lo.jitterMs, "delay varies by +- this, ms (no reordering)")
      ->check(CLI::NonNegativeNumber);
  live->add_option("--rate", lo.rate, "chat messages per second")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 200.0));
  live->add_option("--size", lo.messageBytes, "bytes of text per chat message")
      ->capture_default_str();
  live->add_option("--duration", liveDuration,
                   "seconds of sending, then it waits for the last messages and ends "
                   "(default: until q or Ctrl-C)")
      ->check(CLI::PositiveNumber);
  live->add_option("--seed", lo.seed, "seed of the emulated links")->capture_default_str();
  live->add_option("--server", o.serverBinary, "the udpchat-server to run")
      ->capture_default_str();

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
  std::string html;
  compare->add_option("--html", html,
                      "write one self-contained page (index.html) with the table, the plots, the "
                      "reading and links to the captures (kept in DIR/captures unless --pcap "
                      "says where) into this directory");
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
  // What every subcommand that runs links and servers needs first: the exit status if it cannot.
  const auto cannotRun = [&]() -> std::optional<int> {
    if (::access(o.serverBinary.c_str(), X_OK) != 0) {
      return usage("cannot run the server \"" + o.serverBinary + "\" (give it with --server)");
    }
    if (!privileges) {
      std::cerr << "udpchat-lab: " << privileges.error() << "\n";
      return kExitNoNamespaces;
    }
    return std::nullopt;
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
    for (const std::string& dir : {reportPlots, reportHtml}) {
      std::error_code error;
      if (!dir.empty()) std::filesystem::create_directories(dir, error);
      if (error) return usage("cannot create " + dir + ": " + error.message());
    }
    ro.samples = std::any_of(saved->runs.begin(), saved->runs.end(),
                             [](const lab::RunResult& r) { return !r.arrivals.empty(); });
    ro.quiet = true;
    ro.pcapDir.clear();  // where the captures were is not in the document
    return emit(ro, saved->runs, saved->host, reportHtml,
                lab::compareCommand(ro) + " --json --samples > saved.json\n" + command);
  }
  if (live->parsed()) {
    if (const auto refused = cannotRun()) return *refused;
    lo.serverBinary = o.serverBinary;
    if (liveDuration > 0) lo.durationS = liveDuration;
    if (auto problem = lab::validate(lo)) return usage(*problem);
    const std::atomic<bool>& stopRequested = udpchat::installStopSignals();
    return lab::runLiveView(lo, stopRequested) == 0 ? 0 : kExitRunFailed;
  }
  if (demo->parsed()) {
    if (const auto refused = cannotRun()) return *refused;
    if (demoOut.empty()) demoOut = localTime("udpchat-lab-demo-%Y%m%d-%H%M%S");
    std::error_code error;
    const std::filesystem::path out = std::filesystem::absolute(demoOut, error);
    std::filesystem::create_directories(out / "captures", error);
    if (error) return usage("cannot create " + demoOut + ": " + error.message());

    std::vector<lab::CompareOptions> parts = lab::demoPlan(demoSeed);
    std::vector<Planned> plan;
    for (lab::CompareOptions& part : parts) {
      part.serverBinary = o.serverBinary;
      part.quiet = demoQuiet;
    }
    for (const lab::CompareOptions& part : parts) {
      for (Planned p : planOf(part)) {
        if (lab::demoKeepsCapture(part, p.transport.name, p.lossPct)) {
          p.pcap = (out / "captures" / (p.label + ".pcapng")).string();
        }
        plan.push_back(std::move(p));
      }
    }
    lab::HostLoad host = lab::describeHost();
    host.cpus = std::thread::hardware_concurrency();
    host.loadBefore = lab::readLoadAverage();
    if (!demoQuiet) {
      std::cerr << "udpchat-lab demo: " << plan.size() << " runs over emulated links with 20 ms "
                << "each way, into " << out.string() << "\n";
    }
    std::vector<lab::RunResult> runs;
    try {
      runs = execute(plan, demoJobs > 0 ? demoJobs : static_cast<unsigned>(plan.size()),
                     demoQuiet);
    } catch (const std::exception& e) {
      std::cerr << "\nudpchat-lab: cannot set up the link: " << e.what() << "\n";
      return kExitNoNamespaces;
    }
    host.loadAfter = lab::readLoadAverage();

    lab::HtmlReport page;
    page.heading = "udpchat-lab demo: TCP against ENet over a lossy link";
    page.command = command;
    page.generatedAt = localTime();
    page.host = host;
    for (const lab::CompareOptions& part : parts) {
      const std::vector<lab::RunResult> ordered = reportOrder(part, runs);
      const std::vector<lab::CellSummary> cells = lab::summarizeCells(ordered);
      std::cout << lab::formatTable(part, cells, host) << "\n";
      std::vector<lab::PlotFile> plots = lab::makePlots(part, ordered, cells);
      if (!writePlots(out, plots, true)) return kExitRunFailed;
      page.sections.push_back({part, cells, std::move(plots), lab::compareCommand(part)});
      for (lab::HtmlCapture& c : capturesOf(ordered, (out / "captures").string(), out)) {
        page.captures.push_back(std::move(c));
      }
    }
    if (!writeHtml(out, page, true)) return kExitRunFailed;
    std::cout << "The plots, a capture per transport and the page are in " << out.string()
              << "\nOpen " << (out / "index.html").string() << " in a browser.\n";
    return anyFailed(runs) ? kExitRunFailed : 0;
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
  if (const auto refused = cannotRun()) return *refused;
  if (!html.empty() && o.pcapDir.empty()) {
    o.pcapDir = (std::filesystem::path(html) / "captures").string();
  }
  for (const std::string& dir : {o.plotDir, o.pcapDir, html}) {
    std::error_code error;
    if (!dir.empty()) std::filesystem::create_directories(dir, error);
    if (error) return usage("cannot create " + dir + ": " + error.message());
  }

  lab::HostLoad host = lab::describeHost();
  host.cpus = std::thread::hardware_concurrency();
  host.loadBefore = lab::readLoadAverage();
  const std::vector<Planned> plan = planOf(o);
  std::vector<lab::RunResult> runs;
  try {
    runs = execute(plan, o.jobs > 0 ? o.jobs : lab::defaultJobs(host.cpus), o.quiet);
  } catch (const std::exception& e) {
    std::cerr << "\nudpchat-lab: cannot set up the link: " << e.what() << "\n";
    return kExitNoNamespaces;
  }
  host.loadAfter = lab::readLoadAverage();

  return emit(o, runs, host, html, command);
}
