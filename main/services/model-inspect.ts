// model-inspect.ts — what a local K2-family model directory is, read from its config.json and the
// safetensors headers (no weights are read), and a memory plan: what it needs against what this
// machine has. Used by the model panel before loading.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import type { MemoryPlan, ModelInspection } from '../../common/contract.ts';
import { textModelConfig } from '../models/config.ts';
import { fitPlan, GPU_WORKSPACE_BYTES } from '../models/fit.ts';
import { defaultKvDtype } from '../../common/kv-cache.ts';
import { kvBytesPerTokenOf, sizesFromConfig } from '../models/sizes.ts';
import { chooseContext, modelMaxContext, type ContextChoice } from '../models/default-context.ts';

/** Context assumed where no model here is sized by resolveContext: before one is loaded, and the
 *  model library's fit plan for a model not downloaded yet. */
export const DEFAULT_CONTEXT_LENGTH = 8192;
/** The cache precision the app's engine loads with: it runs exact mode (LoadOptions.mode unset). */
const APP_KV_DTYPE = defaultKvDtype('exact');
/** Working memory beyond weights and cache: activations, thread pool, the runtime itself. */
const RUNTIME_OVERHEAD_BYTES = 512 * 1024 * 1024;
/** Largest safetensors header we read (the format caps it at 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** nvidia-smi is asked once and may take a moment on a cold driver. */
const GPU_QUERY_TIMEOUT_MS = 3000;

type Config = Record<string, unknown>;
const num = (c: Config, k: string, d = 0): number => (typeof c[k] === 'number' ? (c[k] as number) : d);

export function readConfig(dir: string): Config {
  const p = join(dir, 'config.json');
  if (!existsSync(p)) throw new Error(`${dir} is not a model directory: config.json is missing`);
  try { return JSON.parse(readFileSync(p, 'utf8')) as Config; } catch (e) { throw new Error(`${p}: ${(e as Error).message}`); }
}

/** What the model panel says about a wrapped checkpoint Karakoram runs only the text of. */
export const TEXT_ONLY_NOTE = 'Images are not supported yet: Karakoram runs the text backbone only (the vision tower and projector are not loaded).';
/** K2.5 / K2.6 tensors outside the text backbone. */
const MULTIMODAL_PREFIXES = ['vision_tower.', 'mm_projector.'];

/** Which K2 family member a config is, and what Karakoram cannot do with it. K2.5 and K2.6 share
 *  the wrapper and the text shapes: only the folder name tells them apart. */
export function modelFamily(dir: string, top: Config): { family: string; limitations: string[] } {
  const t = textModelConfig(top);
  if (t.multimodal) {
    const name = basename(dir);
    const family = /k2[._-]?6/i.test(name) ? 'Kimi K2.6' : /k2[._-]?5/i.test(name) ? 'Kimi K2.5' : 'Kimi K2.5 / K2.6';
    return { family, limitations: [TEXT_ONLY_NOTE] };
  }
  const q = t.quant?.quant_method;
  if (t.text.model_type === 'kimi_k2') {
    const layout = q === 'fp8' ? ' (K2-Instruct layout, block-FP8)' : q === 'compressed-tensors' ? ' (K2-Thinking layout, INT4 experts)' : '';
    return { family: `Kimi K2${layout}`, limitations: [] };
  }
  if (t.text.model_type === 'deepseek_v3') return { family: 'DeepSeek-V3 architecture', limitations: [] };
  return { family: t.modelType, limitations: [] };
}

/** Elements per stored element: INT4 pack-quantized weights hold 8 values per int32. */
function logicalElements(name: string, dtype: string, shape: number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (name.endsWith('.weight_packed') && dtype === 'I32') return n * 8;
  if (name.endsWith('.weight_scale') || name.endsWith('.weight_shape') || name.endsWith('.weight_scale_inv')) return 0;
  return n;
}

interface TensorCount { total: number; routedExperts: number; bytes: number }

function countShard(path: string, acc: TensorCount): void {
  const fd = openSync(path, 'r');
  try {
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const len = Number(lenBuf.readBigUInt64LE(0));
    if (len <= 0 || len > MAX_HEADER_BYTES) throw new Error(`${path}: bad safetensors header length ${len}`);
    const hdr = Buffer.alloc(len);
    readSync(fd, hdr, 0, len, 8);
    const meta = JSON.parse(hdr.toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets?: [number, number] }>;
    for (const [name, t] of Object.entries(meta)) {
      if (name === '__metadata__') continue;
      if (MULTIMODAL_PREFIXES.some((p) => name.startsWith(p))) {
        // Never loaded (text backbone only): neither counted nor planned for.
        if (t.data_offsets) acc.bytes -= t.data_offsets[1] - t.data_offsets[0];
        continue;
      }
      const n = logicalElements(name, t.dtype, t.shape);
      acc.total += n;
      if (/\.mlp\.experts\.\d+\./.test(name)) acc.routedExperts += n;
    }
  } finally { closeSync(fd); }
  acc.bytes += statSync(path).size;
}

