// The only file that includes <mpi.h>; built when CMake finds MPI.
#include "fleet/mpi_pool.h"

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sim/error.h"

namespace cotenant::fleet {

namespace {

/// An MPI call that fails is a broken invariant (the processes can no longer
/// agree on anything): it aborts naming the call and MPI's message, and
/// mpirun then ends the other processes.
void CheckMpi(int rc, const char* call, const char* file, int line) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  CheckFailed(call, file, line, std::string(text, static_cast<size_t>(std::max(0, length))));
}

#define COTENANT_MPI(call) CheckMpi((call), #call, __FILE__, __LINE__)

/// Whether the last Map on this process ended in an error that every
/// process threw alike: then all of them are leaving together.
std::atomic<bool> g_failed_together{false};

/// Runs at exit (after main returns or exit() is called), registered by
/// InitMpi. Exit code 0, or an error every process threw alike (the same
/// InputError from Map on every rank): MPI_Finalize, so mpirun sees plain
/// exit codes. Any other error exit may leave the other processes waiting in
/// a collective for this one, and MPI_Finalize would wait for them in turn:
/// MPI_Abort instead, so that mpirun ends the run rather than hang.
void FinishMpi(int status) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (status != 0 && !g_failed_together) MPI_Abort(MPI_COMM_WORLD, status);
  MPI_Finalize();
}

#ifdef __GLIBC__
void FinishMpiOnExit(int status, void*) { FinishMpi(status); }
#else
void FinishMpiAtExit() { FinishMpi(0); }  // no exit status without glibc's on_exit
#endif

/// Initialises MPI once per process, unless something else (mpi4py, a
/// host program) already has; that one then finalises it too.
void InitMpi() {
  static std::once_flag once;
  static int provided = MPI_THREAD_SERIALIZED;
  std::call_once(once, [] {
    int initialized = 0;
    COTENANT_MPI(MPI_Initialized(&initialized));
    if (initialized) {
      COTENANT_MPI(MPI_Query_thread(&provided));
      return;
    }
    COTENANT_MPI(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided));
#ifdef __GLIBC__
    on_exit(FinishMpiOnExit, nullptr);
#else
    std::atexit(FinishMpiAtExit);
#endif
  });
  // Map may be called from any one thread at a time (the Python module's
  // caller need not be the main thread).
  if (provided < MPI_THREAD_SERIALIZED)
    throw InputError("MPI: the library provides thread level " + std::to_string(provided) +
                     "; fleet needs MPI_THREAD_SERIALIZED (" +
                     std::to_string(MPI_THREAD_SERIALIZED) + ")");
}

/// One job's outcome as sent to the other processes: job index (uint64),
/// failed flag (1 byte), payload length (uint64), then the payload (the
/// result, or the failure's message). Native byte order: the processes of
/// one run are the same build.
constexpr size_t kRecordHeader = sizeof(uint64_t) + 1 + sizeof(uint64_t);

void AppendRecord(std::string& out, uint64_t index, bool failed, const std::string& payload) {
  const uint64_t length = payload.size();
  char header[kRecordHeader];
  std::memcpy(header, &index, sizeof index);
  header[sizeof index] = failed ? 1 : 0;
  std::memcpy(header + sizeof index + 1, &length, sizeof length);
  out.append(header, kRecordHeader);
  out.append(payload);
}

