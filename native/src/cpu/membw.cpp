// membw.cpp — streaming-read bandwidth and INT4 expert GEMV throughput, measured alike:
// same buffer size, same thread pool, best of kPasses passes.
#include "cpu/membw.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <vector>

#include <sys/mman.h>

#include "core/q4x16.h"
#include "core/tensor.h"
#include "cpu/cpu_features.h"
#include "cpu/ops.h"

namespace kk::cpu {

namespace {

// 1 GiB: at least twice the largest LLC we expect (the dev VMs report 480 MiB of shared L3).
constexpr size_t kDefaultBufferMiB = 1024;
constexpr int kPasses = 6;  // best of: other processes share these cores
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
#ifdef MADV_HUGEPAGE
  // The engine maps its weights with transparent huge pages where it can; so do both
  // measurements (THP is often in "madvise" mode), so neither pays 4 KiB-page TLB walks.
  madvise(p, rounded, MADV_HUGEPAGE);
#endif
  // First touch from the pool so pages land where the readers are. Every page gets distinct
  // pseudo-random contents: pages that repeat can be merged by the host (KSM) into 4 KiB pages,
  // which then read slower than the weights do.
  pool.parallel_for(int64_t(rounded / 4096), 256, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      uint64_t x = uint64_t(i) * 0x9E3779B97F4A7C15ull + 1;
      uint64_t* w = reinterpret_cast<uint64_t*>(p + i * 4096);
      for (int j = 0; j < 512; ++j) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; w[j] = x; }
    }
  });
  return std::unique_ptr<uint8_t, AlignedFree>(p);
}

// Sums 64-bit words with 32 independent lanes (cloned per ISA and picked from cpuid, so the
// loop runs with the widest loads this CPU has); optionally with software prefetch, as the GEMV
// kernels use it. The read bandwidth is the better of the two, so the GEMV is never compared
// with a handicapped reader. The result feeds a volatile so the loads cannot be dropped.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define KK_ISA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define KK_ISA_CLONES
#endif
constexpr int kReadPrefetchBytes = 2048;

KK_ISA_CLONES uint64_t sum_words(const uint64_t* p, size_t n, bool prefetch) {
  uint64_t s[32] = {0};
  size_t i = 0;
  if (prefetch) {
    for (; i + 32 <= n; i += 32) {
      for (int l = 0; l < 4; ++l)
        __builtin_prefetch(reinterpret_cast<const char*>(p + i) + kReadPrefetchBytes + 64 * l);
      for (int j = 0; j < 32; ++j) s[j] += p[i + j];
    }
  } else {
    for (; i + 32 <= n; i += 32)
      for (int j = 0; j < 32; ++j) s[j] += p[i + j];
  }
  for (; i < n; ++i) s[0] += p[i];
  uint64_t t = 0;
  for (int j = 0; j < 32; ++j) t += s[j];
  return t;
}

// Two streams at once (a and b, n words each), as the batch-1 GEMV reads two row halves.
KK_ISA_CLONES uint64_t sum_words2(const uint64_t* a, const uint64_t* b, size_t n, bool prefetch) {
  uint64_t s[32] = {0};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    if (prefetch) {
      for (int l = 0; l < 2; ++l) {
        __builtin_prefetch(reinterpret_cast<const char*>(a + i) + kReadPrefetchBytes + 64 * l);
        __builtin_prefetch(reinterpret_cast<const char*>(b + i) + kReadPrefetchBytes + 64 * l);
      }
    }
    for (int j = 0; j < 16; ++j) s[j] += a[i + j];
    for (int j = 0; j < 16; ++j) s[16 + j] += b[i + j];
  }
  for (; i < n; ++i) s[0] += a[i] + b[i];
  uint64_t t = 0;
  for (int j = 0; j < 32; ++j) t += s[j];
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

