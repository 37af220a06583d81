// Network namespaces for the emulated link: getting the privilege to make them, making them,
// and running code or programs inside them.
//
// A namespace is held by a file descriptor, so it disappears when the last holder goes (the
// Namespace object, a socket or TUN device made inside it, a process running in it), even when
// this process is killed. setns() moves only the calling thread: code runs inside a namespace
// on a thread of its own (runIn, enterNamespace) or in a forked child (spawnIn).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lab/unique_fd.hpp"
#include "udpchat/result.hpp"

namespace udpchat::lab {

enum class PrivilegeMode {
  kRoot,           // root, or already holding CAP_SYS_ADMIN and CAP_NET_ADMIN
  kUserNamespace,  // an unprivileged user moved into a user namespace of its own
};

// "root" or "user namespace".
std::string_view to_string(PrivilegeMode mode);

// What acquireNetnsPrivileges() found out, kept apart so the explanation can be tested.
struct PrivilegeFacts {
  unsigned uid = 0;
  int netnsErrno = 0;          // creating a network namespace directly; 0 = it worked
  int userNamespaceErrno = 0;  // unshare(CLONE_NEWUSER) or writing its maps; 0 = fine or untried
  int tunErrno = 0;            // opening /dev/net/tun; 0 = it worked or untried
  bool multiThreaded = false;  // more than one thread when the user namespace was tried
  std::optional<long> unprivilegedUsernsClone;  // /proc/sys/kernel/unprivileged_userns_clone
  std::optional<long> maxUserNamespaces;        // /proc/sys/user/max_user_namespaces
  std::optional<long> apparmorRestrictUserns;   // kernel.apparmor_restrict_unprivileged_userns
};

// A message saying what is missing and the command or setting that fixes it, e.g.
// "cannot create network namespaces as uid 1000: unprivileged user namespaces are disabled. Run
// as root, or allow unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1".
std::string explainMissingPrivileges(const PrivilegeFacts& facts);

// Makes sure this process can create network namespaces and TUN devices. As root it only
// checks. Otherwise it moves the whole process, irreversibly, into a new user namespace in which
// its uid is root (this needs a single-threaded process: call it first thing in main, before
// any thread starts). On failure the error says exactly what is missing. The first call's
// answer is kept and returned by later calls.
Result<PrivilegeMode, std::string> acquireNetnsPrivileges();

class Namespace {
 public:
  // Creates a network namespace with its loopback up and IPv6 off (so the kernel sends no router
  // solicitations of its own across the link). `name` labels it in messages. With `publish`, as
  // root, it is also bind-mounted at /run/netns/<name> so `ip netns exec <name> CMD` works while
  // it lives; the mount goes with the object, on SIGINT/SIGTERM/SIGHUP if the process had no
  // handler of its own for them, and at the next publish after a crash. Publishing is best
  // effort: see published(). Throws std::system_error when the namespace cannot be made.
  static Namespace create(std::string name, bool publish);

  Namespace(Namespace&& other) noexcept;
  Namespace& operator=(Namespace&& other) noexcept;
  ~Namespace();

  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }
  bool published() const { return published_; }

 private:
  Namespace(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  void unpublish();

  UniqueFd fd_;
  std::string name_;
  bool published_ = false;
};

// Moves the calling thread (only it) into `ns`. Throws std::system_error.
void enterNamespace(const Namespace& ns);

// Runs `fn` on a new thread inside `ns`, waits for it, and returns its result or rethrows its
// exception. Sockets and TUN devices created there belong to `ns` for their whole life and can
// be used from any thread afterwards.
template <class F>
auto runIn(const Namespace& ns, F&& fn) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  std::packaged_task<R()> task([&]() -> R {
    enterNamespace(ns);
    return fn();
  });
  std::future<R> result = task.get_future();
  std::thread(std::move(task)).join();
  return result.get();
}

// Descriptors to put on the child's stdin, stdout and stderr; -1 keeps the parent's.
struct ChildStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

// A process started inside a namespace. Destroying it kills (SIGKILL) and reaps the process if
// it is still running, so a lab run leaves nothing behind.
class ChildProcess {
 public:
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Exit status (0..255), 128 + signal number, or nullopt while it still runs after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void signal(int signalNumber);

 private:
  friend ChildProcess spawnIn(const Namespace&, const std::vector<std::string>&, ChildStdio);
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  void killAndReap();

  pid_t pid_ = -1;
  UniqueFd pidfd_;  // readable when the child exits; empty without pidfd_open
  std::optional<int> status_;
};

// Forks, moves the child into `ns`, and executes argv[0] (searched in PATH) with `argv`. Throws
// std::system_error if it cannot fork, enter the namespace or execute the program (the child's
// errno is passed back).
ChildProcess spawnIn(const Namespace& ns, const std::vector<std::string>& argv,
                     ChildStdio stdio = {});

}  // namespace udpchat::lab
