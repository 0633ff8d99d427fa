// The ToolService as the app uses it, over a real settings store and a real MCP server from npm
// (server-everything over stdio): an imported mcp.json server stays stopped until the user
// enables it; enabled, its tools appear under SERVER__TOOL with their schemas beside the
// built-ins; configurations survive a restart of the app and only enabled ones start again;
// built-in group names cannot be taken; read_file / list_dir run only in granted folders (a
// `..`, a symlink out and an absolute path elsewhere come back as errors the model reads).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractError } from '../../../../common/contract.ts';
import { FILES_SERVER, ToolService } from '../../../../main/services/tools/tool-service.ts';
import { openStore, type Store } from '../../../../main/store/index.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const EVERYTHING = join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const CALL = { timeoutMs: 15_000, signal: new AbortController().signal };

let dir: string;
let store: Store;
const services: ToolService[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kk-tool-service-'));
  store = openStore(join(dir, 'data'));
});
afterAll(async () => {
  for (const s of services) await s.shutdown();
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
function service(): ToolService { const s = new ToolService(store.settings); services.push(s); return s; }
const mcpJson = JSON.stringify({ mcpServers: { everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] } } });

describe('tool service', () => {
  it('an imported server starts only once enabled; its tools then sit beside the built-ins', async () => {
    const tools = service();
    const [imported] = await tools.importJson(mcpJson);
    expect(imported).toMatchObject({ state: 'stopped', pid: null, tools: [], config: { name: 'everything', enabled: false } });
    tools.start();   // what the app does at start-up: nothing enabled, nothing starts
    expect(tools.views()[0].state).toBe('stopped');
    expect(tools.has('everything__echo')).toBe(false);
    const names = tools.list().map((t) => t.spec.function.name);
    expect(names).toEqual(['get_weather', 'calculator', 'get_time', 'read_file', 'list_dir']);

    const on = await tools.setEnabled('everything', true);
    expect(on.state, on.error ?? '').toBe('running');
    expect(on.pid).toBeGreaterThan(0);
    const echo = tools.resolve('everything__echo')!;
    expect(echo).toMatchObject({ server: 'everything', tool: 'echo' });
    expect(echo.schema).toMatchObject({ properties: { message: { type: 'string' } } });
    expect(tools.specs(['everything__echo', 'get_weather', 'nope']).map((s) => s.function.name)).toEqual(['everything__echo', 'get_weather']);
    expect((await echo.run({ message: 'via the service' }, CALL)).result).toContain('via the service');
    expect(tools.log('everything').some((l) => /connected/.test(l.text))).toBe(true);

    const off = await tools.setEnabled('everything', false);
    expect(off.state).toBe('stopped');
    expect(tools.has('everything__echo')).toBe(false);
    await tools.setEnabled('everything', true);
  });

  it('configurations survive a restart of the app; only enabled servers start again', async () => {
    const before = services[0];
    await before.importJson(JSON.stringify({ mcpServers: { dormant: { command: process.execPath, args: [EVERYTHING, 'stdio'] } } }));
    await before.shutdown();
    const after = service();
    expect(after.views().map((v) => [v.config.name, v.config.enabled, v.state])).toEqual([['everything', true, 'stopped'], ['dormant', false, 'stopped']]);
    after.start();
    await expect.poll(() => after.views().find((v) => v.config.name === 'everything')!.state, { timeout: 20_000 }).toBe('running');
    expect(after.views().find((v) => v.config.name === 'dormant')!.state).toBe('stopped');
    expect(await after.remove('dormant')).toBe(true);
    expect(await after.remove('dormant')).toBe(false);
    expect(service().views().map((v) => v.config.name)).toEqual(['everything']);
  });

  it('the built-in group names and unknown servers are refused with a reason', async () => {
    const tools = service();
    await expect(tools.save({ name: FILES_SERVER, transport: 'http', url: 'http://127.0.0.1:1/mcp', headers: {}, enabled: false })).rejects.toThrow(ContractError);
    await expect(tools.save({ name: 'demo', transport: 'http', url: 'http://127.0.0.1:1/mcp', headers: {}, enabled: false })).rejects.toThrow(/built-in/);
    await expect(tools.restart('nope')).rejects.toThrow(/no MCP server named 'nope'/);
    await expect(tools.importJson('{"mcpServers": 3}')).rejects.toThrow(/mcpServers/);
    expect(() => tools.setGrantedFolders([join(dir, 'missing')])).toThrow(/not an existing folder/);
  });

  it('read_file and list_dir run only inside granted folders; escapes are errors the model reads', async () => {
    const tools = service();
    const granted = join(dir, 'granted');
    const secret = join(dir, 'secret');
    mkdirSync(granted); mkdirSync(secret);
    writeFileSync(join(granted, 'a.txt'), 'inside');
    writeFileSync(join(secret, 'key.txt'), 'TOP SECRET');
    symlinkSync(join(secret, 'key.txt'), join(granted, 'out.txt'));
    const read = tools.resolve('read_file')!;
    expect(read.server).toBe(FILES_SERVER);
    // Nothing granted yet.
    expect(JSON.parse((await read.run({ path: 'a.txt' }, CALL)).result).error).toMatch(/no folder is granted/);
    expect(tools.setGrantedFolders([granted, granted])).toEqual([granted]);
    expect(service().grantedFolders()).toEqual([granted]);
    expect(await read.run({ path: 'a.txt' }, CALL)).toEqual({ result: 'inside', isError: false });
    for (const path of ['../secret/key.txt', 'out.txt', join(secret, 'key.txt')]) {
      const r = await read.run({ path }, CALL);
      expect(r.isError, path).toBe(true);
      expect(r.result, path).not.toContain('TOP SECRET');
      expect(JSON.parse(r.result).error, path).toMatch(/outside the granted folders/);
    }
    const list = await tools.resolve('list_dir')!.run({}, CALL);
    expect(JSON.parse(list.result).entries.map((e: { name: string }) => e.name)).toEqual(['a.txt', 'out.txt']);
    expect(JSON.parse((await tools.resolve('list_dir')!.run({ path: '..' }, CALL)).result).error).toMatch(/outside/);
  });
});
