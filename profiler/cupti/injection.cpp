// libcotenant_inject.so: loaded by the CUDA driver through
// CUDA_INJECTION64_PATH, which calls InitializeInjection() once when the
// process initialises CUDA. Enables CUPTI activity tracing (or the counter
// pass), owns the activity buffers and writes one `cotenant.trace/1` (or
// `cotenant.counters/1`) per process at exit. The profiled program must
// never crash or hang because of it: every CUPTI call is checked, nothing
// throws out of an entry point, and a failure becomes a message on stderr
// and an output marked incomplete.
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "profiler/cupti/cupti_check.h"
#include "profiler/cupti/cupti_records.h"
#include "profiler/cupti/cupti_version.h"
#include "profiler/cupti/driver_api.h"
#include "profiler/cupti/inject_env.h"
#include "profiler/cupti/range_profiler.h"
#include "profiler/cupti/replay_client.h"
#include "profiler/cupti/trace_session.h"

namespace cotenant::profiler::cupti {
namespace {

/// Size of one activity buffer, bytes (CUPTI needs 8-byte alignment).
constexpr size_t kBufferBytes = size_t{8} << 20;
constexpr size_t kBufferAlign = 8;

// Process-wide state. Allocated once and never freed: CUPTI's worker thread
// may deliver buffers while the process runs its exit handlers.
std::atomic<TraceSession*> g_session{nullptr};
std::atomic<CounterPass*> g_counters{nullptr};
int64_t g_pid = 0;  ///< the process that initialised; forks do nothing at exit
std::atomic<bool> g_exited{false};
/// Replay mode started without a CUPTI failure (replay_client.h).
std::atomic<bool> g_replay_ready{false};

void CUPTIAPI BufferRequested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *max_records = 0;  // as many as fit
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(kBufferAlign, kBufferBytes));
  *size = *buffer == nullptr ? 0 : kBufferBytes;
  if (*buffer == nullptr) Problems().Add("out of memory for a CUPTI activity buffer");
}

void CUPTIAPI BufferCompleted(CUcontext context, uint32_t stream_id, uint8_t* buffer, size_t size,
                              size_t valid_size) {
  TraceSession* session = g_session.load();
  if (session != nullptr && buffer != nullptr) session->HandleBuffer(buffer, valid_size);
  size_t dropped = 0;
  if (COTENANT_CUPTI_CALL(cuptiActivityGetNumDroppedRecords(context, stream_id, &dropped)) ==
          CUPTI_SUCCESS &&
      dropped > 0 && session != nullptr) {
    session->AddDropped(static_cast<int64_t>(dropped));
  }
  std::free(buffer);
}

/// Replay mode (COTENANT_REPLAY=1) records only what the replay harness
/// reads: GPU work, the runtime calls that carry its external ids, and the
/// ids. Fewer kinds, less perturbation of the replayed launches.
void EnableReplayActivities() {
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMSET));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_RUNTIME));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION));
}

/// Enables the activity kinds traced (MARKER only with COTENANT_NVTX=1), one
/// call site each so that a failure names its kind.
void EnableActivities(bool nvtx) {
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY2));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMSET));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_RUNTIME));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_DRIVER));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_SYNCHRONIZATION));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CUDA_EVENT));
  COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION));
  if (nvtx) COTENANT_CUPTI_CALL(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MARKER));
}

