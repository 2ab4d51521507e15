#include "fleet/pool.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>
#include <utility>

#include "search/thread_pool.h"
#include "sim/error.h"

namespace cotenant::fleet {

namespace {

/// A cost as LongestFirst and AssignRanks count it: NaN and negative as 0.
double CostOf(const std::vector<double>& cost, size_t i) {
  if (cost.empty()) return 1.0;
  const double c = cost[i];
  return std::isnan(c) || c < 0 ? 0.0 : c;
}

/// The threads of this process: the search's thread pool, fed longest job first.
class LocalPool final : public Pool {
 public:
  explicit LocalPool(int threads) : threads_(std::max(1, threads)), pool_(threads_) {}

  int Rank() const override { return 0; }
  int Size() const override { return 1; }
  int Threads() const override { return threads_; }
  std::string Describe() const override {
    return "1 process, " + std::to_string(threads_) + (threads_ == 1 ? " thread" : " threads");
  }

  std::vector<std::string> Map(size_t n, const std::vector<double>& cost,
                               const std::function<std::string(size_t)>& fn) override {
    const std::vector<size_t> order = LongestFirst(n, cost);
    std::vector<std::string> results(n);
    std::vector<std::string> errors(n);
    std::vector<char> failed(n, 0);
    // Every job runs; a failure is kept as its message (JobErrorMessage) and
    // rethrown after all have run, so the threads never see an exception.
    pool_.ParallelFor(static_cast<int64_t>(n), [&](int64_t k, int) {
      const size_t i = order[static_cast<size_t>(k)];
      try {
        results[i] = fn(i);
      } catch (...) {
        failed[i] = 1;
        errors[i] = JobErrorMessage(std::current_exception());
      }
    });
    for (size_t i = 0; i < n; ++i)
      if (failed[i]) throw InputError(errors[i]);
    return results;
  }

 private:
  int threads_;
  search::ThreadPool pool_;
};

}  // namespace

std::vector<size_t> LongestFirst(size_t n, const std::vector<double>& cost) {
  COTENANT_CHECK_MSG(
      cost.empty() || cost.size() == n,
      "Pool::Map: " + std::to_string(cost.size()) + " costs for " + std::to_string(n) + " jobs");
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  if (cost.empty()) return order;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return CostOf(cost, a) > CostOf(cost, b); });
  return order;
}

std::vector<int> AssignRanks(size_t n, const std::vector<double>& cost, int ranks) {
  COTENANT_CHECK(ranks >= 1);
  std::vector<int> rank_of(n, 0);
  std::vector<double> load(static_cast<size_t>(ranks), 0.0);  // summed cost
  std::vector<size_t> count(static_cast<size_t>(ranks), 0);   // jobs
  for (size_t i : LongestFirst(n, cost)) {
    size_t best = 0;
    for (size_t r = 1; r < load.size(); ++r)
      if (load[r] < load[best] || (load[r] == load[best] && count[r] < count[best])) best = r;
    rank_of[i] = static_cast<int>(best);
    load[best] += CostOf(cost, i);
    ++count[best];
  }
  return rank_of;
}

std::string JobErrorMessage(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

std::unique_ptr<Pool> MakeLocalPool(int threads) { return std::make_unique<LocalPool>(threads); }

#ifndef COTENANT_HAVE_MPI
// Built without MPI (fleet/mpi_pool.cpp is left out): always this process's threads.
bool UnderMpi() { return false; }

std::unique_ptr<Pool> MakePool(int threads) { return MakeLocalPool(threads); }
#endif

}  // namespace cotenant::fleet
