// weights.h — the loaded model: what the loader produces and the forward consumes.
// Matrices are [out, in] row-major (HF Linear layout). Norm weights and the router bias are F32.
// Routed experts are stacked per layer into one [E, out, in] tensor per projection, already in the
// engine's kernel layout (block_q4 rows, or as stored — BF16/F16/F32, or F8_E4M3 — when requantize
// is off). Stacked F8_E4M3 experts carry E consecutive [ceil(out/128)][ceil(in/128)] scale grids
// in fp8_scale_inv. Non-expert matrices are zero-copy views into the mapping where aligned (owner
// null), F8_E4M3 with fp8_scale_inv for block-FP8 checkpoints, or Q4 if the checkpoint quantized them.
#pragma once
#include <memory>
#include <vector>
#include "core/tensor.h"
#include "model/config.h"

namespace kk {

struct AttentionWeights {
  Tensor q_a_proj, q_a_norm, q_b_proj;  // q_lora_rank > 0
  Tensor q_proj;                         // q_lora_rank == 0
  Tensor kv_a_proj_with_mqa;             // [kv_lora_rank + rope, hidden]
  Tensor kv_a_norm;                      // [kv_lora_rank]
  Tensor kv_b_proj;                      // [heads * (nope + v), kv_lora_rank]
  Tensor o_proj;                         // [hidden, heads * v]
};

struct MlpWeights { Tensor gate_proj, up_proj, down_proj; };

struct MoeWeights {
  Tensor router;        // mlp.gate.weight [E, hidden]
  Tensor router_bias;   // mlp.gate.e_score_correction_bias [E] F32 (may be empty)
  Tensor gate_exps;     // [E, moe_inter, hidden]
  Tensor up_exps;       // [E, moe_inter, hidden]
  Tensor down_exps;     // [E, hidden, moe_inter]
  MlpWeights shared;    // width moe_inter * n_shared (empty if n_shared == 0)
};

struct LayerWeights {
  Tensor input_layernorm, post_attention_layernorm;
  AttentionWeights attn;
  bool is_moe = false;
  MlpWeights mlp;       // dense layers
  MoeWeights moe;       // MoE layers
};

struct ModelWeights {
  ModelConfig config;
  Tensor embed_tokens;  // [vocab, hidden]
  std::vector<LayerWeights> layers;
  Tensor norm;          // [hidden]
  Tensor lm_head;       // [vocab, hidden] (aliases embed_tokens when tied)
  std::vector<std::shared_ptr<void>> mappings;  // keeps memory-mapped shards alive
};

struct LoaderOptions {
  bool requantize = true;  // routed experts that are not INT4 -> INT4 (group 32, symmetric)
  // Non-empty: routed INT4 experts are repacked to block_q4x16 by the loader, written once under
  // this folder (loader/layout_cache.h) and mapped read-only from it on later loads. Set only
  // when the engine computes on block_q4x16 (it would repack them itself anyway).
  std::string layout_cache_dir;
  int threads = 0;  // for the repack (0: all hardware threads)
};

}  // namespace kk
