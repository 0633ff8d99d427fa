// ws-client.ts — the contract's KarakoramApi over a WebSocket (web mode). Browser-safe: uses the
// standard WebSocket interface only, so app/ and Node tests (Node >= 22 has a global WebSocket,
// or pass the `ws` package's class) can both use it.
import {
  ContractError, ErrorCodeSchema, eventNames, requestNames,
  type EventName, type EventPayload, type KarakoramApi, type RequestName, type WireRequest,
} from './contract.ts';

/** The part of the WebSocket interface this client needs. */
export interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', cb: (ev: { data?: unknown }) => void): void;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface WsClient {
  api: KarakoramApi;
  /** Resolves once connected (the first time). */
  ready: Promise<void>;
  /** Connection state changes (the UI shows "reconnecting…"). */
  onConnection(cb: (connected: boolean) => void): () => void;
  close(): void;
}

const OPEN = 1;
/** Delay before reconnecting after the socket drops; grows to MAX on repeated failures. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 4000;

/**
 * Connects to `url` (e.g. `ws://127.0.0.1:8080/ws`) and reconnects when the socket drops.
 * Requests made while disconnected wait for the connection; requests in flight when it drops
 * reject (the server may or may not have run them).
 */
export function createWsClient(url: string, Ctor?: WebSocketCtor): WsClient {
  const WS: WebSocketCtor = Ctor ?? (globalThis as unknown as { WebSocket: WebSocketCtor }).WebSocket;
  let nextId = 1;
  let socket: WebSocketLike | null = null;
  let closed = false;
  let delay = RECONNECT_MIN_MS;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const queue: string[] = [];
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const connListeners = new Set<(c: boolean) => void>();
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => { resolveReady = r; });

  function connect(): void {
    const ws = new WS(url);
    socket = ws;
    ws.addEventListener('open', () => {
      delay = RECONNECT_MIN_MS;
      resolveReady();
      for (const cb of connListeners) cb(true);
      while (queue.length) ws.send(queue.shift()!);
    });
    ws.addEventListener('message', (ev) => onFrame(String(ev.data)));
    ws.addEventListener('close', () => {
      for (const [, p] of pending) p.reject(new ContractError('internal', 'connection to the core was lost'));
      pending.clear();
      for (const cb of connListeners) cb(false);
      if (!closed) { setTimeout(connect, delay); delay = Math.min(delay * 2, RECONNECT_MAX_MS); }
    });
    ws.addEventListener('error', () => { /* 'close' follows and handles it */ });
  }

  function onFrame(text: string): void {
    let msg: { kind?: string; id?: number; ok?: boolean; result?: unknown; error?: { code?: string; message?: string }; event?: string; payload?: unknown };
    try { msg = JSON.parse(text); } catch { return; }
    if (msg.kind === 'response' && typeof msg.id === 'number') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else {
        const code = ErrorCodeSchema.safeParse(msg.error?.code);
        p.reject(new ContractError(code.success ? code.data : 'internal', msg.error?.message ?? 'request failed'));
      }
    } else if (msg.kind === 'event' && typeof msg.event === 'string') {
      const set = listeners.get(msg.event as EventName);
      if (set) for (const cb of set) cb(msg.payload);
    }
  }

  function call(method: RequestName, params: unknown): Promise<unknown> {
    const id = nextId++;
    const frame: WireRequest = { kind: 'request', id, method, params: params ?? {} };
    const text = JSON.stringify(frame);
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (socket && socket.readyState === OPEN) socket.send(text);
      else queue.push(text);
    });
  }

  const api = {} as Record<string, unknown>;
  for (const name of requestNames) api[name] = (params: unknown) => call(name, params);
  api.on = (event: EventName, cb: (p: unknown) => void) => {
    if (!eventNames.includes(event)) throw new Error(`unknown event '${event}'`);
    let set = listeners.get(event);
    if (!set) { set = new Set(); listeners.set(event, set); }
    set.add(cb);
    return () => { set!.delete(cb); };
  };

  connect();
  return {
    api: api as unknown as KarakoramApi,
    ready,
    onConnection(cb) { connListeners.add(cb); return () => { connListeners.delete(cb); }; },
    close() { closed = true; socket?.close(); },
  };
}

/** Type helper for event callbacks. */
export type Handler<E extends EventName> = (payload: EventPayload<E>) => void;
