#include "profiler/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "sim/error.h"

extern char** environ;

namespace cotenant::profiler {
namespace {

/// The child being waited for; 0 when none. Read by the signal handler.
volatile sig_atomic_t g_child_pid = 0;

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/// Forwards a signal sent to cotenant to the child. A signal the kernel
/// generated for the whole foreground process group (a terminal's Ctrl-C,
/// si_code SI_KERNEL) has already reached the child: sending it again could
/// interrupt the child's own clean-up.
void ForwardSignal(int sig, siginfo_t* info, void*) {
  if (info != nullptr && info->si_code == SI_KERNEL) return;
  const pid_t child = g_child_pid;
  if (child > 0) kill(child, sig);
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

/// Installs the forwarding handlers for the lifetime of the object.
class SignalForwarding {
 public:
  SignalForwarding() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = ForwardSignal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(kForwardedSignals); ++i) {
      // A signal cotenant ignores (nohup, a background job) stays ignored,
      // and so the child inherits SIG_IGN as it would without cotenant.
      installed_[i] = sigaction(kForwardedSignals[i], nullptr, &old_[i]) == 0 &&
                      old_[i].sa_handler != SIG_IGN &&
                      sigaction(kForwardedSignals[i], &sa, nullptr) == 0;
    }
  }
  ~SignalForwarding() {
    g_child_pid = 0;
    for (size_t i = 0; i < std::size(kForwardedSignals); ++i) {
      if (installed_[i]) sigaction(kForwardedSignals[i], &old_[i], nullptr);
    }
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  struct sigaction old_[std::size(kForwardedSignals)];
  bool installed_[std::size(kForwardedSignals)] = {};
};

/// cotenant's environment with `changes` applied, as NAME=VALUE strings.
std::vector<std::string> ChildEnvironment(const std::vector<EnvChange>& changes) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  for (const auto& [name, value] : changes) {
    const std::string prefix = name + "=";
    for (size_t i = 0; i < env.size();) {
      if (env[i].compare(0, prefix.size(), prefix) == 0) {
        env.erase(env.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    if (value) env.push_back(prefix + *value);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> p;
  p.reserve(v.size() + 1);
  for (std::string& s : v) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

}  // namespace

std::string ResolveProgram(const std::string& program) {
  if (program.empty()) throw InputError("cannot run \"\": empty program name");
  if (program.find('/') != std::string::npos) {
    struct stat st;
    if (stat(program.c_str(), &st) != 0) {
      throw InputError("cannot run \"" + program + "\": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) throw InputError("cannot run \"" + program + "\": Is a directory");
    if (access(program.c_str(), X_OK) != 0) {
      throw InputError("cannot run \"" + program + "\": " + std::strerror(errno));
    }
    return program;
  }
  const char* path_env = std::getenv("PATH");
  // execvp's default search path when PATH is unset.
  const std::string path = path_env != nullptr ? path_env : "/bin:/usr/bin";
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    const std::string dir = end > begin ? path.substr(begin, end - begin) : ".";
    const std::string candidate = dir + "/" + program;
    if (IsExecutableFile(candidate)) return candidate;
    begin = end + 1;
  }
  throw InputError(program + ": command not found (searched $PATH)");
}

std::string SignalName(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGKILL:
      return "SIGKILL";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGPIPE:
      return "SIGPIPE";
    default:
      return "signal " + std::to_string(sig);
  }
}

std::string ChildStatus::Describe() const {
  if (signal != 0) return "was killed by " + SignalName(signal);
  if (exit_code == 0) return "exited normally";
  return "exited with status " + std::to_string(exit_code);
}

ChildStatus RunChild(const std::vector<std::string>& argv, const std::vector<EnvChange>& env) {
  COTENANT_CHECK(!argv.empty());
  std::vector<std::string> args = argv;
  std::vector<std::string> env_strings = ChildEnvironment(env);
  std::vector<char*> c_args = CStrings(args);
  std::vector<char*> c_env = CStrings(env_strings);

  // The child reports a failed exec through this pipe; a successful exec
  // closes it (O_CLOEXEC), so the parent reads end-of-file.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw InputError("cannot run \"" + argv[0] + "\": pipe: " + std::strerror(errno));
  }
  std::fflush(stdout);
  std::fflush(stderr);
  SignalForwarding forwarding;
  // The forwarded signals wait (blocked) until the child's pid is known, or
  // one sent right after the fork would find no child to forward to.
  sigset_t forwarded, previous;
  sigemptyset(&forwarded);
  for (int sig : kForwardedSignals) sigaddset(&forwarded, sig);
  sigprocmask(SIG_BLOCK, &forwarded, &previous);
  const pid_t pid = fork();
  if (pid != 0) {
    if (pid > 0) g_child_pid = pid;
    sigprocmask(SIG_SETMASK, &previous, nullptr);
  }
  if (pid < 0) {
    const int err = errno;
    close(fds[0]);
    close(fds[1]);
    throw InputError("cannot run \"" + argv[0] + "\": fork: " + std::strerror(err));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    close(fds[0]);
    execvpe(c_args[0], c_args.data(), c_env.data());
    const int err = errno;
    ssize_t unused = write(fds[1], &err, sizeof(err));
    (void)unused;
    _exit(127);
  }
  close(fds[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(fds[0], &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  close(fds[0]);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw InputError("waiting for \"" + argv[0] + "\": " + std::strerror(errno));
    }
  }
  if (n == static_cast<ssize_t>(sizeof(exec_errno))) {
    throw InputError("cannot run \"" + argv[0] + "\": " + std::strerror(exec_errno));
  }
  ChildStatus result;
  if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

}  // namespace cotenant::profiler
