// `karakoram serve`'s server: static renderer with CSP, and the contract over a WebSocket —
// bad frames and bad params get clear errors, never a crash; requests and events round-trip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Core } from '../../../main/services/core.ts';
import { startServer, type RunningServer } from '../../../main/server/server.ts';
import { Access } from '../../../main/server/auth/access.ts';
import { createWsClient, type WsClient } from '../../../common/ws-client.ts';
import { keyedSocket } from '../../support/keyed-socket.ts';
import type { EventPayload, KarakoramApi } from '../../../common/contract.ts';

let dir: string;
let core: Core;
let srv: RunningServer;
let client: WsClient;
let api: KarakoramApi;
let access: Access;
let ownerKey: string;


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kk-server-'));
  const appDir = join(dir, 'app');
  mkdirSync(join(appDir, 'assets'), { recursive: true });
  writeFileSync(join(appDir, 'index.html'), '<!doctype html><title>kk</title><script type="module" src="/assets/main.js"></script>');
  writeFileSync(join(appDir, 'assets', 'main.js'), 'console.log(1)');
  core = new Core({ dataDir: join(dir, 'data'), noModel: true, autoRestart: false, checkResults: true });
  access = new Access(core.store.keys, join(dir, 'data'));
  ownerKey = readFileSync(access.ownerKeyFile, 'utf8').trim();
  srv = await startServer(core, { host: '127.0.0.1', port: 0, appDir, access });
  client = createWsClient(`ws://127.0.0.1:${srv.port}/ws`, keyedSocket(() => ownerKey));
  api = client.api;
  await client.ready;
});
afterAll(async () => {
  client?.close();
  await srv?.close();
  await core?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, headers: { authorization: `Bearer ${ownerKey}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function rawSocket(headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`, { headers: { authorization: `Bearer ${ownerKey}`, ...headers } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
}

describe('http', () => {
  it('serves the renderer with a strict CSP', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>kk</title>');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("object-src 'none'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/assets/main.js')).headers['content-type']).toMatch(/javascript/);
    expect((await get('/some/client/route')).body).toContain('<title>kk</title>');
    expect((await get('/assets/missing.js')).status).toBe(404);
  });

  it('never serves files outside the app directory', async () => {
    writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/..%2fsecret.txt']) {
      const r = await get(p);
      expect(r.body, p).not.toContain('TOP SECRET');
    }
    expect((await get('/%00')).status).toBe(400);
  });

  it('answers only loopback host names while bound to loopback (DNS rebinding)', async () => {
    expect((await get('/', { host: 'evil.example:80' })).status).toBe(403);
    expect((await get('/', { host: `localhost:${srv.port}` })).status).toBe(200);
    await expect(rawSocket({ host: 'evil.example', origin: 'http://evil.example' })).rejects.toThrow(/403/);
  });

  it('reports health', async () => {
    const r = await get('/healthz');
    expect(JSON.parse(r.body).engine.state).toBe('idle');
  });
});

