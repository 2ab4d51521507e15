#include "fleet/pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/error.h"

namespace cotenant::fleet {
namespace {

/// A result that depends on the index only, some of them long.
std::string Job(size_t i) {
  std::string s = "job " + std::to_string(i) + ":";
  s.append((i * 37) % 200, static_cast<char>('a' + i % 26));
  return s;
}

std::vector<double> Costs(size_t n) {
  std::vector<double> cost;
  for (size_t i = 0; i < n; ++i) cost.push_back(static_cast<double>((i * 7) % 11));
  return cost;
}

}  // namespace

TEST_CASE("local pool: results in index order whatever the thread count and costs") {
  const size_t n = 53;
  std::vector<std::string> expected;
  for (size_t i = 0; i < n; ++i) expected.push_back(Job(i));
  for (int threads : {1, 2, 3, 8}) {
    auto pool = MakeLocalPool(threads);
    CHECK(pool->Rank() == 0);
    CHECK(pool->Size() == 1);
    CHECK(pool->Threads() == threads);
    CHECK(pool->Map(n, {}, Job) == expected);
    CHECK(pool->Map(n, Costs(n), Job) == expected);
    // The same pool again, and with no jobs.
    CHECK(pool->Map(n, Costs(n), Job) == expected);
    CHECK(pool->Map(0, {}, Job).empty());
  }
}

TEST_CASE("local pool: each job runs exactly once") {
  const size_t n = 40;
  std::vector<std::atomic<int>> runs(n);
  auto pool = MakeLocalPool(4);
  pool->Map(n, Costs(n), [&](size_t i) {
    ++runs[i];
    return std::string();
  });
  for (size_t i = 0; i < n; ++i) CHECK(runs[i].load() == 1);
}

TEST_CASE("local pool: describes itself; threads below 1 count as 1") {
  CHECK(MakeLocalPool(1)->Describe() == "1 process, 1 thread");
  CHECK(MakeLocalPool(2)->Describe() == "1 process, 2 threads");
  CHECK(MakeLocalPool(0)->Threads() == 1);
}

TEST_CASE("local pool: every job runs, then the lowest-index failure is thrown") {
  for (int threads : {1, 3}) {
    auto pool = MakeLocalPool(threads);
    std::vector<std::atomic<int>> runs(30);
    auto fn = [&](size_t i) -> std::string {
      ++runs[i];
      if (i == 7) throw std::runtime_error("job 7: not an InputError");
      if (i == 12 || i == 25) throw InputError("plan.json: job " + std::to_string(i) + ": bad");
      return Job(i);
    };
    // Job 7 is the lowest failure: any exception becomes InputError with its what().
    CHECK_THROWS_MATCHES(pool->Map(30, Costs(30), fn), InputError,
                         Catch::Matchers::Message("job 7: not an InputError"));
    for (auto& r : runs) CHECK(r.load() == 1);
    // Without job 7 failing, job 12's InputError keeps its message.
    auto fn2 = [&](size_t i) -> std::string { return i == 7 ? Job(i) : fn(i); };
    CHECK_THROWS_MATCHES(pool->Map(30, {}, fn2), InputError,
                         Catch::Matchers::Message("plan.json: job 12: bad"));
    // Something that is not a std::exception.
    CHECK_THROWS_MATCHES(pool->Map(3, {}, [](size_t i) -> std::string { throw 42; }), InputError,
                         Catch::Matchers::Message("unknown error"));
  }
}

TEST_CASE("LongestFirst: highest cost first, ties by index, NaN and negatives as 0") {
  CHECK(LongestFirst(4, {}) == std::vector<size_t>{0, 1, 2, 3});
  CHECK(LongestFirst(5, {1, 3, 1, 3, 2}) == std::vector<size_t>{1, 3, 4, 0, 2});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(LongestFirst(4, {nan, -1, 0.5, 0}) == std::vector<size_t>{2, 0, 1, 3});
}

TEST_CASE("AssignRanks: longest job to the least-loaded rank, deterministic") {
  // No costs: round robin.
  CHECK(AssignRanks(5, {}, 2) == std::vector<int>{0, 1, 0, 1, 0});
  CHECK(AssignRanks(4, {}, 1) == std::vector<int>{0, 0, 0, 0});
  // Costs 5, 4, 3, 3, 2 on two ranks: job 0 -> 0 (loads 5, 0), job 1 -> 1
  // (5, 4), job 2 -> 1 (5, 7), job 3 -> 0 (8, 7), job 4 -> 1 (8, 9).
  CHECK(AssignRanks(5, {5, 4, 3, 3, 2}, 2) == std::vector<int>{0, 1, 1, 0, 1});
  // Zero costs still spread by job count.
  CHECK(AssignRanks(4, {0, 0, 0, 0}, 3) == std::vector<int>{0, 1, 2, 0});
  // More ranks than jobs: some ranks idle.
  CHECK(AssignRanks(2, {1, 2}, 4) == std::vector<int>{1, 0});
}

TEST_CASE("not under MPI: MakePool gives this process's threads") {
  // ctest runs this binary without mpirun (tests/fleet/mpi_check.sh runs the pool under MPI).
  if (UnderMpi()) {
    WARN("started by an MPI launcher: MakePool's default is not checked here");
    return;
  }
  auto pool = MakePool(2);
  CHECK(pool->Size() == 1);
  CHECK(pool->Describe() == "1 process, 2 threads");
}

}  // namespace cotenant::fleet
