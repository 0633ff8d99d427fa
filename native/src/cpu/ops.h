// ops.h — the CPU backend's ops: threaded, dispatching to the best micro-kernels.
// The model code calls these through the backend table (backend/backend.h), never kernels directly.
#pragma once
#include <cstdint>
#include "core/kv_pages.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "cpu/kernels.h"

namespace kk::cpu {

struct OpContext {
  ThreadPool* pool = nullptr;
  const Kernels* kernels = nullptr;  // null: kernels_best()
  bool fast = false;                 // fast mode: int8 activations for q4 weights
};

// y[n][W.rows] = x[n][W.cols] · Wᵀ for any weight dtype (F32, BF16, F16, Q4, F8_E4M3).
void matmul(const OpContext& ctx, const Tensor& W, const float* x, int64_t n, float* y);

// MoE over stacked experts (mlx-lm SwitchGLU):
//   gate/up: [E, inter, hidden], down: [E, hidden, inter] (Q4 or BF16 or F32 stacked tensors).
//   For token t and slot k < top_k: e = ids[t*top_k+k], w = weights[t*top_k+k]
//   y[t] = Σ_k w · down_e( silu(gate_e x[t]) ⊙ up_e x[t] )      (y is overwritten)
// Tokens routed to the same expert are computed together so its weights are read once.
// `expert_mask` (may be null) selects which experts this call computes (others skipped: hybrid
// placement computes the rest elsewhere).
void moe(const OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& down,
         const float* x, int64_t n, int top_k, const int32_t* ids, const float* weights,
         float* y, const uint8_t* expert_mask = nullptr);

// y[n][d] = x / rms(x) * w    (w: F32 [d])
void rmsnorm(const float* x, const float* w, int64_t n, int64_t d, float eps, float* y);

// MLA decode attention (absorbed form) for one sequence, one layer, all heads:
//   q_lat [H][R], q_pe [H][P], cache rows t < n_ctx: c_kv[t] [R], k_pe[t] [P]  (each row is
//   [c_kv | k_pe]; rows are read through the sequence's block table, core/kv_pages.h)
//   out_lat[h] = Σ_t softmax_t(scale · (q_lat[h]·c_kv[t] + q_pe[h]·k_pe[t])) · c_kv[t]
void mla_decode_attention(const OpContext& ctx, const float* q_lat, const float* q_pe,
                          const KvPages& cache, int64_t n_ctx, int n_heads, int R, int P,
                          float scale, float* out_lat);

}  // namespace kk::cpu
