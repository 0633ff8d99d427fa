// ffn.cpp — the feed-forward half of a layer: dense SwiGLU MLP, or the MoE block
// (router → routed experts as one op over stacked experts → + shared experts).
#include <cmath>
#include <vector>
#include "model/model.h"
#include "model/router.h"

namespace kk {

// out [n][D] = down( silu(gate·h) ⊙ up·h ),  gate/up [I][D], down [D][I]
void Model::mlp(const OpDispatch& ops, const MlpWeights& m, const float* h, int64_t n, float* out) const {
  const int64_t I = m.gate_proj.rows();
  std::vector<float> g(n * I), u(n * I);
  ops.matmul(m.gate_proj, h, n, g.data());
  ops.matmul(m.up_proj, h, n, u.data());
  for (int64_t i = 0; i < n * I; ++i) g[i] = g[i] / (1.f + std::exp(-g[i])) * u[i];
  ops.matmul(m.down_proj, g.data(), n, out);
}

// out [n][D] = Σ_k w_k · expert_{id_k}(h) + shared(h); ids/weights from the sigmoid router.
void Model::moe(const OpDispatch& ops, int l, const float* h, int64_t n, float* out,
                std::vector<int32_t>* topk, Profile* profile) const {
  const ModelConfig& c = w_.config;
  const MoeWeights& m = w_.layers[l].moe;
  const int E = c.n_routed_experts, K = c.num_experts_per_tok;
  const int64_t D = c.hidden_size;
  std::vector<int32_t> ids(n * K);
  std::vector<float> w(n * K);
  {
    ProfileScope p(profile, "moe.router");
    std::vector<float> logits(n * E);  // fp32 router logits, x·Wgᵀ
    ops.matmul(m.router, h, n, logits.data());
    const float* bias = m.router_bias.empty() ? nullptr : static_cast<const float*>(m.router_bias.data);
    for (int64_t t = 0; t < n; ++t) route_token(c, logits.data() + t * E, bias, &ids[t * K], &w[t * K]);
  }
  if (topk) *topk = ids;
  {
    ProfileScope p(profile, "moe.experts");
    ops.moe(m.gate_exps, m.up_exps, m.down_exps, h, n, K, ids.data(), w.data(), out);
  }
  ProfileScope p(profile, "moe.shared");
  if (!m.shared.gate_proj.empty()) {
    std::vector<float> s(n * D);
    mlp(ops, m.shared, h, n, s.data());
    for (int64_t i = 0; i < n * D; ++i) out[i] += s[i];
  }
}

}  // namespace kk
