// client.ts — the one interface the renderer talks to the core through. Two implementations:
// Electron's preload verbs (ipc.ts) and a WebSocket to `karakoram serve` (ws.ts).
import type { CoreEvent, Method, ParamsOf, ResultOf } from '../contract.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface ContractClient {
  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  onEvent(listener: (e: CoreEvent) => void): () => void;
  onConnection(listener: (s: ConnectionState) => void): () => void;
  close(): void;
}

/** A tiny listener set: add returns its own remover. */
export class Listeners<T> {
  private set = new Set<(v: T) => void>();
  add(fn: (v: T) => void): () => void { this.set.add(fn); return () => { this.set.delete(fn); }; }
  emit(v: T): void { for (const fn of [...this.set]) { try { fn(v); } catch (e) { console.error(e); } } }
}

export class RemoteError extends Error {
  constructor(message: string, readonly code?: string) { super(message); this.name = 'RemoteError'; }
}