/**
 * The model's weight shards: those the index's weight_map names (a checkpoint folder may hold
 * other safetensors, e.g. tiny-k2's reference.safetensors of expected activations), else the
 * model*.safetensors files.
 */
function shards(dir: string): string[] {
  const index = join(dir, 'model.safetensors.index.json');
  let files: string[] = [];
  if (existsSync(index)) {
    try {
      const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
      files = [...new Set(Object.values(map))].sort();
      const missing = files.find((f) => !existsSync(join(dir, f)));
      if (missing) throw new Error(`shard ${missing} is missing (the download is not complete)`);
    } catch (e) { throw new Error(`${index}: ${(e as Error).message}`); }
  }
  if (!files.length) files = readdirSync(dir).filter((f) => /^model.*\.safetensors$/.test(f)).sort();
  if (!files.length) throw new Error(`${dir}: no .safetensors weights found`);
  return files.map((f) => join(dir, f));
}

export function quantizationSummary(cfg: Config): string {
  const q = cfg.quantization_config as Record<string, unknown> | undefined;
  const dtype = String(cfg.torch_dtype ?? 'bf16').replace('bfloat16', 'bf16').replace('float16', 'f16').replace('float32', 'f32');
  if (!q) return `${dtype} (the engine converts routed experts to INT4 at load)`;
  if (q.quant_method === 'compressed-tensors') {
    const groups = q.config_groups as Record<string, { weights?: { num_bits?: number; group_size?: number } }> | undefined;
    const w = groups ? Object.values(groups)[0]?.weights : undefined;
    return `INT${w?.num_bits ?? 4} routed experts (compressed-tensors, group ${w?.group_size ?? '?'}), ${dtype} elsewhere`;
  }
  if (q.quant_method === 'fp8') {
    const b = q.weight_block_size as number[] | undefined;
    return `FP8 e4m3${b ? ` blocks ${b.join('×')}` : ''} (experts converted to INT4 at load)`;
  }
  return `${String(q.quant_method)} (${dtype})`;
}

let gpuCache: { name: string; totalBytes: number } | null | undefined;
/** The first NVIDIA GPU, if nvidia-smi answers; null otherwise. */
export function detectGpu(): { name: string; totalBytes: number } | null {
  if (gpuCache !== undefined) return gpuCache;
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'],
      { timeout: GPU_QUERY_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split('\n')[0];
    const [name, mib] = out.split(',').map((s) => s.trim());
    gpuCache = name && Number(mib) > 0 ? { name, totalBytes: Number(mib) * 1024 * 1024 } : null;
  } catch { gpuCache = null; }
  return gpuCache;
}

/** MemAvailable on Linux (free + reclaimable cache); os.freemem elsewhere. */
export function availableMemory(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return freemem();
}

export function kvBytesPerToken(cfg: Config): number {
  return kvBytesPerTokenOf(textModelConfig(cfg).text, APP_KV_DTYPE);
}

/** GPU bytes the placement policy would claim for this model (0 without a GPU or a sizable config). */
function vramNeeded(cfg: Config | undefined, contextLength: number, gpu: { totalBytes: number } | null): number {
  if (!gpu || !cfg) return 0;
  try {
    const plan = fitPlan(sizesFromConfig(cfg, APP_KV_DTYPE), { gpuMemBytes: gpu.totalBytes, ramBytes: totalmem(), cpuBandwidthGBs: 1, gpuBandwidthGBs: 1 }, contextLength);
    return plan.gpu_resident_bytes || GPU_WORKSPACE_BYTES;
  } catch { return 0; }
}

/** The context a model runs with here: the user's setting, else what this machine's free RAM
 *  allows of the model's maximum (default-context.ts). `top` is the config.json as read. */
export function resolveContext(top: Config, weightsBytes: number, setting: number | null | undefined): ContextChoice {
  const text = textModelConfig(top).text;
  return chooseContext({
    setting: setting ?? null, maxContext: modelMaxContext(text), kvBytesPerToken: kvBytesPerToken(top),
    weightsBytes, overheadBytes: RUNTIME_OVERHEAD_BYTES, ramAvailableBytes: availableMemory(),
  });
}

