// One process per replay: CUDA reads CUDA_DEVICE_MAX_CONNECTIONS and
// CUDA_INJECTION64_PATH once, when it starts in a process, so every replay
// (one plan of `validate`, one micro-benchmark of `calibrate`) runs in a
// fresh child process forked before this process ever touches CUDA. The
// child sends its ReplayReport back as JSON through a pipe.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "tools/replay/runner.h"

namespace cotenant::replay {

/// `runner.Run` in a forked child process; the report comes back through
/// JSON (report_json.h). The parent must not have started CUDA (cotenant
/// never does outside replay children). The child's progress lines go to
/// `options.log` in the child (stderr is shared). Throws InputError with
/// the child's one-line reason when the replay failed, and when the child
/// died ("the replay process was killed by SIGSEGV").
ReplayReport RunReplayInChild(Runner& runner, const LoadedWorkload& lw, const TaskGraph& g,
                              const ReplayProgram& program, const ReplayOptions& options);

/// Runs `work` in a forked child process and returns the JSON it produced.
/// Throws InputError with the child's message when `work` threw, and when
/// the child died. The machinery of RunReplayInChild, tested on its own.
nlohmann::json RunInChild(const std::function<nlohmann::json()>& work);

/// The child's side, exposed for tests: runs `work`, and writes to `fd`
/// either its JSON or {"error": message} (input_error true for an
/// InputError). Never throws; returns the exit status the child uses.
int ReplayChildMain(int fd, const std::function<nlohmann::json()>& work);

/// The parent's side, exposed for tests: the text read from the child and
/// how it ended (waitpid status) -> the JSON it sent, or an InputError.
nlohmann::json ReplayChildResult(const std::string& text, int wait_status);

}  // namespace cotenant::replay
