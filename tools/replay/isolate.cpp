#include "tools/replay/isolate.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "sim/error.h"
#include "tools/replay/report_json.h"

namespace cotenant::replay {
namespace {

bool WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

int ReplayChildMain(int fd, const std::function<nlohmann::json()>& work) {
  nlohmann::json out;
  int status = 0;
  try {
    out = work();
  } catch (const InputError& e) {
    out = {{"error", e.what()}, {"input_error", true}};
    status = 1;
  } catch (const std::exception& e) {
    out = {{"error", e.what()}, {"input_error", false}};
    status = 1;
  } catch (...) {
    out = {{"error", "unknown error"}, {"input_error", false}};
    status = 1;
  }
  try {
    if (!WriteAll(fd, out.dump())) return 2;
  } catch (...) {
    return 2;
  }
  return status;
}

nlohmann::json ReplayChildResult(const std::string& text, int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    const char* name = sigabbrev_np(sig);
    throw InputError(
        std::string("the replay process was killed by ") +
        (name != nullptr ? std::string("SIG") + name : "signal " + std::to_string(sig)));
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    const int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    throw InputError("the replay process exited with status " + std::to_string(code) +
                     " without a result");
  }
  if (j.contains("error")) {
    const std::string message = j["error"].is_string() ? j["error"].get<std::string>() : "error";
    throw InputError(message);
  }
  return j;
}

nlohmann::json RunInChild(const std::function<nlohmann::json()>& work) {
  int fds[2];
  if (pipe(fds) != 0) throw InputError(std::string("replay: pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw InputError(std::string("replay: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    const int status = ReplayChildMain(fds[1], work);
    close(fds[1]);
    std::fflush(stdout);
    std::fflush(stderr);
    // No exit handlers: they belong to the parent (and CUDA's teardown of a
    // context the kernel frees anyway only costs time).
    _exit(status);
  }
  close(fds[1]);
  const std::string text = ReadAll(fds[0]);
  close(fds[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) throw InputError(std::string("replay: waitpid: ") + std::strerror(errno));
  }
  return ReplayChildResult(text, wstatus);
}

ReplayReport RunReplayInChild(Runner& runner, const LoadedWorkload& lw, const TaskGraph& g,
                              const ReplayProgram& program, const ReplayOptions& options) {
  const nlohmann::json j =
      RunInChild([&]() { return ReplayReportToJson(runner.Run(lw, g, program, options)); });
  return ReplayReportFromJson(j, g.nodes.size(), "the replay process's report");
}

}  // namespace cotenant::replay
