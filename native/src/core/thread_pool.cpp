// thread_pool.cpp — persistent workers that spin briefly, then sleep, between parallel_for calls.
// Decode calls parallel_for hundreds of times per token, so a call must not pay a futex wake-up
// when the workers were busy a moment ago: they spin on a generation counter for kSpinIters
// pauses after each job and only then block on a condition variable.
#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() { std::this_thread::yield(); }
#endif

namespace kk {

namespace {
// ~100 µs of spinning on current x86 (a pause is ~40-140 cycles): long enough to bridge the gap
// between two ops of one decode step, short enough not to burn a shared core while idle.
constexpr int kSpinIters = 1 << 12;
// While the caller waits for stragglers it spins this long before yielding its core.
constexpr int kCallerSpinIters = 1 << 14;
// Set in worker threads (and in the caller while it runs a job) so a nested parallel_for runs
// serially instead of deadlocking.
thread_local bool tls_in_pool_job = false;
}  // namespace

struct ThreadPool::Impl {
  int n_threads = 1;
  std::vector<std::thread> workers;

  // The current job.
  const std::function<void(int64_t, int64_t, int)>* fn = nullptr;
  int64_t n = 0, chunk = 0;
  int n_chunks = 0;

  std::atomic<uint64_t> generation{0};
  std::atomic<int> remaining{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;

  void run_chunk(int i) {
    if (i >= n_chunks) return;
    int64_t b = int64_t(i) * chunk, e = std::min(n, b + chunk);
    if (b < e) (*fn)(b, e, i);
  }

  void worker(int index) {
    tls_in_pool_job = true;
    uint64_t seen = 0;
    for (;;) {
      uint64_t g = generation.load(std::memory_order_acquire);
      for (int spin = 0; g == seen && spin < kSpinIters; ++spin) {
        cpu_relax();
        g = generation.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mu);
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        cv.wait(lock, [&] {
          return generation.load(std::memory_order_seq_cst) != seen || stop.load();
        });
        sleepers.fetch_sub(1, std::memory_order_relaxed);
        g = generation.load(std::memory_order_acquire);
      }
      if (stop.load(std::memory_order_acquire)) return;
      seen = g;
      run_chunk(index);
      remaining.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
};

ThreadPool::ThreadPool(int n_threads) : impl_(new Impl) {
  if (n_threads <= 0) n_threads = int(std::max(1u, std::thread::hardware_concurrency()));
  impl_->n_threads = n_threads;
  for (int i = 1; i < n_threads; ++i) impl_->workers.emplace_back([this, i] { impl_->worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop.store(true, std::memory_order_seq_cst);
    impl_->generation.fetch_add(1, std::memory_order_seq_cst);
  }
  impl_->cv.notify_all();
  for (auto& t : impl_->workers) t.join();
  delete impl_;
}

int ThreadPool::size() const { return impl_->n_threads; }

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  Impl& p = *impl_;
  const int64_t n_grains = (n + grain - 1) / grain;
  const int n_chunks = int(std::min<int64_t>(p.n_threads, n_grains));
  // One chunk (or a nested call from inside a job): no workers to wake.
  if (n_chunks <= 1 || tls_in_pool_job) {
    fn(0, n, 0);
    return;
  }
  p.fn = &fn;
  p.n = n;
  p.chunk = ((n_grains + n_chunks - 1) / n_chunks) * grain;
  p.n_chunks = n_chunks;
  p.remaining.store(p.n_threads - 1, std::memory_order_relaxed);
  p.generation.fetch_add(1, std::memory_order_seq_cst);  // publishes the job (release)
  if (p.sleepers.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> lock(p.mu); }
    p.cv.notify_all();
  }
  tls_in_pool_job = true;
  p.run_chunk(0);
  tls_in_pool_job = false;
  for (int spin = 0; p.remaining.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kCallerSpinIters) cpu_relax();
    else std::this_thread::yield();
  }
}

}  // namespace kk
