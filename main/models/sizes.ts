// sizes.ts — the bytes of a K2-family (DeepSeek-V3 / MLA) model computed from its config's
// dimensions and quantization, with no weights at hand. Used by the fit plan before a download.
// Storage per parameter follows the checkpoint formats (../shared/specs/kimi-format-facts.md):
//   INT4 pack-quantized (compressed-tensors): 4 bits + one bf16 scale per group of 32;
//   block-FP8: 1 byte + one fp32 scale_inv per 128×128 block; bf16: 2 bytes.
import { kvRowBytes, type KvDtype } from '../../common/kv-cache.ts';
import { num, textModelConfig, type Config } from './config.ts';
const BF16 = 2;
const FP8_BLOCK = 128;
const FP32 = 4;

export type WeightFormat = 'int4' | 'fp8' | 'bf16';

export interface ModelSizes {
  format: WeightFormat;            // how the routed experts are stored in the checkpoint
  layers: number;
  moeLayers: number;
  nExperts: number;                // routed experts per MoE layer
  topK: number;
  expertBytes: number;             // ONE routed expert (gate + up + down) as the engine holds it
  nonExpertBytes: number;          // everything else, as the engine holds it
  embedRowBytes: number;           // one embedding row (all a decode step reads of the table)
  embedBytes: number;
  checkpointBytes: number;         // what the download weighs
  engineBytes: number;             // what the engine holds after load (FP8 experts become INT4)
  kvBytesPerToken: number;
  params: number;
  activeParams: number;
}

function int4Bytes(params: number, group: number): number { return params / 2 + (params / group) * BF16; }
function fp8Bytes(rows: number, cols: number): number {
  return rows * cols + Math.ceil(rows / FP8_BLOCK) * Math.ceil(cols / FP8_BLOCK) * FP32;
}

export function int4GroupSize(quant: Config | undefined): number {
  const groups = quant?.config_groups as Record<string, { weights?: { group_size?: number } }> | undefined;
  return (groups && Object.values(groups)[0]?.weights?.group_size) || 32;
}

export function weightFormat(quant: Config | undefined): WeightFormat {
  if (!quant) return 'bf16';
  if (quant.quant_method === 'compressed-tensors') return 'int4';
  if (quant.quant_method === 'fp8') return 'fp8';
  throw new Error(`unsupported quantization '${String(quant.quant_method)}' (expected compressed-tensors INT4, block-FP8 or none)`);
}

/** Bytes one cached token takes in `dtype` as the engine stores it (common/kv-cache.ts; the loaded
 *  engine's ModelInfo.kvBytesPerToken is authoritative). */
export function kvBytesPerTokenOf(text: Config, dtype: KvDtype = 'fp32'): number {
  // MLA caches the normalised latent and the rotated rope key, per layer.
  return num(text, 'num_hidden_layers') * kvRowBytes(dtype, num(text, 'kv_lora_rank') + num(text, 'qk_rope_head_dim'));
}

/** Sizes of the model a config.json describes (top-level or nested under text_config). */
export function sizesFromConfig(cfg: Config, kvDtype: KvDtype = 'fp32'): ModelSizes {
  const { text, quant } = textModelConfig(cfg);
  const H = num(text, 'hidden_size'), L = num(text, 'num_hidden_layers'), V = num(text, 'vocab_size');
  const heads = num(text, 'num_attention_heads');
  if (!H || !L || !V || !heads) throw new Error('config lacks hidden_size / num_hidden_layers / vocab_size / num_attention_heads');
  const qLora = num(text, 'q_lora_rank'), kvLora = num(text, 'kv_lora_rank'), rope = num(text, 'qk_rope_head_dim');
  const nope = num(text, 'qk_nope_head_dim'), vDim = num(text, 'v_head_dim');
  const dense = Math.min(num(text, 'first_k_dense_replace'), L);
  const E = num(text, 'n_routed_experts'), topK = num(text, 'num_experts_per_tok');
  const moeI = num(text, 'moe_intermediate_size'), denseI = num(text, 'intermediate_size');
  const shared = num(text, 'n_shared_experts');
  const format = weightFormat(quant);
  const group = int4GroupSize(quant);
  const moeLayers = E ? L - dense : 0;

  // A linear layer [rows, cols] as stored in the checkpoint: INT4 keeps everything but experts in
  // bf16 (its `ignore` list); block-FP8 quantizes every Linear; bf16 is bf16.
  const ckptLinear = (rows: number, cols: number): number => (format === 'fp8' ? fp8Bytes(rows, cols) : rows * cols * BF16);
  const attnShapes: Array<[number, number]> = [
    ...(qLora ? [[qLora, H], [heads * (nope + rope), qLora]] as Array<[number, number]> : [[heads * (nope + rope), H]] as Array<[number, number]>),
    [kvLora + rope, H], [heads * (nope + vDim), kvLora], [H, heads * vDim],
  ];
  const attnParams = attnShapes.reduce((a, [r, c]) => a + r * c, 0);
  const normParams = 2 * H + (qLora || 0) + kvLora;
  const mlp = (inter: number): Array<[number, number]> => [[inter, H], [inter, H], [H, inter]];
  const sharedShapes = shared ? mlp(moeI * shared) : [];
  const routerParams = E * H;

  const sumLinear = (shapes: Array<[number, number]>, f: (r: number, c: number) => number) => shapes.reduce((a, [r, c]) => a + f(r, c), 0);
  const perLayerCkpt = (moe: boolean, f: (r: number, c: number) => number) =>
    sumLinear(attnShapes, f) + normParams * BF16 + (moe ? sumLinear(sharedShapes, f) + routerParams * BF16 + E * FP32 : sumLinear(mlp(denseI), f));
  const embedBytes = V * H * BF16;
  const headBytes = text.tie_word_embeddings ? 0 : V * H * BF16;
  const outer = embedBytes + headBytes + H * BF16;
  // The engine dequantizes FP8 non-experts to bf16 and converts FP8 experts to INT4 at load (kk_convert does it once).
  const engineLinear = (r: number, c: number) => r * c * BF16;
  const nonExpertCkpt = outer + dense * perLayerCkpt(false, ckptLinear) + moeLayers * perLayerCkpt(true, ckptLinear);
  const nonExpertEngine = outer + dense * perLayerCkpt(false, engineLinear) + moeLayers * perLayerCkpt(true, engineLinear);
  const expertParams = 3 * H * moeI;
  const expertCkpt = format === 'int4' ? int4Bytes(expertParams, group)
    : format === 'fp8' ? sumLinear(mlp(moeI), fp8Bytes) : expertParams * BF16;
  const expertEngine = int4Bytes(expertParams, format === 'int4' ? group : 32);

  const params = V * H * (headBytes ? 2 : 1) + H + dense * (attnParams + normParams + 3 * H * denseI)
    + moeLayers * (attnParams + normParams + 3 * H * moeI * shared + routerParams + E * expertParams);
  return {
    format, layers: L, moeLayers, nExperts: E, topK,
    expertBytes: expertEngine, nonExpertBytes: nonExpertEngine, embedRowBytes: H * BF16, embedBytes,
    checkpointBytes: nonExpertCkpt + moeLayers * E * expertCkpt,
    engineBytes: nonExpertEngine + moeLayers * E * expertEngine,
    kvBytesPerToken: kvBytesPerTokenOf(text, kvDtype),
    params, activeParams: params - moeLayers * (E - topK) * expertParams,
  };
}
