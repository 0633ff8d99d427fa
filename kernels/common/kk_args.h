// kk_args.h — kernel argument structs shared by the CPU, CUDA and Metal backends.
// A struct here is the whole contract of a kernel launch; backends never add hidden fields.
#ifndef KK_ARGS_H
#define KK_ARGS_H
#include "kk_blocks.h"

// y[t][r] = Σ_c W[r][c] · x[t][c]   for t < n_tokens, r < rows, c < cols
typedef struct {
  int rows;       // output features
  int cols;       // input features (multiple of KK_Q4_GROUP for q4 weights)
  int n_tokens;   // batch (1 = GEMV)
} kk_matmul_args;
KK_STATIC_ASSERT(sizeof(kk_matmul_args) == 12, "kk_matmul_args layout");

// MLA decode attention over the latent cache for one sequence and one layer (absorbed form):
//   score[h][t] = (q_lat[h]·c_kv[t] + q_pe[h]·k_pe[t]) * scale ;  o_lat[h] = Σ_t softmax(score)[h][t] · c_kv[t]
typedef struct {
  int n_heads;
  int kv_lora_rank;  // 512 in K2
  int rope_dim;      // 64 in K2
  int n_ctx;         // tokens in the cache, current one included
  float scale;       // qk_head_dim^-0.5 · mscale²
} kk_mla_decode_args;
KK_STATIC_ASSERT(sizeof(kk_mla_decode_args) == 20, "kk_mla_decode_args layout");

#endif // KK_ARGS_H
