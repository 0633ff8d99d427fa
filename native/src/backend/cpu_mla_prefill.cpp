// cpu_mla_prefill.cpp — causal MLA attention over expanded keys/values (prefill).
// Per head, the keys are taken in blocks of kKeyBlock with an online softmax (running max and
// sum per token, as flash attention does), and both products of a block are matmuls on the CPU
// kernels (AVX-512 where present, 4 tokens per pass over a key):
//   S = (scale·Q_h) · K_blockᵀ        [n × nk]   (keys = [k_nope | k_pe], dn + P wide)
//   O_h = O_h·corr + softmax-part(S) · V_block   [n × dv]
// so scratch stays O(n · kKeyBlock) however long the context. Threads split the heads.
#include <algorithm>
#include <cmath>
#include <vector>
#include "backend/backend.h"

namespace kk {

namespace {
// Keys per block: S for a 512-token chunk is then 512 KiB per thread, and K/V blocks
// ((dn+P)·256 and dv·256 floats) stay in L2 while every token passes over them.
constexpr int64_t kKeyBlock = 256;
}  // namespace

void cpu_mla_prefill_attention(const OpContext& ctx, const MlaPrefillArgs& a, const float* q,
                               const float* kv, const KvPages& cache, float* out) {
  const int H = a.n_heads, dn = a.dn, dv = a.dv, R = a.R, P = a.P, D = dn + P;  // k_pe: cache rows at +R
  const int64_t n = a.n, q_stride = int64_t(H) * D, kv_stride = int64_t(H) * (dn + dv);
  const int64_t first = a.n_ctx - n;  // position of the first new token
  const cpu::Kernels& k = ctx.kernels ? *ctx.kernels : cpu::kernels_best();
  auto work = [&](int64_t h0, int64_t h1, int) {
    std::vector<float> qh(n * D), kb(kKeyBlock * D), vt(dv * kKeyBlock), s(n * kKeyBlock), pv(n * dv),
        o(n * dv), mx(n), sum(n);
    for (int64_t h = h0; h < h1; ++h) {
      for (int64_t i = 0; i < n; ++i)
        for (int j = 0; j < D; ++j) qh[i * D + j] = q[i * q_stride + h * D + j] * a.scale;
      std::fill(o.begin(), o.end(), 0.f);
      std::fill(mx.begin(), mx.end(), -INFINITY);
      std::fill(sum.begin(), sum.end(), 0.f);
      for (int64_t t0 = 0; t0 < a.n_ctx; t0 += kKeyBlock) {
        const int64_t nk = std::min(kKeyBlock, a.n_ctx - t0);
        const int64_t i0 = std::max<int64_t>(0, t0 - first);  // first token that sees key t0
        if (i0 >= n) break;
        for (int64_t t = 0; t < nk; ++t) {
          const float* kn = kv + (t0 + t) * kv_stride + h * (dn + dv);
          std::copy(kn, kn + dn, &kb[t * D]);
          cache.read(t0 + t, R, P, &kb[t * D + dn]);
          for (int j = 0; j < dv; ++j) vt[j * nk + t] = kn[dn + j];
        }
        const int64_t m = n - i0;  // tokens [i0, n)
        k.f32_f32(kb.data(), D, 0, nk, &qh[i0 * D], D, m, &s[i0 * kKeyBlock], kKeyBlock);
        for (int64_t i = i0; i < n; ++i) {
          float* si = &s[i * kKeyBlock];
          const int64_t valid = std::min(nk, first + i + 1 - t0);  // causal: keys ≤ own position
          float bm = mx[i];
          for (int64_t t = 0; t < valid; ++t) bm = std::max(bm, si[t]);
          const float corr = std::exp(mx[i] - bm);  // 0 for the first block (mx = -inf)
          float add = 0.f;
          for (int64_t t = 0; t < valid; ++t) { si[t] = std::exp(si[t] - bm); add += si[t]; }
          std::fill(si + valid, si + nk, 0.f);
          sum[i] = sum[i] * corr + add;
          mx[i] = bm;
          for (int j = 0; j < dv; ++j) o[i * dv + j] *= corr;
        }
        k.f32_f32(vt.data(), nk, 0, dv, &s[i0 * kKeyBlock], kKeyBlock, m, &pv[i0 * dv], dv);
        for (int64_t i = i0 * dv; i < n * dv; ++i) o[i] += pv[i];
      }
      for (int64_t i = 0; i < n; ++i) {
        const float inv = 1.f / sum[i];
        float* oi = out + i * int64_t(H) * dv + h * dv;
        for (int j = 0; j < dv; ++j) oi[j] = o[i * dv + j] * inv;
      }
    }
  };
  // Tiny problems run inline: a parallel dispatch costs more than it saves.
  const int64_t macs = n * a.n_ctx * H * (D + dv);
  if (ctx.pool && macs >= (int64_t(1) << 18)) ctx.pool->parallel_for(H, 1, work);
  else work(0, H, 0);
}

}  // namespace kk
