// The remote provider's stream against recorded vLLM-style and Ollama-style SSE streams, written
// as fixture files by this test and replayed byte for byte by a stub OpenAI-compatible server in
// small pieces (events straddle network reads): reasoning under reasoning_content and under
// reasoning, tool calls split across many deltas, usage, a stream cut mid-event, an error chunk,
// and a stop that closes the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputEvent } from '../../../common/chat-types.ts';
import { DEFAULT_REMOTE_CAPABILITIES, type RemoteEndpoint } from '../../../common/providers.ts';
import { ChunkAssembler } from '../../../main/providers/openai-chunks.ts';
import { NOTE_NO_USAGE, OpenAiRemoteProvider } from '../../../main/providers/openai-remote.ts';
import { readSse } from '../../../main/providers/sse.ts';
import { ProviderError, type ProviderRequest } from '../../../main/providers/types.ts';
import { ANSWER, ARGS_0, ARGS_1, REASONING, startStub, writeFixtures, type FixtureName, type StubServer } from '../../fixtures/openai-sse/recorded.ts';

let dir: string;
const stubs: StubServer[] = [];
const fx = (n: FixtureName) => join(dir, n);

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'kk-sse-')); writeFixtures(dir); });
afterAll(async () => { await Promise.all(stubs.map((s) => s.close())); rmSync(dir, { recursive: true, force: true }); });

async function stub(files: FixtureName[], extra: Partial<Parameters<typeof startStub>[0]> = {}): Promise<StubServer> {
  const s = await startStub({ files: files.map(fx), ...extra });
  stubs.push(s);
  return s;
}

function endpoint(url: string, over: Partial<RemoteEndpoint> = {}): RemoteEndpoint {
  return { id: 'r1', name: 'gpu-box', baseUrl: url, apiKey: '', model: 'kimi-k2-thinking', capabilities: { ...DEFAULT_REMOTE_CAPABILITIES }, ...over };
}

const weatherTool = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } };

function request(signal = new AbortController().signal): ProviderRequest {
  return { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool], sampling: { temperature: 0.6, maxTokens: 256 }, signal };
}

async function run(p: OpenAiRemoteProvider, req = request()) {
  const events: OutputEvent[] = [];
  let tokens = 0;
  const result = await p.generate(req, { output: (evs, n) => { events.push(...evs); tokens += n; } });
  return { events, tokens, result };
}

const text = (evs: OutputEvent[], type: 'reasoning' | 'content') => evs.filter((e) => e.type === type).map((e) => (e as { delta: string }).delta).join('');

