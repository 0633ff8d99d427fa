// Real MCP servers from the npm registry (server-everything over stdio and over Streamable HTTP,
// server-filesystem over stdio) through the whole agent loop: the ToolService lists their tools
// with schemas, the chat service declares them, the model (the demo model's text layer over a
// scripted engine) calls one, the call waits on an approval card, is allowed, runs on the server
// and its result is what the model reads next. A server killed mid-call is reported to the model
// as a tool error and on the Tools page (state 'crashed', the log says the process exited); the
// conversation is intact (every message stored, in order) and the next turn works after a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpServerConfig, Message } from '../../../../common/contract.ts';
import { ChatService } from '../../../../main/services/chat-service.ts';
import { EventBus } from '../../../../main/services/events.ts';
import { ApprovalBroker } from '../../../../main/services/tools/approval.ts';
import { ToolService } from '../../../../main/services/tools/tool-service.ts';
import { openStore, type Store } from '../../../../main/store/index.ts';
import { SqlitePolicyStore } from '../../../../main/store/tool-policy-store.ts';
import { k2Answer, k2Call, k2Calls, scriptedModel, type ScriptedModel } from '../../../support/scripted-model.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const EVERYTHING = join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const FILESYSTEM = join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js');
/** Per-call timeout: far longer than a kill takes to be noticed, shorter than the long operation. */
const CALL_TIMEOUT_MS = 30_000;
/** The long-running tool's duration (s): it must still be running when the server is killed. */
const LONG_OP_S = 60;
const WAIT_MS = 20_000;

let dir: string;
let store: Store;
let tools: ToolService;
let broker: ApprovalBroker;
let chat: ChatService;
let sm: ScriptedModel;
const procs: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kk-mcp-loop-'));
  store = openStore(dir);
  sm = await scriptedModel();
  tools = new ToolService(store.settings);
  // Nothing is allowed in advance: every MCP call below waits on a card.
  broker = new ApprovalBroker(new SqlitePolicyStore(store.db));
  chat = new ChatService(store.chats, store.settings, sm.models, tools, broker, new EventBus(), null, null,
    { timeoutMs: CALL_TIMEOUT_MS, maxResultChars: 64 * 1024, parallel: 4 });
});
afterAll(async () => {
  await chat?.stopAll();
  await tools?.shutdown();
  for (const p of procs) p.kill('SIGKILL');
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function until(pred: () => boolean, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error('condition not reached'); await new Promise((r) => setTimeout(r, 20)); }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port')))); });
  });
}

/** server-everything in its Streamable HTTP mode on `port`, resolved once it listens. */
async function httpEverything(port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  proc.stderr!.on('data', (d) => { out += d; });
  proc.stdout!.on('data', (d) => { out += d; });
  await until(() => /listening on port/.test(out));
  return proc;
}

/** Waits for the one card of this conversation and answers it; returns what the card showed. */
async function approve(conv: string, kind: 'allow_once' | 'allow_conversation') {
  await until(() => broker.pending(conv).length === 1);
  const [req] = broker.pending(conv);
  expect(broker.decide(conv, req.callId, { kind })).toBe(true);
  return req;
}

const roles = (ms: Message[]) => ms.map((m) => m.role);

/**
 * The same story over any transport: a call approved and returned; a kill mid-call reported to
 * the model and the Tools page; the conversation intact; the next turn works after a restart.
 */
