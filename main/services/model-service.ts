// model-service.ts — which model is loaded: the engine side (EngineHost, in its own process) and
// the text side (tokenizer, template, parser) together. Publishes engine status as contract
// events. The bundled demo model is the default on first start.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type { EngineStatus, ExpertHeat, LocalModel } from '../../common/contract.ts';
import type { NativeExpertHeat } from '../engine/types.ts';
import { REPO_ROOT } from '../paths.ts';
import { EngineCrashedError, type EngineHost, type HostStatus } from '../host/supervisor.ts';
import type { BackendPreference } from '../engine/backend-choice.ts';
import type { EventBus } from './events.ts';
import { DEFAULT_CONTEXT_LENGTH, inspectModel, modelLabel, readConfig, resolveContext, weightsSize } from './model-inspect.ts';
import type { ContextChoice } from '../models/default-context.ts';
import { loadModelText, type ModelText } from './text-port.ts';
import { userModelsDir } from '../models/paths.ts';

export const BUNDLED_MODELS_DIR = join(REPO_ROOT, 'assets', 'models');
export const DEMO_MODEL_DIR = join(BUNDLED_MODELS_DIR, 'demo-k2');

export function sharedDir(): string {
  return process.env.KK_SHARED ?? join(REPO_ROOT, '..', 'shared');
}

function isModelDir(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && readdirSync(dir).some((f) => f.endsWith('.safetensors'));
}

export interface LoadedModel {
  dir: string; name: string; label: string; text: ModelText; maxPosition: number;
  /** The context it was loaded with, and where that came from (setting or this machine's memory). */
  context: ContextChoice;
  /** What it would run with without a setting (the settings page's placeholder). */
  defaultContext: ContextChoice;
}

export interface ModelServiceOptions {
  threads?: number; contextLength?: number | null; prefillChunk?: number;
  /** The settings' backend and GPU expert budget (GiB; 0: automatic). */
  backend?: BackendPreference; gpuExpertBudgetGiB?: number;
}

const GIB = 2 ** 30;

/** The addon's flat, layer-major heat map as contract rows. */
export function toExpertHeat(backend: string | null, h: NativeExpertHeat): ExpertHeat {
  const layers: ExpertHeat['layers'] = [];
  for (let l = 0; l < h.nLayers; l++) {
    const at = l * h.nExperts;
    layers.push({ counts: h.counts.slice(at, at + h.nExperts), onGpu: h.onGpu.slice(at, at + h.nExperts) });
  }
  return { backend, layers };
}

/** Routing statistics live next to the model (the CUDA hot set at the next load follows them),
 *  except for the models bundled in the repository, whose folders stay as checked in. */
export function routingStatsDir(dir: string): string | undefined {
  const rel = relative(BUNDLED_MODELS_DIR, dir);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? undefined : dir;
}

export class ModelService {
  private current: LoadedModel | null = null;
  /** The model being loaded, or the last one asked for when its load failed. */
  private pendingLabel: { dir: string; name: string; label: string } | null = null;
  private loadPromise: Promise<LoadedModel> | null = null;

  constructor(private readonly host: EngineHost, private readonly bus: EventBus, private options: ModelServiceOptions = {}) {
    host.onStatus((s) => bus.emit('engineStatus', this.toContract(s)));
  }

  get engine(): EngineHost { return this.host; }

  setOptions(o: ModelServiceOptions): void { this.options = { ...this.options, ...o }; }

  get loaded(): LoadedModel | null { return this.host.status().state === 'ready' ? this.current : null; }
  get model(): LoadedModel | null { return this.current; }

  /** The context window used for generation: the one the loaded model was loaded with. */
  contextLength(): number {
    return this.current?.context.tokens ?? this.options.contextLength ?? DEFAULT_CONTEXT_LENGTH;
  }

  private toContract(s: HostStatus): EngineStatus {
    const m = this.pendingLabel ?? (this.current
      ? { dir: this.current.dir, name: this.current.name, label: this.current.label, thinkingSwitch: this.current.text.thinkingSwitch }
      : null);
    return {
      state: s.state, model: m, progress: s.progress ? { stage: s.progress.stage, fraction: Math.max(0, Math.min(1, s.progress.fraction)) } : null,
      error: s.error, pid: s.pid, restarts: s.restarts, backend: s.info?.backend ?? null,
      backendWhy: s.state === 'ready' ? s.backendWhy : null,
    };
  }

  status(): EngineStatus { return this.toContract(this.host.status()); }

  /** The expert heat map for the model panel: one row per MoE layer (layers without routing
   *  statistics — the CPU backend — give none). */
  async expertHeat(): Promise<ExpertHeat> {
    const s = this.host.status();
    if (s.state !== 'ready') return { backend: null, layers: [] };
    return toExpertHeat(s.info?.backend ?? null, await this.host.expertHeat());
  }

  /** Loads a model directory: the text layer here, the weights in the engine process. */
  /** Counts load requests; a load that is no longer the latest was superseded. */
  private loadSeq = 0;

