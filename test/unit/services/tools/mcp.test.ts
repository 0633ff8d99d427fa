// The MCP client against the reference servers installed from npm: server-everything over stdio
// and over Streamable HTTP, server-filesystem over stdio. Tools are listed with their schemas,
// calls return, a server killed mid-call is reported (the call fails with the reason, the state
// is 'crashed', the log says so) and restart brings it back; mcp.json in the common shape imports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { McpConnection, parseMcpJson } from '../../../../main/services/tools/mcp.ts';
import { parseArguments } from '../../../../main/services/tools/runner.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const EVERYTHING = join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const FILESYSTEM = join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js');
const CALL_MS = 15_000;
/** The long-running tool's duration (s): long enough to be killed in the middle. */
const LONG_OP_S = 20;

const conns: McpConnection[] = [];
const procs: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of conns) await c.stop();
  for (const p of procs) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function stdio(name: string, args: string[]): McpConnection {
  const c = new McpConnection({ name, transport: 'stdio', command: process.execPath, args, env: {}, cwd: null, enabled: true });
  conns.push(c);
  return c;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port')))); });
  });
}

async function until(pred: () => boolean, ms = CALL_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error('condition not reached'); await new Promise((r) => setTimeout(r, 50)); }
}

describe('MCP over stdio: server-everything', () => {
  it('lists tools with schemas and returns a call', async () => {
    const c = stdio('everything', [EVERYTHING, 'stdio']);
    await c.start();
    expect(c.state, c.error ?? '').toBe('running');
    const echo = c.tools.find((t) => t.name === 'echo');
    expect(echo?.inputSchema).toMatchObject({ type: 'object', properties: { message: { type: 'string' } } });
    // The schema is what the runner validates against before approval.
    expect(parseArguments('{}', echo!.inputSchema).ok).toBe(false);
    const r = await c.call('echo', { message: 'hi from karakoram' }, { timeoutMs: CALL_MS });
    expect(r.isError).toBe(false);
    expect(r.result).toContain('hi from karakoram');
    const sum = await c.call('get-sum', { a: 17, b: 23 }, { timeoutMs: CALL_MS });
    expect(sum.result).toContain('40');
    expect(c.log.some((l) => /connected/.test(l.text))).toBe(true);
  });

  it('a server killed mid-call: the call fails with the reason, the state is crashed, restart brings it back', async () => {
    const c = stdio('everything-crash', [EVERYTHING, 'stdio']);
    await c.start();
    expect(c.state).toBe('running');
    const pid = c.pid!;
    expect(pid).toBeGreaterThan(0);
    const call = c.call('trigger-long-running-operation', { duration: LONG_OP_S, steps: 5 }, { timeoutMs: CALL_MS });
    setTimeout(() => process.kill(pid, 'SIGKILL'), 300);
    const r = await call;
    expect(r.isError).toBe(true);
    expect(JSON.parse(r.result).error).toMatch(/everything-crash/);
    await until(() => c.state === 'crashed');
    expect(c.error).toMatch(/exited/);
    expect(c.log.some((l) => /exited/.test(l.text))).toBe(true);
    const after = await c.call('echo', { message: 'x' }, { timeoutMs: CALL_MS });
    expect(JSON.parse(after.result).error).toMatch(/not running/);
    await c.restart();
    expect(c.state).toBe('running');
    expect((await c.call('echo', { message: 'back' }, { timeoutMs: CALL_MS })).result).toContain('back');
  });

  it('a per-call timeout ends a call the server does not finish in time', async () => {
    const c = stdio('everything-slow', [EVERYTHING, 'stdio']);
    await c.start();
    const r = await c.call('trigger-long-running-operation', { duration: LONG_OP_S, steps: 2 }, { timeoutMs: 300 });
    expect(r.isError).toBe(true);
    expect(JSON.parse(r.result).error).toMatch(/timed out|timeout/i);
    expect(c.state).toBe('running');
  });

  it('a command that does not exist is an error with the reason, not a crash of ours', async () => {
    const c = new McpConnection({ name: 'nope', transport: 'stdio', command: '/nonexistent/mcp-server', args: [], env: {}, cwd: null, enabled: true });
    conns.push(c);
    await c.start();
    expect(c.state).toBe('error');
    expect(c.error).toBeTruthy();
  });
});

describe('MCP over stdio: server-filesystem', () => {
  it('lists its tools and reads a file in the folder it was given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kk-mcpfs-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'hello.txt'), 'hello from the filesystem server');
    const c = stdio('filesystem', [FILESYSTEM, dir]);
    await c.start();
    expect(c.state, c.error ?? '').toBe('running');
    expect(c.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['read_text_file', 'list_directory']));
    const r = await c.call('read_text_file', { path: join(dir, 'hello.txt') }, { timeoutMs: CALL_MS });
    expect(r.isError).toBe(false);
    expect(r.result).toContain('hello from the filesystem server');
    const denied = await c.call('read_text_file', { path: '/etc/hostname' }, { timeoutMs: CALL_MS });
    expect(denied.isError).toBe(true);
  });
});

describe('MCP over Streamable HTTP: server-everything', () => {
  it('lists tools, returns a call, and reports the server going away mid-call', async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(proc);
    let out = '';
    proc.stderr!.on('data', (d) => { out += d; });
    proc.stdout!.on('data', (d) => { out += d; });
    await until(() => /listening on port/.test(out));
    const c = new McpConnection({ name: 'everything-http', transport: 'http', url: `http://127.0.0.1:${port}/mcp`, headers: {}, enabled: true });
    conns.push(c);
    await c.start();
    expect(c.state, c.error ?? '').toBe('running');
    expect(c.tools.map((t) => t.name)).toContain('echo');
    expect((await c.call('echo', { message: 'over http' }, { timeoutMs: CALL_MS })).result).toContain('over http');
    const started = Date.now();
    const call = c.call('trigger-long-running-operation', { duration: LONG_OP_S, steps: 5 }, { timeoutMs: CALL_MS });
    setTimeout(() => proc.kill('SIGKILL'), 300);
    const r = await call;
    // Reported when the connection goes, not when the call's timeout runs out.
    expect(Date.now() - started).toBeLessThan(CALL_MS);
    expect(r.isError).toBe(true);
    expect(JSON.parse(r.result).error).toMatch(/everything-http/);
    expect(JSON.parse(r.result).error).toMatch(/unreachable/);
    await until(() => c.state === 'crashed');
  });
});

describe('mcp.json', () => {
  it('imports the common mcpServers shape, disabled until enabled', () => {
    const servers = parseMcpJson(JSON.stringify({
      mcpServers: {
        fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { A: '1' } },
        remote: { url: 'http://127.0.0.1:3001/mcp', headers: { Authorization: 'Bearer x' } },
      },
    }));
    expect(servers).toEqual([
      { name: 'fs', transport: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { A: '1' }, cwd: null, enabled: false },
      { name: 'remote', transport: 'http', url: 'http://127.0.0.1:3001/mcp', headers: { Authorization: 'Bearer x' }, enabled: false },
    ]);
  });
  it('says what is wrong with a bad file', () => {
    expect(() => parseMcpJson('{')).toThrow(/not valid JSON/);
    expect(() => parseMcpJson('{"servers": {}}')).toThrow(/no "mcpServers"/);
    expect(() => parseMcpJson('{"mcpServers": {"x": {"args": []}}}')).toThrow(/server 'x': command/);
    expect(() => parseMcpJson('{"mcpServers": {"bad name": {"command": "a"}}}')).toThrow(/server 'bad name'/);
  });
});
