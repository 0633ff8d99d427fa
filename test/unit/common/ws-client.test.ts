// The renderer's WebSocket client against a real socket server: requests made before the socket
// opens wait for it, responses and events route, a dropped connection rejects what was in
// flight and reconnects.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { createWsClient, type WebSocketCtor } from '../../../common/ws-client.ts';

const servers: WebSocketServer[] = [];
afterEach(() => { for (const s of servers.splice(0)) { for (const c of s.clients) c.terminate(); s.close(); } });

function server(onRequest: (ws: WebSocket, msg: { id: number; method: string; params: unknown }) => void): Promise<{ wss: WebSocketServer; url: string }> {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => {
      resolve({ wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws` });
    });
    servers.push(wss);
    wss.on('connection', (ws) => ws.on('message', (d) => onRequest(ws, JSON.parse(d.toString()))));
  });
}

describe('ws client', () => {
  it('routes responses, errors and events', async () => {
    const { url } = await server((ws, m) => {
      if (m.method === 'listTools') {
        ws.send(JSON.stringify({ kind: 'event', event: 'engineStatus', payload: { state: 'ready' } }));
        ws.send(JSON.stringify({ kind: 'response', id: m.id, ok: true, result: ['x'] }));
      } else {
        ws.send(JSON.stringify({ kind: 'response', id: m.id, ok: false, error: { code: 'not_found', message: 'no such thing' } }));
      }
    });
    const c = createWsClient(url, WebSocket as unknown as WebSocketCtor);
    const seen: unknown[] = [];
    const off = c.api.on('engineStatus', (s) => seen.push(s));
    // Sent before the socket is open: queued.
    const r = await c.api.listTools({});
    expect(r).toEqual(['x']);
    expect(seen).toEqual([{ state: 'ready' }]);
    await expect(c.api.getConversation({ conversationId: 'a' })).rejects.toMatchObject({ code: 'not_found', message: 'no such thing' });
    off();
    expect(() => c.api.on('bogus' as never, () => {})).toThrow(/unknown event/);
    c.close();
  });

  it('rejects requests in flight when the connection drops, then reconnects', async () => {
    let connections = 0;
    const { wss, url } = await server((ws, m) => {
      if (m.method === 'listTools') ws.terminate();   // drop instead of answering
      else ws.send(JSON.stringify({ kind: 'response', id: m.id, ok: true, result: [] }));
    });
    wss.on('connection', () => { connections++; });
    const c = createWsClient(url, WebSocket as unknown as WebSocketCtor);
    const states: boolean[] = [];
    c.onConnection((up) => states.push(up));
    await c.ready;
    await expect(c.api.listTools({})).rejects.toThrow(/connection/);
    await expect(c.api.listConversations({})).resolves.toEqual([]);
    expect(connections).toBe(2);
    expect(states).toEqual([true, false, true]);
    c.close();
  });
});
