// The in-process timing interface of libcotenant_inject.so, for the replay
// harness (tools/replay/). With COTENANT_REPLAY=1 the injection library
// records only what replay needs (kernels, copies, memsets, runtime API
// calls and external correlations), writes no trace at exit, and exports
// the C functions below. The harness finds them with dlopen(RTLD_NOLOAD) +
// dlsym on the library the driver loaded, tags each GPU operation with an
// external id (its graph node), and after each run collects the GPU start
// and end of every tagged operation on CUPTI's clock. No <cupti.h> here:
// the harness does not depend on CUPTI.
#pragma once

#include <stdint.h>

extern "C" {

/// Called once per tagged GPU activity: its external id, and its start and
/// end on the CUPTI clock (ns, the clock of cotenant_inject_timestamp).
typedef void (*CotenantTimingFn)(void* context, uint64_t id, uint64_t start_ns, uint64_t end_ns);

/// 1 when the library is tracing in replay mode (COTENANT_REPLAY=1 and
/// CUPTI started), else 0.
typedef int (*CotenantReplayReadyFn)(void);
/// Tags the calling thread's next CUDA API calls with `id` (a CUPTI external
/// correlation id of kind CUSTOM0) until the matching pop. 0 on success.
typedef int (*CotenantPushIdFn)(uint64_t id);
typedef int (*CotenantPopIdFn)(void);
/// CUPTI's clock now, ns; 0 on failure.
typedef uint64_t (*CotenantTimestampFn)(void);
/// Flushes CUPTI's buffers (the caller synchronizes the device first), calls
/// `fn` for every GPU activity captured since the previous collect whose
/// API call carried a pushed id, and forgets everything captured so far.
/// Returns the number of calls made, or -1 when the library is not in
/// replay mode or CUPTI failed (the reason is printed on stderr).
typedef int64_t (*CotenantCollectFn)(CotenantTimingFn fn, void* context);

}  // extern "C"

namespace cotenant::profiler {

/// The exported names, for dlsym.
inline constexpr const char* kReplayReadySymbol = "cotenant_inject_replay_ready";
inline constexpr const char* kPushIdSymbol = "cotenant_inject_push_id";
inline constexpr const char* kPopIdSymbol = "cotenant_inject_pop_id";
inline constexpr const char* kTimestampSymbol = "cotenant_inject_timestamp";
inline constexpr const char* kCollectSymbol = "cotenant_inject_collect";

}  // namespace cotenant::profiler
