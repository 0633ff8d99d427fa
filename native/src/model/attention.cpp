// attention.cpp — Multi-head Latent Attention (DeepSeek-V2/V3, K2).
//   q    = q_b(rmsnorm(q_a(h)))  or q_proj(h)        [n][H][dn | P]
//   kv_a = kv_a_proj_with_mqa(h)                      [n][R | P]
//   cache row = [rmsnorm(kv_a[:R]) | rope(kv_a[R:])] — all a token keeps (R + P floats per layer)
//   naive:    k_nope | v = kv_b · c_kv per head, softmax(q·k) · v
//   absorbed: q_lat = W_UKᵀ q_nope, attention over c_kv directly, o = W_UV · o_lat   (decode)
//   out = o_proj(o)
#include <algorithm>
#include <cstring>
#include <vector>
#include "model/model.h"

namespace kk {
namespace {

// The naive form expands k_nope | v for the whole context (n_ctx × H·(dn+dv) floats, 64 KiB per
// token for K2); past this context length a prefill chunk uses the absorbed form instead.
constexpr int64_t kNaiveMaxContext = 4096;

bool use_naive(const Span& s, bool force_absorbed) {
  return !force_absorbed && s.n > 1 && s.pos0 + s.n <= kNaiveMaxContext;
}

}  // namespace

void Model::attention(const OpDispatch& ops, int l, const Batch& b, const float* h, bool absorbed,
                      float* out, Profile* profile) const {
  const ModelConfig& c = w_.config;
  const AttentionWeights& a = w_.layers[l].attn;
  const int H = c.num_attention_heads, dn = c.qk_nope_head_dim, P = c.qk_rope_head_dim;
  const int dv = c.v_head_dim, R = c.kv_lora_rank;
  const int64_t n = b.n_tokens(), qw = int64_t(H) * (dn + P);
  const float eps = float(c.rms_norm_eps);

  std::vector<float> q(n * qw), kva(n * (R + P));
  if (c.q_lora_rank > 0) {
    std::vector<float> qa(n * c.q_lora_rank);
    ops.matmul(a.q_a_proj, h, n, qa.data());
    ops.rmsnorm(qa.data(), static_cast<const float*>(a.q_a_norm.data), n, c.q_lora_rank, eps, qa.data());
    ops.matmul(a.q_b_proj, qa.data(), n, q.data());
  } else {
    ops.matmul(a.q_proj, h, n, q.data());
  }
  ops.matmul(a.kv_a_proj_with_mqa, h, n, kva.data());

  // Rotate, normalise and append each new token to its sequence's cache.
  // The row is built in fp32 and stored in the cache's precision; attention reads it back from the
  // cache (the new tokens too), so a prefix hit sees exactly what a fresh prefill saw.
  std::vector<float> cos(P / 2), sin(P / 2), row(R + P);
  int64_t t = 0;
  for (const Span& s : b.spans) {
    for (int64_t i = 0; i < s.n; ++i, ++t) {
      const int64_t pos = s.pos0 + i;
      const float* kv = kva.data() + t * (R + P);
      ops.rmsnorm(kv, static_cast<const float*>(a.kv_a_norm.data), 1, R, eps, row.data());
      std::memcpy(row.data() + R, kv + R, P * sizeof(float));
      rope_.cos_sin(pos, cos.data(), sin.data());
      rope_.rotate(row.data() + R, cos.data(), sin.data());
      s.kv.write_row(l, pos, row.data());
      for (int hd = 0; hd < H; ++hd) rope_.rotate(q.data() + t * qw + int64_t(hd) * (dn + P) + dn, cos.data(), sin.data());
    }
  }

  // Spans of several tokens (prefill) use the expanded form; single tokens (decode), long contexts
  // and, when forced, every span go through one batched absorbed pass.
  std::vector<float> o(n * H * dv);
  ProfileScope core(profile, "attention.core");
  t = 0;
  for (const Span& s : b.spans) {
    if (use_naive(s, absorbed)) attend_naive(ops, l, s, q.data() + t * qw, o.data() + t * H * dv);
    t += s.n;
  }
  attend_absorbed(ops, l, b, q.data(), o.data(), absorbed);
  core.stop();
  ops.matmul(a.o_proj, o.data(), n, out);
}

// Naive (expanded) causal attention for one span: k_nope | v for every cached token via kv_b.
void Model::attend_naive(const OpDispatch& ops, int l, const Span& s, const float* q, float* o) const {
  const ModelConfig& c = w_.config;
  const int H = c.num_attention_heads, dn = c.qk_nope_head_dim, P = c.qk_rope_head_dim;
  const int dv = c.v_head_dim, R = c.kv_lora_rank;
  const int64_t n_ctx = s.pos0 + s.n;
  std::vector<const uint8_t*> blocks;
  const KvPages cache = s.kv.layer(l, &blocks);
  std::vector<float> c_kv(n_ctx * R), kv(n_ctx * H * (dn + dv));
  for (int64_t t = 0; t < n_ctx; ++t) cache.read(t, 0, R, &c_kv[t * R]);
  ops.matmul(w_.layers[l].attn.kv_b_proj, c_kv.data(), n_ctx, kv.data());
  MlaPrefillArgs args{H, dn, dv, R, P, s.n, n_ctx, rope_.softmax_scale};
  ops.mla_prefill_attention(args, q, kv.data(), cache, o);
}

}  // namespace kk