double measure_read_bandwidth_gbps(ThreadPool& pool, MembwDetail* detail) {
  // Segments as large as one K2 expert (gate+up+down), so both measurements time the same
  // amount of data per unit.
  const size_t seg_bytes = size_t(3 * kInter) * dtype_row_bytes(DType::Q4, kHidden);
  const size_t n_segs = std::max<size_t>(2, membw_buffer_bytes() / seg_bytes);
  const size_t bytes = n_segs * seg_bytes;
  auto buf = alloc_touched(bytes, pool);
  if (!buf) return 0.0;
  const int threads = pool.size();
  // Every reader the GEMV kernels could be said to have over them: portable (with/without
  // software prefetch, one or two streams per thread) and, where present, AVX-512 loads in 1, 2
  // or 4 prefetched streams as the kernels walk rows, load-only or paced by FMAs. The best counts.
  struct Reader { const char* name; int streams; bool simd, prefetch, paced; };
  static const Reader kReaders[] = {
      {"portable", 1, false, false, false}, {"portable+prefetch", 1, false, true, false},
      {"portable 2 streams", 2, false, false, false}, {"portable 2 streams+prefetch", 2, false, true, false},
      {"avx512 1 stream", 1, true, true, false}, {"avx512 2 streams", 2, true, true, false},
      {"avx512 4 streams", 4, true, true, false}, {"avx512 paced 1 stream", 1, true, true, true},
      {"avx512 paced 2 streams", 2, true, true, true}, {"avx512 paced 4 streams", 4, true, true, true}};
  constexpr int kPortableReaders = 4;
  const int n_readers = cpu_features().avx512f ? int(std::size(kReaders)) : kPortableReaders;
  double best_seg = 0.0, best_pass = 0.0;
  const Reader* best_reader = &kReaders[0];
  for (int pass = 0; pass < n_readers * kPasses / 2; ++pass) {
    const Reader& rd = kReaders[pass % n_readers];
    std::vector<uint64_t> sums(threads, 0);
    const double t_pass = now_s();
    for (size_t sgm = 0; sgm < n_segs; ++sgm) {
      const uint64_t* words = reinterpret_cast<const uint64_t*>(buf.get() + sgm * seg_bytes);
      const double t0 = now_s();
      // One contiguous slice per thread (grain = 4 KiB of words keeps slices page aligned).
      pool.parallel_for(int64_t(seg_bytes / 8), 512, [&](int64_t b, int64_t e, int idx) {
        if (rd.simd) {
          const size_t each = size_t(e - b) * 8 / size_t(rd.streams) / 64 * 64;
          const uint8_t* starts[4];
          for (int r = 0; r < rd.streams; ++r) starts[r] = reinterpret_cast<const uint8_t*>(words + b) + r * each;
          sums[idx] += read_streams_avx512(starts, each, rd.streams, rd.paced);
          const size_t done = each * size_t(rd.streams) / 8;  // the few words past the streams
          sums[idx] += sum_words(words + b + done, size_t(e - b) - done, false);
        } else if (rd.streams == 2) {
          const int64_t mid = b + (e - b) / 2;
          sums[idx] += sum_words2(words + b, words + mid, size_t(mid - b), rd.prefetch);
          sums[idx] += sum_words(words + mid + (mid - b), size_t(e - mid - (mid - b)), rd.prefetch);
        } else {
          sums[idx] += sum_words(words + b, size_t(e - b), rd.prefetch);
        }
      });
      const double gbps = double(seg_bytes) / (now_s() - t0) / 1e9;
      if (gbps > best_seg) { best_seg = gbps; best_reader = &rd; }
    }
    best_pass = std::max(best_pass, double(bytes) / (now_s() - t_pass) / 1e9);
    uint64_t s = 0;
    for (auto v : sums) s += v;
    g_sink = g_sink + s;
  }
  if (detail) {
    detail->best_unit_gbps = best_seg;
    detail->best_pass_gbps = best_pass;
    detail->best_reader = best_reader->name;
  }
  return best_seg;
}

