// transport.test.ts — the renderer's contract client over a (fake) WebSocket: request framing,
// response correlation (out of order, errors with codes), events to subscribers, queueing before
// the socket opens, in-flight requests failing on a drop, and the reconnect.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ContractError } from '../../../common/contract.ts';
import { ipcTransport, wsTransport, wsUrlFor } from '../../../app/transport/index.ts';

type L = (ev: { data?: unknown }) => void;

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  private ls = new Map<string, L[]>();
  constructor(readonly url: string) { FakeSocket.all.push(this); }
  addEventListener(t: string, cb: L) { this.ls.set(t, [...(this.ls.get(t) ?? []), cb]); }
  send(d: string) { if (this.readyState !== 1) throw new Error('not open'); this.sent.push(d); }
  close() { this.readyState = 3; this.fire('close', {}); }
  fire(t: string, ev: { data?: unknown }) { for (const cb of this.ls.get(t) ?? []) cb(ev); }
  open() { this.readyState = 1; this.fire('open', {}); }
  reply(o: unknown) { this.fire('message', { data: JSON.stringify(o) }); }
  frames() { return this.sent.map((s) => JSON.parse(s)); }
}

beforeEach(() => { FakeSocket.all = []; vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('WebSocket transport', () => {
  it('frames requests, correlates responses out of order, and raises coded errors', async () => {
    const t = wsTransport('ws://h/ws', FakeSocket as never);
    const s = FakeSocket.all[0];
    expect(s.url).toBe('ws://h/ws');
    const p1 = t.api.listConversations({});
    const p2 = t.api.getConversation({ conversationId: 'nope' });
    expect(s.sent).toEqual([]);            // queued until the socket opens
    s.open();
    const [f1, f2] = s.frames();
    expect(f1).toEqual({ kind: 'request', id: f1.id, method: 'listConversations', params: {} });
    expect(f2).toMatchObject({ kind: 'request', method: 'getConversation', params: { conversationId: 'nope' } });
    expect(f1.id).not.toBe(f2.id);
    s.reply({ kind: 'response', id: f2.id, ok: false, error: { code: 'not_found', message: 'no conversation nope' } });
    s.reply({ kind: 'response', id: f1.id, ok: true, result: [{ id: 'c1' }] });
    await expect(p1).resolves.toEqual([{ id: 'c1' }]);
    const err = await p2.catch((e) => e);
    expect(err).toBeInstanceOf(ContractError);
    expect(err).toMatchObject({ code: 'not_found', message: 'no conversation nope' });
  });

  it('delivers events to their subscribers only, until unsubscribed; ignores garbage frames', () => {
    const t = wsTransport('ws://h/ws', FakeSocket as never);
    const s = FakeSocket.all[0];
    s.open();
    const gen: unknown[] = []; const eng: unknown[] = [];
    const off = t.api.on('generation', (e) => gen.push(e));
    t.api.on('engineStatus', (e) => eng.push(e));
    s.reply({ kind: 'event', event: 'generation', payload: { type: 'content', conversationId: 'c', messageId: 'm', delta: 'hi' } });
    s.reply({ kind: 'event', event: 'engineStatus', payload: { state: 'crashed' } });
    s.fire('message', { data: 'not json{' });
    s.reply({ kind: 'response', id: 999, ok: true, result: 1 });   // nobody asked: dropped
    off();
    s.reply({ kind: 'event', event: 'generation', payload: { type: 'content', delta: 'later' } });
    expect(gen).toEqual([{ type: 'content', conversationId: 'c', messageId: 'm', delta: 'hi' }]);
    expect(eng).toEqual([{ state: 'crashed' }]);
  });

  it('fails in-flight requests on a drop, reports the connection, and reconnects', async () => {
    const t = wsTransport('ws://h/ws', FakeSocket as never);
    const states: boolean[] = [];
    t.onConnection((c) => states.push(c));
    const s = FakeSocket.all[0];
    s.open();
    const p = t.api.getSettings({});
    s.close();
    await expect(p).rejects.toBeInstanceOf(ContractError);
    expect(states).toEqual([true, false]);
    vi.advanceTimersByTime(5000);
    expect(FakeSocket.all.length).toBe(2);
    const s2 = FakeSocket.all[1];
    const q = t.api.getSettings({});
    s2.open();
    const f = s2.frames()[0];
    s2.reply({ kind: 'response', id: f.id, ok: true, result: { ok: 1 } });
    await expect(q).resolves.toEqual({ ok: 1 });
    expect(states).toEqual([true, false, true]);
    t.close();
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all.length).toBe(2);   // closed on purpose: no reconnect
  });

  it('derives the socket URL from the page', () => {
    expect(wsUrlFor({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/ws');
    expect(wsUrlFor({ protocol: 'https:', host: 'box:443' })).toBe('wss://box:443/ws');
  });
});

describe('IPC transport', () => {
  it('passes the preload verbs through and reports itself connected', async () => {
    const api = { getSettings: vi.fn(async () => ({ settings: 1 })), on: vi.fn(() => () => undefined) };
    const t = ipcTransport(api as never);
    await expect(t.api.getSettings({})).resolves.toEqual({ settings: 1 });
    const seen: boolean[] = [];
    t.onConnection((c) => seen.push(c));
    await Promise.resolve();
    expect(seen).toEqual([true]);
  });
});
