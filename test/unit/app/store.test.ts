// store.test.ts — the renderer's store: streaming generation events fold into the visible path,
// the reasoning clock, tool cards, the performance strip; branches; engine crash; list events.
import { describe, expect, it } from 'vitest';
import { createAppStore, type AppStore } from '../../../app/store/index.ts';
import { placeMessage, rowsOf } from '../../../app/store/path.ts';
import type { GenerationEvent, ToolCallRecord } from '../../../common/contract.ts';
import { conv, fakeApi, flush, msg, type FakeApi } from './fake-api.ts';

const g = (f: FakeApi, e: GenerationEvent) => f.emit('generation', e);
const base = { conversationId: 'c1' } as const;

async function openStore(messages = [msg({ id: 'u0', role: 'user', content: 'hi' }), msg({ id: 'a0', role: 'assistant', parentId: 'u0', content: 'hello' })]) {
  const f = fakeApi();
  let current = conv('c1', messages);
  f.handle('getConversation', () => current);
  f.handle('listConversations', () => []);
  f.handle('listTools', () => []);
  const store: AppStore = createAppStore(f.transport);
  await store.getState().openConversation('c1');
  return { f, store, setServer(c: typeof current) { current = c; } };
}

describe('generation events → state', () => {
  it('streams reasoning, then the answer, and finishes with the stored version', async () => {
    const { f, store, setServer } = await openStore();
    f.handle('sendMessage', async () => {
      // The core announces the generation before answering the request.
      g(f, { type: 'started', ...base, messageId: 'a1', parentId: 'u1', model: 'demo' });
      return { userMessageId: 'u1', assistantMessageId: 'a1' };
    });
    store.getState().setDraft('Who are you?');
    await store.getState().send();
    let s = store.getState();
    expect(s.draft).toBe('');
    expect(s.messages.map((m) => m.id)).toEqual(['u0', 'a0', 'u1', 'a1']);
    expect(s.messages[2]).toMatchObject({ role: 'user', content: 'Who are you?', parentId: 'a0' });
    expect(s.generation?.messageId).toBe('a1');
    expect(f.calls.find((c) => c.method === 'sendMessage')?.params).toEqual({ conversationId: 'c1', content: 'Who are you?' });

    g(f, { type: 'prompt_progress', ...base, messageId: 'a1', done: 10, total: 20 });
    expect(store.getState().perf).toMatchObject({ promptDone: 10, promptTotal: 20 });
    for (const d of ['The user ', 'asks who ', 'I am.']) g(f, { type: 'reasoning', ...base, messageId: 'a1', delta: d });
    s = store.getState();
    expect(s.messages[3].reasoning).toBe('The user asks who I am.');
    expect(s.generation?.reasoningTokens).toBe(3);
    expect(s.generation?.reasoningStartedAt).not.toBeNull();
    expect(s.generation?.reasoningEndedAt).toBeNull();
    expect(s.perf.ttftMs).not.toBeNull();

    g(f, { type: 'reasoning_end', ...base, messageId: 'a1', reasoningMs: 420, reasoningTokens: 3 });
    g(f, { type: 'content', ...base, messageId: 'a1', delta: 'I am ' });
    g(f, { type: 'content', ...base, messageId: 'a1', delta: 'Kimi.' });
    g(f, { type: 'stats', ...base, messageId: 'a1', completionTokens: 5, tokensPerSecond: 33.5, contextUsed: 25, contextLength: 4096 });
    s = store.getState();
    expect(s.messages[3]).toMatchObject({ content: 'I am Kimi.', reasoningMs: 420, reasoningTokens: 3, status: 'streaming' });
    expect(s.generation?.reasoningEndedAt).not.toBeNull();
    expect(s.perf).toMatchObject({ tokensPerSecond: 33.5, contextUsed: 25, contextLength: 4096 });

    const timings = { promptTokens: 20, completionTokens: 5, promptMs: 30, ttftMs: 35, decodeMs: 150, promptTokensPerSecond: 600, tokensPerSecond: 30, contextUsed: 25, contextLength: 4096 };
    const stored = msg({ id: 'a1', role: 'assistant', parentId: 'u1', content: 'I am Kimi.', reasoning: 'The user asks who I am.', reasoningMs: 420, reasoningTokens: 3, timings, finishReason: 'stop', model: 'demo', createdAt: 7 });
    setServer(conv('c1', [
      msg({ id: 'u0', role: 'user', content: 'hi' }), msg({ id: 'a0', role: 'assistant', parentId: 'u0', content: 'hello' }),
      msg({ id: 'u1', role: 'user', parentId: 'a0', content: 'Who are you?' }), stored,
    ]));
    g(f, { type: 'finish', ...base, messageId: 'a1', reason: 'stop', timings, error: null, continuedBy: null, message: stored });
    s = store.getState();
    expect(s.generation).toBeNull();
    expect(s.messages[3]).toEqual(stored);   // the stored version, as the finish event carries it
    expect(s.perf).toMatchObject({ ttftMs: 35, tokensPerSecond: 30 });
    await flush();
    expect(f.calls.filter((c) => c.method === 'getConversation').length).toBe(1);   // no re-fetch after finish
  });

  it('folds a tool turn: call streams, runs, result arrives, the answer continues in a new message', async () => {
    const { f, store } = await openStore([]);
    f.handle('sendMessage', async () => ({ userMessageId: 'u1', assistantMessageId: 'a1' }));
    await store.getState().send("What's the weather like in Paris today?");
    g(f, { type: 'started', ...base, messageId: 'a1', parentId: 'u1', model: null });
    expect(store.getState().messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    g(f, { type: 'tool_call_begin', ...base, messageId: 'a1', index: 0, id: 'functions.get_weather:0', name: 'get_weather' });
    g(f, { type: 'tool_call_delta', ...base, messageId: 'a1', index: 0, delta: '{"city": ' });
    g(f, { type: 'tool_call_delta', ...base, messageId: 'a1', index: 0, delta: '"Paris"}' });
    let call = store.getState().messages[1].toolCalls[0];
    expect(call).toMatchObject({ name: 'get_weather', arguments: '{"city": "Paris"}', status: 'streaming' });
    const ended: ToolCallRecord = { id: 'functions.get_weather:0', name: 'get_weather', arguments: '{"city": "Paris"}', status: 'running', result: null, error: null, durationMs: null };
    g(f, { type: 'tool_call_end', ...base, messageId: 'a1', index: 0, call: ended });
    g(f, { type: 'tool_status', ...base, messageId: 'a1', call: { ...ended, status: 'done', result: '{"temp_c": 18}', durationMs: 3 } });
    call = store.getState().messages[1].toolCalls[0];
    expect(call).toMatchObject({ status: 'done', result: '{"temp_c": 18}', durationMs: 3 });
    g(f, { type: 'finish', ...base, messageId: 'a1', reason: 'tool_calls', timings: null, error: null, continuedBy: 'a2',
      message: msg({ id: 'a1', role: 'assistant', parentId: 'u1', finishReason: 'tool_calls', toolCalls: [{ ...ended, status: 'done', result: '{"temp_c": 18}', durationMs: 3 }] }) });
    expect(store.getState().generation?.messageId).toBe('a2');
    f.emit('generation', { type: 'tool_message', conversationId: 'c1', message: msg({ id: 't1', role: 'tool', parentId: 'a1', content: '{"temp_c": 18}', toolCallId: 'functions.get_weather:0', toolName: 'get_weather' }) });
    g(f, { type: 'started', ...base, messageId: 'a2', parentId: 't1', model: null });
    g(f, { type: 'content', ...base, messageId: 'a2', delta: 'It is 18 °C in Paris.' });
    const s = store.getState();
    expect(s.messages.map((m) => m.id)).toEqual(['u1', 'a1', 't1', 'a2']);
    // One user row and one assistant turn holding the call, its result and the answer.
    const rows = rowsOf(s.messages);
    expect(rows.map((r) => r.kind)).toEqual(['user', 'turn']);
    expect(rows[1].kind === 'turn' && rows[1].messages.map((m) => m.id)).toEqual(['a1', 't1', 'a2']);
  });

  it('regenerate adds a sibling answer; edit adds a sibling question; branch switching asks the core', async () => {
    const { f, store } = await openStore();
    f.handle('regenerate', async () => ({ assistantMessageId: 'a0b' }));
    await store.getState().regenerate('a0');
    expect(f.calls.find((c) => c.method === 'regenerate')?.params).toEqual({ messageId: 'a0' });
    g(f, { type: 'started', ...base, messageId: 'a0b', parentId: 'u0', model: null });
    let s = store.getState();
    expect(s.messages.map((m) => m.id)).toEqual(['u0', 'a0b']);
    expect(s.messages[1].siblingIds).toEqual(['a0', 'a0b']);
    g(f, { type: 'finish', ...base, messageId: 'a0b', reason: 'stop', timings: null, error: null, continuedBy: null,
      message: msg({ id: 'a0b', role: 'assistant', parentId: 'u0', content: 'hi!', finishReason: 'stop', siblingIds: ['a0', 'a0b'] }) });
    expect(store.getState().messages[1]).toMatchObject({ content: 'hi!', siblingIds: ['a0', 'a0b'], status: 'complete' });

    f.handle('editAndBranch', async () => {
      g(f, { type: 'started', ...base, messageId: 'a9', parentId: 'u9', model: null });
      return { userMessageId: 'u9', assistantMessageId: 'a9' };
    });
    await store.getState().editAndBranch('u0', 'hello there');
    s = store.getState();
    expect(f.calls.find((c) => c.method === 'editAndBranch')?.params).toEqual({ messageId: 'u0', newContent: 'hello there' });
    expect(s.messages.map((m) => m.id)).toEqual(['u9', 'a9']);
    expect(s.messages[0]).toMatchObject({ content: 'hello there', siblingIds: ['u0', 'u9'] });

    g(f, { type: 'finish', ...base, messageId: 'a9', reason: 'stop', timings: null, error: null, continuedBy: null,
      message: msg({ id: 'a9', role: 'assistant', parentId: 'u9', finishReason: 'stop' }) });
    f.handle('switchBranch', (p: { messageId: string }) => conv('c1', [msg({ id: p.messageId, role: 'user', content: 'hi', siblingIds: ['u0', 'u9'] })]));
    await store.getState().switchBranch('u0');
    expect(store.getState().messages.map((m) => m.id)).toEqual(['u0']);
  });

  it('stop sends stopGeneration; a cancelled finish marks the message stopped', async () => {
    const { f, store } = await openStore([]);
    f.handle('sendMessage', async () => ({ userMessageId: 'u1', assistantMessageId: 'a1' }));
    f.handle('stopGeneration', async () => ({ stopped: true }));
    await store.getState().send('count to a million');
    g(f, { type: 'started', ...base, messageId: 'a1', parentId: 'u1', model: null });
    g(f, { type: 'content', ...base, messageId: 'a1', delta: '1, 2, 3' });
    await store.getState().stop();
    expect(store.getState().generation?.stopping).toBe(true);
    expect(f.calls.find((c) => c.method === 'stopGeneration')?.params).toEqual({ conversationId: 'c1' });
    g(f, { type: 'finish', ...base, messageId: 'a1', reason: 'cancelled', timings: null, error: null, continuedBy: null,
      message: msg({ id: 'a1', role: 'assistant', parentId: 'u1', content: '1, 2, 3', status: 'stopped', finishReason: 'cancelled' }) });
    expect(store.getState().messages[1]).toMatchObject({ status: 'stopped', content: '1, 2, 3' });
    expect(store.getState().generation).toBeNull();
  });

  it('an engine crash mid-answer ends the generation and keeps the partial text', async () => {
    const { f, store } = await openStore([]);
    f.handle('sendMessage', async () => ({ userMessageId: 'u1', assistantMessageId: 'a1' }));
    await store.getState().send('Who are you?');
    g(f, { type: 'started', ...base, messageId: 'a1', parentId: 'u1', model: null });
    g(f, { type: 'content', ...base, messageId: 'a1', delta: 'I am' });
    f.emit('engineStatus', { state: 'crashed', model: null, progress: null, error: 'engine exited (signal SIGKILL)', pid: null, restarts: 0, backend: null, backendWhy: null });
    const s = store.getState();
    expect(s.engine.state).toBe('crashed');
    expect(s.generation).toBeNull();
    expect(s.messages[1]).toMatchObject({ status: 'interrupted', content: 'I am' });
  });

  it('a failed send restores the draft and shows the error', async () => {
    const { f, store } = await openStore([]);
    f.handle('sendMessage', async () => { throw new Error('engine busy'); });
    store.getState().setDraft('hello');
    await store.getState().send();
    expect(store.getState()).toMatchObject({ draft: 'hello', error: 'engine busy', generation: null });
  });
});

describe('conversations', () => {
  it('conversation events keep the list sorted; deleting the open one closes it', async () => {
    const { f, store } = await openStore();
    const sum = (id: string, updatedAt: number, title = id) => ({ id, title, createdAt: 0, updatedAt, messageCount: 0, preview: '', generating: false });
    f.emit('conversation', { type: 'upserted', conversation: sum('c2', 5) });
    f.emit('conversation', { type: 'upserted', conversation: sum('c1', 9, 'Renamed') });
    let s = store.getState();
    expect(s.list.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(s.conversation?.title).toBe('Renamed');
    f.emit('conversation', { type: 'deleted', conversationId: 'c1' });
    await flush();
    s = store.getState();
    expect(s.list.map((c) => c.id)).toEqual(['c2']);
    expect(s.activeId).toBeNull();
    expect(s.messages).toEqual([]);
  });

  it('typed and sent right after New chat, before the core has created it: kept, and sent to the new one', async () => {
    const { f, store } = await openStore();
    let created!: () => void;
    f.handle('leaveConversation', () => ({}));
    f.handle('createConversation', () => new Promise((r) => { created = () => r(conv('c2', [])); }));
    f.handle('sendMessage', () => ({ userMessageId: 'u9', assistantMessageId: 'a9' }));
    store.getState().setDraft('left in c1');
    const click = store.getState().newConversation();
    expect(store.getState().draft).toBe('');          // cleared at the click
    store.getState().setDraft('Who are you?');        // typed while the core creates it
    const sent = store.getState().send();
    await flush();
    expect(f.calls.filter((c) => c.method === 'sendMessage')).toEqual([]);   // waits for the new one
    expect(store.getState().newConversation()).toBe(store.getState().pendingNewConversation()); // a second click: the same
    created();
    expect(await click).toBe('c2');
    await sent;
    expect(f.calls.filter((c) => c.method === 'createConversation')).toHaveLength(1);
    expect(f.calls.find((c) => c.method === 'sendMessage')?.params).toMatchObject({ conversationId: 'c2', content: 'Who are you?' });
    expect(store.getState().activeId).toBe('c2');
    expect(store.getState().pendingNewConversation()).toBeNull();
  });

  it('search asks the core and shows hits; clearing it shows the list again', async () => {
    const { f, store } = await openStore();
    const hit = { conversation: { id: 'c1', title: 'Paris', createdAt: 0, updatedAt: 0, messageCount: 2, preview: '', generating: false }, messageId: 'a0', snippet: 'weather in Paris' };
    f.handle('searchConversations', (p: { query: string }) => (p.query === 'paris' ? [hit] : []));
    await store.getState().setQuery('paris');
    expect(store.getState().hits).toEqual([hit]);
    await store.getState().setQuery('');
    expect(store.getState().hits).toBeNull();
  });

  it('the demo tools toggle declares exactly the builtin demo tools', async () => {
    const { f, store } = await openStore();
    const tool = (name: string, source: 'builtin-demo' | 'mcp') => ({ spec: { type: 'function' as const, function: { name } }, source, label: name });
    f.handle('listTools', () => [tool('get_weather', 'builtin-demo'), tool('calculator', 'builtin-demo'), tool('search', 'mcp')]);
    await store.getState().refreshList();
    f.handle('setConversationTools', (p: { tools: string[] }) => conv('c1', [], { tools: p.tools }));
    await store.getState().setDemoTools(true);
    expect(f.calls.find((c) => c.method === 'setConversationTools')?.params).toEqual({ conversationId: 'c1', tools: ['get_weather', 'calculator'] });
    expect(store.getState().conversation?.tools).toEqual(['get_weather', 'calculator']);
    expect(store.getState().messages.length).toBe(2);   // the thread stays on screen
  });
});

describe('placeMessage', () => {
  it('puts a message after its parent, dropping the old branch, and records siblings', () => {
    const path = [msg({ id: 'u', role: 'user' }), msg({ id: 'a', role: 'assistant', parentId: 'u' }), msg({ id: 'u2', role: 'user', parentId: 'a' })];
    const next = placeMessage(path, msg({ id: 'b', role: 'assistant', parentId: 'u' }));
    expect(next.map((m) => m.id)).toEqual(['u', 'b']);
    expect(next[1].siblingIds).toEqual(['a', 'b']);
    expect(placeMessage(next, next[1])).toBe(next);
    expect(placeMessage(path, msg({ id: 'r', role: 'user' })).map((m) => m.id)).toEqual(['r']);
  });
});
