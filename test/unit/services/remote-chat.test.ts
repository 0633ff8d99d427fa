// The chat service with a remote provider and no local model loaded: a stub OpenAI-compatible
// server replays recorded vLLM streams (a stub, not a real engine: the e2e test drives a second
// `karakoram serve`). Shows the remote's reasoning and tool calls recorded like the local
// engine's, the tool run and its result sent back as OpenAI messages, usage in the timings, the
// notes where the remote cannot report, a cut stream as a clear error that keeps the
// conversation, and the configuration check refusing a wrong key before anything is saved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerationEventSchema, type ApprovalEvent, type Conversation, type GenerationEvent, type WireResponse } from '../../../common/contract.ts';
import { LOCAL_PROVIDER, type ProvidersView, type RemoteEndpointView } from '../../../common/providers.ts';
import { composeMessage, splitMessage } from '../../../common/document-blocks.ts';
import { NOTE_NO_USAGE } from '../../../main/providers/openai-remote.ts';
import { Core } from '../../../main/services/core.ts';
import { ANSWER, ARGS_0, REASONING, startStub, writeFixtures, type StubServer } from '../../fixtures/openai-sse/recorded.ts';

let dir: string;
let fixtures: string;
let core: Core;
let stub: StubServer;
const events: GenerationEvent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kk-remote-chat-'));
  fixtures = mkdtempSync(join(tmpdir(), 'kk-remote-fx-'));
  writeFixtures(fixtures);
  stub = await startStub({
    key: 'sk-office',
    files: ['vllm-tools.sse', 'vllm-answer.sse', 'cut.sse'].map((f) => join(fixtures, f)),
  });
  core = new Core({ dataDir: dir, noModel: true, checkResults: true });
  core.bus.subscribe((ev, p) => {
    if (ev === 'generation') events.push(p as GenerationEvent);
    // A remote is not the demo model, so its calls wait for a card: the user allows them for the
    // conversation (the second waiting call of the same tool follows that answer).
    const a = p as ApprovalEvent;
    if (ev === 'approval' && a.type === 'requested') {
      void call('decideToolCall', { conversationId: a.request.conversationId, callId: a.request.callId, kind: 'allow_conversation' });
    }
  });
});
afterAll(async () => {
  for (const e of events) {
    const r = GenerationEventSchema.safeParse(e);
    if (!r.success) throw new Error(`event breaks the contract: ${JSON.stringify(e)}: ${r.error.message}`);
  }
  await core?.shutdown();
  await stub?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(fixtures, { recursive: true, force: true });
});

let seq = 1;
async function call<T>(method: string, params: unknown): Promise<T> {
  const r: WireResponse = await core.handle(seq++, method, params);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.result as T;
}

