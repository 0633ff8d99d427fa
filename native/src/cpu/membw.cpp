// membw.cpp — streaming-read bandwidth and INT4 expert GEMV throughput, measured alike:
// same buffer size, same thread pool, best of kPasses passes.
#include "cpu/membw.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "cpu/ops.h"

namespace kk::cpu {

namespace {

// 1 GiB: at least twice the largest LLC we expect (the dev VMs report 480 MiB of shared L3).
constexpr size_t kDefaultBufferMiB = 1024;
constexpr int kPasses = 4;
// K2 expert shapes.
constexpr int64_t kHidden = 7168, kInter = 2048;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct AlignedFree { void operator()(void* p) const { std::free(p); } };

std::unique_ptr<uint8_t, AlignedFree> alloc_touched(size_t bytes, ThreadPool& pool) {
  const size_t rounded = (bytes + 4095) / 4096 * 4096;
  uint8_t* p = static_cast<uint8_t*>(std::aligned_alloc(4096, rounded));
  if (!p) return nullptr;
  // First touch from the pool so pages land where the readers are.
  pool.parallel_for(int64_t(rounded / 4096), 256, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) std::memset(p + i * 4096, int(i * 131 & 0x77), 4096);
  });
  return std::unique_ptr<uint8_t, AlignedFree>(p);
}

// Sums 64-bit words with 8 independent lanes (vectorised by the compiler); the result is
// returned and accumulated into a volatile so the loads cannot be dropped.
uint64_t sum_words(const uint64_t* p, size_t n) {
  uint64_t s[8] = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += p[i + j];
  for (; i < n; ++i) s[0] += p[i];
  uint64_t t = 0;
  for (int j = 0; j < 8; ++j) t += s[j];
  return t;
}

volatile uint64_t g_sink;

}  // namespace

size_t membw_buffer_bytes() {
  size_t mib = kDefaultBufferMiB;
  if (const char* e = std::getenv("KK_MEMBW_MB")) {
    const long v = std::atol(e);
    if (v >= 16) mib = size_t(v);
  }
  return mib << 20;
}

double measure_read_bandwidth_gbps(ThreadPool& pool) {
  const size_t bytes = membw_buffer_bytes();
  auto buf = alloc_touched(bytes, pool);
  if (!buf) return 0.0;
  const uint64_t* words = reinterpret_cast<const uint64_t*>(buf.get());
  const int64_t n_words = int64_t(bytes / 8);
  const int threads = pool.size();
  double best = 0.0;
  for (int pass = 0; pass < kPasses; ++pass) {
    std::vector<uint64_t> sums(threads, 0);
    const double t0 = now_s();
    // One contiguous slice per thread (grain = 4 KiB of words keeps slices page aligned).
    pool.parallel_for(n_words, 512, [&](int64_t b, int64_t e, int idx) {
      sums[idx] += sum_words(words + b, size_t(e - b));
    });
    const double dt = now_s() - t0;
    uint64_t s = 0;
    for (auto v : sums) s += v;
    g_sink = g_sink + s;
    best = std::max(best, double(bytes) / dt / 1e9);
  }
  return best;
}

double measure_q4_gemv_gbps(ThreadPool& pool, const Kernels& k, bool fast) {
  const size_t mat_bytes = size_t(kInter) * dtype_row_bytes(DType::Q4, kHidden);  // same for down
  const size_t expert_bytes = 3 * mat_bytes;
  const int64_t n_experts = std::max<int64_t>(2, int64_t(membw_buffer_bytes() / expert_bytes));
  auto buf = alloc_touched(size_t(n_experts) * expert_bytes, pool);
  if (!buf) return 0.0;
  // Valid blocks: scales in a sane range (no NaN/denormal slow paths), nibbles from the fill.
  block_q4* blocks = reinterpret_cast<block_q4*>(buf.get());
  const int64_t n_blocks = int64_t(n_experts * expert_bytes / sizeof(block_q4));
  pool.parallel_for(n_blocks, 4096, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) blocks[i].scale_bf16 = f32_to_bf16(0.01f + 0.001f * float(i & 15));
  });

  std::vector<Tensor> mats;
  for (int64_t e = 0; e < n_experts; ++e)
    for (int m = 0; m < 3; ++m) {
      Tensor t;
      t.name = "bench.expert";
      t.type = DType::Q4;
      t.shape = m < 2 ? std::vector<int64_t>{kInter, kHidden} : std::vector<int64_t>{kHidden, kInter};
      t.data = buf.get() + size_t(e) * expert_bytes + size_t(m) * mat_bytes;
      mats.push_back(t);
    }
  std::vector<float> x(kHidden), h(kInter), y(kHidden);
  for (int64_t i = 0; i < kHidden; ++i) x[i] = float((i * 37) % 101) / 101.f - 0.5f;
  for (int64_t i = 0; i < kInter; ++i) h[i] = float((i * 53) % 97) / 97.f - 0.5f;

  OpContext ctx{&pool, &k, fast};
  double best = 0.0;
  for (int pass = 0; pass < kPasses; ++pass) {
    const double t0 = now_s();
    for (int64_t e = 0; e < n_experts; ++e) {
      matmul(ctx, mats[e * 3 + 0], x.data(), 1, h.data());
      matmul(ctx, mats[e * 3 + 1], x.data(), 1, h.data());
      matmul(ctx, mats[e * 3 + 2], h.data(), 1, y.data());
    }
    const double dt = now_s() - t0;
    g_sink = g_sink + uint64_t(y[0] != 0.f);
    best = std::max(best, double(n_experts * expert_bytes) / dt / 1e9);
  }
  return best;
}

}  // namespace kk::cpu
