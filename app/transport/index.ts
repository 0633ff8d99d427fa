// transport/index.ts — the renderer reaches the core through one interface, the contract's
// KarakoramApi, over one of two transports: Electron's preload verbs (`window.karakoram`) when
// present, else a WebSocket to the `karakoram serve` that served this page.
import { WS_PATH, type KarakoramApi } from '../../common/contract.ts';
import { createWsClient, type WebSocketCtor } from '../../common/ws-client.ts';

export interface Transport {
  api: KarakoramApi;
  kind: 'ipc' | 'websocket';
  /** Connection changes: true when connected; the UI says "reconnecting…" on false. */
  onConnection(cb: (connected: boolean) => void): () => void;
  close(): void;
}

export function ipcTransport(api: KarakoramApi): Transport {
  return {
    api,
    kind: 'ipc',
    onConnection(cb) { queueMicrotask(() => cb(true)); return () => undefined; },   // up as long as the window is
    close() { /* the window owns the channel */ },
  };
}

export function wsUrlFor(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${WS_PATH}`;
}

export function wsTransport(url: string, Ctor?: WebSocketCtor): Transport {
  const c = createWsClient(url, Ctor);
  return { api: c.api, kind: 'websocket', onConnection: c.onConnection, close: c.close };
}

export function createTransport(win: Window & { karakoram?: KarakoramApi } = window): Transport {
  if (win.karakoram && typeof win.karakoram.getConversation === 'function') return ipcTransport(win.karakoram);
  return wsTransport(wsUrlFor(win.location));
}
