// ipc.ts — the contract through Electron's preload (`window.karakoram`). The preload exposes
// verbs, never ipcRenderer: a generic `call(method, params)` plus `onEvent(listener)`.
import type { CoreEvent, Method, ParamsOf, ResultOf } from '../contract.ts';
import { Listeners, RemoteError, type ConnectionState, type ContractClient } from './client.ts';

export interface PreloadApi {
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (e: unknown) => void): () => void;
}

export class IpcClient implements ContractClient {
  private conn = new Listeners<ConnectionState>();
  private offs: Array<() => void> = [];
  constructor(private api: PreloadApi) {}

  async call<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    try {
      return (await this.api.call(method, params ?? null)) as ResultOf<M>;
    } catch (e) {
      throw new RemoteError((e as Error).message ?? String(e));
    }
  }

  onEvent(listener: (e: CoreEvent) => void): () => void {
    const off = this.api.onEvent((e) => listener(e as CoreEvent));
    this.offs.push(off);
    return off;
  }

  onConnection(listener: (s: ConnectionState) => void): () => void {
    queueMicrotask(() => listener('open'));     // IPC is up as long as the window is
    return this.conn.add(listener);
  }

  close(): void { for (const off of this.offs) off(); this.offs = []; }
}
