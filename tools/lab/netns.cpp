#include "lab/netns.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <mutex>
#include <system_error>

namespace udpchat::lab {
namespace {

constexpr char kNetnsRunDir[] = "/run/netns";
constexpr char kPublishedPrefix[] = "udpchat-lab-";

std::system_error systemError(int error, const std::string& what) {
  return std::system_error(error, std::generic_category(), what);
}

std::optional<long> readNumber(const char* path) {
  std::ifstream in(path);
  long value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

bool writeFile(const std::string& path, std::string_view text) {
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return false;
  return ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

std::size_t threadCount() {
  std::size_t count = 0;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    ::closedir(dir);
  }
  return count;
}

// Creating a namespace on a throwaway thread, so the caller's own namespace never changes.
int probeNetns() {
  int error = 0;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) error = errno;
  }).join();
  return error;
}

int probeTun() {
  const UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  return fd ? 0 : errno;
}

std::string errnoName(int error) {
  return std::strerror(error);
}

// --- Published names (/run/netns/<name>) and their removal on a fatal signal ---------------

constexpr std::size_t kMaxPublished = 64;
constexpr std::size_t kMaxPath = 128;
char publishedPaths[kMaxPublished][kMaxPath];
std::atomic<bool> publishedSlotUsed[kMaxPublished];
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};
std::mutex publishMutex;

// Async-signal-safe: only umount2, unlink, sigaction and raise.
extern "C" void removePublishedAndDie(int signalNumber) {
  for (std::size_t i = 0; i < kMaxPublished; ++i) {
    if (publishedSlotUsed[i].load()) {
      ::umount2(publishedPaths[i], MNT_DETACH);
      ::unlink(publishedPaths[i]);
    }
  }
  struct sigaction byDefault {};
  byDefault.sa_handler = SIG_DFL;
  sigemptyset(&byDefault.sa_mask);
  ::sigaction(signalNumber, &byDefault, nullptr);
  ::raise(signalNumber);
}

// Installs the handler only for signals that would otherwise kill the process without running
// destructors; a program with handlers of its own shuts down through its destructors.
void installCleanupHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int signalNumber : kCleanupSignals) {
      struct sigaction current {};
      if (::sigaction(signalNumber, nullptr, &current) != 0) continue;
      if (current.sa_handler != SIG_DFL || (current.sa_flags & SA_SIGINFO) != 0) continue;
      struct sigaction action {};
      action.sa_handler = removePublishedAndDie;
      sigemptyset(&action.sa_mask);
      ::sigaction(signalNumber, &action, nullptr);
    }
  });
}

int claimSlot(const std::string& path) {
  if (path.size() >= kMaxPath) return -1;
  const std::lock_guard lock(publishMutex);
  for (std::size_t i = 0; i < kMaxPublished; ++i) {
    if (!publishedSlotUsed[i].load()) {
      std::memcpy(publishedPaths[i], path.c_str(), path.size() + 1);
      publishedSlotUsed[i].store(true);
      return static_cast<int>(i);
    }
  }
  return -1;
}

void releaseSlot(const std::string& path) {
  const std::lock_guard lock(publishMutex);
  for (std::size_t i = 0; i < kMaxPublished; ++i) {
    if (publishedSlotUsed[i].load() && path == publishedPaths[i]) {
      publishedSlotUsed[i].store(false);
      return;
    }
  }
}

std::string publishedPath(const std::string& name) {
  return std::string(kNetnsRunDir) + "/" + name;
}

// Removes names left by lab processes that no longer exist (killed before their destructors
// ran). Names are udpchat-lab-<pid>-...; a live pid's names are left alone.
void sweepStaleNames() {
  DIR* dir = ::opendir(kNetnsRunDir);
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name.rfind(kPublishedPrefix, 0) != 0) continue;
    const std::string_view rest = name.substr(std::strlen(kPublishedPrefix));
    const std::size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string_view::npos) continue;
    pid_t pid = 0;
    bool digits = true;
    for (char c : rest.substr(0, dash)) {
      digits = digits && c >= '0' && c <= '9';
      pid = pid * 10 + (c - '0');
    }
    if (digits && ::kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(std::string(name));
  }
  ::closedir(dir);
  for (const std::string& name : stale) {
    const std::string path = publishedPath(name);
    ::umount2(path.c_str(), MNT_DETACH);
    ::unlink(path.c_str());
  }
}

