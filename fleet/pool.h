// Where fleet placement's independent evaluations run: the threads of this
// process, or the processes of an MPI run (Open MPI, started with mpirun).
// SPMD: every process runs the same placement and calls Map with the same
// jobs in the same order; each job runs on exactly one process, and every
// process gets every result back, in job order. A job's result depends only
// on its index, so the answer is the same whatever the process count.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cotenant::fleet {

class Pool {
 public:
  virtual ~Pool() = default;
  /// This process, 0-based (0 without MPI). Only rank 0 prints and writes.
  virtual int Rank() const = 0;
  /// Processes in the run (1 without MPI).
  virtual int Size() const = 0;
  /// Threads each process runs jobs on (>= 1).
  virtual int Threads() const = 0;
  /// "1 process, 2 threads" or "2 MPI ranks x 1 thread", for messages.
  virtual std::string Describe() const = 0;
  /// Runs fn(i) for every i in [0, n), each on exactly one process and
  /// thread, and returns all n results on every process, in index order.
  /// `cost` (empty, or n estimates in any unit) guides how jobs are split
  /// (AssignRanks over processes, LongestFirst within one), never what they
  /// return. A job that throws: after every job has run, every process throws
  /// the lowest-index failure again (InputError keeps its message; any other
  /// exception becomes InputError with its what(), JobErrorMessage).
  /// fn runs on several threads at once when Threads() > 1. Map is called by
  /// one thread at a time, and fn must not call Map on the same pool.
  virtual std::vector<std::string> Map(size_t n, const std::vector<double>& cost,
                                       const std::function<std::string(size_t)>& fn) = 0;
};

/// Jobs on `threads` threads of this process (>= 1).
std::unique_ptr<Pool> MakeLocalPool(int threads);

/// Whether this process was started by an MPI launcher (mpirun/mpiexec set
/// its rank in the environment) and cotenant was built with MPI.
bool UnderMpi();

/// The MPI pool when UnderMpi() (fleet/mpi_pool.h: initialises MPI once, on
/// the first call, and finalises it at exit; an error exit that the other
/// processes did not share ends the run with MPI_Abort rather than hang),
/// else MakeLocalPool(threads).
std::unique_ptr<Pool> MakePool(int threads);

// Shared by the pools, and tested without MPI.

/// Job indices in the order a process starts them: highest cost first, ties
/// by index (NaN and negative costs count as 0); 0..n-1 when `cost` is empty.
/// `cost` must be empty or hold n values.
std::vector<size_t> LongestFirst(size_t n, const std::vector<double>& cost);

/// The process (0..ranks-1) each of n jobs runs on: jobs in LongestFirst
/// order, each to the process with the least cost so far, then the fewest
/// jobs, then the lowest rank (equal or no costs deal jobs round robin).
/// The same on every process, so no messages are needed to agree on it.
std::vector<int> AssignRanks(size_t n, const std::vector<double>& cost, int ranks);

/// The message a failed job is rethrown with: what() of a std::exception,
/// else "unknown error".
std::string JobErrorMessage(const std::exception_ptr& error);

}  // namespace cotenant::fleet