  isLatestLoad(seq: number): boolean { return seq === this.loadSeq; }

  load(dirIn: string): Promise<LoadedModel> & { seq: number } {
    const dir = resolve(dirIn);
    const seq = ++this.loadSeq;
    const p = Object.assign(this.doLoad(dir), { seq });
    this.loadPromise = p;
    p.catch(() => { /* callers see it */ }).finally(() => { if (this.loadPromise === p) this.loadPromise = null; });
    return p;
  }

  private async doLoad(dir: string): Promise<LoadedModel> {
    if (!isModelDir(dir)) throw new Error(`${dir} is not a model directory (needs config.json and .safetensors weights)`);
    const cfg = readConfig(dir);
    const insp = inspectModel(dir, this.options.contextLength);
    const ident = { dir, name: basename(dir), label: modelLabel(dir, cfg, insp.params.total) };
    // Fixed for this load (the engine's window cannot change without a reload).
    const context = resolveContext(cfg, insp.memory.weightsBytes, this.options.contextLength);
    const defaultContext = resolveContext(cfg, insp.memory.weightsBytes, null);
    this.pendingLabel = ident;
    try {
      const [text] = await Promise.all([loadModelText(dir), this.loadEngine(dir, context.tokens)]);
      this.current = { ...ident, text, maxPosition: insp.contextLength, context, defaultContext };
      this.pendingLabel = null;
      return this.current;
    } finally {
      this.bus.emit('engineStatus', this.status());
    }
  }

  /** Loads the weights in the engine; a crash during load counts as failure only if the
   *  host's automatic restart does not bring the same model up. */
  private async loadEngine(dir: string, maxContext: number): Promise<void> {
    try {
      await this.host.load(dir, {
        threads: this.options.threads || undefined, maxContext, prefillChunk: this.options.prefillChunk,
        backend: this.options.backend ?? 'auto',
        gpuExpertBudgetBytes: this.options.gpuExpertBudgetGiB ? Math.round(this.options.gpuExpertBudgetGiB * GIB) : undefined,
        routingStatsDir: routingStatsDir(dir),
      });
    } catch (e) {
      if (!(e instanceof EngineCrashedError)) throw e;
      const s = await this.settled();
      if (s.state !== 'ready' || s.modelDir !== dir) throw e;
    }
  }

  /** The host's status once it is not loading or restarting. */
  private settled(): Promise<HostStatus> {
    const busy = (st: HostStatus) => st.state === 'loading' || st.state === 'restarting';
    if (!busy(this.host.status())) return Promise.resolve(this.host.status());
    return new Promise((res) => {
      const off = this.host.onStatus((st) => { if (!busy(st)) { off(); res(st); } });
    });
  }

  /** Resolves with the loaded model once the engine is ready (waiting through a load/restart). */
  async ready(timeoutMs: number): Promise<LoadedModel> {
    if (this.loadPromise) await this.loadPromise;
    const s = this.host.status();
    if (s.state === 'ready' && this.current) return this.current;
    if (s.state === 'loading' || s.state === 'restarting') {
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => { off(); rej(new Error('the engine did not become ready in time')); }, timeoutMs);
        const off = this.host.onStatus((st) => {
          if (st.state === 'ready') { clearTimeout(timer); off(); res(); }
          else if (st.state === 'crashed' || st.state === 'error' || st.state === 'idle') { clearTimeout(timer); off(); rej(new Error(`the engine is ${st.state}${st.error ? `: ${st.error}` : ''}`)); }
        });
      });
      if (this.current) return this.current;
    }
    throw new Error(s.state === 'idle' ? 'no model is loaded' : `the engine is ${s.state}${s.error ? `: ${s.error}` : ''}`);
  }

  async restart(): Promise<EngineStatus> {
    await this.host.restart().catch(() => { /* the status carries the error */ });
    return this.status();
  }

  listLocal(): LocalModel[] {
    const out: LocalModel[] = [];
    const seen = new Set<string>();
    const scan = (root: string, source: LocalModel['source']) => {
      if (!existsSync(root)) return;
      for (const name of readdirSync(root).sort()) {
        const dir = join(root, name);
        try {
          if (!statSync(dir).isDirectory() || !isModelDir(dir) || seen.has(dir)) continue;
          seen.add(dir);
          const cfg = readConfig(dir);
          const size = weightsSize(dir);
          // The shared folder holds a copy of the bundled demo model: list it once.
          if (out.some((m) => m.name === name && m.sizeBytes === size)) continue;
          const insp = inspectModel(dir);
          out.push({ dir, name, label: modelLabel(dir, cfg, insp.params.total), source, sizeBytes: size, loaded: this.current?.dir === dir && this.host.status().state === 'ready' });
        } catch { /* not a readable model: leave it out */ }
      }
    };
    scan(BUNDLED_MODELS_DIR, 'bundled');
    scan(join(sharedDir(), 'models'), 'shared');
    scan(userModelsDir(), 'user');
    return out;
  }
}
