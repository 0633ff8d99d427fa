// presets.cpp — the "tiny" and "k2" model shapes (model/presets.h).
#include "model/presets.h"

namespace kk {

Status kimi_k2_preset(const std::string& name, ModelConfig* out) {
  ModelConfig c;
  c.model_type = "kimi_k2";
  c.architecture = "DeepseekV3ForCausalLM";
  c.n_group = c.topk_group = 1;
  c.routed_scaling_factor = 2.827;
  c.norm_topk_prob = true;
  c.scoring_func = "sigmoid";
  c.topk_method = "noaux_tc";
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 50000.0;
  c.rope_scaling.type = "yarn";
  c.rope_scaling.original_max_position_embeddings = 4096;
  c.rope_scaling.beta_fast = c.rope_scaling.beta_slow = 1.0;
  c.rope_scaling.mscale = c.rope_scaling.mscale_all_dim = 1.0;
  c.first_k_dense_replace = 1;
  c.n_shared_experts = 1;
  if (name == "tiny") {  // ../shared/fixtures/tiny-k2 dimensions
    c.vocab_size = 2048; c.hidden_size = 256; c.intermediate_size = 384; c.moe_intermediate_size = 64;
    c.num_hidden_layers = 4; c.num_attention_heads = 4; c.q_lora_rank = 128; c.kv_lora_rank = 64;
    c.qk_nope_head_dim = 32; c.qk_rope_head_dim = 16; c.v_head_dim = 32;
    c.n_routed_experts = 16; c.num_experts_per_tok = 4;
    c.rope_scaling.factor = 32.0; c.max_position_embeddings = 131072;
    c.bos_token_id = 1; c.eos_token_id = 2;
  } else if (name == "k2") {  // Kimi-K2-Thinking; the layer count defaults to 2 (1 dense + 1 MoE)
    c.vocab_size = 163840; c.hidden_size = 7168; c.intermediate_size = 18432; c.moe_intermediate_size = 2048;
    c.num_hidden_layers = 2; c.num_attention_heads = 64; c.q_lora_rank = 1536; c.kv_lora_rank = 512;
    c.qk_nope_head_dim = 128; c.qk_rope_head_dim = 64; c.v_head_dim = 128;
    c.n_routed_experts = 384; c.num_experts_per_tok = 8;
    c.rope_scaling.factor = 64.0; c.max_position_embeddings = 262144;
    c.bos_token_id = 163584; c.eos_token_id = 163585;
  } else {
    return Status::Error("unknown preset '" + name + "' (expected tiny or k2)");
  }
  *out = c;
  return Status::OK();
}

}  // namespace kk
