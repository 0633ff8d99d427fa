// Office-server access: LAN bind refused without a key; every route (HTTP API, metrics, static
// app, WebSocket) refused without a credential; a browser logs in with a key; a revoked key stops
// at once (its socket closes); keys are stored only as keyed hashes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Core } from '../../../main/services/core.ts';
import { Access } from '../../../main/server/auth/access.ts';
import { checkBind, startServer, type RunningServer } from '../../../main/server/server.ts';

let dir: string;
let core: Core;
let access: Access;
let srv: RunningServer;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kk-auth-'));
  const appDir = join(dir, 'app');
  mkdirSync(appDir, { recursive: true });
  writeFileSync(join(appDir, 'index.html'), '<!doctype html><title>the app</title>');
  core = new Core({ dataDir: join(dir, 'data'), noModel: true, autoRestart: false });
  access = new Access(core.store.keys, join(dir, 'data'));
  srv = await startServer(core, { host: '127.0.0.1', port: 0, appDir, access });
  base = `http://127.0.0.1:${srv.port}`;
});
afterAll(async () => {
  await srv?.close();
  access?.dispose();
  await core?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function socket(headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('access', () => {
  it('refuses to listen beyond loopback without an API key', async () => {
    expect(() => checkBind('0.0.0.0', access)).toThrow(/needs at least one API key/);
    await expect(startServer(core, { host: '0.0.0.0', port: 0, appDir: dir, access })).rejects.toThrow(/needs at least one API key/);
    expect(() => checkBind('127.0.0.1', access)).not.toThrow();
  });

  it('refuses every route without a credential', async () => {
    for (const [path, method] of [['/', 'GET'], ['/index.html', 'GET'], ['/some/route', 'GET'], ['/metrics', 'GET'], ['/v1/models', 'GET'], ['/v1/chat/completions', 'POST'], ['/v1/messages', 'POST'], ['/v1/completions', 'POST'], ['/v1/responses', 'POST'], ['/v1/messages/count_tokens', 'POST']] as const) {
      const r = await fetch(`${base}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
      expect(r.status, path).toBe(401);
      expect(await r.text(), path).not.toContain('the app');
    }
    const health = await (await fetch(`${base}/healthz`)).json();
    expect(health).toEqual({ ok: true });   // says it is up, nothing more
    await expect(socket({})).rejects.toThrow(/401/);
    await expect(socket({ authorization: 'Bearer kk-000000000000-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).rejects.toThrow(/401/);
  });

  it('a key opens the API, the socket, and (after login) the app; revoking it stops it at once', async () => {
    const { key, row } = access.createKey({ name: 'desk 3' });
    expect(() => checkBind('0.0.0.0', access)).not.toThrow();
    const auth = { authorization: `Bearer ${key}` };
    expect((await fetch(`${base}/v1/models`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${base}/v1/models`, { headers: { 'x-api-key': key } })).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { headers: auth })).status).toBe(200);
    const login = await fetch(`${base}/auth/login`, { method: 'POST', body: JSON.stringify({ key }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    expect(await (await fetch(`${base}/`, { headers: { cookie } })).text()).toContain('the app');
    // The API takes keys only, never the browser cookie (no other page can spend it).
    expect((await fetch(`${base}/v1/models`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${base}/auth/login`, { method: 'POST', body: JSON.stringify({ key: `${key}x` }) })).status).toBe(401);

    const ws = await socket({ cookie });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    // A plain key may chat but not manage the machine.
    const reply = new Promise<Record<string, unknown>>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ kind: 'request', id: 1, method: 'loadModel', params: { dir: '/etc' } }));
    expect(await reply).toMatchObject({ id: 1, ok: false, error: { code: 'forbidden' } });

    expect(access.revokeKey(row.id)).toBe(true);
    expect(await closed).toBe(4401);
    expect((await fetch(`${base}/v1/models`, { headers: auth })).status).toBe(401);
    expect((await fetch(`${base}/`, { headers: { cookie } })).status).toBe(401);
    await expect(socket(auth)).rejects.toThrow(/401/);
  });

  it('a plain key cannot set up tools: no MCP server (a command run here), folder or policy change', async () => {
    const { key } = access.createKey({ name: 'desk 4' });
    const ws = await socket({ authorization: `Bearer ${key}` });
    const replies = new Map<number, Record<string, unknown>>();
    ws.on('message', (d) => { const m = JSON.parse(d.toString()); if (m.kind === 'response') replies.set(m.id, m); });
    const stdio = { name: 'evil', transport: 'stdio', command: 'touch', args: [join(dir, 'pwned')], env: {}, cwd: null, enabled: true };
    const calls: Array<[string, unknown]> = [
      ['saveMcpServer', { config: stdio }],
      ['importMcpJson', { text: JSON.stringify({ mcpServers: { evil: { command: 'touch', args: [join(dir, 'pwned')] } } }) }],
      ['setMcpServerEnabled', { name: 'evil', enabled: true }],
      ['restartMcpServer', { name: 'evil' }],
      ['deleteMcpServer', { name: 'evil' }],
      ['getMcpLog', { name: 'evil' }],
      ['setGrantedFolders', { folders: ['/'] }],
      ['revokePolicy', { scope: 'server', server: 'demo', tool: null }],
      ['allowServer', { server: 'everything' }],
      // A policy stored for everyone, even from a card.
      ['decideToolCall', { conversationId: 'c1', callId: 'functions.get_weather:0', kind: 'always_tool' }],
    ];
    calls.forEach(([method, params], i) => ws.send(JSON.stringify({ kind: 'request', id: 100 + i, method, params })));
    // Reading the set-up is fine (the Tools page shows it), and so is a one-time answer to a card.
    ws.send(JSON.stringify({ kind: 'request', id: 99, method: 'listMcpServers', params: {} }));
    ws.send(JSON.stringify({ kind: 'request', id: 98, method: 'decideToolCall', params: { conversationId: 'c1', callId: 'functions.get_weather:0', kind: 'allow_once' } }));
    await expect.poll(() => replies.size, { timeout: 10_000 }).toBe(calls.length + 2);
    expect(replies.get(98)).toMatchObject({ ok: true, result: { decided: false } });
    calls.forEach(([method], i) => expect(replies.get(100 + i), method).toMatchObject({ ok: false, error: { code: 'forbidden' } }));
    expect(replies.get(99)).toMatchObject({ ok: true, result: [] });
    expect(core.tools.views()).toEqual([]);
    expect(core.tools.grantedFolders()).toEqual([]);
    expect(core.approvals.policies()).toEqual([expect.objectContaining({ server: 'demo' })]);
    expect(readdirSync(dir)).not.toContain('pwned');
    ws.close();
  });

  it('stores keys only as keyed hashes: no key text in the database files', () => {
    const { key } = access.createKey({ name: 'scan me' });
    const owner = readFileSync(access.ownerKeyFile, 'utf8').trim();
    core.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const dataDir = join(dir, 'data');
    const dbFiles = readdirSync(dataDir).filter((f) => f.startsWith('karakoram.sqlite'));
    expect(dbFiles.length).toBeGreaterThan(0);
    // kk-<id>-<secret>: the secret is base64url, which may itself hold '-', so cut at the id only.
    const secretOf = (k: string) => k.slice(k.indexOf('-', 'kk-'.length) + 1);
    const secretPart = secretOf(key);
    expect(secretPart.length).toBe(43);
    for (const f of dbFiles) {
      const bytes = readFileSync(join(dataDir, f)).toString('latin1');
      expect(bytes, f).not.toContain(secretPart);
      expect(bytes, f).not.toContain(secretOf(owner));
    }
    const row = core.store.keys.list().find((k) => k.name === 'scan me')!;
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