double measure_q4_gemv_gbps(ThreadPool& pool, const Kernels& k, bool fast, bool x16, MembwDetail* detail, int64_t n) {
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
      // A non-owning owner: the repack then works in place in the huge-page buffer.
      t.owner = std::shared_ptr<void>(t.data, [](void*) {});
      if (x16 && !q4x16_repack(&t, &pool).ok()) return 0.0;
      mats.push_back(t);
    }
  n = std::max<int64_t>(1, n);
  std::vector<float> x(n * kHidden), h(n * kInter), y(n * kHidden);
  for (int64_t i = 0; i < n * kHidden; ++i) x[i] = float((i * 37) % 101) / 101.f - 0.5f;
  for (int64_t i = 0; i < n * kInter; ++i) h[i] = float((i * 53) % 97) / 97.f - 0.5f;

  OpContext ctx{&pool, &k, fast};
  double best_expert = 0.0, best_pass = 0.0;
  for (int pass = 0; pass < 2 * kPasses; ++pass) {  // as many samples as the reader gets
    const double t_pass = now_s();
    for (int64_t e = 0; e < n_experts; ++e) {
      const double t0 = now_s();
      matmul(ctx, mats[e * 3 + 0], x.data(), n, h.data());
      matmul(ctx, mats[e * 3 + 1], x.data(), n, h.data());
      matmul(ctx, mats[e * 3 + 2], h.data(), n, y.data());
      best_expert = std::max(best_expert, double(expert_bytes) / (now_s() - t0) / 1e9);
    }
    best_pass = std::max(best_pass, double(n_experts * expert_bytes) / (now_s() - t_pass) / 1e9);
    g_sink = g_sink + uint64_t(y[0] != 0.f);
  }
  if (detail) { detail->best_unit_gbps = best_expert; detail->best_pass_gbps = best_pass; }
  return best_expert;
}

double measure_bf16_gemv_gbps(ThreadPool& pool, const Kernels& k, MembwDetail* detail, int64_t n) {
  // K2's largest decode bf16 matrix shape class: o_proj-like 7168 x 8192 (117 MB in bf16);
  // timed per unit of 4 x 7168 x 864 rows ≈ one expert unit's 24.8 MB.
  constexpr int64_t kCols = 8192 - 8192 % 32, kRows = 1512;  // 1512 x 8192 x 2 B = 24.8 MB
  const size_t unit_bytes = size_t(kRows) * kCols * 2;
  const int64_t n_units = std::max<int64_t>(2, int64_t(membw_buffer_bytes() / unit_bytes));
  auto buf = alloc_touched(size_t(n_units) * unit_bytes, pool);
  if (!buf) return 0.0;
  uint16_t* w = reinterpret_cast<uint16_t*>(buf.get());
  const int64_t n_el = int64_t(n_units * unit_bytes / 2);
  pool.parallel_for(n_el, 1 << 16, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) w[i] = f32_to_bf16(float(i % 17) / 17.f - 0.5f);
  });
  n = std::max<int64_t>(1, n);
  std::vector<float> x(n * kCols), y(n * kRows);
  for (int64_t i = 0; i < n * kCols; ++i) x[i] = float((i * 37) % 101) / 101.f - 0.5f;
  OpContext ctx{&pool, &k, false};
  double best_unit = 0.0, best_pass = 0.0;
  for (int pass = 0; pass < 2 * kPasses; ++pass) {
    const double t_pass = now_s();
    for (int64_t u = 0; u < n_units; ++u) {
      Tensor t;
      t.name = "bench.bf16";
      t.type = DType::BF16;
      t.shape = {kRows, kCols};
      t.data = buf.get() + size_t(u) * unit_bytes;
      const double t0 = now_s();
      matmul(ctx, t, x.data(), n, y.data());
      best_unit = std::max(best_unit, double(unit_bytes) / (now_s() - t0) / 1e9);
    }
    best_pass = std::max(best_pass, double(n_units * unit_bytes) / (now_s() - t_pass) / 1e9);
    g_sink = g_sink + uint64_t(y[0] != 0.f);
  }
  if (detail) { detail->best_unit_gbps = best_unit; detail->best_pass_gbps = best_pass; }
  return best_unit;
}

}  // namespace kk::cpu
