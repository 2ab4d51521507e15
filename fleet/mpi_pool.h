// The MPI pool itself, for tests that need a small exchange chunk. Callers
// use MakePool (fleet/pool.h), which picks it under mpirun. Defined only when
// cotenant is built with MPI (COTENANT_HAVE_MPI); this header does not
// include <mpi.h> (fleet/mpi_pool.cpp is the only file that does).
#pragma once

#include <cstddef>
#include <memory>

#include "fleet/pool.h"

namespace cotenant::fleet {

/// Bytes each process sends per collective when results are shared (256 MiB;
/// less where the ranks' total would pass MPI's int counts).
inline constexpr size_t kMpiChunkBytes = size_t{256} << 20;

/// A pool over the processes of MPI_COMM_WORLD, each running its jobs on
/// `threads` threads (>= 1). Initialises MPI on first use (MPI_Init_thread,
/// MPI_THREAD_SERIALIZED), unless something else has (which then finalises
/// it too). At exit: MPI_Finalize after exit code 0 or an InputError that
/// the last Map threw on every process alike; MPI_Abort after any other
/// error, so that processes still waiting for this one end instead of
/// hanging. Collective: every process makes its pools in the same order. `chunk_bytes` (>= 1) caps
/// the bytes one process sends per collective; results of any size are shared in as many rounds as
/// needed.
std::unique_ptr<Pool> MakeMpiPool(int threads, size_t chunk_bytes = kMpiChunkBytes);

}  // namespace cotenant::fleet