namespace kk {

// Absorbed attention for every token of the spans use_naive() leaves (all spans when `all`):
//   q_lat[h] = W_UK[h]ᵀ q_nope[h]  [R];  o_lat[h] = Σ_t softmax(scale·(q_lat·c_kv[t] + q_pe·k_pe[t])) c_kv[t]
//   o[h] = W_UV[h] o_lat[h]  [dv]    — the W_UK / W_UV head matmuls run over all such tokens at once.
void Model::attend_absorbed(const OpDispatch& ops, int l, const Batch& b, const float* q, float* o,
                            bool all) const {
  const ModelConfig& c = w_.config;
  const int H = c.num_attention_heads, dn = c.qk_nope_head_dim, P = c.qk_rope_head_dim;
  const int dv = c.v_head_dim, R = c.kv_lora_rank;
  const int64_t qw = int64_t(H) * (dn + P);
  struct Item { int64_t t; size_t span; int64_t n_ctx; };
  std::vector<Item> items;
  std::vector<std::vector<const uint8_t*>> blocks(b.spans.size());  // per span: layer l's blocks
  std::vector<KvPages> pages(b.spans.size());
  int64_t t = 0;
  for (size_t k = 0; k < b.spans.size(); ++k) {
    const Span& s = b.spans[k];
    if (!use_naive(s, all)) {
      pages[k] = s.kv.layer(l, &blocks[k]);
      for (int64_t i = 0; i < s.n; ++i) items.push_back({t + i, k, s.pos0 + i + 1});
    }
    t += s.n;
  }
  const int64_t m = int64_t(items.size());
  if (m == 0) return;
  const Absorbed& ab = absorbed_[l];
  std::vector<float> qs(m * qw), q_lat(m * H * R), q_pe(m * H * P), o_lat(m * H * R), os(m * H * dv);
  for (int64_t e = 0; e < m; ++e) {
    std::memcpy(&qs[e * qw], q + items[e].t * qw, qw * sizeof(float));
    for (int h = 0; h < H; ++h)
      std::memcpy(&q_pe[(e * H + h) * P], &qs[e * qw + int64_t(h) * (dn + P) + dn], P * sizeof(float));
  }
  ops.head_matmul(ab.uk_t, HeadMatmulArgs{m, qw, dn + P, int64_t(H) * R, R}, qs.data(), q_lat.data());
  for (int64_t e = 0; e < m; ++e)
    ops.mla_decode_attention(&q_lat[e * H * R], &q_pe[e * H * P], pages[items[e].span], items[e].n_ctx, H,
                             R, P, rope_.softmax_scale, &o_lat[e * H * R]);
  ops.head_matmul(ab.uv, HeadMatmulArgs{m, int64_t(H) * R, R, int64_t(H) * dv, dv}, o_lat.data(), os.data());
  for (int64_t e = 0; e < m; ++e)
    std::memcpy(o + items[e].t * H * dv, &os[e * H * dv], H * dv * sizeof(float));
}

}  // namespace kk
