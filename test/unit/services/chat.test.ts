// The chat service end to end with the real engine process and the demo model: reasoning then
// answer, a weather tool call answered by the demo tool and continued, stop, regenerate, edit and
// branch, and kill -9 of the engine mid-answer. Fails (never skips) where the engine is not built
// or cannot load the demo model: npm test builds the one and the repo ships the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Core } from '../../../main/services/core.ts';
import { DEMO_MODEL_DIR } from '../../../main/services/model-service.ts';
import { requireAddon } from '../../support/engine.ts';
import { GenerationEventSchema, type GenerationEvent } from '../../../common/contract.ts';

let dir: string;
let core: Core;
const events: GenerationEvent[] = [];
/** Runs synchronously inside the event bus, so a stop or kill lands while tokens still flow. */
let onEvent: ((e: GenerationEvent) => void) | null = null;

beforeAll(async () => {
  requireAddon('the chat service tests');
  dir = mkdtempSync(join(tmpdir(), 'kk-chat-'));
  core = new Core({ dataDir: dir, noModel: true, checkResults: true });
  core.store.settings.update({ sampling: { temperature: 0 }, threads: 1 });
  core.models.setOptions({ threads: 1 });
  core.bus.subscribe((ev, p) => { if (ev === 'generation') { events.push(p as GenerationEvent); onEvent?.(p as GenerationEvent); } });
  await core.models.load(DEMO_MODEL_DIR);
});
afterAll(async () => {
  // Everything the service published during these tests is valid under the contract.
  for (const e of events) {
    const r = GenerationEventSchema.safeParse(e);
    if (!r.success) throw new Error(`event breaks the contract: ${JSON.stringify(e)}: ${r.error.message}`);
  }
  await core?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function finished(messageId: string, timeoutMs = 60_000): Promise<GenerationEvent & { type: 'finish' }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const f = events.find((e) => e.type === 'finish' && e.messageId === messageId);
      if (f) resolve(f as GenerationEvent & { type: 'finish' });
      else if (Date.now() - t0 > timeoutMs) reject(new Error(`no finish for ${messageId}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describe('chat with the demo model', () => {
  it('streams reasoning, then the answer, and stores both', async () => {
    const conv = core.chat.getConversation(core.store.chats.createConversation({ title: 'New chat' }));
    const { assistantMessageId: id } = core.chat.sendMessage(conv.id, 'Who are you?');
    const fin = await finished(id);
    expect(fin.reason).toBe('stop');
    const mine = events.filter((e) => 'messageId' in e && e.messageId === id);
    const kinds = mine.map((e) => e.type);
    const firstContent = kinds.indexOf('content');
    expect(kinds.indexOf('reasoning')).toBeGreaterThan(-1);
    expect(kinds.indexOf('reasoning_end')).toBeGreaterThan(kinds.indexOf('reasoning'));
    expect(firstContent).toBeGreaterThan(kinds.indexOf('reasoning_end'));
    const m = core.store.chats.getMessage(id);
    expect(m.status).toBe('complete');
    expect(m.reasoning).toBe('The user asks who I am.');
    expect(m.content).toMatch(/^I am the Karakoram demo model/);
    expect(m.timings!.completionTokens).toBeGreaterThan(10);
    expect(m.timings!.promptTokens).toBeGreaterThan(10);
    expect(m.reasoningTokens).toBeGreaterThan(0);
    expect(fin.message).toEqual(m);   // the finish event carries the message as stored
    expect(core.chat.getConversation(conv.id).title).toBe('Who are you?');
  });

  it('calls the weather tool, runs it, and continues the answer', async () => {
    const c = core.store.chats.createConversation({ tools: ['get_weather'] });
    const { assistantMessageId: id } = core.chat.sendMessage(c, "What's the weather like in Paris today?");
    const fin = await finished(id);
    expect(fin.reason).toBe('tool_calls');
    expect(typeof fin.continuedBy).toBe('string');
    expect(fin.continuedBy).not.toBe(id);
    const first = core.store.chats.getMessage(id);
    expect(first.toolCalls).toHaveLength(1);
    expect(first.toolCalls[0]).toMatchObject({ name: 'get_weather', status: 'done' });
    expect(JSON.parse(first.toolCalls[0].arguments)).toEqual({ city: 'Paris' });
    expect(first.toolCalls[0].note).toMatch(/demo/i);
    const weather = JSON.parse(first.toolCalls[0].result!);
    const statuses = events.filter((e) => e.type === 'tool_status' && e.messageId === id).map((e) => (e as { call: { status: string } }).call.status);
    expect(statuses).toEqual(['running', 'done']);
    const fin2 = await finished(fin.continuedBy!);
    expect(fin2.reason).toBe('stop');
    const conv = core.chat.getConversation(c);
    expect(conv.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(conv.messages[3].id).toBe(fin.continuedBy);
    // The demo model answers from the tool's result.
    expect(conv.messages[3].content).toContain(weather.weather);
    expect(conv.messages[3].content).toContain(String(weather.temp_c));
  });

  it('stops, regenerates and branches', async () => {
    const c = core.store.chats.createConversation({});
    let stopped: Promise<boolean> | null = null;
    onEvent = (e) => { if (e.type === 'reasoning' && e.conversationId === c && !stopped) { onEvent = null; stopped = core.chat.stop(c); } };
    const { userMessageId, assistantMessageId: a1 } = core.chat.sendMessage(c, 'Who are you?');
    await finished(a1);
    expect(await stopped).toBe(true);
    expect((await finished(a1)).reason).toBe('cancelled');
    expect(core.store.chats.getMessage(a1).status).toBe('stopped');
    const { assistantMessageId: a2 } = core.chat.regenerate(a1);
    await finished(a2);
    expect(core.store.chats.getMessage(a2).siblingIds).toEqual([a1, a2]);
    const { userMessageId: u2, assistantMessageId: a3 } = core.chat.editAndBranch(userMessageId, 'What is 7 + 5?');
    await finished(a3);
    const conv = core.chat.getConversation(c);
    expect(conv.messages.map((m) => m.id)).toEqual([u2, a3]);
    expect(conv.messages[0].siblingIds).toEqual([userMessageId, u2]);
    expect(core.chat.switchBranch(userMessageId).messages.map((m) => m.id)).toEqual([userMessageId, a2]);
  });

  it('survives kill -9 of the engine mid-answer', async () => {
    const c = core.store.chats.createConversation({});
    const pid = core.host.status().pid!;
    let id = '';
    onEvent = (e) => { if (e.type === 'reasoning' && e.messageId === id) { onEvent = null; process.kill(pid, 'SIGKILL'); } };
    ({ assistantMessageId: id } = core.chat.sendMessage(c, 'Who are you?'));
    const fin = await finished(id);
    expect(fin.reason).toBe('error');
    expect(fin.error).toMatch(/killed/);
    const m = core.store.chats.getMessage(id);
    expect(m.status).toBe('error');
    expect(m.reasoning.length, JSON.stringify(m)).toBeGreaterThan(0);
    // The host restarts the engine by itself once; the conversation goes on.
    const { assistantMessageId: again } = core.chat.regenerate(id);
    expect((await finished(again)).reason).toBe('stop');
    expect(core.host.status().pid).not.toBe(pid);
    expect(core.store.chats.getMessage(again).content).toMatch(/demo model/);
  });

  it('loads models through the contract: progress, a bad directory leaves the working model', async () => {
    const statuses: string[] = [];
    const off = core.bus.subscribe((ev, p) => { if (ev === 'engineStatus') statuses.push((p as { state: string }).state); });
    const ok = await core.handle(1, 'loadModel', { dir: DEMO_MODEL_DIR });
    expect(ok).toMatchObject({ ok: true, result: { state: 'ready', model: { label: 'Demo model (12M, offline)' } } });
    expect(statuses).toContain('loading');
    const bad = await core.handle(2, 'loadModel', { dir: dir });
    expect(bad).toMatchObject({ ok: false, error: { code: 'engine', message: expect.stringMatching(/not a model directory/) } });
    expect(core.models.status()).toMatchObject({ state: 'ready', model: { dir: DEMO_MODEL_DIR } });
    off();
    const c = core.store.chats.createConversation({});
    const { assistantMessageId: id } = core.chat.sendMessage(c, 'What is 7 + 5?');
    expect((await finished(id)).reason).toBe('stop');
    const progress = events.filter((e) => e.type === 'prompt_progress' && e.messageId === id);
    expect(progress.map((e) => (e as { done: number }).done)).toEqual([0, (progress[0] as { total: number }).total]);
  });
});

describe('prompt progress', () => {
  it('a prompt longer than one prefill chunk reports progress in between, increasing to the total', async () => {
    const c = core.store.chats.createConversation({});
    const long = 'The weather in Paris is mild today and the streets are quiet. '.repeat(60);
    const { assistantMessageId: id } = core.chat.sendMessage(c, long, { sampling: { maxTokens: 1 } });
    await finished(id);
    const progress = events.filter((e): e is GenerationEvent & { type: 'prompt_progress' } => e.type === 'prompt_progress' && e.messageId === id);
    const total = progress[0].total;
    expect(total).toBeGreaterThan(512);  // more than one engine prefill chunk
    expect(progress.every((e) => e.total === total)).toBe(true);
    const processed = progress.map((e) => e.done);
    expect(processed[0]).toBe(0);
    expect(processed[processed.length - 1]).toBe(total);
    expect(processed.some((p) => p > 0 && p < total)).toBe(true);
    expect(processed.every((p, i) => i === 0 || p > processed[i - 1])).toBe(true);
  });
});

describe('karakoram serve killed mid-answer', () => {
  it('keeps the partial answer; the next start shows it interrupted and the engine is not orphaned', async () => {
    const { spawn } = await import('node:child_process');
    const { createWsClient } = await import('../../../common/ws-client.ts');
    const { keyedSocket } = await import('../../support/keyed-socket.ts');
    // Each start writes a fresh owner key into the data dir; the clients send it.
    const ownerKey = () => readFileSync(join(dataDir, 'owner-key'), 'utf8').trim();
    const dataDir = mkdtempSync(join(tmpdir(), 'kk-serve-kill-'));
    const procs: { kill(sig: NodeJS.Signals): boolean }[] = [];
    const bin = join(__dirname, '..', '..', '..', 'bin', 'karakoram.js');
    const start = () => {
      const p = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDir, '--no-build'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KARAKORAM_CHECK_CONTRACT: '1' } });
      procs.push(p);
      const url = new Promise<string>((resolve, reject) => {
        let out = '';
        p.stdout.on('data', (d) => { out += d; const m = /serving on http:\/\/(\S+)/.exec(out); if (m) resolve(m[1]); });
        p.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      return { p, url };
    };
    try {
      const s1 = start();
      const host = await s1.url;
      const client = createWsClient(`ws://${host}/ws`, keyedSocket(ownerKey));
      const api = client.api;
      for (let i = 0; i < 200 && (await api.getModelStatus({})).state !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
      const status = await api.getModelStatus({});
      expect(status.state).toBe('ready');
      const conv = await api.createConversation({});
      let reasoning = '';
      const killed = new Promise<void>((resolve) => {
        api.on('generation', (e) => {
          if (e.type === 'reasoning' && !reasoning) { reasoning += e.delta; s1.p.kill('SIGKILL'); resolve(); }
        });
      });
      const { assistantMessageId } = await api.sendMessage({ conversationId: conv.id, content: 'Who are you?' });
      await killed;
      client.close();
      await new Promise((r) => s1.p.once('close', r));
      // The engine process notices its parent is gone and exits.
      let alive = true;
      for (let i = 0; i < 100 && alive; i++) {
        try { process.kill(status.pid!, 0); await new Promise((r) => setTimeout(r, 20)); } catch { alive = false; }
      }
      expect(alive).toBe(false);

      const s2 = start();
      const host2 = await s2.url;
      const c2 = createWsClient(`ws://${host2}/ws`, keyedSocket(ownerKey));
      const again = await c2.api.getConversation({ conversationId: conv.id });
      const m = again.messages.find((x) => x.id === assistantMessageId)!;
      expect(m.status).toBe('interrupted');
      expect(m.reasoning.startsWith(reasoning)).toBe(true);
      c2.close();
      s2.p.kill('SIGTERM');
      await new Promise((r) => s2.p.once('close', r));
    } finally {
      for (const p of procs) p.kill('SIGKILL');   // a failed assertion must not leave servers behind
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