function finished(messageId: string): Promise<GenerationEvent & { type: 'finish' }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const f = events.find((e) => e.type === 'finish' && e.messageId === messageId);
      if (f) resolve(f as GenerationEvent & { type: 'finish' });
      else if (Date.now() - t0 > 20_000) reject(new Error(`no finish for ${messageId}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describe('chat through a remote provider', () => {
  let remote: RemoteEndpointView;

  it('a wrong key is refused at configuration time and nothing is saved', async () => {
    await expect(call('saveRemote', { name: 'gpu-box', baseUrl: stub.url, apiKey: 'sk-wrong', model: 'kimi-k2-thinking' }))
      .rejects.toThrow(/bad_request: .*refused the API key \(401\)/);
    expect((await call<ProvidersView>('listRemotes', {})).remotes).toEqual([]);
  });

  it('a right one is saved with the server\'s context length; the key is never sent back', async () => {
    remote = await call<RemoteEndpointView>('saveRemote', { name: 'gpu-box', baseUrl: stub.url, apiKey: 'sk-office', model: 'kimi-k2-thinking' });
    expect(remote).toMatchObject({ name: 'gpu-box', baseUrl: stub.url, model: 'kimi-k2-thinking', hasKey: true });
    expect(remote.capabilities.maxContext).toBe(131072);
    expect(JSON.stringify(await call('listRemotes', {}))).not.toContain('sk-office');
    const v = await call<ProvidersView>('selectProvider', { id: remote.id });
    expect(v.active).toBe(remote.id);
  });

  it('an edit without a key keeps the stored one: the check passes with it, the change is saved under the same id', async () => {
    const edited = await call<RemoteEndpointView>('saveRemote', { id: remote.id, name: 'gpu-box', baseUrl: stub.url, model: 'kimi-k2-thinking', capabilities: { extraSampling: false } });
    expect(edited).toMatchObject({ id: remote.id, hasKey: true });
    expect(edited.capabilities).toMatchObject({ extraSampling: false, maxContext: 131072 });
    expect((await call<ProvidersView>('listRemotes', {})).remotes).toHaveLength(1);
    remote = await call<RemoteEndpointView>('saveRemote', { id: remote.id, name: 'gpu-box', baseUrl: stub.url, model: 'kimi-k2-thinking', capabilities: { extraSampling: true } });
  });

  it('reasoning, a tool call run, its result sent back, then the answer — with no local model', async () => {
    expect(core.models.status().state).toBe('idle');
    const conv = await call<{ id: string }>('createConversation', { tools: ['get_weather'] });
    const sent = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: conv.id, content: 'Weather in Paris?' });
    const first = await finished(sent.assistantMessageId);
    expect(first.reason).toBe('tool_calls');
    expect(first.timings?.promptTokens).toBe(212);
    expect(first.timings?.completionTokens).toBe(50);
    // The remote's own prefix-cache figure is kept; every count was reported.
    expect(first.timings?.cachedTokens).toBe(192);
    expect(first.timings?.notReported).toBeUndefined();
    const second = await finished(first.continuedBy!);
    expect(second.reason).toBe('stop');

    const c = core.chat.getConversation(conv.id);
    const [user, a1, t1, t2, a2] = c.messages;
    expect(user.content).toBe('Weather in Paris?');
    expect(a1.reasoning).toBe(REASONING);
    expect(a1.model).toBe('kimi-k2-thinking on gpu-box');
    expect(a1.toolCalls.map((t) => [t.id, t.status, t.arguments])).toEqual([
      ['functions.get_weather:0', 'done', ARGS_0], ['functions.get_weather:1', 'done', '{"city": "Lyon, France"}'],
    ]);
    expect(t1.role).toBe('tool');
    expect(t1.toolCallId).toBe('functions.get_weather:0');
    expect(t2.toolCallId).toBe('functions.get_weather:1');
    expect(a2.content).toBe(ANSWER);
    expect(a2.reasoning).toBe('Weather is known.');
    expect(a2.reasoningTokens).toBeGreaterThan(0);
    // The second request carried the turn as OpenAI messages: the call, its reasoning, the results.
    const body = stub.requests[1] as { messages: Record<string, unknown>[]; tools: unknown[] };
    expect(body.tools).toHaveLength(1);
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
    expect(body.messages[1]).toMatchObject({ reasoning_content: REASONING, tool_calls: [{ id: 'functions.get_weather:0', type: 'function', function: { name: 'get_weather', arguments: ARGS_0 } }, expect.anything()] });
    expect(body.messages[2]).toEqual({ role: 'tool', tool_call_id: 'functions.get_weather:0', content: t1.content });
    // The remote runs its own prefix cache: the app says so rather than guessing.
    expect(first.timings?.notes).toBeUndefined();   // vLLM reported cached tokens
  });

  it('a stream cut mid-answer is a clear error; the conversation and the text that arrived are kept', async () => {
    const conv = await call<{ id: string }>('createConversation', {});
    const sent = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: conv.id, content: 'Tell me more' });
    const fin = await finished(sent.assistantMessageId);
    expect(fin.reason).toBe('error');
    expect(fin.error).toMatch(/127\.0\.0\.1:\d+.*(broke in the middle|ended before the answer finished).*The conversation is kept; regenerate to try again\./);
    const c = core.chat.getConversation(conv.id);
    expect(c.messages).toHaveLength(2);
    expect(c.messages[1]).toMatchObject({ status: 'error', content: ANSWER, reasoning: REASONING });
    // The usage chunk never came: the counts are said to be unreported, not shown as a measured 0.
    expect(fin.timings?.notReported).toEqual(['prompt', 'cached', 'completion']);
    expect(fin.timings?.notes).toEqual([NOTE_NO_USAGE]);
  });

  it('a long document attached goes to the remote whole, in the user message, and stays in the history', async () => {
    const memo = Array.from({ length: 400 }, (_, i) => `Line ${i}: budget code KK-${1000 + i}.`).join('\n');
    const conv = await call<{ id: string }>('createConversation', {});
    const content = composeMessage('Which code is on line 399?', [{ name: 'memo.txt', text: memo }]);
    const before = stub.requests.length;
    const sent = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: conv.id, content });
    await finished(sent.assistantMessageId);
    const body = stub.requests[before] as { messages: { role: string; content: string }[] };
    expect(body.messages.map((m) => m.role)).toEqual(['user']);
    expect(body.messages[0].content).toBe(content);
    expect(splitMessage(body.messages[0].content)).toEqual({ docs: [{ name: 'memo.txt', text: memo }], question: 'Which code is on line 399?' });
    expect(core.chat.getConversation(conv.id).messages[0].content).toBe(content);
  });

  it('back to the local engine: with no model loaded the app says so', async () => {
    await call('selectProvider', { id: null });
    const conv = await call<{ id: string }>('createConversation', {});
    const sent = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: conv.id, content: 'hi' });
    const fin = await finished(sent.assistantMessageId);
    expect(fin.error).toMatch(/no model is loaded/);
  });

  it('each conversation may choose its engine: one stays on the remote while the default is local, one on the local engine while the default is the remote', async () => {
    const onRemote = await call<{ id: string }>('createConversation', {});
    const pinned = await call<Conversation>('setConversationProvider', { conversationId: onRemote.id, provider: remote.id });
    expect(pinned.provider).toBe(remote.id);
    const before = stub.requests.length;
    const sent = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: onRemote.id, content: 'Still there?' });
    const fin = await finished(sent.assistantMessageId);
    expect(stub.requests.length).toBe(before + 1);   // it went to the remote, not the (absent) local model
    expect(fin.error).toMatch(/127\.0\.0\.1:\d+/);   // the stub's last recorded stream is the cut one
    expect(core.chat.getConversation(onRemote.id).messages[1].model).toBe('kimi-k2-thinking on gpu-box');

    await call('selectProvider', { id: remote.id });
    const onLocal = await call<{ id: string }>('createConversation', {});
    await call('setConversationProvider', { conversationId: onLocal.id, provider: LOCAL_PROVIDER });
    const local = await call<{ assistantMessageId: string }>('sendMessage', { conversationId: onLocal.id, content: 'hi' });
    expect((await finished(local.assistantMessageId)).error).toMatch(/no model is loaded/);
    expect(stub.requests.length).toBe(before + 1);
    // Back to the default: it follows the Remote engines choice again.
    expect((await call<Conversation>('setConversationProvider', { conversationId: onLocal.id, provider: null })).provider).toBeNull();
    await expect(call('setConversationProvider', { conversationId: onLocal.id, provider: 'no-such-remote' })).rejects.toThrow(/not_found: no remote engine no-such-remote/);
    expect(core.chat.getConversation(onLocal.id).provider).toBeNull();
  });
});
