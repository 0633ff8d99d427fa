// First run through the core's requests: with the demo model loaded its demo tools are declared
// in new conversations unless the user turned them off (remembered in the settings); no model, no
// demo tools; deleteMessage takes a message and what follows it off the branch; getStarterModel
// describes Kimi K2 Thinking from its config.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestName, RequestParams, RequestResult } from '../../../common/contract.ts';
import { requireAddon } from '../../support/engine.ts';
import { Core } from '../../../main/services/core.ts';
import { DEMO_MODEL_DIR } from '../../../main/services/model-service.ts';
import { CONTEXT_BLOCK_TOKENS, CONTEXT_FLOOR_TOKENS } from '../../../main/models/default-context.ts';

requireAddon('the first-run tests (they load the demo model)');

const dirs: string[] = [];
const cores: Core[] = [];
function makeCore(): Core {
  const dir = mkdtempSync(join(tmpdir(), 'kk-first-run-'));
  dirs.push(dir);
  const core = new Core({ dataDir: dir, noModel: true, checkResults: true });
  cores.push(core);
  return core;
}
async function call<N extends RequestName>(core: Core, method: N, params: RequestParams<N>): Promise<RequestResult<N>> {
  const r = await core.handle(1, method, params);
  if (!r.ok) throw new Error(`${method}: ${r.error.code}: ${r.error.message}`);
  return r.result as RequestResult<N>;
}

let demo: Core;
beforeAll(async () => {
  demo = makeCore();
  demo.models.setOptions({ threads: 1 });
  await demo.models.load(DEMO_MODEL_DIR);
});
afterAll(async () => {
  for (const c of cores) await c.shutdown();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('first run', () => {
  it('declares the demo tools in new conversations while the demo model is loaded, and remembers turning them off', async () => {
    expect((await call(demo, 'getSettings', {})).settings.demoTools).toBe(true);
    const a = await call(demo, 'createConversation', {});
    expect([...a.tools].sort()).toEqual(['calculator', 'get_time', 'get_weather']);
    await call(demo, 'updateSettings', { demoTools: false });
    expect((await call(demo, 'createConversation', {})).tools).toEqual([]);
    await call(demo, 'updateSettings', { demoTools: true });
    expect((await call(demo, 'createConversation', {})).tools).toHaveLength(3);
    // An explicit list still wins.
    expect((await call(demo, 'createConversation', { tools: ['calculator'] })).tools).toEqual(['calculator']);
  });

  it('declares no demo tools without the demo model', async () => {
    const none = makeCore();
    expect((await call(none, 'createConversation', {})).tools).toEqual([]);
  });

  it('deleteMessage removes a message and its subtree; the conversation ends at its parent and goes on from there', async () => {
    const chats = demo.store.chats;
    const id = chats.createConversation({ title: 't' });
    const u1 = chats.addMessage({ conversationId: id, parentId: null, role: 'user', content: 'one' });
    const a1 = chats.addMessage({ conversationId: id, parentId: u1.id, role: 'assistant', content: 'reply' });
    const u2 = chats.addMessage({ conversationId: id, parentId: a1.id, role: 'user', content: 'x'.repeat(1000) });
    const a2 = chats.addMessage({ conversationId: id, parentId: u2.id, role: 'assistant', content: '', status: 'error', finishReason: 'length' });
    const c = await call(demo, 'deleteMessage', { messageId: u2.id });
    expect(c.headId).toBe(a1.id);
    expect(c.messages.map((m) => m.id)).toEqual([u1.id, a1.id]);
    expect(chats.hasMessage(u2.id)).toBe(false);
    expect(chats.hasMessage(a2.id)).toBe(false);
    const r = await demo.handle(2, 'deleteMessage', { messageId: u2.id });
    expect(r.ok ? null : r.error.code).toBe('not_found');
    // Removing the first message leaves an empty conversation.
    const empty = await call(demo, 'deleteMessage', { messageId: u1.id });
    expect(empty.headId).toBeNull();
    expect(empty.messages).toEqual([]);
  });

  it('getStarterModel: Kimi K2 Thinking, its download size from the config, the pull command and a plan', async () => {
    const s = await call(demo, 'getStarterModel', {});
    expect(s.repo).toBe('moonshotai/Kimi-K2-Thinking');
    expect(s.pullCommand).toBe('karakoram pull moonshotai/Kimi-K2-Thinking');
    expect(s.params).toBeGreaterThan(1.0e12);
    expect(s.params).toBeLessThan(1.05e12);
    expect(s.plan.weightsBytes).toBe(s.downloadBytes);
    expect(s.plan.ramNeededBytes).toBeGreaterThan(s.downloadBytes);
    expect(s.plan.kvBytesPerToken).toBe(61 * (512 + 64) * 4);
    expect(s.plan.contextWhy).toMatch(new RegExp(`^context ${s.plan.contextLength.toLocaleString('en-US')}: `));
  });

  it('without a context setting the demo model runs with the default from this machine\'s memory; a setting then wins', async () => {
    expect((await call(demo, 'getSettings', {})).settings.contextLength).toBeNull();
    const loaded = demo.models.model!;
    const ctx = loaded.context;
    expect(ctx).toEqual(loaded.defaultContext);
    expect(ctx.source).not.toBe('setting');
    // The demo's cache is 1,280 bytes a token: unless this machine is nearly out of RAM, its whole
    // 131,072 window fits in the share; a memory-bound default is in whole blocks.
    if (ctx.source === 'model') expect(ctx.tokens).toBe(131_072);
    else expect(ctx.tokens % CONTEXT_BLOCK_TOKENS).toBe(0);
    expect(ctx.tokens).toBeGreaterThanOrEqual(CONTEXT_FLOOR_TOKENS);
    expect(ctx.tokens).not.toBe(8192);
    expect(ctx.why).toMatch(new RegExp(`^context ${ctx.tokens.toLocaleString('en-US')}: `));
    // Generation, the settings page's placeholder, the model panel and the meter all use it.
    expect(demo.models.contextLength()).toBe(ctx.tokens);
    expect((await call(demo, 'getSettings', {})).modelDefaults.contextLength).toBe(ctx.tokens);
    const insp = await call(demo, 'inspectModel', { dir: DEMO_MODEL_DIR });
    expect(insp.memory).toMatchObject({ contextLength: ctx.tokens, contextWhy: ctx.why });
    expect((await call(demo, 'measureContext', { conversationId: null, question: 'hi', attachments: [] })).contextLength).toBe(ctx.tokens);

    await call(demo, 'updateSettings', { contextLength: 8192 });
    await expect.poll(() => demo.models.loaded?.context.source, { timeout: 60_000 }).toBe('setting');
    expect(demo.models.contextLength()).toBe(8192);
    expect((await call(demo, 'getSettings', {})).modelDefaults.contextLength).toBe(ctx.tokens);
    expect((await call(demo, 'inspectModel', { dir: DEMO_MODEL_DIR })).memory.contextWhy).toBe('context 8,192: your setting');
  }, 90_000);
});
