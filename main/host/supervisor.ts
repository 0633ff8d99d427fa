// supervisor.ts — EngineHost: owns the engine process, loads a model in it, runs generations and
// watches it. When the process dies without being asked to (a native fault, kill -9, OOM), every
// generation in flight fails with EngineCrashedError, the status becomes 'crashed', and the host
// restarts it by itself once (at most once per AUTO_RESTART_WINDOW_MS); further restarts are on
// request (restart()). A restart reloads the model that was loaded.
import type { GenerateResult, LoadProgress, ModelInfo, NativeExpertHeat, SamplingOptions } from '../engine/types.ts';
import type { EngineState } from '../../common/contract.ts';
import type { FromEngine, HostLoadOptions } from './protocol.ts';
import { forkEngine, type EngineProcess, type EngineSpawner } from './spawn.ts';

/** A second crash within this window after an automatic restart waits for the user. */
const AUTO_RESTART_WINDOW_MS = 60_000;
/** How long a polite shutdown may take before the process is killed. */
const SHUTDOWN_GRACE_MS = 2000;

export class EngineCrashedError extends Error {
  constructor(message: string) { super(message); this.name = 'EngineCrashedError'; }
}

export interface HostStatus {
  state: EngineState;
  modelDir: string | null;
  info: ModelInfo | null;
  /** Which backend the load chose and why (from the engine process), null before a load. */
  backendWhy: string | null;
  progress: LoadProgress | null;
  error: string | null;
  pid: number | null;
  restarts: number;
}

export interface HostOptions {
  spawner?: EngineSpawner;
  /** Automatic restarts after a crash (per window); 0 disables. */
  autoRestart?: boolean;
}

interface Gen {
  onTokens(ids: number[]): void;
  onPrefill?(done: number, total: number): void;
  resolve(r: GenerateResult): void;
  reject(e: Error): void;
  cleanup(): void;
}

export class EngineHost {
  private proc: EngineProcess | null = null;
  private expectingExit = false;
  private nextReq = 1;
  private gens = new Map<number, Gen>();
  private snapshots = new Map<number, { resolve(tokens: number): void; reject(e: Error): void }>();
  private heats = new Map<number, { resolve(h: NativeExpertHeat): void; reject(e: Error): void }>();
  private loading: { resolve(i: ModelInfo): void; reject(e: Error): void } | null = null;
  private listeners = new Set<(s: HostStatus) => void>();
  private lastAutoRestart = -Infinity;
  private loadOptions: HostLoadOptions = {};
  private readonly spawner: EngineSpawner;
  private readonly autoRestart: boolean;
  private st: HostStatus = { state: 'idle', modelDir: null, info: null, backendWhy: null, progress: null, error: null, pid: null, restarts: 0 };

  constructor(opts: HostOptions = {}) {
    this.spawner = opts.spawner ?? forkEngine;
    this.autoRestart = opts.autoRestart ?? true;
  }

  status(): HostStatus { return { ...this.st }; }
  /** Generations sent to the engine process that it has not finished (a cancelled one counts until the engine says it ended). */
  inFlight(): number { return this.gens.size; }

  onStatus(cb: (s: HostStatus) => void): () => void {
    this.listeners.add(cb);
    return () => { this.listeners.delete(cb); };
  }

  private set(patch: Partial<HostStatus>): void {
    this.st = { ...this.st, ...patch };
    const s = this.status();
    for (const cb of this.listeners) cb(s);
  }

  private ensureProcess(): EngineProcess {
    if (this.proc) return this.proc;
    const proc = this.spawner();
    this.proc = proc;
    this.expectingExit = false;
    proc.onMessage((m) => { if (this.proc === proc) this.onMessage(m); });
    proc.onExit((code, signal) => { if (this.proc === proc) this.onExit(code, signal); });
    this.set({ pid: proc.pid });
    return proc;
  }

  private onMessage(m: FromEngine): void {
    switch (m.type) {
      case 'hello': this.set({ pid: m.pid }); break;
      case 'load_progress': this.set({ progress: m.progress }); break;
      case 'loaded':
        this.set({ state: 'ready', info: m.info, backendWhy: m.backendWhy, modelDir: m.dir, progress: null, error: null });
        this.loading?.resolve(m.info);
        this.loading = null;
        break;
      case 'load_error':
        this.set({ state: 'error', info: null, progress: null, error: m.message });
        this.loading?.reject(new Error(m.message));
        this.loading = null;
        break;
      case 'prefill': this.gens.get(m.reqId)?.onPrefill?.(m.done, m.total); break;
      case 'tokens': this.gens.get(m.reqId)?.onTokens(m.ids); break;
      case 'done': { const g = this.gens.get(m.reqId); if (g) { this.gens.delete(m.reqId); g.cleanup(); g.resolve(m.result); } break; }
      case 'gen_error': { const g = this.gens.get(m.reqId); if (g) { this.gens.delete(m.reqId); g.cleanup(); g.reject(new Error(m.message)); } break; }
      case 'heat_done': {
        const h = this.heats.get(m.reqId);
        this.heats.delete(m.reqId);
        if (h) { if (m.heat) h.resolve(m.heat); else h.reject(new Error(m.error ?? 'no heat map')); }
        break;
      }
      case 'snapshot_done': {
        const s = this.snapshots.get(m.reqId);
        this.snapshots.delete(m.reqId);
        if (s) { if (m.error === null) s.resolve(m.tokens); else s.reject(new Error(m.error)); }
        break;
      }
    }
  }

