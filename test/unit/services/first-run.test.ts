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
  });
});