describe('websocket', () => {
  it('answers malformed frames with errors and keeps serving', async () => {
    const ws = await rawSocket();
    ws.send('not json');
    expect(await nextMessage(ws)).toMatchObject({ kind: 'response', ok: false, error: { code: 'bad_request' } });
    ws.send(JSON.stringify({ kind: 'request', id: 7, method: 'nope', params: {} }));
    expect(await nextMessage(ws)).toMatchObject({ id: 7, ok: false, error: { code: 'bad_request', message: expect.stringMatching(/unknown method/) } });
    ws.send(JSON.stringify({ kind: 'request', id: 8, method: 'constructor', params: {} }));
    expect(await nextMessage(ws)).toMatchObject({ id: 8, ok: false, error: { code: 'bad_request' } });
    ws.send(JSON.stringify({ kind: 'request', id: 9, method: 'sendMessage', params: { conversationId: 'x' } }));
    expect(await nextMessage(ws)).toMatchObject({ id: 9, ok: false, error: { code: 'bad_request', message: expect.stringMatching(/content/) } });
    ws.send(JSON.stringify({ kind: 'request', id: 10, method: 'getConversation', params: { conversationId: 'missing' } }));
    expect(await nextMessage(ws)).toMatchObject({ id: 10, ok: false, error: { code: 'not_found' } });
    ws.send(JSON.stringify({ id: 11 }));
    expect(await nextMessage(ws)).toMatchObject({ id: 11, ok: false });
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await nextMessage(ws)).toMatchObject({ ok: false });
    ws.send(JSON.stringify({ kind: 'request', id: 12, method: 'listConversations', params: null }));
    expect(await nextMessage(ws)).toMatchObject({ id: 12, ok: true });
    ws.close();
  });

  it('refuses sockets from other origins', async () => {
    await expect(rawSocket({ origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const ok = await rawSocket({ origin: `http://127.0.0.1:${srv.port}` });
    ok.close();
  });

  it('runs the conversation verbs and publishes events', async () => {
    const events: EventPayload<'conversation'>[] = [];
    const off = api.on('conversation', (e) => events.push(e));
    const c = await api.createConversation({ tools: ['get_weather'] });
    expect(c.tools).toEqual(['get_weather']);
    await expect(api.createConversation({ tools: ['rm_rf'] })).rejects.toThrow(/unknown tool/);
    const renamed = await api.renameConversation({ conversationId: c.id, title: 'Weather chat' });
    expect(renamed.title).toBe('Weather chat');
    expect((await api.listConversations({})).map((x) => x.id)).toContain(c.id);
    expect((await api.listTools({})).map((t) => t.spec.function.name).sort()).toEqual(['calculator', 'get_time', 'get_weather', 'list_dir', 'read_file']);
    const withTools = await api.setConversationTools({ conversationId: c.id, tools: ['get_weather', 'calculator', 'get_time'] });
    expect(withTools.tools).toEqual(['get_weather', 'calculator', 'get_time']);
    expect((await api.setConversationTools({ conversationId: c.id, tools: [] })).tools).toEqual([]);
    await expect(api.setConversationTools({ conversationId: c.id, tools: ['nope'] })).rejects.toThrow(/unknown tool/);
    await expect(api.setConversationTools({ conversationId: 'missing', tools: [] })).rejects.toThrow(/not found/);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.some((e) => e.type === 'upserted' && e.conversation.title === 'Weather chat')).toBe(true);
    off();
  });

  it('a message sent with no model loaded ends in a visible error, stored', async () => {
    const c = await api.createConversation({});
    const gen: EventPayload<'generation'>[] = [];
    const off = api.on('generation', (e) => gen.push(e));
    const { userMessageId, assistantMessageId } = await api.sendMessage({ conversationId: c.id, content: 'Who are you?' });
    for (let i = 0; i < 100 && !gen.some((e) => e.type === 'finish'); i++) await new Promise((r) => setTimeout(r, 20));
    off();
    const fin = gen.find((e) => e.type === 'finish');
    expect(fin).toMatchObject({ messageId: assistantMessageId, reason: 'error', error: expect.stringMatching(/no model/) });
    const conv = await api.getConversation({ conversationId: c.id });
    expect(conv.title).toBe('Who are you?');
    expect(conv.messages.map((m) => m.id)).toEqual([userMessageId, assistantMessageId]);
    expect(conv.messages[1].status).toBe('error');
    expect(conv.generating).toBe(false);
    await expect(api.regenerate({ messageId: userMessageId })).rejects.toThrow(/assistant/);
    await expect(api.editAndBranch({ messageId: assistantMessageId, newContent: 'x' })).rejects.toThrow(/user message/);
  });

  it('exports and imports conversations (JSON keeps the tree, Markdown the branch)', async () => {
    const c = await api.createConversation({ title: 'Roundtrip' });
    const chats = core.store.chats;
    const u = chats.addMessage({ conversationId: c.id, parentId: null, role: 'user', content: 'Weather in Paris?' });
    chats.addMessage({ conversationId: c.id, parentId: u.id, role: 'assistant', content: 'First answer', reasoning: 'think 1' });
    chats.addMessage({ conversationId: c.id, parentId: u.id, role: 'assistant', content: 'Second answer', reasoning: 'think 2',
      toolCalls: [{ id: 'functions.get_weather:0', name: 'get_weather', arguments: '{"city": "Paris"}', status: 'done', result: '{"weather":"rainy"}', error: null, durationMs: 1 }] });
    const json = await api.exportConversation({ conversationId: c.id, format: 'json' });
    expect(json.filename).toBe('Roundtrip.json');
    const back = await api.importConversation({ data: json.data });
    expect(back.id).not.toBe(c.id);
    expect(back.messages.map((m) => m.content)).toEqual(['Weather in Paris?', 'Second answer']);
    expect(back.messages[1].siblingIds).toHaveLength(2);
    expect(back.messages[1].toolCalls[0].result).toBe('{"weather":"rainy"}');
    const md = await api.exportConversation({ conversationId: c.id, format: 'md' });
    expect(md.data).toContain('## Assistant');
    expect(md.data).toContain('Second answer');
    expect(md.data).toContain('get_weather');
    const fromMd = await api.importConversation({ data: md.data, format: 'md' });
    expect(fromMd.title).toBe('Roundtrip');
    expect(fromMd.messages.map((m) => [m.role, m.content, m.reasoning])).toEqual([['user', 'Weather in Paris?', ''], ['assistant', 'Second answer', 'think 2']]);
    await expect(api.importConversation({ data: '{"format":"other"}' })).rejects.toThrow(/not a Karakoram/);
    await expect(api.importConversation({ data: 'just text', format: 'md' })).rejects.toThrow(/sections/);
    const hits = await api.searchConversations({ query: 'second answer' });
    expect(hits.map((h) => h.conversation.id)).toContain(c.id);
    expect((await api.deleteConversation({ conversationId: c.id })).deleted).toBe(true);
    await expect(api.getConversation({ conversationId: c.id })).rejects.toThrow(/not found/);
  });

  it('settings validate and persist', async () => {
    const v = await api.updateSettings({ threads: 2, sampling: { temperature: 0 } });
    expect(v.settings.threads).toBe(2);
    await expect(api.updateSettings({ threads: -1 })).rejects.toThrow(/invalid params/);
    await expect(api.updateSettings({ defaultTools: ['nope'] })).rejects.toThrow(/unknown tool/);
    expect((await api.getSettings({})).settings.sampling).toEqual({ temperature: 0 });
  });

  it('inspects the bundled demo model and rejects non-model dirs', async () => {
    const models = await api.listLocalModels({});
    const demo = models.find((m) => m.source === 'bundled' && m.name === 'demo-k2');
    expect(demo?.label).toBe('Demo model (12M, offline)');
    const i = await api.inspectModel({ dir: demo!.dir });
    expect(i.experts).toEqual({ routed: 32, perToken: 4, shared: 1, intermediate: 128 });
    expect(i.params.total).toBeGreaterThan(11_000_000);
    expect(i.params.total).toBeLessThan(13_000_000);
    expect(i.params.activePerToken).toBeLessThan(i.params.total);
    expect(i.quantization).toMatch(/INT4.*group 32/);
    expect(i.memory.ramNeededBytes).toBeGreaterThan(i.memory.weightsBytes);
    expect(i.memory.ramTotalBytes).toBeGreaterThan(0);
    await expect(api.inspectModel({ dir })).rejects.toThrow(/config.json/);
  });
});
