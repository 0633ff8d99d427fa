// kv-cache.ts — the latent KV cache's precisions and what a cached token costs in each, as the
// engine stores it (kernels/common/kk_kv.h, KK_KV_ROW_BYTES; the engine's ModelInfo.kvBytesPerToken
// is authoritative once a model is loaded, and a test holds this to it).
// A row is one token of one layer: kv_lora_rank + rope values [c_kv | k_pe].

export const KV_DTYPES = ['fp32', 'bf16', 'fp8'] as const;
export type KvDtype = (typeof KV_DTYPES)[number];

/** Rows pad to a multiple of 4 bytes (so an fp8 row's fp32 scale stays aligned). */
const ROW_ALIGN = 4;
/** fp8-e4m3 rows start with one fp32 scale. */
const FP8_SCALE_BYTES = 4;

const pad = (n: number) => Math.ceil(n / ROW_ALIGN) * ROW_ALIGN;

/** Bytes of one row of `values` values in `dtype`. */
export function kvRowBytes(dtype: KvDtype, values: number): number {
  if (dtype === 'fp32') return 4 * values;
  if (dtype === 'bf16') return pad(2 * values);
  return FP8_SCALE_BYTES + pad(values);
}

/** What the engine picks when the load options name no precision (engine.cpp kDefaultFastKvDtype:
 *  measured, docs/engine-sessions.md "Cache precision"). Exact mode takes only fp32. */
const FAST_MODE_KV_DTYPE: KvDtype = 'fp32';
export function defaultKvDtype(mode: 'exact' | 'fast'): KvDtype {
  return mode === 'exact' ? 'fp32' : FAST_MODE_KV_DTYPE;
}

export function isKvDtype(v: unknown): v is KvDtype {
  return typeof v === 'string' && (KV_DTYPES as readonly string[]).includes(v);
}
