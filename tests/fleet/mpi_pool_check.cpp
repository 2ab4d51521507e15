// The pool checked as fleet runs it, one process per MPI rank (mpirun) or
// alone: results on every rank identical to the one-process results, each
// job run exactly once across the ranks, failures thrown alike everywhere.
// Run by tests/fleet/mpi_check.sh, which compares the digests the ranks print
// across runs with 1, 2 and 3 processes.
//
//   mpi_pool_check --expect-ranks N [--fail | --diverge]
//
// Prints "rank R/S: POOL digest HEX" per pool, "rank R/S: FAIL ..." per failed
// check; exits 0, or 2 when a check failed. --fail: a job throws an
// InputError that main catches as the CLI does ("mpi_pool_check: error:
// MSG", exit 1). --diverge: rank 1 fails before the Map that the others
// wait in (an input missing on one node): the run must end, not hang.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "fleet/pool.h"
#include "sim/error.h"
#ifdef COTENANT_HAVE_MPI
#include "fleet/mpi_pool.h"
#endif

namespace {

using cotenant::InputError;
using cotenant::fleet::Pool;

int g_failures = 0;
std::string g_where = "rank ?";

#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++g_failures;                                                            \
      std::printf("%s: FAIL line %d: %s\n", g_where.c_str(), __LINE__, #cond); \
    }                                                                          \
  } while (0)

/// A result that depends on the index only; a few are long.
std::string Job(size_t i) {
  std::string s = "job " + std::to_string(i) + ":";
  s.append((i * 37) % 300, static_cast<char>('a' + i % 26));
  return s;
}

std::vector<double> Costs(size_t n) {
  std::vector<double> cost;
  for (size_t i = 0; i < n; ++i) cost.push_back(static_cast<double>((i * 7) % 11));
  return cost;
}

uint64_t Digest(const std::vector<std::string>& results) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, with a separator after each result
  for (const std::string& r : results) {
    for (unsigned char c : r) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;
  }
  return h;
}

/// The message `pool.Map` throws (or "" when it throws nothing).
std::string MapError(Pool& pool, size_t n, const std::vector<double>& cost,
                     const std::function<std::string(size_t)>& fn) {
  try {
    pool.Map(n, cost, fn);
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not an InputError: ") + e.what();
  }
  return "";
}

void Check(Pool& pool, const std::string& name, bool big_results) {
  g_where = "rank " + std::to_string(pool.Rank()) + "/" + std::to_string(pool.Size());
  const size_t n = 61;
  const std::vector<double> cost = Costs(n);
  std::vector<std::string> expected;
  for (size_t i = 0; i < n; ++i) expected.push_back(Job(i));

  // The same results as one process computes, in index order, with or without costs.
  const std::vector<std::string> results = pool.Map(n, cost, Job);
  EXPECT(results == expected);
  EXPECT(pool.Map(n, {}, Job) == expected);
  EXPECT(pool.Map(0, {}, Job).empty());

  // Each job ran exactly once: every rank ran the jobs labelled with its rank,
  // and those only; with at least as many jobs as ranks, every rank ran some.
  const std::vector<int> assigned = cotenant::fleet::AssignRanks(n, cost, pool.Size());
  std::atomic<int> ran{0};
  const std::vector<std::string> who = pool.Map(n, cost, [&](size_t) {
    ++ran;
    return std::to_string(pool.Rank());
  });
  int mine = 0;
  std::vector<int> per_rank(static_cast<size_t>(pool.Size()), 0);
  for (size_t i = 0; i < n; ++i) {
    const int r = std::atoi(who[i].c_str());
    EXPECT(r >= 0 && r < pool.Size());
    if (r < 0 || r >= pool.Size()) continue;
    EXPECT(r == assigned[i]);
    ++per_rank[static_cast<size_t>(r)];
    if (r == pool.Rank()) ++mine;
  }
  EXPECT(ran.load() == mine);
  for (int count : per_rank) EXPECT(count > 0);

  // Failures: every job still runs; every rank throws the lowest-index one.
  ran = 0;
  auto failing = [&](size_t i) -> std::string {
    ++ran;
    if (i == 5) throw std::runtime_error("job 5: not an InputError");
    if (i == 9 || i == 40) throw InputError("jobs.json: job " + std::to_string(i) + ": bad");
    return Job(i);
  };
  EXPECT(MapError(pool, n, cost, failing) == "job 5: not an InputError");
  EXPECT(ran.load() == mine);
  EXPECT(MapError(pool, n, {}, [&](size_t i) { return i == 5 ? Job(i) : failing(i); }) ==
         "jobs.json: job 9: bad");

  // Results of megabytes.
  if (big_results) {
    std::vector<std::string> big_expected;
    auto big = [](size_t i) {
      return std::string((size_t{3} << 20) + i, static_cast<char>('A' + i));
    };
    for (size_t i = 0; i < 5; ++i) big_expected.push_back(big(i));
    EXPECT(pool.Map(5, {}, big) == big_expected);
  }

  std::printf("%s: %s digest %016llx\n", g_where.c_str(), name.c_str(),
              static_cast<unsigned long long>(Digest(results)));
}

int Run(int argc, char** argv) {
  int expect_ranks = -1;
  bool fail = false, diverge = false;
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--expect-ranks") == 0 && a + 1 < argc) {
      expect_ranks = std::atoi(argv[++a]);
    } else if (std::strcmp(argv[a], "--fail") == 0) {
      fail = true;
    } else if (std::strcmp(argv[a], "--diverge") == 0) {
      diverge = true;
    } else {
      std::fprintf(stderr, "usage: mpi_pool_check --expect-ranks N [--fail | --diverge]\n");
      return 64;
    }
  }
  std::unique_ptr<Pool> pool = cotenant::fleet::MakePool(2);
  if (diverge && pool->Rank() == 1) throw InputError("jobs.json: no such file on this node");
  if (fail || diverge) {
    pool->Map(8, {}, [](size_t i) -> std::string {
      if (i == 3) throw InputError("jobs.json: job 3: expected a plan, found 42");
      return Job(i);
    });
    return 0;
  }
  g_where = "rank " + std::to_string(pool->Rank()) + "/" + std::to_string(pool->Size());
  EXPECT(pool->Size() == expect_ranks);
  EXPECT(cotenant::fleet::UnderMpi() == (expect_ranks > 1));
  Check(*pool, "default", true);
#ifdef COTENANT_HAVE_MPI
  // Results shared 7 bytes per process per collective: many rounds.
  if (cotenant::fleet::UnderMpi()) {
    std::unique_ptr<Pool> chunked = cotenant::fleet::MakeMpiPool(1, 7);
    Check(*chunked, "chunk7", false);
  }
#endif
  std::fflush(stdout);
  return g_failures == 0 ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  // As tools/cotenant/main.cpp: errors caught at one place, exit code 1.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpi_pool_check: error: %s\n", e.what());
    return 1;
  }
}