// What `ip netns add` does: /run/netns becomes a shared mount point (so the names show in
// other mount namespaces), then the namespace is bind-mounted onto an empty file there.
bool publishAt(int nsFd, const std::string& name) {
  if (::mkdir(kNetnsRunDir, 0755) != 0 && errno != EEXIST) return false;
  bool madeMountPoint = false;
  while (::mount("", kNetnsRunDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
    if (errno != EINVAL || madeMountPoint) return false;
    if (::mount(kNetnsRunDir, kNetnsRunDir, "none", MS_BIND | MS_REC, nullptr) != 0) return false;
    madeMountPoint = true;
  }
  sweepStaleNames();
  const std::string path = publishedPath(name);
  const UniqueFd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
  if (!file) return false;
  if (claimSlot(path) < 0) {
    ::unlink(path.c_str());
    return false;
  }
  installCleanupHandlers();
  const std::string source = "/proc/self/fd/" + std::to_string(nsFd);
  if (::mount(source.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
    releaseSlot(path);
    ::unlink(path.c_str());
    return false;
  }
  return true;
}

void bringLoopbackUp() {
  const UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throw systemError(errno, "socket in the new namespace");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) throw systemError(errno, "SIOCGIFFLAGS lo");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) throw systemError(errno, "bringing lo up");
}

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

std::string_view to_string(PrivilegeMode mode) {
  return mode == PrivilegeMode::kRoot ? "root" : "user namespace";
}

