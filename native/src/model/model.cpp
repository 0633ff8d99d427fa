// model.cpp — the K2 forward: embedding, layers (norm → MLA → residual → norm → MLP/MoE →
// residual), final norm, lm_head. Shapes: n tokens, D = hidden, V = vocab, L = layers.
#include "model/model.h"
#include <cstring>
#include "model/dequant.h"

namespace kk {
namespace {

Tensor make_tensor(const std::string& name, DType t, std::vector<int64_t> shape) {
  Tensor x;
  x.name = name;
  x.type = t;
  x.shape = std::move(shape);
  std::shared_ptr<uint8_t> buf(new uint8_t[x.nbytes()], std::default_delete<uint8_t[]>());
  x.data = buf.get();
  x.owner = buf;
  return x;
}

void add_into(float* x, const float* y, int64_t n) { for (int64_t i = 0; i < n; ++i) x[i] += y[i]; }

}  // namespace

Status Model::init(ModelWeights&& w) {
  w_ = std::move(w);
  const ModelConfig& c = w_.config;
  rope_ = Rope::from_config(c);
  const int H = c.num_attention_heads, dn = c.qk_nope_head_dim, dv = c.v_head_dim, R = c.kv_lora_rank;
  absorbed_.assign(c.num_hidden_layers, {});
  derived_bytes_ = 0;
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const Tensor& kvb = w_.layers[l].attn.kv_b_proj;  // [H*(dn+dv)][R], per head [k_nope | v] rows
    std::vector<float> f(size_t(H) * (dn + dv) * R);
    if (!dequantize_rows(kvb, 0, int64_t(H) * (dn + dv), f.data()))
      return Status::Error("kv_b_proj of layer " + std::to_string(l) + " (" + kvb.name + "): unsupported dtype");
    // Keep bf16 weights bf16 (a transpose is lossless); anything else becomes f32.
    const DType t = kvb.type == DType::BF16 ? DType::BF16 : DType::F32;
    auto put = [&](Tensor& dst, int64_t i, float v) {
      if (t == DType::BF16) static_cast<uint16_t*>(dst.data)[i] = f32_to_bf16(v);
      else static_cast<float*>(dst.data)[i] = v;
    };
    Absorbed& a = absorbed_[l];
    a.uk_t = make_tensor(kvb.name + ".uk_t", t, {H, R, dn});
    a.uv = make_tensor(kvb.name + ".uv", t, {H, dv, R});
    for (int h = 0; h < H; ++h) {
      const float* rows = f.data() + size_t(h) * (dn + dv) * R;
      for (int r = 0; r < R; ++r)
        for (int j = 0; j < dn; ++j) put(a.uk_t, (int64_t(h) * R + r) * dn + j, rows[int64_t(j) * R + r]);
      for (int v = 0; v < dv; ++v)
        for (int r = 0; r < R; ++r) put(a.uv, (int64_t(h) * dv + v) * R + r, rows[int64_t(dn + v) * R + r]);
    }
    derived_bytes_ += a.uk_t.nbytes() + a.uv.nbytes();
  }
  return Status::OK();
}

void Model::embed(const int32_t* ids, int64_t n, float* x) const {
  const int64_t D = w_.config.hidden_size;
  for (int64_t t = 0; t < n; ++t) dequantize_rows(w_.embed_tokens, ids[t], ids[t] + 1, x + t * D);
}

void Model::forward(const OpDispatch& ops, const Batch& b, const ForwardOptions& opt,
                    ForwardResult* out) const {
  const ModelConfig& c = w_.config;
  const int64_t n = b.n_tokens(), D = c.hidden_size, V = c.vocab_size;
  const int L = c.num_hidden_layers;
  const float eps = float(c.rms_norm_eps);
  std::vector<float> x(n * D), h(n * D), y(n * D);  // residual stream, normed input, block output
  {
    ProfileScope p(opt.profile, "embed");
    embed(b.ids, n, x.data());
  }
  out->hidden.clear();
  out->router_topk.clear();
  if (opt.hidden) { out->hidden.assign(L + 2, {}); out->hidden[0] = x; }
  if (opt.router_topk) out->router_topk.assign(L, {});

  for (int l = 0; l < L; ++l) {
    const LayerWeights& lw = w_.layers[l];
    {
      ProfileScope p(opt.profile, "attention");
      ops.rmsnorm(x.data(), static_cast<const float*>(lw.input_layernorm.data), n, D, eps, h.data());
      attention(ops, l, b, h.data(), opt.force_absorbed, y.data(), opt.profile);
      add_into(x.data(), y.data(), n * D);
    }
    {
      ProfileScope p(opt.profile, lw.is_moe ? "moe" : "dense_mlp");
      ops.rmsnorm(x.data(), static_cast<const float*>(lw.post_attention_layernorm.data), n, D, eps, h.data());
      if (lw.is_moe) moe(ops, l, h.data(), n, y.data(), opt.router_topk ? &out->router_topk[l] : nullptr, opt.profile);
      else mlp(ops, lw.mlp, h.data(), n, y.data());
      add_into(x.data(), y.data(), n * D);
    }
    if (opt.hidden) out->hidden[l + 1] = x;
  }

  ProfileScope p(opt.profile, "lm_head");
  ops.rmsnorm(x.data(), static_cast<const float*>(w_.norm.data), n, D, eps, h.data());
  if (opt.hidden) out->hidden[L + 1] = h;
  // Logits for every token, or for the last token of each span.
  std::vector<float> rows;
  const float* src = h.data();
  int64_t m = n;
  if (!opt.all_logits) {
    m = int64_t(b.spans.size());
    rows.resize(m * D);
    int64_t t = 0;
    for (size_t s = 0; s < b.spans.size(); ++s) {
      t += b.spans[s].n;
      std::memcpy(rows.data() + s * D, h.data() + (t - 1) * D, D * sizeof(float));
    }
    src = rows.data();
  }
  out->logits.assign(m * V, 0.f);
  ops.matmul(w_.lm_head, src, m, out->logits.data());
}

}  // namespace kk
