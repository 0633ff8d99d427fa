// thread_pool.h — one persistent pool of worker threads; ops split their work over it.
#pragma once
#include <cstdint>
#include <functional>

namespace kk {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads <= 0: hardware concurrency
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;
  // Runs fn(begin, end, thread_index) over [0, n) split into contiguous chunks, at most one per
  // thread, each a multiple of `grain` (except the last). The caller's thread takes part.
  // Blocks until all chunks are done. Not re-entrant: call from one thread at a time.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace kk