async function story(name: string, config: McpServerConfig, kill: () => void, revive: () => Promise<void>): Promise<void> {
  const view = await tools.save(config);
  expect(view.state, view.error ?? '').toBe('running');
  // Listed with their schemas, under SERVER__TOOL.
  const echo = tools.list().find((t) => t.spec.function.name === `${name}__echo`);
  expect(echo).toMatchObject({ source: 'mcp', server: name });
  expect(echo!.spec.function.parameters).toMatchObject({ type: 'object', properties: { message: { type: 'string' } } });
  const longOp = `${name}__trigger-long-running-operation`;
  expect(tools.has(longOp)).toBe(true);
  const conv = store.chats.createConversation({ tools: [`${name}__echo`, longOp] });

  // 1. A call waits on a card, is allowed, returns, and the model reads its result.
  sm.script.push(k2Calls(k2Call(`${name}__echo`, '{"message": "hello over mcp"}')), k2Answer('The server echoed it.'));
  const first = sm.prompts.length;
  chat.sendMessage(conv, 'echo it');
  const req = await approve(conv, 'allow_conversation');
  expect(req).toMatchObject({ server: name, tool: 'echo', arguments: '{"message":"hello over mcp"}' });
  await chat.idle(conv);
  let msgs = chat.getConversation(conv).messages;
  expect(roles(msgs)).toEqual(['user', 'assistant', 'tool', 'assistant']);
  expect(msgs[1].toolCalls[0]).toMatchObject({ status: 'done', server: name, approvedBy: 'user' });
  expect(msgs[2].content).toContain('hello over mcp');
  expect(sm.promptHas(first + 1, msgs[2].content)).toBe(true);
  expect(msgs[3]).toMatchObject({ content: 'The server echoed it.', status: 'complete' });

  // 2. The server is killed while an approved call runs: the model is told, and so is the user.
  sm.script.push(k2Calls(k2Call(longOp, `{"duration": ${LONG_OP_S}, "steps": 5}`)), k2Answer('The tool server failed.'));
  const { assistantMessageId } = chat.sendMessage(conv, 'run the long one');
  await approve(conv, 'allow_once');
  await until(() => store.chats.getMessage(assistantMessageId).toolCalls[0]?.status === 'running');
  const killedAt = Date.now();
  kill();
  await chat.idle(conv);
  // Reported when the server went, not when the call's timeout ran out.
  expect(Date.now() - killedAt).toBeLessThan(CALL_TIMEOUT_MS);
  msgs = chat.getConversation(conv).messages;
  expect(roles(msgs)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
  const failed = msgs[6];
  expect(JSON.parse(failed.content).error).toMatch(new RegExp(`MCP server '${name}'`));
  expect(msgs[5].toolCalls[0]).toMatchObject({ status: 'error', server: name });
  expect(sm.promptHas(sm.prompts.length - 1, failed.content)).toBe(true);
  expect(msgs[7]).toMatchObject({ content: 'The tool server failed.', status: 'complete' });
  await until(() => tools.views().find((v) => v.config.name === name)?.state === 'crashed');
  expect(tools.views().find((v) => v.config.name === name)!.error).toMatch(/exited|closed|unreachable/);
  expect(tools.log(name).map((l) => l.text).join('\n')).toMatch(/exited|closed|unreachable/);
  // A crashed server's tools are no longer offered.
  expect(tools.has(`${name}__echo`)).toBe(false);

  // 3. Restart on demand; the next turn of the same conversation runs a call again (the
  //    allowance for this conversation still holds: no card).
  await revive();
  expect((await tools.restart(name)).state).toBe('running');
  sm.script.push(k2Calls(k2Call(`${name}__echo`, '{"message": "back again"}')), k2Answer('It is back.'));
  chat.sendMessage(conv, 'again');
  await chat.idle(conv);
  expect(broker.pending(conv)).toEqual([]);
  msgs = chat.getConversation(conv).messages;
  expect(msgs).toHaveLength(12);
  expect(msgs[9].toolCalls[0]).toMatchObject({ status: 'done', approvedBy: 'conversation' });
  expect(msgs[10].content).toContain('back again');
  expect(msgs[11].content).toBe('It is back.');
  // Everything is in the database, not only in memory.
  expect(store.chats.getConversation(conv).messages.map((m) => m.content)).toEqual(msgs.map((m) => m.content));
}

describe('real MCP servers through the agent loop', () => {
  it('stdio (server-everything): listed, approved and returned; killed mid-call → reported; intact; next turn works', async () => {
    await story('everything', { name: 'everything', transport: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'], env: {}, cwd: null, enabled: true },
      () => {
        const pid = tools.views().find((v) => v.config.name === 'everything')!.pid;
        expect(pid).toBeGreaterThan(0);
        process.kill(pid!, 'SIGKILL');
      },
      async () => { /* restart spawns a new process */ });
  });

  it('Streamable HTTP (server-everything): the same', async () => {
    const port = await freePort();
    let proc = await httpEverything(port);
    await story('everything_http', { name: 'everything_http', transport: 'http', url: `http://127.0.0.1:${port}/mcp`, headers: {}, enabled: true },
      () => { proc.kill('SIGKILL'); },
      async () => { proc = await httpEverything(port); });
  });

  it('stdio (server-filesystem): a file read through an approved call reaches the model', async () => {
    const folder = mkdtempSync(join(dir, 'fs-'));
    writeFileSync(join(folder, 'plan.txt'), 'step one: approve every call');
    const view = await tools.save({ name: 'fs', transport: 'stdio', command: process.execPath, args: [FILESYSTEM, folder], env: {}, cwd: null, enabled: true });
    expect(view.state, view.error ?? '').toBe('running');
    expect(view.tools.map((t) => t.exposedAs)).toEqual(expect.arrayContaining(['fs__read_text_file', 'fs__list_directory']));
    const conv = store.chats.createConversation({ tools: ['fs__read_text_file'] });
    const path = JSON.stringify(join(folder, 'plan.txt'));
    // A schema-invalid call first (no path): back to the model before any card, then the fix.
    sm.script.push(k2Calls(k2Call('fs__read_text_file', '{"file": "plan.txt"}')), k2Calls(k2Call('fs__read_text_file', `{"path": ${path}}`)), k2Answer('Step one is to approve.'));
    chat.sendMessage(conv, 'read the plan');
    await approve(conv, 'allow_once');
    await chat.idle(conv);
    const msgs = chat.getConversation(conv).messages;
    expect(roles(msgs)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant']);
    expect(msgs[2].content).toMatch(/do not match the tool's schema.*'path'/);
    expect(msgs[4].content).toContain('step one: approve every call');
    expect(sm.promptHas(sm.prompts.length - 1, 'step one: approve every call')).toBe(true);
    expect(msgs[5].content).toBe('Step one is to approve.');
  });
});
