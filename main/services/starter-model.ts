// starter-model.ts — the real model a new user is pointed to from the demo: Kimi K2 Thinking.
// Its size is worked out from its published config.json (bundled in assets/catalog, so this
// works offline and before any download) with the architecture's arithmetic: bf16 everywhere
// except the routed experts, which are INT4 in groups with one bf16 scale each — the layout of
// the checkpoint as Moonshot publishes it. The memory plan is the model panel's, for this machine.
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StarterModel } from '../../common/contract.ts';
import { REPO_ROOT } from '../paths.ts';
import { hubCacheDir } from '../models/hf-cache.ts';
import { kvBytesPerToken, memoryPlan, resolveContext } from './model-inspect.ts';

export const STARTER_REPO = 'moonshotai/Kimi-K2-Thinking';
export const STARTER_CONFIG = join(REPO_ROOT, 'assets', 'catalog', 'kimi-k2-thinking.config.json');
/** Bytes of one unquantised (bf16) parameter. */
const BF16_BYTES = 2;
/** Bytes of one INT4 parameter, before its group scale. */
const INT4_BYTES = 0.5;

type Config = Record<string, unknown>;
const num = (c: Config, k: string): number => {
  const v = c[k];
  if (typeof v !== 'number') throw new Error(`config.json has no number '${k}'`);
  return v;
};

export interface WeightCount { params: number; routedExpertParams: number; bytes: number }

/** Parameters and checkpoint bytes of a DeepSeek-V3 / Kimi K2 config with INT4 routed experts. */
export function countWeights(cfg: Config): WeightCount {
  const h = num(cfg, 'hidden_size');
  const vocab = num(cfg, 'vocab_size');
  const layers = num(cfg, 'num_hidden_layers');
  const heads = num(cfg, 'num_attention_heads');
  const qLora = num(cfg, 'q_lora_rank');
  const kvLora = num(cfg, 'kv_lora_rank');
  const nope = num(cfg, 'qk_nope_head_dim');
  const rope = num(cfg, 'qk_rope_head_dim');
  const vDim = num(cfg, 'v_head_dim');
  const dense = Math.min(num(cfg, 'first_k_dense_replace'), layers);
  const experts = num(cfg, 'n_routed_experts');
  const moeInter = num(cfg, 'moe_intermediate_size');
  // MLA: q down/up (with its norm), kv down (latent + rope key) and up, output; two RMS norms.
  const attention = h * qLora + qLora + qLora * heads * (nope + rope) + h * (kvLora + rope) + kvLora
    + kvLora * heads * (nope + vDim) + heads * vDim * h + 2 * h;
  const denseMlp = 3 * h * num(cfg, 'intermediate_size');
  const shared = num(cfg, 'n_shared_experts') * 3 * h * moeInter;
  const router = h * experts + experts;   // gate weight + its correction bias
  const routed = experts * 3 * h * moeInter;
  const moeLayers = layers - dense;
  const plain = 2 * vocab * h + h + layers * attention + dense * denseMlp + moeLayers * (shared + router);
  const routedAll = moeLayers * routed;
  const q = cfg.quantization_config as { config_groups?: Record<string, { weights?: { group_size?: number } }> } | undefined;
  const group = q?.config_groups ? Object.values(q.config_groups)[0]?.weights?.group_size ?? 0 : 0;
  const routedBytesPerParam = group > 0 ? INT4_BYTES + BF16_BYTES / group : BF16_BYTES;
  return { params: plain + routedAll, routedExpertParams: routedAll, bytes: plain * BF16_BYTES + routedAll * routedBytesPerParam };
}

/** Free bytes on the file system that holds dir (or its nearest existing parent). */
export function diskFree(dir: string): number | null {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  try { const s = statfsSync(d); return s.bavail * s.bsize; } catch { return null; }
}

export function starterModel(contextLength: number | null): StarterModel {
  const cfg = JSON.parse(readFileSync(STARTER_CONFIG, 'utf8')) as Config;
  const w = countWeights(cfg);
  const modelsDir = hubCacheDir();   // where `karakoram pull` puts it (the Hugging Face hub cache)
  const ctx = resolveContext(cfg, w.bytes, contextLength);
  return {
    repo: STARTER_REPO, label: 'Kimi K2 Thinking', params: w.params, downloadBytes: w.bytes,
    pullCommand: `karakoram pull ${STARTER_REPO}`, modelsDir, diskFreeBytes: diskFree(modelsDir),
    plan: memoryPlan(w.bytes, kvBytesPerToken(cfg), ctx),
  };
}
