// backend.h — a backend is a table of op functions plus an honest supports(op, weight dtype)
// (ggml-backend style). The model calls ops through an OpDispatch, which picks per op the
// primary backend when it supports the op for that weight type and the CPU backend otherwise, so a
// CUDA or Metal backend can start with a single op and grow.
#pragma once
#include <cstdint>
#include <string>
#include "core/status.h"
#include "core/tensor.h"
#include "cpu/ops.h"

namespace kk {

enum class Op : int { MatMul = 0, HeadMatmul, Moe, RmsNorm, MlaDecodeAttention, MlaPrefillAttention, Count };
const char* op_name(Op op);

// Every op of every backend runs under this context (the CPU backend uses pool/kernels/fast;
// a device backend keeps its streams and buffers behind `device`).
using OpContext = cpu::OpContext;

// Causal MLA attention for `n` new tokens of one sequence, naive (expanded) form:
//   cache rows t < n_ctx hold [c_kv (R) | k_pe (P)] (read through the block table, core/kv_pages.h),
//   the new tokens are rows n_ctx-n .. n_ctx-1;
//   kv [n_ctx][H*(dn+dv)] = kv_b · c_kv (per head [k_nope | v]);
//   q [n][H*(dn+P)] per head [q_nope | q_pe (rotated)];
//   out[i][h*dv..] = Σ_{t ≤ n_ctx-n+i} softmax_t(scale·(q_nope·k_nope[t] + q_pe·k_pe[t])) · v[t]
struct MlaPrefillArgs {
  int n_heads, dn, dv, R, P;
  int64_t n, n_ctx;
  float scale;
};

// One matmul per head over stacked W [H, rows, cols] (MLA's absorbed W_UK / W_UV), heads in parallel:
//   y[t*ldy + h*y_hs + r] = Σ_c W[h][r][c] · x[t*ldx + h*x_hs + c]     t < n, h < H, r < rows
struct HeadMatmulArgs { int64_t n, ldx, x_hs, ldy, y_hs; };

struct Backend {
  const char* name;
  bool (*supports)(Op op, DType weight_type);
  void (*matmul)(const OpContext& ctx, const Tensor& W, const float* x, int64_t n, float* y);
  void (*head_matmul)(const OpContext& ctx, const Tensor& W, const HeadMatmulArgs& a, const float* x,
                      float* y);
  void (*moe)(const OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& down,
              const float* x, int64_t n, int top_k, const int32_t* ids, const float* weights,
              float* y, const uint8_t* expert_mask);
  void (*rmsnorm)(const OpContext& ctx, const float* x, const float* w, int64_t n, int64_t d,
                  float eps, float* y);
  void (*mla_decode_attention)(const OpContext& ctx, const float* q_lat, const float* q_pe,
                               const KvPages& cache, int64_t n_ctx, int n_heads, int R, int P,
                               float scale, float* out_lat);
  void (*mla_prefill_attention)(const OpContext& ctx, const MlaPrefillArgs& a, const float* q,
                                const float* kv, const KvPages& cache, float* out);
};

// The CPU backend: every op, every weight type. Backends by name: backend/registry.h.
const Backend& backend_cpu();

// Per-op choice between the primary backend and the CPU fallback.
class OpDispatch {
 public:
  OpDispatch() = default;
  OpDispatch(const Backend* primary, OpContext ctx) : primary_(primary), ctx_(ctx) {}
  const OpContext& context() const { return ctx_; }
  const Backend& pick(Op op, DType t) const {
    return (primary_ && primary_->supports(op, t)) ? *primary_ : backend_cpu();
  }
  void matmul(const Tensor& W, const float* x, int64_t n, float* y) const {
    pick(Op::MatMul, W.type).matmul(ctx_, W, x, n, y);
  }
  void head_matmul(const Tensor& W, const HeadMatmulArgs& a, const float* x, float* y) const {
    pick(Op::HeadMatmul, W.type).head_matmul(ctx_, W, a, x, y);
  }
  void moe(const Tensor& gate, const Tensor& up, const Tensor& down, const float* x, int64_t n,
           int top_k, const int32_t* ids, const float* weights, float* y) const {
    pick(Op::Moe, gate.type).moe(ctx_, gate, up, down, x, n, top_k, ids, weights, y, nullptr);
  }
  void rmsnorm(const float* x, const float* w, int64_t n, int64_t d, float eps, float* y) const {
    pick(Op::RmsNorm, DType::F32).rmsnorm(ctx_, x, w, n, d, eps, y);
  }
  void mla_decode_attention(const float* q_lat, const float* q_pe, const KvPages& cache,
                            int64_t n_ctx, int n_heads, int R, int P, float scale,
                            float* out_lat) const {
    pick(Op::MlaDecodeAttention, DType::F32)
        .mla_decode_attention(ctx_, q_lat, q_pe, cache, n_ctx, n_heads, R, P, scale, out_lat);
  }
  void mla_prefill_attention(const MlaPrefillArgs& a, const float* q, const float* kv,
                             const KvPages& cache, float* out) const {
    pick(Op::MlaPrefillAttention, DType::F32).mla_prefill_attention(ctx_, a, q, kv, cache, out);
  }

 private:
  const Backend* primary_ = nullptr;
  OpContext ctx_;
};

}  // namespace kk
