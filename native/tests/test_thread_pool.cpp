// test_thread_pool.cpp — parallel_for covers [0, n) exactly once, in grain multiples, for many
// sizes and thread counts; back-to-back calls (the decode pattern) and nested calls work.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "test_util.h"

using kk::ThreadPool;

int main() {
  for (int threads : {1, 2, 3, 4, 7}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads, "size %d != %d", pool.size(), threads);
    for (int64_t n : {0, 1, 2, 3, 5, 8, 17, 64, 100, 1000, 4097}) {
      for (int64_t grain : {1, 3, 16, 64}) {
        std::vector<std::atomic<int>> hits(n > 0 ? n : 1);
        for (auto& h : hits) h = 0;
        std::atomic<int> chunks{0}, bad_grain{0}, bad_index{0};
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e, int idx) {
          chunks++;
          if (b % grain != 0) bad_grain++;
          if (idx < 0 || idx >= threads) bad_index++;
          for (int64_t i = b; i < e; ++i) hits[i]++;
        });
        int wrong = 0;
        for (int64_t i = 0; i < n; ++i) wrong += hits[i] != 1;
        CHECK(wrong == 0, "threads=%d n=%lld grain=%lld: %d indices not hit exactly once", threads,
              (long long)n, (long long)grain, wrong);
        CHECK(chunks <= threads, "threads=%d n=%lld: %d chunks", threads, (long long)n, chunks.load());
        CHECK(bad_grain == 0 && bad_index == 0, "chunk starts must be grain multiples, index < size");
      }
    }
    // Many small back-to-back jobs, as decode issues them, then a pause long enough for the
    // workers to fall asleep, then more jobs (exercises the sleep/wake path).
    std::atomic<int64_t> sum{0};
    for (int rep = 0; rep < 2000; ++rep)
      pool.parallel_for(threads * 4, 1, [&](int64_t b, int64_t e, int) { sum += e - b; });
    CHECK(sum == int64_t(2000) * threads * 4, "back-to-back sum %lld", (long long)sum.load());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    sum = 0;
    for (int rep = 0; rep < 10; ++rep)
      pool.parallel_for(100, 1, [&](int64_t b, int64_t e, int) { sum += e - b; });
    CHECK(sum == 1000, "after sleep sum %lld", (long long)sum.load());
    // Nested parallel_for runs inline instead of deadlocking.
    std::atomic<int64_t> nested{0};
    pool.parallel_for(8, 1, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i)
        pool.parallel_for(10, 1, [&](int64_t b2, int64_t e2, int) { nested += e2 - b2; });
    });
    CHECK(nested == 80, "nested sum %lld", (long long)nested.load());
  }
  std::printf("checked coverage, grain alignment, back-to-back, sleep/wake, nesting for 1-7 threads\n");
  return kk_test::finish("test_thread_pool");
}