std::string explainMissingPrivileges(const PrivilegeFacts& f) {
  std::string why;
  std::string fix;
  auto add = [](std::string& to, const std::string& text) {
    if (!to.empty()) to += "; ";
    to += text;
  };
  if (f.tunErrno == ENOENT || f.tunErrno == ENODEV || f.tunErrno == ENXIO) {
    add(why, "/dev/net/tun is missing");
    add(fix,
        "load the TUN driver (modprobe tun), and in a container pass the device "
        "(docker run --device /dev/net/tun)");
  } else if (f.tunErrno == EACCES || f.tunErrno == EPERM) {
    add(why, "/dev/net/tun cannot be opened by uid " + std::to_string(f.uid));
    add(fix, "make it usable by everyone as Debian does by default (chmod 0666 /dev/net/tun)");
  } else if (f.tunErrno != 0) {
    add(why, "opening /dev/net/tun failed (" + errnoName(f.tunErrno) + ")");
  }
  if (f.netnsErrno != 0 && f.uid == 0 && f.userNamespaceErrno == 0) {
    add(why, "creating a network namespace failed (" + errnoName(f.netnsErrno) + ")");
    add(fix,
        "in a container, grant CAP_SYS_ADMIN and CAP_NET_ADMIN (docker run --cap-add "
        "SYS_ADMIN --cap-add NET_ADMIN, or --privileged)");
  }
  if (f.userNamespaceErrno != 0) {
    if (f.multiThreaded || f.userNamespaceErrno == EINVAL) {
      add(why,
          "the process already runs several threads, and only a single-threaded process "
          "can enter a user namespace");
      add(fix, "call acquireNetnsPrivileges() first thing in main");
    } else if (f.unprivilegedUsernsClone && *f.unprivilegedUsernsClone == 0) {
      add(why, "unprivileged user namespaces are disabled");
      add(fix, "allow unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1");
    } else if (f.maxUserNamespaces && *f.maxUserNamespaces == 0) {
      add(why, "user namespaces are disabled (user.max_user_namespaces is 0)");
      add(fix, "allow user namespaces: sysctl -w user.max_user_namespaces=15000");
    } else if (f.userNamespaceErrno == ENOSPC || f.userNamespaceErrno == EUSERS) {
      add(why, "the limit on user namespaces is reached");
      add(fix, "raise it: sysctl -w user.max_user_namespaces=15000");
    } else if (f.apparmorRestrictUserns && *f.apparmorRestrictUserns != 0) {
      add(why, "AppArmor restricts unprivileged user namespaces");
      add(fix, "allow them: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
    } else {
      add(why, "entering a user namespace failed (" + errnoName(f.userNamespaceErrno) +
                   "), probably refused by a seccomp filter or container policy");
      add(fix, "allow unprivileged user namespaces in the container or system policy");
    }
  } else if (f.netnsErrno != 0 && f.uid != 0) {
    add(why, "creating a network namespace inside the user namespace failed (" +
                 errnoName(f.netnsErrno) + ")");
  }
  if (why.empty()) why = "no reason found";
  std::string message = "cannot create network namespaces and TUN devices as uid " +
                        std::to_string(f.uid) + ": " + why + ". Run as root";
  if (!fix.empty()) message += ", or " + fix;
  return message;
}

Result<PrivilegeMode, std::string> acquireNetnsPrivileges() {
  static std::mutex mutex;
  static std::optional<Result<PrivilegeMode, std::string>> answer;
  const std::lock_guard lock(mutex);
  if (answer) return *answer;

  PrivilegeFacts facts;
  facts.uid = ::getuid();
  facts.netnsErrno = probeNetns();
  if (facts.netnsErrno == 0) {
    facts.tunErrno = probeTun();
    answer = facts.tunErrno == 0 ? Result<PrivilegeMode, std::string>(PrivilegeMode::kRoot)
                                 : fail(explainMissingPrivileges(facts));
    return *answer;
  }

  facts.unprivilegedUsernsClone = readNumber("/proc/sys/kernel/unprivileged_userns_clone");
  facts.maxUserNamespaces = readNumber("/proc/sys/user/max_user_namespaces");
  facts.apparmorRestrictUserns =
      readNumber("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  facts.multiThreaded = threadCount() > 1;
  const unsigned uid = ::getuid();
  const unsigned gid = ::getgid();
  if (facts.uid == 0) {
    // Root without CAP_SYS_ADMIN (a restricted container): a user namespace would not help.
    answer = fail(explainMissingPrivileges(facts));
    return *answer;
  }
  if (::unshare(CLONE_NEWUSER) != 0) {
    facts.userNamespaceErrno = errno;
    answer = fail(explainMissingPrivileges(facts));
    return *answer;
  }
  // setgroups must be denied before an unprivileged process may write its gid_map.
  if (!writeFile("/proc/self/setgroups", "deny") ||
      !writeFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
      !writeFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
    facts.userNamespaceErrno = errno != 0 ? errno : EPERM;
    answer = fail(explainMissingPrivileges(facts));
    return *answer;
  }
  facts.netnsErrno = probeNetns();
  if (facts.netnsErrno == 0) facts.tunErrno = probeTun();
  if (facts.netnsErrno != 0 || facts.tunErrno != 0) {
    answer = fail(explainMissingPrivileges(facts));
    return *answer;
  }
  answer = Result<PrivilegeMode, std::string>(PrivilegeMode::kUserNamespace);
  return *answer;
}

// --- Namespace ----------------------------------------------------------------------------

Namespace Namespace::create(std::string name, bool publish) {
  UniqueFd fd;
  std::exception_ptr failure;
  std::thread([&] {
    try {
      if (::unshare(CLONE_NEWNET) != 0) throw systemError(errno, "unshare(CLONE_NEWNET)");
      fd.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
      if (!fd) throw systemError(errno, "open /proc/thread-self/ns/net");
      bringLoopbackUp();
      // Devices made later inherit "default". Best effort: without IPv6 the files are absent.
      writeFile("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
      writeFile("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    } catch (...) {
      failure = std::current_exception();
    }
  }).join();
  if (failure) std::rethrow_exception(failure);
  Namespace ns(std::move(fd), std::move(name));
  if (publish && ::geteuid() == 0) ns.published_ = publishAt(ns.fd(), ns.name_);
  return ns;
}

Namespace::Namespace(Namespace&& other) noexcept
    : fd_(std::move(other.fd_)),
      name_(std::move(other.name_)),
      published_(std::exchange(other.published_, false)) {}

Namespace& Namespace::operator=(Namespace&& other) noexcept {
  if (this != &other) {
    unpublish();
    fd_ = std::move(other.fd_);
    name_ = std::move(other.name_);
    published_ = std::exchange(other.published_, false);
  }
  return *this;
}

Namespace::~Namespace() {
  unpublish();
}

void Namespace::unpublish() {
  if (!published_) return;
  const std::string path = publishedPath(name_);
  ::umount2(path.c_str(), MNT_DETACH);
  ::unlink(path.c_str());
  releaseSlot(path);
  published_ = false;
}

void enterNamespace(const Namespace& ns) {
  if (::setns(ns.fd(), CLONE_NEWNET) != 0) {
    throw systemError(errno, "setns into network namespace " + ns.name());
  }
}

// --- ChildProcess -------------------------------------------------------------------------

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      status_(std::exchange(other.status_, std::nullopt)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    killAndReap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  killAndReap();
}

void ChildProcess::killAndReap() {
  if (pid_ < 0 || status_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = decodeStatus(status);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_ || pid_ < 0) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      status_ = decodeStatus(status);
      return status_;
    }
    if (done < 0 && errno != EINTR) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    // With a pidfd the wait ends the moment the child exits; without one, every 5 ms.
    pollfd exited{pidfd_ ? pidfd_.get() : -1, POLLIN, 0};
    ::poll(&exited, 1, pidfd_ ? static_cast<int>(left.count()) : 5);
  }
}

void ChildProcess::signal(int signalNumber) {
  if (pid_ >= 0 && !status_) ::kill(pid_, signalNumber);
}

ChildProcess spawnIn(const Namespace& ns, const std::vector<std::string>& argv, ChildStdio stdio) {
  if (argv.empty()) throw std::invalid_argument("spawnIn: empty command");
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  // The child writes its errno here if it cannot run the program; exec closes it otherwise.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) throw systemError(errno, "pipe2");
  UniqueFd reportRead(report[0]);
  UniqueFd reportWrite(report[1]);

  const pid_t pid = ::fork();
  if (pid < 0) throw systemError(errno, "fork");
  if (pid == 0) {
    // Only async-signal-safe calls from here on: the parent may have other threads.
    auto failWith = [&](int step) {
      const int values[2] = {step, errno};
      [[maybe_unused]] const ssize_t ignored = ::write(report[1], values, sizeof values);
      ::_exit(127);
    };
    if (::setns(ns.fd(), CLONE_NEWNET) != 0) failWith(1);
    const int targets[3] = {stdio.in, stdio.out, stdio.err};
    for (int target = 0; target < 3; ++target) {
      if (targets[target] >= 0 && ::dup2(targets[target], target) < 0) failWith(2);
    }
    for (int signalNumber : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(signalNumber, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(args[0], args.data());
    failWith(3);
  }
  reportWrite.reset();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  ChildProcess child(pid, std::move(pidfd));
  int values[2] = {0, 0};
  ssize_t got = 0;
  do {
    got = ::read(reportRead.get(), values, sizeof values);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof values)) {
    child.wait(std::chrono::milliseconds(1000));  // it has called _exit already
    const std::string what = values[0] == 1   ? "entering namespace " + ns.name()
                             : values[0] == 2 ? std::string("redirecting standard streams")
                                              : "executing " + argv[0];
    throw systemError(values[1], what);
  }
  return child;
}

}  // namespace udpchat::lab
