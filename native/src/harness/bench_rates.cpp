// bench_rates.cpp — per-op prefill GFLOP/s against the measured compute peak (bench_rates.h).
// Flops count 2 per multiply-add of the op's matrix products (its elementwise work is not
// counted), per prompt token, from the model's dimensions.
#include "harness/bench_rates.h"

#include <cmath>

namespace kk {
namespace {
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }
}  // namespace

nlohmann::ordered_json compute_peak_json(const cpu::ComputePeak& p) {
  nlohmann::ordered_json j;
  j["fma_f32_avx512"] = round3(p.fma_f32_avx512);
  j["fma_f32_avx2"] = round3(p.fma_f32_avx2);
  j["dpbf16_avx512"] = round3(p.dpbf16_avx512);
  j["dpbusd_avx512"] = round3(p.dpbusd_avx512);
  return j;
}

nlohmann::ordered_json prefill_op_rates(const ModelConfig& c, const std::map<std::string, double>& ms_per_token,
                                        int prompt_len, bool fast, const cpu::ComputePeak& peak) {
  const double D = c.hidden_size, H = c.num_attention_heads, dn = c.qk_nope_head_dim, P = c.qk_rope_head_dim;
  const double dv = c.v_head_dim, R = c.kv_lora_rank, Q = c.q_lora_rank;
  int dense_layers = 0, moe_layers = 0;
  for (int l = 0; l < c.num_hidden_layers; ++l) (c.is_moe_layer(l) ? moe_layers : dense_layers) += 1;
  const int layers = c.num_hidden_layers;
  // Attention projections (prefill, naive form: kv_b expands every context row once).
  const double q_proj = Q > 0 ? D * Q + Q * H * (dn + P) : D * H * (dn + P);
  const double proj = 2.0 * layers * (q_proj + D * (R + P) + R * H * (dn + dv) + H * dv * D);
  // Core: scores over dn+P and values over dv, causal: (L+1)/2 keys per token on average.
  const double core = 2.0 * layers * H * (dn + P + dv) * (prompt_len + 1) / 2.0;
  const double mlp = 2.0 * dense_layers * 3.0 * D * c.intermediate_size;
  const double shared = 2.0 * moe_layers * 3.0 * D * c.moe_intermediate_size * c.n_shared_experts;
  const double experts = 2.0 * moe_layers * 3.0 * D * c.moe_intermediate_size * c.num_experts_per_tok;
  auto ms = [&](const char* k) { auto it = ms_per_token.find(k); return it == ms_per_token.end() ? 0.0 : it->second; };
  nlohmann::ordered_json j;
  auto put = [&](const char* name, double flops, double op_ms, double peak_gflops, const char* peak_name) {
    if (op_ms <= 0 || flops <= 0) return;
    const double gflops = flops / (op_ms * 1e-3) / 1e9;
    j[name] = {{"ms_per_token", round3(op_ms)}, {"gflops", round3(gflops)},
               {"peak", peak_name}, {"fraction_of_peak", peak_gflops > 0 ? round3(gflops / peak_gflops) : 0.0}};
  };
  const double fma = peak.fma_f32();
  const char* fma_name = peak.fma_f32_avx512 > 0 ? "fma_f32_avx512" : "fma_f32_avx2";
  put("attention.projections", proj, ms("attention") - ms("attention.core"), fma, fma_name);
  put("attention.core", core, ms("attention.core"), fma, fma_name);
  put("dense_mlp", mlp, ms("dense_mlp"), fma, fma_name);
  put("moe.shared", shared, ms("moe.shared"), fma, fma_name);
  // Fast mode: int8 activation digits on vpdpbusd (two digits: two dot products per product,
  // so its useful peak is half the instruction's); exact: fp32 FMAs on looked-up weights.
  if (fast && peak.dpbusd_avx512 > 0) put("moe.experts", experts, ms("moe.experts"), peak.dpbusd_avx512 / 2, "dpbusd_avx512/2 (two digits)");
  else put("moe.experts", experts, ms("moe.experts"), fma, fma_name);
  return j;
}

}  // namespace kk
