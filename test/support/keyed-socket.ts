// A WebSocket constructor for tests that talk to `karakoram serve` from Node: every route and the
// WebSocket need a key (main/server/auth), so the socket sends it as a bearer header, as an
// API client would (a browser sends its session cookie instead).
import WebSocket from 'ws';
import type { WebSocketCtor } from '../../common/ws-client.ts';

/** The ws library's WebSocket, sending `key()` (read at connect time, so a reconnect uses the current key). */
export function keyedSocket(key: () => string): WebSocketCtor {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) { super(url, protocols, { headers: { authorization: `Bearer ${key()}` } }); }
  } as unknown as WebSocketCtor;
}
