// cpu_mla_prefill.cpp — causal MLA attention over expanded keys/values (prefill, naive form).
// Threads split the (head, new token) pairs; each pair is one softmax over its causal prefix.
#include <algorithm>
#include <cmath>
#include <vector>
#include "backend/backend.h"

namespace kk {

void cpu_mla_prefill_attention(const OpContext& ctx, const MlaPrefillArgs& a, const float* q,
                               const float* kv, const float* cache, float* out) {
  const int H = a.n_heads, dn = a.dn, dv = a.dv, R = a.R, P = a.P;
  const int64_t q_stride = int64_t(H) * (dn + P), kv_stride = int64_t(H) * (dn + dv);
  const int64_t first = a.n_ctx - a.n;  // position of the first new token
  auto work = [&](int64_t begin, int64_t end, int) {
    std::vector<float> p(a.n_ctx);
    for (int64_t job = begin; job < end; ++job) {
      const int h = int(job % H);
      const int64_t i = job / H;
      const int64_t n_keys = first + i + 1;  // causal: keys 0 .. own position
      const float* qn = q + i * q_stride + int64_t(h) * (dn + P);
      const float* qp = qn + dn;
      float mx = -INFINITY;
      for (int64_t t = 0; t < n_keys; ++t) {
        const float* kn = kv + t * kv_stride + int64_t(h) * (dn + dv);
        const float* kp = cache + t * (R + P) + R;
        float s = 0.f;
        for (int j = 0; j < dn; ++j) s += qn[j] * kn[j];
        for (int j = 0; j < P; ++j) s += qp[j] * kp[j];
        p[t] = s * a.scale;
        mx = std::max(mx, p[t]);
      }
      double sum = 0;
      for (int64_t t = 0; t < n_keys; ++t) { p[t] = std::exp(p[t] - mx); sum += p[t]; }
      const float inv = float(1.0 / sum);
      float* o = out + i * int64_t(H) * dv + int64_t(h) * dv;
      std::fill(o, o + dv, 0.f);
      for (int64_t t = 0; t < n_keys; ++t) {
        const float* v = kv + t * kv_stride + int64_t(h) * (dn + dv) + dn;
        const float w = p[t] * inv;
        for (int j = 0; j < dv; ++j) o[j] += w * v[j];
      }
    }
  };
  const int64_t jobs = a.n * H;
  // Tiny problems run inline: a parallel dispatch costs more than it saves.
  const int64_t macs = a.n * a.n_ctx * H * (dn + P + dv);
  if (ctx.pool && macs >= (int64_t(1) << 18)) ctx.pool->parallel_for(jobs, 1, work);
  else work(0, jobs, 0);
}

}  // namespace kk
