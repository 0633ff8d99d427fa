// native.ts — loads the N-API addon built by cmake-js and gives it the typed, Promise-based
// face described in types.ts (AbortSignal cancellation, Error rejections).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from '../paths.ts';
import type {
  CacheStats, CudaProbe, EvalSummary, NativeExpertHeat, GenerateOptions, GenerateResult, LoadOptions, LoadProgress, MemoryStats, ModelInfo,
  NativeBinding, NativeModel, PrefillProgress,
} from './types.ts';

const ADDON_CANDIDATES = ['build/addon/Release/karakoram_node.node', 'build/addon/Debug/karakoram_node.node'];

/** Where the built addon is, or null when it has not been built (`npm run build:native`). */
export function addonPath(): string | null {
  const override = process.env.KARAKORAM_ADDON;
  if (override) return existsSync(override) ? override : null;
  for (const rel of ADDON_CANDIDATES) {
    const p = join(REPO_ROOT, rel);
    if (existsSync(p)) return p;
  }
  return null;
}

interface RawModel {
  info(): ModelInfo;
  generateRaw(ids: number[], options: Omit<GenerateOptions, 'signal' | 'onPrefill'>, onEvent: (e: number | PrefillProgress) => void):
    { promise: Promise<GenerateResult>; cancel(): void };
  memoryStats(): MemoryStats;
  cacheStats(): CacheStats;
  saveSnapshot(ids: number[], path: string): Promise<number>;
  restoreSnapshot(path: string, ids: number[]): Promise<number>;
  dispose(): void;
}
interface RawAddon {
  loadModel(dir: string, options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<RawModel>;
  evaluate(dir: string, ref: string, options: LoadOptions, onLine: (line: string) => void): Promise<EvalSummary>;
  bench(options: object): Promise<string>;
  synth(options: object, onProgress?: (p: LoadProgress) => void): Promise<void>;
  cpuFeatures(): string[];
  cudaProbe(): CudaProbe;
  expertHeat(): NativeExpertHeat;
}

function wrapModel(raw: RawModel): NativeModel {
  return {
    info: () => raw.info(),
    memoryStats: () => raw.memoryStats(),
    cacheStats: () => raw.cacheStats(),
    saveSnapshot: (ids, path) => raw.saveSnapshot(ids, path),
    restoreSnapshot: (path, ids) => raw.restoreSnapshot(path, ids),
    dispose: () => raw.dispose(),
    async generate(promptIds, options, onToken) {
      const { signal, onPrefill, ...rest } = options;
      if (signal?.aborted) {
        return { outputIds: [], finishReason: 'cancelled', promptTokens: promptIds.length, completionTokens: 0, cachedTokens: 0, prefillMs: 0, decodeMs: 0 };
      }
      const handle = raw.generateRaw(promptIds, rest, (e) => {
        if (typeof e === 'number') onToken(e);
        else if (e.stage === 'prefill') onPrefill?.(e.done, e.total);
      });
      const onAbort = () => handle.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await handle.promise;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}

let cached: NativeBinding | null = null;

/** The engine binding; throws an Error that says how to build it when the addon is missing. */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const path = addonPath();
  if (!path) throw new Error('the native engine is not built: run `npm run build:native` (cmake-js) first');
  const raw = createRequire(import.meta.url)(path) as RawAddon;
  cached = {
    loadModel: async (dir, options, onProgress) => wrapModel(await raw.loadModel(dir, options ?? {}, onProgress)),
    evaluate: (dir, ref, options, onLine) => raw.evaluate(dir, ref, options ?? {}, onLine),
    bench: (options) => raw.bench(options),
    synth: (options, onProgress) => raw.synth(options, onProgress),
    cpuFeatures: () => raw.cpuFeatures(),
    cudaProbe: () => raw.cudaProbe(),
    expertHeat: () => raw.expertHeat(),
  };
  return cached;
}