describe('recorded streams through the remote provider', () => {
  it('vLLM: reasoning_content, two calls assembled from many deltas, usage with cached tokens', async () => {
    const s = await stub(['vllm-tools.sse']);
    const { events, result } = await run(new OpenAiRemoteProvider(endpoint(s.url)));
    expect(text(events, 'reasoning')).toBe(REASONING);
    expect(text(events, 'content')).toBe('');
    const begins = events.filter((e) => e.type === 'tool_call_begin');
    expect(begins).toEqual([
      { type: 'tool_call_begin', index: 0, id: 'functions.get_weather:0', name: 'get_weather' },
      { type: 'tool_call_begin', index: 1, id: 'functions.get_weather:1', name: 'get_weather' },
    ]);
    const argsOf = (i: number) => events.filter((e) => e.type === 'tool_call_delta' && e.index === i).map((e) => (e as { delta: string }).delta);
    expect(argsOf(0).length).toBeGreaterThan(3);   // really split
    expect(argsOf(0).join('')).toBe(ARGS_0);
    expect(argsOf(1).join('')).toBe(ARGS_1);
    const ends = events.filter((e) => e.type === 'tool_call_end').map((e) => (e as { call: unknown }).call);
    expect(ends).toEqual([
      { id: 'functions.get_weather:0', type: 'function', function: { name: 'get_weather', arguments: ARGS_0 } },
      { id: 'functions.get_weather:1', type: 'function', function: { name: 'get_weather', arguments: ARGS_1 } },
    ]);
    expect(events[events.length - 1]).toEqual({ type: 'finish', reason: 'tool_calls' });
    expect(result.finishReason).toBe('tool_calls');
    expect(result.usage).toEqual({ promptTokens: 212, completionTokens: 50, cachedTokens: 192 });
    expect(result.notes).toEqual([]);
    // What went over the wire: OpenAI messages and tools, streaming with usage.
    expect(s.requests[0]).toMatchObject({
      model: 'kimi-k2-thinking', stream: true, stream_options: { include_usage: true }, temperature: 0.6, max_tokens: 256,
      messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool],
    });
  });

  it('vLLM (newer): reasoning under `reasoning`, then the answer', async () => {
    const s = await stub(['vllm-answer.sse']);
    const { events, result } = await run(new OpenAiRemoteProvider(endpoint(s.url)));
    expect(text(events, 'reasoning')).toBe('Weather is known.');
    expect(text(events, 'content')).toBe(ANSWER);
    expect(result.finishReason).toBe('stop');
    expect(result.usage.cachedTokens).toBe(0);
  });

  it('Ollama: reasoning under `reasoning`, a whole call in one delta, usage without cache details', async () => {
    const s = await stub(['ollama-tools.sse']);
    const { events, result } = await run(new OpenAiRemoteProvider(endpoint(s.url)));
    expect(text(events, 'reasoning')).toBe(REASONING);
    expect(events.filter((e) => e.type === 'tool_call_end').map((e) => (e as { call: unknown }).call)).toEqual([
      { id: 'call_k2x9', type: 'function', function: { name: 'get_weather', arguments: ARGS_0 } },
    ]);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.usage).toEqual({ promptTokens: 88, completionTokens: 31, cachedTokens: null });
    expect(result.notes.some((n) => /prefix cache/.test(n))).toBe(true);
  });

  it('a configured field is the only one read', async () => {
    const s = await stub(['vllm-tools.sse']);
    const p = new OpenAiRemoteProvider(endpoint(s.url, { capabilities: { ...DEFAULT_REMOTE_CAPABILITIES, reasoningField: 'reasoning' } }));
    const { events } = await run(p);
    expect(text(events, 'reasoning')).toBe('');   // vLLM wrote reasoning_content
  });

  it('a stream cut mid-event is a clear error, and what arrived was delivered', async () => {
    const s = await stub(['cut.sse']);
    const events: OutputEvent[] = [];
    const err = await new OpenAiRemoteProvider(endpoint(s.url)).generate(request(), { output: (evs) => events.push(...evs) }).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('stream');
    expect((err as Error).message).toMatch(/127\.0\.0\.1:\d+.*(broke in the middle|ended before the answer finished).*kept/);
    expect(text(events, 'reasoning')).toBe(REASONING);
    expect(text(events, 'content')).toBe(ANSWER);
  });

  it('the cut is seen from the bytes alone when the body ends cleanly', async () => {
    const body = new Blob([readFileSync(fx('cut.sse'))]).stream();
    const datas: string[] = [];
    const end = await readSse(body, (d) => datas.push(d));
    expect(end.partial).toBe(true);
    expect(datas.length).toBe(end.events);
    const whole = await readSse(new Blob([readFileSync(fx('vllm-answer.sse'))]).stream(), () => {});
    expect(whole.partial).toBe(false);
  });

  it('an error chunk mid-stream names the server and its message', async () => {
    const s = await stub(['error.sse']);
    const err = await run(new OpenAiRemoteProvider(endpoint(s.url))).then(() => null, (e) => e as ProviderError);
    expect(err?.kind).toBe('server');
    expect(err?.message).toMatch(/reported an error mid-stream: EngineCore encountered an issue/);
  });

  it('stop closes the request: the server sees the disconnect, the result is cancelled', async () => {
    const s = await stub(['vllm-answer.sse'], { hang: true });
    const ac = new AbortController();
    const events: OutputEvent[] = [];
    const done = new OpenAiRemoteProvider(endpoint(s.url)).generate(request(ac.signal), {
      output: (evs) => { events.push(...evs); if (text(events, 'content').length > 0) ac.abort(); },
    });
    const r = await done;
    expect(r.finishReason).toBe('cancelled');
    for (let i = 0; i < 100 && s.disconnects === 0; i++) await new Promise((res) => setTimeout(res, 10));
    expect(s.disconnects).toBe(1);
  });

  it('without usage: counts are chunks, and the note says so', async () => {
    const s = await stub(['no-usage.sse']);
    const p = new OpenAiRemoteProvider(endpoint(s.url, { capabilities: { ...DEFAULT_REMOTE_CAPABILITIES, tokenCounts: false } }));
    const { result, tokens, events } = await run(p);
    expect(s.requests[0].stream_options).toBeUndefined();
    expect(text(events, 'content')).toBe(ANSWER);
    expect(result.usage).toEqual({ promptTokens: null, completionTokens: null, cachedTokens: null });
    expect(tokens).toBe(Math.ceil(ANSWER.length / 4));   // one per chunk that carried text
    expect(result.notes).toContain(NOTE_NO_USAGE);
  });
});

describe('the chunk assembler', () => {
  it('a call to an undeclared tool or with broken JSON is an error event, not a call', () => {
    const asm = new ChunkAssembler({ reasoningField: 'auto', toolNames: ['get_weather'] });
    asm.push({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'a', function: { name: 'rm_rf', arguments: '{}' } }] } }] });
    asm.push({ choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: 'b', function: { name: 'get_weather', arguments: '{"city":' } }] } }] });
    asm.push({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] });
    const { events, reason } = asm.finish();
    expect(events.filter((e) => e.type === 'error').map((e) => (e as { message: string }).message)).toEqual([
      'call to unknown tool "rm_rf"', expect.stringMatching(/not valid JSON/),
    ]);
    expect(events.some((e) => e.type === 'tool_call_end')).toBe(false);
    expect(reason).toBe('stop');
  });

  it('a name sent before its id and arguments begins once known; an id is made when none comes', () => {
    const asm = new ChunkAssembler({ reasoningField: 'auto' });
    const a = asm.push({ choices: [{ delta: { tool_calls: [{ index: 0, function: { name: 'get_weather' } }] } }] });
    expect(a).toEqual([]);
    const b = asm.push({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{}' } }] } }] });
    expect(b).toEqual([{ type: 'tool_call_begin', index: 0, id: 'functions.get_weather:0', name: 'get_weather' }, { type: 'tool_call_delta', index: 0, delta: '{}' }]);
    asm.push({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    expect(asm.finish().reason).toBe('tool_calls');
  });

  it('length and content_filter finish reasons', () => {
    const len = new ChunkAssembler({ reasoningField: 'auto' });
    len.push({ choices: [{ delta: { content: 'x' }, finish_reason: 'length' }] });
    expect(len.finish().reason).toBe('length');
    const filt = new ChunkAssembler({ reasoningField: 'auto' });
    filt.push({ choices: [{ delta: {}, finish_reason: 'content_filter' }] });
    expect(filt.finish().filtered).toBe(true);
  });
});
