// catalog.ts — the Kimi K2 checkpoints the model library offers, with the config facts needed to
// size and plan them before a download (../shared/specs/kimi-format-facts.md, issue 18). Sizes are
// computed from these dimensions by sizes.ts, never typed in.
import type { Config } from './config.ts';

/** K2-Thinking's text backbone (shared by K2.5 / K2.6): 61 layers, 384 experts top-8, MLA. */
export const K2_DIMENSIONS: Config = {
  hidden_size: 7168, intermediate_size: 18432, moe_intermediate_size: 2048, num_hidden_layers: 61,
  num_attention_heads: 64, num_key_value_heads: 64, n_shared_experts: 1, n_routed_experts: 384,
  num_experts_per_tok: 8, kv_lora_rank: 512, q_lora_rank: 1536, qk_rope_head_dim: 64, v_head_dim: 128,
  qk_nope_head_dim: 128, first_k_dense_replace: 1, vocab_size: 163840, tie_word_embeddings: false,
  max_position_embeddings: 262144, rms_norm_eps: 1e-6,
};

const INT4_EXPERTS: Config = {
  quant_method: 'compressed-tensors', format: 'pack-quantized',
  config_groups: { group_0: { targets: ['Linear'], weights: { num_bits: 4, group_size: 32, type: 'int', symmetric: true, strategy: 'group' } } },
};
const BLOCK_FP8: Config = { quant_method: 'fp8', fmt: 'e4m3', activation_scheme: 'dynamic', weight_block_size: [128, 128] };

export interface CatalogEntry {
  repo: string;
  name: string;
  summary: string;
  config: Config;                 // enough of config.json to size and plan the model
  convertAfterDownload: boolean;  // FP8 only: offer kk_convert to INT4 once downloaded
  imagesSupported: boolean;
}

function k25(name: string, repo: string, summary: string): CatalogEntry {
  return {
    repo, name, summary, convertAfterDownload: false, imagesSupported: false,
    config: {
      architectures: ['KimiK25ForConditionalGeneration'], model_type: 'kimi_k25', media_placeholder_token_id: 163605,
      quantization_config: INT4_EXPERTS,
      text_config: { ...K2_DIMENSIONS, model_type: 'kimi_k2', rms_norm_eps: 1e-5, rope_scaling: { type: 'yarn', factor: 64, original_max_position_embeddings: 4096, beta_fast: 32, beta_slow: 1 } },
    },
  };
}

export const CATALOG: CatalogEntry[] = [
  k25('Kimi K2.6', 'moonshotai/Kimi-K2.6', 'April 2026; K2-Thinking backbone inside a multimodal checkpoint (text only here; images later)'),
  k25('Kimi K2.5', 'moonshotai/Kimi-K2.5', 'January 2026; K2-Thinking backbone inside a multimodal checkpoint (text only here; images later)'),
  {
    repo: 'moonshotai/Kimi-K2-Thinking', name: 'Kimi K2 Thinking', summary: 'Reasoning model, native INT4 experts',
    convertAfterDownload: false, imagesSupported: false,
    config: { architectures: ['DeepseekV3ForCausalLM'], model_type: 'kimi_k2', ...K2_DIMENSIONS, quantization_config: INT4_EXPERTS },
  },
  {
    repo: 'moonshotai/Kimi-K2-Instruct-0905', name: 'Kimi K2 Instruct 0905', summary: 'Instruct model, block-FP8: convert to INT4 after download',
    convertAfterDownload: true, imagesSupported: false,
    config: { architectures: ['DeepseekV3ForCausalLM'], model_type: 'kimi_k2', ...K2_DIMENSIONS, quantization_config: BLOCK_FP8 },
  },
];

export function catalogEntry(repo: string): CatalogEntry | undefined {
  return CATALOG.find((e) => e.repo.toLowerCase() === repo.toLowerCase());
}
