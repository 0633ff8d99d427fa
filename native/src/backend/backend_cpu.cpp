// backend_cpu.cpp — the CPU backend: every op, every weight type; the reference for all others.
#include "backend/backend.h"

namespace kk {

void cpu_head_matmul(const OpContext& ctx, const Tensor& W, const HeadMatmulArgs& a, const float* x,
                     float* y);
void cpu_mla_prefill_attention(const OpContext& ctx, const MlaPrefillArgs& a, const float* q,
                               const float* kv, const KvPages& cache, float* out);

namespace {
bool cpu_supports(Op, DType) { return true; }
void cpu_matmul(const OpContext& ctx, const Tensor& W, const float* x, int64_t n, float* y) {
  cpu::matmul(ctx, W, x, n, y);
}
void cpu_moe(const OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& down,
             const float* x, int64_t n, int top_k, const int32_t* ids, const float* weights,
             float* y, const uint8_t* mask) {
  cpu::moe(ctx, gate, up, down, x, n, top_k, ids, weights, y, mask);
}
void cpu_rmsnorm(const OpContext&, const float* x, const float* w, int64_t n, int64_t d, float eps,
                 float* y) {
  cpu::rmsnorm(x, w, n, d, eps, y);
}
void cpu_mla_decode(const OpContext& ctx, const float* q_lat, const float* q_pe, const KvPages& cache,
                    int64_t n_ctx, int n_heads, int R, int P, float scale, float* out_lat) {
  cpu::mla_decode_attention(ctx, q_lat, q_pe, cache, n_ctx, n_heads, R, P, scale, out_lat);
}
}  // namespace

const char* op_name(Op op) {
  switch (op) {
    case Op::MatMul: return "matmul";
    case Op::HeadMatmul: return "head_matmul";
    case Op::Moe: return "moe";
    case Op::RmsNorm: return "rmsnorm";
    case Op::MlaDecodeAttention: return "mla_decode_attention";
    case Op::MlaPrefillAttention: return "mla_prefill_attention";
    default: return "?";
  }
}

const Backend& backend_cpu() {
  static const Backend b = {"cpu", cpu_supports, cpu_matmul, cpu_head_matmul, cpu_moe, cpu_rmsnorm, cpu_mla_decode,
                            cpu_mla_prefill_attention};
  return b;
}

}  // namespace kk
