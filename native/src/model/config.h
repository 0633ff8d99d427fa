// config.h — every knob of a DeepSeek-V3 / Kimi K2 config.json the forward honours.
#pragma once
#include <string>
#include <vector>
#include "core/status.h"

namespace kk {

struct RopeScaling {
  std::string type;                 // "" (none) | "yarn"
  double factor = 1.0;
  int original_max_position_embeddings = 0;
  double beta_fast = 32.0, beta_slow = 1.0;
  double mscale = 1.0, mscale_all_dim = 0.0;
};

struct QuantConfig {
  std::string method;               // "" | "compressed-tensors" | "fp8"
  std::string format;               // "pack-quantized" | ...
  int num_bits = 4, group_size = 32;
  bool symmetric = true;
  std::vector<std::string> ignore;  // module names or "re:<regex>" patterns kept unquantized
  std::vector<int> weight_block_size; // fp8: {128, 128}
};

// The multimodal wrapper a text backbone may ship in (Kimi K2.5 / K2.6): config.json names the
// wrapper at the top level and nests the language model under text_config.
struct WrapperConfig {
  std::string model_type;           // "" (a plain text checkpoint) | "kimi_k25"
  std::string architecture;         // "KimiK25ForConditionalGeneration"
  // Prefix of the language model's tensors ("language_model."); the loader confirms it against
  // the shards, since a text-only extraction of a wrapped checkpoint may drop it.
  std::string tensor_prefix;
  bool wrapped() const { return !model_type.empty(); }
};

struct ModelConfig {
  std::string model_type;           // "kimi_k2" | "deepseek_v3" (the text backbone's)
  std::string architecture;         // "DeepseekV3ForCausalLM"
  WrapperConfig wrapper;            // set for K2.5 / K2.6; the rest of this struct is the text_config
  int vocab_size = 0, hidden_size = 0, intermediate_size = 0, moe_intermediate_size = 0;
  int num_hidden_layers = 0, num_attention_heads = 0;
  int q_lora_rank = 0;              // 0: config had null -> plain q_proj (Moonlight)
  int kv_lora_rank = 0, qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  int n_routed_experts = 0, num_experts_per_tok = 0, n_shared_experts = 0;
  int first_k_dense_replace = 0, n_group = 1, topk_group = 1;
  double routed_scaling_factor = 1.0;
  bool norm_topk_prob = true;
  std::string scoring_func = "sigmoid", topk_method = "noaux_tc";
  double rms_norm_eps = 1e-6, rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int max_position_embeddings = 0;
  bool tie_word_embeddings = false;
  int bos_token_id = -1, eos_token_id = -1;
  QuantConfig quant;

  int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  bool is_moe_layer(int l) const { return n_routed_experts > 0 && l >= first_k_dense_replace; }
};

// Parses config.json text; the error names `path` and the missing or bad field. A multimodal
// wrapper (top-level model_type kimi_k25 or architectures KimiK25ForConditionalGeneration) is read
// for its text backbone: text_config, with quantization_config from text_config or the top level.
Status parse_model_config(const std::string& json_text, const std::string& path, ModelConfig* out);

// The inverse: a config.json (HF key names, K2-Thinking's quantization_config layout) that
// parse_model_config reads back to an equal ModelConfig. It always writes the flat text layout
// (the wrapper is not kept): save_checkpoint writes unprefixed tensor names.
std::string model_config_to_json(const ModelConfig& c);

}  // namespace kk
