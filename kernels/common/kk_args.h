// kk_args.h — kernel argument structs shared by the CPU, CUDA and Metal backends.
// A struct here is the whole contract of a kernel launch; backends never add hidden fields.
#ifndef KK_ARGS_H
#define KK_ARGS_H
#include "kk_blocks.h"
#include "kk_kv.h"

// y[t][r] = Σ_c W[r][c] · x[t][c]   for t < n_tokens, r < rows, c < cols
typedef struct {
  int rows;       // output features
  int cols;       // input features (multiple of KK_Q4_GROUP for q4 weights)
  int n_tokens;   // batch (1 = GEMV)
} kk_matmul_args;
KK_STATIC_ASSERT(sizeof(kk_matmul_args) == 12, "kk_matmul_args layout");

// MLA decode attention over the latent cache for one sequence and one layer (absorbed form):
//   score[h][t] = (q_lat[h]·c_kv[t] + q_pe[h]·k_pe[t]) * scale ;  o_lat[h] = Σ_t softmax(score)[h][t] · c_kv[t]
// The cache is read through the sequence's block table (kk_kv.h): row t of this layer is at
//   layer_base + block_table[t / block_tokens] · block_stride + (t % block_tokens) · row_bytes
// with rows of kv_dtype (row_bytes = KK_KV_ROW_BYTES(kv_dtype, kv_lora_rank + rope_dim)); the
// base (the pool's block 0 plus the layer's offset) and the table are the launch's pointers.
typedef struct {
  int n_heads;
  int kv_lora_rank;  // 512 in K2
  int rope_dim;      // 64 in K2
  int n_ctx;         // tokens in the cache, current one included
  float scale;       // qk_head_dim^-0.5 · mscale²
  int block_tokens;  // rows per block (64 in the engine's pool)
  int block_stride;  // bytes between consecutive blocks of the pool
  int kv_dtype;      // KK_KV_F32 | KK_KV_BF16 | KK_KV_FP8
  int row_bytes;     // bytes per row
} kk_mla_decode_args;
KK_STATIC_ASSERT(sizeof(kk_mla_decode_args) == 36, "kk_mla_decode_args layout");

// ---- GPU-side op arguments (CUDA backend; the CPU ops take the same fields as parameters) ----

// y[t][i] = x[t][i] / sqrt(mean_i(x[t]²) + eps) · w[i]
typedef struct {
  int n_rows;
  int dim;
  float eps;
} kk_rmsnorm_args;
KK_STATIC_ASSERT(sizeof(kk_rmsnorm_args) == 12, "kk_rmsnorm_args layout");

// Rotary embedding in place on x[t * row_stride + h * head_stride + offset + i], i < dim, for
// t < n_tokens, h < n_heads, at position pos[t]. Input pairs are interleaved (x[2i], x[2i+1]); the
// output is de-interleaved and rotated (HF DeepseekV3, rope_interleave):
//   x[i] = a·cos − b·sin,  x[i + dim/2] = b·cos + a·sin,  angle = pos·inv_freq[i] (float32),
//   cos/sin multiplied by attention_factor (YaRN). inv_freq [dim/2] holds the YaRN frequencies.
typedef struct {
  int n_tokens;
  int n_heads;
  int dim;          // even, <= KK_ROPE_MAX_DIM
  int row_stride;   // floats between tokens
  int head_stride;  // floats between heads
  int offset;       // first rope float within a head
  float attention_factor;
} kk_rope_args;
KK_STATIC_ASSERT(sizeof(kk_rope_args) == 28, "kk_rope_args layout");
#define KK_ROPE_MAX_DIM 256

// Routed experts of one MoE layer over stacked INT4 weights resident in GPU "slots":
//   gate/up [n_slots][inter][hidden], down [n_slots][hidden][inter] (block_q4 rows);
//   slot_of[e] = slot of expert e on the GPU, or -1 when it lives elsewhere (then skipped).
//   y[t] (=|+=) Σ_k w[t,k] · down_e(silu(gate_e x[t]) ⊙ up_e x[t])  over resident e = ids[t,k].
typedef struct {
  int n_tokens;
  int top_k;
  int hidden;       // multiple of KK_Q4_GROUP
  int inter;        // multiple of KK_Q4_GROUP
  int n_experts;    // routed experts of the model (ids are in [0, n_experts))
  int accumulate;   // 0: y = result, 1: y += result
} kk_moe_args;
KK_STATIC_ASSERT(sizeof(kk_moe_args) == 24, "kk_moe_args layout");

// DeepSeek-V3 / K2 router on precomputed logits [n_tokens][n_experts] (see model/router.h):
// sigmoid, correction bias for choice only, group limit (dropped groups' choices set to 0 as in
// HF), top-k, ids sorted ascending, weights normalised (norm_topk_prob) and scaled.
typedef struct {
  int n_tokens;
  int n_experts;    // <= KK_ROUTER_MAX_EXPERTS
  int top_k;        // <= KK_ROUTER_MAX_TOPK
  int n_group;
  int topk_group;
  int norm_topk_prob;
  float routed_scaling_factor;
} kk_router_args;
KK_STATIC_ASSERT(sizeof(kk_router_args) == 28, "kk_router_args layout");
#define KK_ROUTER_MAX_EXPERTS 1024
#define KK_ROUTER_MAX_TOPK 32

// Argmax (temperature <= 0) or a draw from softmax(logits / temperature) with a given uniform
// u[row] in [0, 1): the smallest index whose cumulative probability exceeds u.
typedef struct {
  int n_rows;
  int vocab;
  float temperature;
} kk_sample_args;
KK_STATIC_ASSERT(sizeof(kk_sample_args) == 12, "kk_sample_args layout");

#endif // KK_ARGS_H