export function memoryPlan(weightsBytes: number, kvPerToken: number, context: ContextChoice, cfg?: Config): MemoryPlan {
  const contextLength = context.tokens;
  const gpu = detectGpu();
  const ramNeeded = weightsBytes + kvPerToken * contextLength + RUNTIME_OVERHEAD_BYTES;
  const ramTotal = totalmem();
  const ramAvail = availableMemory();
  const notes: string[] = [];
  const fits = ramNeeded <= ramAvail;
  if (!fits) {
    notes.push(ramNeeded <= ramTotal
      ? 'Needs more memory than is free now: close other programs, or weights will page from disk (slow).'
      : 'Needs more memory than this machine has: weights will page from disk (very slow).');
  }
  notes.push('The CPU engine runs from RAM; weights are memory-mapped.');
  if (gpu) notes.push(`GPU found (${gpu.name}); the CPU engine does not use it yet.`);
  return {
    weightsBytes, kvBytesPerToken: kvPerToken, contextLength, contextWhy: context.why, ramNeededBytes: ramNeeded, vramNeededBytes: vramNeeded(cfg, contextLength, gpu),
    ramTotalBytes: ramTotal, ramAvailableBytes: ramAvail, vramTotalBytes: gpu?.totalBytes ?? null, gpuName: gpu?.name ?? null,
    fits, notes,
  };
}

/** How the demo model's label starts (its README says what it is; copies of it count too). */
export const DEMO_LABEL_PREFIX = 'Demo model';

export function modelLabel(dir: string, cfg: Config, totalParams: number): string {
  const readme = join(dir, 'README.md');
  if (existsSync(readme) && /Karakoram demo model/.test(readFileSync(readme, 'utf8').slice(0, 200))) {
    return `${DEMO_LABEL_PREFIX} (${Math.round(totalParams / 1e6)}M, offline)`;
  }
  const size = totalParams >= 1e9 ? `${(totalParams / 1e9).toFixed(0)}B` : `${(totalParams / 1e6).toFixed(0)}M`;
  const kind = textModelConfig(cfg).multimodal ? `${modelFamily(dir, cfg).family}, text only` : String(cfg.model_type ?? 'unknown');
  return `${basename(dir)} (${size}, ${kind})`;
}

/** `loadedWith`: the context the engine holds this model with now (the plan shows that one, not
 *  a fresh choice from the memory free after its load). */
export function inspectModel(dir: string, contextLength?: number | null, loadedWith?: ContextChoice): ModelInspection {
  const top = readConfig(dir);
  const cfg = textModelConfig(top).text;  // K2.5 / K2.6 nest the language model under text_config
  const acc: TensorCount = { total: 0, routedExperts: 0, bytes: 0 };
  for (const s of shards(dir)) countShard(s, acc);
  const routed = num(cfg, 'n_routed_experts');
  const perTok = num(cfg, 'num_experts_per_tok');
  const active = routed ? acc.total - acc.routedExperts * (1 - perTok / routed) : acc.total;
  const maxCtx = modelMaxContext(cfg);
  const ctx = loadedWith ?? resolveContext(top, acc.bytes, contextLength);
  return {
    dir, name: basename(dir), label: modelLabel(dir, top, acc.total),
    modelType: textModelConfig(top).modelType,
    architecture: textModelConfig(top).architecture,
    ...modelFamily(dir, top),
    params: { total: acc.total, activePerToken: Math.round(active) },
    layers: num(cfg, 'num_hidden_layers'), denseLayers: Math.min(num(cfg, 'first_k_dense_replace'), num(cfg, 'num_hidden_layers')),
    hidden: num(cfg, 'hidden_size'), heads: num(cfg, 'num_attention_heads'), vocab: num(cfg, 'vocab_size'),
    experts: { routed, perToken: perTok, shared: num(cfg, 'n_shared_experts'), intermediate: num(cfg, 'moe_intermediate_size') },
    quantization: quantizationSummary({ ...cfg, quantization_config: textModelConfig(top).quant }),
    contextLength: maxCtx,
    memory: memoryPlan(acc.bytes, kvBytesPerToken(cfg), ctx, top),
  };
}

/** Total bytes of a model directory's weight files. */
export function weightsSize(dir: string): number {
  return shards(dir).reduce((a, s) => a + statSync(s).size, 0);
}
