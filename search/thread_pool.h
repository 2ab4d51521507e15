// A fixed pool of worker threads that runs the iterations of a loop: the
// evaluator's parallel simulations. The calling thread works too.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cotenant::search {

class ThreadPool {
 public:
  /// `threads` >= 1 threads in all, the caller included (threads - 1 are started).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  /// Runs fn(i, worker) for every i in [0, n), spread over the threads
  /// (worker in [0, size()), 0 = the caller), and returns when all are done.
  /// If iterations throw, the exception of the lowest i is rethrown here.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int)>& fn);

 private:
  void WorkerLoop(int worker);
  void Work(int worker);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  uint64_t generation_ = 0;  ///< bumped for each ParallelFor
  bool stop_ = false;
  int busy_ = 0;  ///< workers still in the current loop
  // The current loop (guarded by mu_ for setup; next_ is claimed atomically under mu_).
  const std::function<void(int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0, next_ = 0;
  std::vector<std::exception_ptr> errors_;
};

}  // namespace cotenant::search
