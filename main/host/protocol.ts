// protocol.ts — messages between the core and the engine process (engine-entry.ts). Plain JSON
// objects over Node IPC (child_process.fork) or Electron's utilityProcess port.
import type { BackendPreference } from '../engine/backend-choice.ts';
import type { GenerateResult, LoadOptions, LoadProgress, ModelInfo, NativeExpertHeat, SamplingOptions } from '../engine/types.ts';

/** Load options as the core sends them: the engine process resolves 'auto' (it holds the addon). */
export type HostLoadOptions = Omit<LoadOptions, 'backend'> & { backend?: BackendPreference };

export type ToEngine =
  | { type: 'load'; dir: string; options: HostLoadOptions }
  | { type: 'generate'; reqId: number; promptIds: number[]; options: SamplingOptions }
  | { type: 'cancel'; reqId: number }
  /** KV snapshots (NativeModel.saveSnapshot / restoreSnapshot); answered by 'snapshot_done'. */
  | { type: 'snapshot'; reqId: number; op: 'save' | 'restore'; promptIds: number[]; path: string }
  /** The expert heat map (NativeBinding.expertHeat); answered by 'heat_done'. */
  | { type: 'heat'; reqId: number }
  | { type: 'shutdown' };

export type FromEngine =
  | { type: 'hello'; pid: number }
  | { type: 'load_progress'; progress: LoadProgress }
  /** backendWhy: which backend the load chose and why (the model panel shows it). */
  | { type: 'loaded'; info: ModelInfo; dir: string; backendWhy: string }
  | { type: 'load_error'; message: string }
  /** Prompt processing: prompt tokens done of total, after each prefill chunk. */
  | { type: 'prefill'; reqId: number; done: number; total: number }
  /** Tokens generated since the last message (usually one: tokens are forwarded at once). */
  | { type: 'tokens'; reqId: number; ids: number[] }
  | { type: 'done'; reqId: number; result: GenerateResult }
  | { type: 'gen_error'; reqId: number; message: string }
  /** A snapshot request ended: tokens saved / restored, or why not. */
  | { type: 'snapshot_done'; reqId: number; tokens: number; error: string | null }
  | { type: 'heat_done'; reqId: number; heat: NativeExpertHeat | null; error: string | null };
