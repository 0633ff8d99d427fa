// types.ts — the JavaScript face of the native engine (native/binding/). Token ids in, token ids
// out: text lives in main/text/. Every method that does real work is async and never blocks the
// event loop; failures reject with an Error whose message names the file and tensor at fault.
import type { SamplerSettings } from '../../common/contract.ts';
import type { KvDtype } from '../../common/kv-cache.ts';

export interface LoadOptions {
  backend?: 'cpu' | 'cuda';
  mode?: 'exact' | 'fast';
  requantize?: boolean;     // default true: bf16/FP8 routed experts -> INT4 at load
  threads?: number;         // 0 / undefined: all hardware threads
  maxSequences?: number;    // the scheduler: sequences decoding at once (more requests wait)
  maxContext?: number;      // tokens per sequence (a limit: the KV pool is shared)
  kvBudgetBytes?: number;   // the KV block pool (0 / undefined: a share of the free RAM at load)
  prefillChunk?: number;    // prompt tokens read per scheduler step beside the running decodes
  /** Latent KV cache precision (kernels/common/kk_kv.h): exact mode takes only fp32; undefined picks
   *  fp32 in exact mode and the measured fast-mode default (docs/engine-sessions.md). */
  kvDtype?: KvDtype;
  /** "cuda" backend: device bytes for the hot routed experts' slots (0 / undefined: automatic). */
  gpuExpertBudgetBytes?: number;
  /** "cuda" backend: the folder for this model's routing statistics (read at load for the hot set,
   *  written at unload); undefined keeps none. */
  routingStatsDir?: string;
}

/** The addon's cudaProbe(): whether the "cuda" backend can run here (karakoram/backends.h). */
export interface CudaProbe { usable: boolean; deviceCount: number; pluginPath: string; reason: string }

/** The addon's expertHeat(): routing counts and GPU residency per MoE layer x expert, flat
 *  (layer-major); empty on the CPU backend (karakoram/backends.h). */
export interface NativeExpertHeat { nLayers: number; nExperts: number; counts: number[]; onGpu: boolean[] }

export interface LoadProgress { stage: 'validate' | 'weights' | 'repack' | string; fraction: number }

export interface ModelInfo {
  modelType: string; architecture: string; quantization: string;
  nLayers: number; nDenseLayers: number; hidden: number; nHeads: number; vocab: number;
  nExperts: number; topK: number; nSharedExperts: number; moeIntermediate: number;
  qLoraRank: number; kvLoraRank: number; maxPosition: number;
  nParams: number; bytesWeights: number; bytesExperts: number; kvBytesPerToken: number;
  bosId: number; eosId: number; backend: string; kernels: string;
  /** The precision the latent KV cache is stored in (kvBytesPerToken is in it). */
  kvDtype: KvDtype;
  /** Q4 weight layout the CPU kernels run on: block_q4 rows, or repacked at load into 16-row groups. */
  q4Layout: 'rows' | 'x16';
}

/** The contract's sampler settings (SamplingSchema, declared once in common/contract.ts; the
 *  addon's C++ parser reads the same names; temperature 0 = greedy) plus the ids that end
 *  generation. `thinking` is not one: it picks the prompt, in the text layer. */
export type SamplingOptions = SamplerSettings & { stopIds?: number[] };

export interface GenerateOptions extends SamplingOptions {
  signal?: AbortSignal;
  /** Prompt processing: called after each prefill chunk; the last call has done === total. */
  onPrefill?: (done: number, total: number) => void;
}

/** What the addon's generateRaw passes besides token ids: prefill progress after each chunk. */
export interface PrefillProgress { stage: 'prefill'; fraction: number; done: number; total: number }

export interface GenerateResult {
  outputIds: number[];
  finishReason: 'stop' | 'length' | 'cancelled';
  promptTokens: number; completionTokens: number;
  cachedTokens: number;  // prompt tokens served from the engine's prefix cache (not prefilled)
  prefillMs: number; decodeMs: number;
}

export interface MemoryStats { weightsBytes: number; kvBytesUsed: number; kvBytesCapacity: number; rssBytes: number }

/** The engine's prefix cache and scheduler now; hitTokens / promptTokens are totals since load. */
export interface CacheStats {
  blockTokens: number; blocksTotal: number; blocksFree: number; cachedTokens: number; bytesPerToken: number;
  running: number; waiting: number; hitTokens: number; promptTokens: number;
}

export interface NativeModel {
  info(): ModelInfo;
  /** Prefill + decode through the engine's scheduler: many calls run at once (batched), and the
   *  longest cached prefix of promptIds is reused (result.cachedTokens). onToken is called for
   *  every generated id as soon as it exists. */
  generate(promptIds: number[], options: GenerateOptions, onToken: (id: number) => void): Promise<GenerateResult>;
  memoryStats(): MemoryStats;
  cacheStats(): CacheStats;
  /** KV snapshot: the cached KV of promptIds' longest cached prefix written to path (the
   *  model's fingerprint, the ids and a checksum with it); resolves with the tokens saved and
   *  rejects when none of it is cached. */
  saveSnapshot(promptIds: number[], path: string): Promise<number>;
  /** Reads a snapshot back into the prefix cache; rejects, saying why, when the file is another
   *  model's, not a prefix of promptIds, damaged or truncated. Resolves with the tokens restored. */
  restoreSnapshot(path: string, promptIds: number[]): Promise<number>;
  /** Frees weights and caches; later calls reject. */
  dispose(): void;
}

export interface EvalLine { line: string }
export interface EvalSummary {
  prompts: number; maxAbsLogitErr: number; maxRelHiddenErr: number; topkAgree: number;
  decodeMaxAbsLogitErr: number; pass: boolean; summaryLine: string;
}

export interface NativeBinding {
  loadModel(dir: string, options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<NativeModel>;
  evaluate(modelDir: string, reference: string, options: LoadOptions, onLine: (line: string) => void): Promise<EvalSummary>;
  bench(options: {
    model?: string; synthetic?: string; promptLen?: number; gen?: number; threads?: number; mode?: string;
    kvDtype?: KvDtype;
    /** 'auto' (default): Q4 repacked to 16-row groups where the CPU kernels prefer it; 'rows': kept as block_q4 rows. */
    q4Layout?: 'auto' | 'rows';
    /** Engine sessions: TTFT of a followLen-token follow-up after a prefixLen-token prefix (fresh, hit, snapshot). */
    prefixLen?: number; followLen?: number;
    /** Aggregate decode rate with each number of concurrent sequences. */
    concurrency?: number[];
  }): Promise<string>;
  synth(options: { preset: string; layers?: number; experts?: number; seed?: number; routingSkew?: number; out: string },
        onProgress?: (p: LoadProgress) => void): Promise<void>;
  cpuFeatures(): string[];
  cudaProbe(): CudaProbe;
  expertHeat(): NativeExpertHeat;
}
