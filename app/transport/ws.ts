// ws.ts — the contract over a WebSocket (web mode). Frames are JSON text:
//   renderer -> core  { kind: 'req', id, method, params }
//   core -> renderer  { kind: 'res', id, ok: true, result } | { kind: 'res', id, ok: false, error: { message, code? } }
//                     { kind: 'event', event }
// Requests made while the socket is (re)connecting wait in a queue; on a drop the pending
// requests fail (their outcome is unknown) and the client reconnects with backoff.
import type { CoreEvent, Method, ParamsOf, ResultOf } from '../contract.ts';
import { Listeners, RemoteError, type ConnectionState, type ContractClient } from './client.ts';

/** The part of the browser WebSocket the client needs; tests pass a fake. */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export interface WsClientOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  reconnect?: boolean;
  /** Requests with no answer after this long reject (0 = never). */
  timeoutMs?: number;
}

const OPEN = 1;
const RECONNECT_BASE_MS = 250;
const RECONNECT_MAX_MS = 4000;

interface Pending { resolve(v: unknown): void; reject(e: Error): void; timer?: ReturnType<typeof setTimeout> }

export function defaultWsUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

export class WsClient implements ContractClient {
  private socket: SocketLike | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private queue: string[] = [];
  private events = new Listeners<CoreEvent>();
  private conn = new Listeners<ConnectionState>();
  private closed = false;
  private attempts = 0;
  state: ConnectionState = 'connecting';

  constructor(private opts: WsClientOptions) { this.connect(); }

  private connect(): void {
    const make = this.opts.createSocket ?? ((u: string) => new WebSocket(u) as unknown as SocketLike);
    this.setState('connecting');
    const s = make(this.opts.url);
    this.socket = s;
    s.onopen = () => {
      this.attempts = 0;
      this.setState('open');
      const q = this.queue; this.queue = [];
      for (const f of q) s.send(f);
    };
    s.onmessage = (ev) => this.onFrame(ev.data);
    s.onerror = () => { /* onclose follows */ };
    s.onclose = () => {
      if (this.socket !== s) return;
      this.socket = null;
      for (const [, p] of this.pending) { clearTimeout(p.timer); p.reject(new RemoteError('connection lost', 'disconnected')); }
      this.pending.clear();
      this.setState('closed');
      if (!this.closed && this.opts.reconnect !== false) {
        const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.attempts++);
        setTimeout(() => { if (!this.closed) this.connect(); }, delay);
      }
    };
  }

  private setState(s: ConnectionState): void { this.state = s; this.conn.emit(s); }

  private onFrame(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: { kind?: string; id?: number; ok?: boolean; result?: unknown; error?: { message?: string; code?: string }; event?: CoreEvent };
    try { msg = JSON.parse(data); } catch { console.warn('karakoram: bad frame', data); return; }
    if (msg.kind === 'event' && msg.event) { this.events.emit(msg.event); return; }
    if (msg.kind === 'res' && typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new RemoteError(msg.error?.message ?? 'request failed', msg.error?.code));
    }
  }

  call<M extends Method>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    if (this.closed) return Promise.reject(new RemoteError('client closed', 'closed'));
    const id = this.nextId++;
    const frame = JSON.stringify({ kind: 'req', id, method, params: params ?? null });
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject };
      if (this.opts.timeoutMs) {
        p.timer = setTimeout(() => { this.pending.delete(id); reject(new RemoteError(`${method} timed out`, 'timeout')); }, this.opts.timeoutMs);
      }
      this.pending.set(id, p);
      if (this.socket && this.socket.readyState === OPEN) this.socket.send(frame);
      else this.queue.push(frame);
    });
  }

  onEvent(listener: (e: CoreEvent) => void): () => void { return this.events.add(listener); }
  onConnection(listener: (s: ConnectionState) => void): () => void { return this.conn.add(listener); }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }
}