void FinishTrace(TraceSession* session) {
  // Wait for the GPU so every record is final, then have CUPTI hand over
  // all buffers, finished or not. API and sync recording stops first, so
  // that this synchronize is not traced as the program's own.
  COTENANT_CUPTI_CALL(cuptiActivityDisable(CUPTI_ACTIVITY_KIND_RUNTIME));
  COTENANT_CUPTI_CALL(cuptiActivityDisable(CUPTI_ACTIVITY_KIND_DRIVER));
  COTENANT_CUPTI_CALL(cuptiActivityDisable(CUPTI_ACTIVITY_KIND_SYNCHRONIZATION));
  SynchronizeCurrentContext();
  COTENANT_CUPTI_CALL(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
  const std::string device = DeviceName(static_cast<int>(session->FirstDevice()));
  if (!device.empty()) session->SetDeviceName(device);
  session->Finish();
}

void AtExit() {
  try {
    if (static_cast<int64_t>(getpid()) != g_pid) return;  // a forked child: not ours to write
    if (g_exited.exchange(true)) return;
    if (TraceSession* session = g_session.load()) FinishTrace(session);
    if (CounterPass* counters = g_counters.load()) counters->Finish();
  } catch (const std::exception& e) {
    Warn(std::string("at exit: ") + e.what());
  } catch (...) {
    Warn("at exit: unknown error");
  }
}

/// Starts tracing for `session`: checks the CUPTI version, registers the
/// buffer callbacks and enables the activity kinds.
void StartTracing(TraceSession* session, const InjectSettings& settings) {
  uint32_t loaded = 0;
  if (COTENANT_CUPTI_CALL(cuptiGetVersion(&loaded)) == CUPTI_SUCCESS) {
    session->SetLoadedCuptiVersion(loaded);
    if (!CanReadRecordsOf(loaded)) {
      Problems().Add("the loaded CUPTI (API version " + std::to_string(loaded) +
                     ") is not the CUDA major version this library was built for (" +
                     std::to_string(kHeaderVersion) + "); nothing was traced");
      Warn("CUPTI version mismatch: " + std::to_string(loaded) + " loaded, built for " +
           std::to_string(kHeaderVersion) + "; nothing is traced");
      return;
    }
    if (loaded != kHeaderVersion) {
      Warn("CUPTI API version " + std::to_string(loaded) + " loaded, built for " +
           std::to_string(kHeaderVersion) + "; record layouts are assumed unchanged");
    }
  }
  // Thread ids as the OS knows them (gettid), the same in API and NVTX records.
  COTENANT_CUPTI_CALL(cuptiSetThreadIdType(CUPTI_ACTIVITY_THREAD_ID_TYPE_SYSTEM));
  if (COTENANT_CUPTI_CALL(cuptiActivityRegisterCallbacks(BufferRequested, BufferCompleted)) !=
      CUPTI_SUCCESS) {
    return;
  }
  if (settings.replay) {
    EnableReplayActivities();
    g_replay_ready.store(Problems().Lines().empty());
  } else {
    EnableActivities(settings.nvtx);
  }
}

int Initialize() {
  static std::atomic<bool> initialised{false};
  if (initialised.exchange(true)) return 1;
  g_pid = static_cast<int64_t>(getpid());
  InjectSettings settings = ReadInjectSettings([](const char* name) { return std::getenv(name); },
                                               g_pid, ReadSelfCmdline());
  for (const std::string& p : settings.problems) Warn(p);
  if (settings.nvtx && settings.counters_out.empty()) {
    const char* nvtx = std::getenv("NVTX_INJECTION64_PATH");
    if (nvtx == nullptr || *nvtx == '\0') {
      Warn(
          "COTENANT_NVTX=1 but NVTX_INJECTION64_PATH is not set: NVTX ranges reach CUPTI only "
          "when it names libcupti.so, so kernels will have no operator labels");
    }
  }

  try {
    if (!settings.counters_out.empty()) {
      auto* pass = new CounterPass(settings.counters_out, g_pid, settings.problems);
      g_counters.store(pass);
      if (pass->Begin()) {
        Warn("counter pass: every kernel is replayed to read its counters; expect a slow run");
      }
    } else {
      auto* session = new TraceSession(settings, g_pid);
      g_session.store(session);
      StartTracing(session, settings);
    }
  } catch (const std::exception& e) {
    Warn(std::string("start-up failed: ") + e.what());
    Problems().Add(std::string("start-up failed: ") + e.what());
  }
  // Registered after CUPTI is set up, so that it runs before any exit
  // handler CUPTI registered on the way (handlers run in reverse order).
  std::atexit(AtExit);
  return 1;
}

}  // namespace

/// replay_client.h, behind the exported C functions below.
int ReplayReady() { return g_replay_ready.load() && g_session.load() != nullptr ? 1 : 0; }

int PushId(uint64_t id) {
  return COTENANT_CUPTI_CALL(cuptiActivityPushExternalCorrelationId(
             CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, id)) == CUPTI_SUCCESS
             ? 0
             : -1;
}

int PopId() {
  uint64_t last = 0;
  return COTENANT_CUPTI_CALL(cuptiActivityPopExternalCorrelationId(
             CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, &last)) == CUPTI_SUCCESS
             ? 0
             : -1;
}

uint64_t Timestamp() {
  uint64_t t = 0;
  return COTENANT_CUPTI_CALL(cuptiGetTimestamp(&t)) == CUPTI_SUCCESS ? t : 0;
}

int64_t Collect(CotenantTimingFn fn, void* context) {
  TraceSession* session = g_session.load();
  if (!ReplayReady() || session == nullptr || fn == nullptr) {
    Warn("replay timing asked for, but the library is not in replay mode (COTENANT_REPLAY=1)");
    return -1;
  }
  if (COTENANT_CUPTI_CALL(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED)) !=
      CUPTI_SUCCESS) {
    return -1;
  }
  const std::vector<TaggedTiming> tagged =
      session->TakeTagged(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0);
  for (const TaggedTiming& t : tagged)
    fn(context, t.id, static_cast<uint64_t>(t.start_ns), static_cast<uint64_t>(t.end_ns));
  return static_cast<int64_t>(tagged.size());
}

}  // namespace cotenant::profiler::cupti

/// The entry point the CUDA driver calls (by name) when CUDA_INJECTION64_PATH
/// names this library. Returns 1 (success) always: a profiler failure must
/// not fail the program's CUDA initialisation.
extern "C" __attribute__((visibility("default"))) int InitializeInjection(void) {
  try {
    return cotenant::profiler::cupti::Initialize();
  } catch (const std::exception& e) {
    cotenant::profiler::cupti::Warn(std::string("initialisation failed: ") + e.what());
  } catch (...) {
    cotenant::profiler::cupti::Warn("initialisation failed");
  }
  return 1;
}

// The replay harness's timing interface (replay_client.h). Each is safe to
// call in any mode; nothing throws out of them.
#define COTENANT_EXPORT extern "C" __attribute__((visibility("default")))

COTENANT_EXPORT int cotenant_inject_replay_ready(void) {
  return cotenant::profiler::cupti::ReplayReady();
}

COTENANT_EXPORT int cotenant_inject_push_id(uint64_t id) {
  return cotenant::profiler::cupti::PushId(id);
}

COTENANT_EXPORT int cotenant_inject_pop_id(void) { return cotenant::profiler::cupti::PopId(); }

COTENANT_EXPORT uint64_t cotenant_inject_timestamp(void) {
  return cotenant::profiler::cupti::Timestamp();
}

COTENANT_EXPORT int64_t cotenant_inject_collect(CotenantTimingFn fn, void* context) {
  try {
    return cotenant::profiler::cupti::Collect(fn, context);
  } catch (...) {
    cotenant::profiler::cupti::Warn("collecting replay timings failed");
  }
  return -1;
}