class MpiPool final : public Pool {
 public:
  MpiPool(int threads, size_t chunk_bytes)
      : local_(MakeLocalPool(threads)), chunk_bytes_(std::max<size_t>(1, chunk_bytes)) {
    // A communicator of our own: its error handler returns codes to
    // COTENANT_MPI, and our collectives never match anyone else's.
    COTENANT_MPI(MPI_Comm_dup(MPI_COMM_WORLD, &comm_));
    COTENANT_MPI(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    COTENANT_MPI(MPI_Comm_rank(comm_, &rank_));
    COTENANT_MPI(MPI_Comm_size(comm_, &size_));
  }

  ~MpiPool() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  MpiPool(const MpiPool&) = delete;
  MpiPool& operator=(const MpiPool&) = delete;

  int Rank() const override { return rank_; }
  int Size() const override { return size_; }
  int Threads() const override { return local_->Threads(); }
  std::string Describe() const override {
    const int threads = Threads();
    return std::to_string(size_) + (size_ == 1 ? " MPI rank x " : " MPI ranks x ") +
           std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  }

  std::vector<std::string> Map(size_t n, const std::vector<double>& cost,
                               const std::function<std::string(size_t)>& fn) override {
    g_failed_together = false;
    try {
      return MapAll(n, cost, fn);
    } catch (const InputError&) {
      // MapAll throws InputError only once results are shared, where every
      // process decides alike.
      g_failed_together = true;
      throw;
    }
  }

 private:
  std::vector<std::string> MapAll(size_t n, const std::vector<double>& cost,
                                  const std::function<std::string(size_t)>& fn) {
    if (size_ == 1) return local_->Map(n, cost, fn);
    // This process's jobs; every process computes the same split.
    const std::vector<int> rank_of = AssignRanks(n, cost, size_);
    std::vector<size_t> mine;
    std::vector<double> my_cost;
    for (size_t i = 0; i < n; ++i) {
      if (rank_of[i] != rank_) continue;
      mine.push_back(i);
      if (!cost.empty()) my_cost.push_back(cost[i]);
    }
    // Run them on the local threads; failures become records too, so that
    // every process reaches the collectives below.
    std::vector<std::string> records = local_->Map(mine.size(), my_cost, [&](size_t k) {
      const size_t i = mine[k];
      std::string record;
      try {
        const std::string result = fn(i);
        record.reserve(kRecordHeader + result.size());
        AppendRecord(record, i, false, result);
      } catch (...) {
        record.clear();
        AppendRecord(record, i, true, JobErrorMessage(std::current_exception()));
      }
      return record;
    });
    std::string out;
    size_t total = 0;
    for (const std::string& r : records) total += r.size();
    out.reserve(total);
    for (std::string& r : records) {
      out += r;
      std::string().swap(r);
    }
    return Gather(n, std::move(out));
  }

  /// Shares every process's records and decodes them into n results (or
  /// throws the lowest-index failure), identically on every process.
  std::vector<std::string> Gather(size_t n, std::string out) {
    // Job and byte counts first: a process that called Map with other jobs
    // is found here, by every process alike, before any bytes move.
    const uint64_t mine[2] = {n, out.size()};
    std::vector<uint64_t> counts(2 * static_cast<size_t>(size_));
    COTENANT_MPI(MPI_Allgather(mine, 2, MPI_UINT64_T, counts.data(), 2, MPI_UINT64_T, comm_));
    std::vector<uint64_t> bytes(static_cast<size_t>(size_));
    for (int r = 0; r < size_; ++r) {
      if (counts[2 * r] != n)
        throw InputError("MPI: rank " + std::to_string(r) + " ran " +
                         std::to_string(counts[2 * r]) + " jobs where rank 0 ran " +
                         std::to_string(counts[0]) + "; every rank must run the same placement");
      bytes[r] = counts[2 * r + 1];
    }
    std::vector<std::string> from = AllGatherBytes(std::move(out), bytes);

    std::vector<std::string> results(n);
    std::vector<char> seen(n, 0), failed(n, 0);
    for (int r = 0; r < size_; ++r) {
      const std::string& in = from[r];
      size_t pos = 0;
      while (pos < in.size()) {
        COTENANT_CHECK(in.size() - pos >= kRecordHeader);
        uint64_t index = 0, length = 0;
        std::memcpy(&index, in.data() + pos, sizeof index);
        const bool fail = in[pos + sizeof index] != 0;
        std::memcpy(&length, in.data() + pos + sizeof index + 1, sizeof length);
        pos += kRecordHeader;
        COTENANT_CHECK(in.size() - pos >= length);
        if (index >= n || seen[index])
          throw InputError("MPI: the ranks split the jobs differently (job " +
                           std::to_string(index) + " of " + std::to_string(n) +
                           " came twice); every rank must pass the same jobs and costs");
        seen[index] = 1;
        failed[index] = fail ? 1 : 0;
        results[index].assign(in, pos, length);
        pos += length;
      }
      std::string().swap(from[r]);
    }
    for (size_t i = 0; i < n; ++i)
      if (!seen[i])
        throw InputError("MPI: the ranks split the jobs differently (job " + std::to_string(i) +
                         " of " + std::to_string(n) +
                         " ran nowhere); every rank must pass the same jobs and costs");
    for (size_t i = 0; i < n; ++i)
      if (failed[i]) throw InputError(results[i]);
    return results;
  }

  /// Every process's bytes (`bytes[r]` from rank r), on every process:
  /// MPI_Allgatherv in rounds of at most chunk_bytes_ per process, and at
  /// most INT_MAX in all, so that MPI's int counts and displacements hold
  /// for results of any size.
  std::vector<std::string> AllGatherBytes(std::string out, const std::vector<uint64_t>& bytes) {
    const size_t ranks = static_cast<size_t>(size_);
    const uint64_t chunk = std::min<uint64_t>(chunk_bytes_, INT_MAX / ranks);
    const uint64_t longest = *std::max_element(bytes.begin(), bytes.end());
    std::vector<std::string> from(ranks);
    for (size_t r = 0; r < ranks; ++r)
      if (static_cast<int>(r) != rank_) from[r].reserve(bytes[r]);
    std::vector<int> counts(ranks), displs(ranks);
    std::string stage;
    for (uint64_t offset = 0; offset < longest; offset += chunk) {
      int total = 0;
      for (size_t r = 0; r < ranks; ++r) {
        counts[r] = static_cast<int>(bytes[r] > offset ? std::min(chunk, bytes[r] - offset) : 0);
        displs[r] = total;
        total += counts[r];
      }
      stage.resize(static_cast<size_t>(total));
      const char* send = out.data() + std::min<uint64_t>(offset, out.size());
      COTENANT_MPI(MPI_Allgatherv(send, counts[rank_], MPI_BYTE, stage.data(), counts.data(),
                                  displs.data(), MPI_BYTE, comm_));
      for (size_t r = 0; r < ranks; ++r)
        if (static_cast<int>(r) != rank_) from[r].append(stage, displs[r], counts[r]);
    }
    from[rank_] = std::move(out);
    return from;
  }

  std::unique_ptr<Pool> local_;
  size_t chunk_bytes_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

bool UnderMpi() {
  // Open MPI's mpirun, PMIx launchers (srun --mpi=pmix), and PMI-1/2 ones (Hydra).
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

std::unique_ptr<Pool> MakeMpiPool(int threads, size_t chunk_bytes) {
  InitMpi();
  return std::make_unique<MpiPool>(threads, chunk_bytes);
}

std::unique_ptr<Pool> MakePool(int threads) {
  if (!UnderMpi()) return MakeLocalPool(threads);
  return MakeMpiPool(threads);
}

}  // namespace cotenant::fleet
