// mla_decode_attention.cpp — absorbed-MLA attention of one query token over the latent cache.
//
// The cache is read through the sequence's block table (core/kv_pages.h), in chunks of kCtxChunk
// tokens (a bf16 / fp8 cache is dequantized to fp32 a chunk at a time); for each chunk all heads (of a head group)
// are computed while the chunk is cache-resident, so the cache streams from memory once per
// step rather than once per head. Each (chunk, head) keeps a running max m, Σexp l and
// Σexp·c_kv o; the chunks are merged at the end with the usual log-sum-exp rescaling.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/ops.h"

namespace kk::cpu {

namespace {
// 128 tokens x (512+64) floats = 288 KiB: fits L2 with room for the head's partial output.
constexpr int64_t kCtxChunk = 128;

// The two inner loops are cloned per ISA by the compiler and picked at load time from cpuid
// (GNU ifunc), so this op vectorises with AVX-512/AVX2 without a per-ISA source file.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define KK_ISA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define KK_ISA_CLONES
#endif

KK_ISA_CLONES float dot(const float* a, const float* b, int n) {
  // 16 independent partial sums: the vectoriser maps them onto one zmm / two ymm / four xmm.
  float acc[16] = {0};
  int i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  float s = 0.f;
  for (; i < n; ++i) s += a[i] * b[i];
  for (int j = 0; j < 16; ++j) s += acc[j];
  return s;
}

KK_ISA_CLONES void axpy(float a, const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}
}  // namespace

void mla_decode_attention(const OpContext& ctx, const float* q_lat, const float* q_pe,
                          const KvPages& cache, int64_t n_ctx, int n_heads, int R, int P,
                          float scale, float* out_lat) {
  if (n_heads <= 0 || R <= 0) return;
  if (n_ctx <= 0) {
    std::fill(out_lat, out_lat + int64_t(n_heads) * R, 0.f);
    return;
  }
  const int64_t n_chunks = (n_ctx + kCtxChunk - 1) / kCtxChunk;
  const int threads = ctx.pool ? ctx.pool->size() : 1;
  // Split heads too when there are fewer chunks than threads (short contexts).
  const int64_t head_groups = std::min<int64_t>(n_heads, std::max<int64_t>(1, (threads + n_chunks - 1) / n_chunks));
  const int64_t heads_per_group = (n_heads + head_groups - 1) / head_groups;
  const int64_t n_tasks = n_chunks * head_groups;

  // Partials per (chunk, head): m, l, o[R].
  std::vector<float> pm(n_chunks * n_heads), pl(n_chunks * n_heads);
  std::vector<float> po(n_chunks * n_heads * int64_t(R));

  std::atomic<int64_t> next{0};
  const bool in_place = cache.dtype == KK_KV_F32;
  auto worker = [&](int64_t, int64_t, int) {
    std::vector<float> s(kCtxChunk), deq(in_place ? 0 : size_t(kCtxChunk * cache.row));
    for (int64_t task; (task = next.fetch_add(1, std::memory_order_relaxed)) < n_tasks;) {
      const int64_t c = task / head_groups, hg = task % head_groups;
      const int64_t t0 = c * kCtxChunk, t1 = std::min(n_ctx, t0 + kCtxChunk);
      const int64_t h0 = hg * heads_per_group, h1 = std::min<int64_t>(n_heads, h0 + heads_per_group);
      if (!in_place) cache.read_rows(t0, t1, deq.data());
      auto row_at = [&](int64_t t) { return in_place ? cache.f32_row(t) : &deq[(t - t0) * cache.row]; };
      for (int64_t h = h0; h < h1; ++h) {
        const float* ql = q_lat + h * R;
        const float* qp = q_pe + h * P;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t t = t0; t < t1; ++t) {
          const float* row = row_at(t);
          const float v = (dot(ql, row, R) + dot(qp, row + R, P)) * scale;
          s[t - t0] = v;
          m = std::max(m, v);
        }
        float l = 0.f;
        float* o = &po[(c * n_heads + h) * R];
        std::fill(o, o + R, 0.f);
        for (int64_t t = t0; t < t1; ++t) {
          const float p = std::exp(s[t - t0] - m);
          l += p;
          axpy(p, row_at(t), o, R);
        }
        pm[c * n_heads + h] = m;
        pl[c * n_heads + h] = l;
      }
    }
  };
  if (ctx.pool && threads > 1 && n_tasks > 1) ctx.pool->parallel_for(std::min<int64_t>(threads, n_tasks), 1, worker);
  else worker(0, 1, 0);

  // Merge chunks per head.
  for (int h = 0; h < n_heads; ++h) {
    float M = -std::numeric_limits<float>::infinity();
    for (int64_t c = 0; c < n_chunks; ++c) M = std::max(M, pm[c * n_heads + h]);
    float L = 0.f;
    float* out = out_lat + int64_t(h) * R;
    std::fill(out, out + R, 0.f);
    for (int64_t c = 0; c < n_chunks; ++c) {
      const float f = std::exp(pm[c * n_heads + h] - M);
      L += f * pl[c * n_heads + h];
      const float* o = &po[(c * n_heads + h) * R];
      for (int i = 0; i < R; ++i) out[i] += f * o[i];
    }
    const float inv = L > 0.f ? 1.f / L : 0.f;
    for (int i = 0; i < R; ++i) out[i] *= inv;
  }
}

}  // namespace kk::cpu
