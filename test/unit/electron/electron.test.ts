// The Electron pieces that can run without Electron's binary: the preload, bundled exactly as
// the app bundles it and run in a fresh V8 context with a recording stand-in for the two Electron
// modules a sandboxed preload may use; and the app:// protocol handler.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { buildPreload } from '../../../main/electron/preload-build.ts';
import { serveApp } from '../../../main/electron/app-protocol.ts';
import { IPC_EVENT_CHANNEL, IPC_REQUEST_CHANNEL, requestNames } from '../../../common/contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'kk-electron-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loadPreload() {
  const file = await buildPreload(join(dir, 'preload.cjs'));
  const exposed: Record<string, unknown> = {};
  const invokes: unknown[][] = [];
  let eventListener: ((e: unknown, ...args: unknown[]) => void) | null = null;
  const replies = new Map<string, unknown>();
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => { exposed[key] = api; } },
    ipcRenderer: {
      invoke: async (...args: unknown[]) => { invokes.push(args); return replies.get(args[1] as string); },
      on: (channel: string, cb: (e: unknown, ...args: unknown[]) => void) => { if (channel === IPC_EVENT_CHANNEL) eventListener = cb; },
    },
  };
  const required: string[] = [];
  const sandbox = {
    require: (m: string) => { required.push(m); if (m === 'electron') return electron; throw new Error(`a sandboxed preload cannot require ${m}`); },
    module: { exports: {} }, exports: {}, console,
  };
  runInNewContext(readFileSync(file, 'utf8'), sandbox);
  return { exposed, invokes, replies, required, emit: (event: string, payload: unknown) => eventListener?.({}, event, payload) };
}

describe('preload', () => {
  it('exposes one verb per contract request and on(), never ipcRenderer', async () => {
    const p = await loadPreload();
    expect(p.required).toEqual(['electron']);
    expect(Object.keys(p.exposed)).toEqual(['karakoram']);
    const api = p.exposed.karakoram as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...requestNames, 'on'].sort());
    for (const v of Object.values(api)) expect(typeof v).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('unwraps responses, turns errors into rejections and routes events', async () => {
    const p = await loadPreload();
    const api = p.exposed.karakoram as Record<string, (...a: unknown[]) => unknown>;
    p.replies.set('listConversations', { kind: 'response', id: 0, ok: true, result: [{ id: 'c' }] });
    p.replies.set('getConversation', { kind: 'response', id: 0, ok: false, error: { code: 'not_found', message: 'conversation x not found' } });
    await expect(api.listConversations({})).resolves.toEqual([{ id: 'c' }]);
    await expect(api.getConversation({ conversationId: 'x' })).rejects.toThrow(/conversation x not found/);
    expect(p.invokes).toEqual([[IPC_REQUEST_CHANNEL, 'listConversations', {}], [IPC_REQUEST_CHANNEL, 'getConversation', { conversationId: 'x' }]]);
    const got: unknown[] = [];
    const off = api.on('engineStatus', (s: unknown) => got.push(s)) as () => void;
    p.emit('engineStatus', { state: 'ready' });
    p.emit('generation', { type: 'content' });
    off();
    p.emit('engineStatus', { state: 'crashed' });
    expect(got).toEqual([{ state: 'ready' }]);
    expect(() => api.on('nope', () => {})).toThrow(/unknown event/);
  });
});

describe('app:// protocol', () => {
  const app = join(dir, 'app');
  mkdirSync(join(app, 'assets'), { recursive: true });
  writeFileSync(join(app, 'index.html'), '<!doctype html><title>kk</title>');
  writeFileSync(join(app, 'assets', 'a.js'), 'x');
  writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');

  it('serves the renderer with the CSP and nothing outside it', async () => {
    const r = serveApp(app, 'app://karakoram/index.html');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await serveApp(app, 'app://karakoram/some/route').text()).toContain('<title>kk</title>');
    expect(serveApp(app, 'app://karakoram/assets/a.js').headers.get('content-type')).toMatch(/javascript/);
    expect(serveApp(app, 'app://karakoram/assets/missing.js').status).toBe(404);
    for (const u of ['app://karakoram/../secret.txt', 'app://karakoram/%2e%2e/secret.txt', 'app://karakoram/..%2fsecret.txt']) {
      expect(await serveApp(app, u).text(), u).not.toContain('TOP SECRET');
    }
  });
});