  private onExit(code: number | null, signal: string | null): void {
    const expected = this.expectingExit;
    this.proc = null;
    const why = signal ? `the engine process was killed (${signal})` : `the engine process exited with code ${code}`;
    this.failInFlight(new EngineCrashedError(why));
    if (expected) return;
    this.set({ state: 'crashed', error: why, pid: null, progress: null });
    const now = Date.now();
    if (this.autoRestart && this.st.modelDir && now - this.lastAutoRestart > AUTO_RESTART_WINDOW_MS) {
      this.lastAutoRestart = now;
      this.restart().catch(() => { /* status says why */ });
    }
  }

  private failInFlight(err: Error): void {
    for (const [, g] of this.gens) { g.cleanup(); g.reject(err); }
    this.gens.clear();
    for (const [, s] of this.snapshots) s.reject(err);
    this.snapshots.clear();
    for (const [, h] of this.heats) h.reject(err);
    this.heats.clear();
    if (this.loading) { this.loading.reject(err); this.loading = null; }
  }

  /** Starts the engine process (if not running) and resolves with its pid once it answers. */
  start(): Promise<number> {
    const proc = this.ensureProcess();
    return new Promise((resolve, reject) => {
      let done = false;
      proc.onMessage((m) => { if (!done && m.type === 'hello') { done = true; resolve(m.pid); } });
      proc.onExit((code, signal) => { if (!done) { done = true; reject(new EngineCrashedError(`the engine process ended at start (${signal ?? code})`)); } });
    });
  }

  /** Loads dir in the engine process (starting it if needed); resolves with the model's info. */
  load(dir: string, options: HostLoadOptions = {}): Promise<ModelInfo> {
    this.loadOptions = options;
    const proc = this.ensureProcess();
    if (this.loading) this.loading.reject(new Error('superseded by another load'));
    // A load replaces the model: generations on the old one end.
    this.failInFlight(new Error('the model was replaced'));
    this.set({ state: 'loading', modelDir: dir, info: null, progress: { stage: 'start', fraction: 0 }, error: null });
    return new Promise((resolve, reject) => {
      this.loading = { resolve, reject };
      proc.send({ type: 'load', dir, options });
    });
  }

  /** Streams token ids to onTokens (and prompt progress to onPrefill, after each prefill chunk);
   *  rejects with EngineCrashedError if the process dies. */
  generate(promptIds: number[], options: SamplingOptions, onTokens: (ids: number[]) => void, signal?: AbortSignal,
           onPrefill?: (done: number, total: number) => void): Promise<GenerateResult> {
    if (this.st.state !== 'ready' || !this.proc) {
      return Promise.reject(new Error(`the engine is not ready (${this.st.state}${this.st.error ? `: ${this.st.error}` : ''})`));
    }
    const proc = this.proc;
    const reqId = this.nextReq++;
    return new Promise((resolve, reject) => {
      const onAbort = () => proc.send({ type: 'cancel', reqId });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.gens.set(reqId, { onTokens, onPrefill, resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) });
      proc.send({ type: 'generate', reqId, promptIds, options });
      if (signal?.aborted) onAbort();
    });
  }

  /** KV snapshot of promptIds' cached prefix to path ('save'), or path back into the prefix
   *  cache ('restore'); resolves with the tokens, rejects saying why. */
  snapshot(op: 'save' | 'restore', promptIds: number[], path: string): Promise<number> {
    if (this.st.state !== 'ready' || !this.proc) return Promise.reject(new Error(`the engine is not ready (${this.st.state})`));
    const proc = this.proc;
    const reqId = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.snapshots.set(reqId, { resolve, reject });
      proc.send({ type: 'snapshot', reqId, op, promptIds, path });
    });
  }

  /** The loaded model's expert heat map (routing counts, GPU residency; empty on the CPU). */
  expertHeat(): Promise<NativeExpertHeat> {
    if (this.st.state !== 'ready' || !this.proc) return Promise.reject(new Error(`the engine is not ready (${this.st.state})`));
    const proc = this.proc;
    const reqId = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.heats.set(reqId, { resolve, reject });
      proc.send({ type: 'heat', reqId });
    });
  }

  /** Kills the engine process (if any), starts a fresh one and reloads the last model. */
  async restart(): Promise<ModelInfo | null> {
    const old = this.proc;
    if (old) {
      this.expectingExit = true;
      this.proc = null;
      old.kill('SIGKILL');
    }
    this.failInFlight(new EngineCrashedError('the engine was restarted'));
    this.set({ state: 'restarting', restarts: this.st.restarts + 1, pid: null });
    this.ensureProcess();
    if (!this.st.modelDir) { this.set({ state: 'idle' }); return null; }
    return this.load(this.st.modelDir, this.loadOptions);
  }

  /** Asks the process to exit, killing it after SHUTDOWN_GRACE_MS. */
  async shutdown(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.expectingExit = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { proc.kill('SIGKILL'); }, SHUTDOWN_GRACE_MS);
      proc.onExit(() => { clearTimeout(timer); resolve(); });
      proc.send({ type: 'shutdown' });
    });
    this.proc = null;
    this.set({ state: 'idle', pid: null, info: null });
  }
}
