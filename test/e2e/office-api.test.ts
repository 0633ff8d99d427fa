// The office server's /v1 APIs through the official `openai` and `@anthropic-ai/sdk` clients,
// against the real `karakoram serve` (engine process + the demo model). Expected texts are the
// demo model's goldens (../shared/fixtures/demo-k2-reference/chat-goldens.json, greedy).
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, waitEngine, type Served } from './harness.ts';

const MODEL = 'demo-k2';
const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather', description: 'Retrieve current weather information for a city.',
    parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string', description: 'Name of the city' } } },
  },
};
const PARIS = "What's the weather like in Paris today?";
const PARIS_RESULT = '{"city": "Paris", "weather": "rainy", "temp_c": 12}';
/** The golden "Who are you?" turn: 27 prompt ids, 52 output ids (the last is <|im_end|>). */
const WHO_PROMPT_TOKENS = 27;
const WHO_COMPLETION_TOKENS = 52;
const WHO_ANSWER = "I am the Karakoram demo model: a tiny mixture-of-experts network with Kimi K2's architecture, trained only to show how the app works. For real answers, download a Kimi K2 checkpoint in Models.";
const WHO_REASONING = 'The user asks who I am.';
/** Body limit the server runs with here (MB), so the 413 case stays small. */
const MAX_BODY_MB = 1;

/** Greedy decoding; this SDK version's types no longer list temperature, the API (and this server) still take it. */
const GREEDY: object = { temperature: 0 };

let served: Served;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  served = await startServe(['--max-body-mb', String(MAX_BODY_MB)]);
  await waitEngine(served.url, ['ready']);
  openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: served.ownerKey, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: served.url, apiKey: served.ownerKey, maxRetries: 0 });
});
afterAll(async () => { await served?.stop(); });

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(`${served.url}${path}`, { method: 'POST', body, headers: { authorization: `Bearer ${served.ownerKey}`, 'content-type': 'application/json', ...headers } });
  return { status: r.status, json: await r.json() as Record<string, unknown>, headers: r.headers };
}

describe('OpenAI API (openai npm client)', () => {
  it('lists the served model', async () => {
    const list = await openai.models.list();
    expect(list.data.map((m) => m.id)).toEqual([MODEL]);
  });

  it('chat, not streamed: reasoning in reasoning_content, answer, usage', async () => {
    const r = await openai.chat.completions.create({ model: MODEL, temperature: 0, messages: [{ role: 'user', content: 'Who are you?' }] });
    const msg = r.choices[0].message as typeof r.choices[0]['message'] & { reasoning_content?: string };
    expect(msg.content).toBe(WHO_ANSWER);
    expect(msg.reasoning_content).toBe(WHO_REASONING);
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.usage).toMatchObject({ prompt_tokens: WHO_PROMPT_TOKENS, completion_tokens: WHO_COMPLETION_TOKENS, total_tokens: WHO_PROMPT_TOKENS + WHO_COMPLETION_TOKENS });
    expect(r.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(0);
  });

  it('chat, streamed: reasoning_content and content deltas, finish, usage chunk with cached tokens', async () => {
    const stream = await openai.chat.completions.create({ model: MODEL, temperature: 0, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Who are you?' }] });
    let reasoning = '', content = '', finish: string | null = null, chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    for await (const c of stream) {
      chunks++;
      if (c.usage) usage = c.usage;
      const ch = c.choices[0];
      if (!ch) continue;
      const d = ch.delta as typeof ch.delta & { reasoning_content?: string };
      reasoning += d.reasoning_content ?? '';
      content += d.content ?? '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
    expect(reasoning).toBe(WHO_REASONING);
    expect(content).toBe(WHO_ANSWER);
    expect(finish).toBe('stop');
    expect(chunks).toBeGreaterThan(10);
    expect(usage).toMatchObject({ prompt_tokens: WHO_PROMPT_TOKENS, completion_tokens: WHO_COMPLETION_TOKENS });
    expect(typeof usage?.prompt_tokens_details?.cached_tokens).toBe('number');
  });

  it('get_weather round trip: tool_calls deltas keyed by index, then the answer from the result', async () => {
    const stream = await openai.chat.completions.create({ model: MODEL, temperature: 0, stream: true, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: PARIS }] });
    const calls: Array<{ id: string; name: string; args: string }> = [];
    let reasoning = '', finish: string | null = null;
    for await (const c of stream) {
      const ch = c.choices[0];
      if (!ch) continue;
      reasoning += (ch.delta as { reasoning_content?: string }).reasoning_content ?? '';
      for (const t of ch.delta.tool_calls ?? []) {
        if (t.id) { expect(t.index).toBe(calls.length); calls.push({ id: t.id, name: t.function?.name ?? '', args: '' }); }
        calls[t.index].args += t.function?.arguments ?? '';
      }
      if (ch.finish_reason) finish = ch.finish_reason;
    }
    expect(finish).toBe('tool_calls');
    expect(calls).toHaveLength(1);
    expect(calls[0].name).toBe('get_weather');
    expect(JSON.parse(calls[0].args)).toEqual({ city: 'Paris' });
    expect(reasoning).toContain('get_weather');

    const answer = await openai.chat.completions.create({
      model: MODEL, temperature: 0, tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: PARIS },
        { role: 'assistant', content: '', tool_calls: [{ id: calls[0].id, type: 'function', function: { name: 'get_weather', arguments: calls[0].args } }], reasoning_content: reasoning } as OpenAI.ChatCompletionAssistantMessageParam,
        { role: 'tool', tool_call_id: calls[0].id, content: PARIS_RESULT },
      ],
    });
    expect(answer.choices[0].message.content).toBe('It is rainy in Paris, 12 °C.');
    expect(answer.choices[0].finish_reason).toBe('stop');
  });

  it('stop strings end the answer before them; max_tokens ends it with length', async () => {
    const r = await openai.chat.completions.create({ model: MODEL, temperature: 0, stop: ['mixture'], messages: [{ role: 'user', content: 'Who are you?' }] });
    expect(r.choices[0].message.content).toBe('I am the Karakoram demo model: a tiny ');
    expect(r.choices[0].finish_reason).toBe('stop');
    const short = await openai.chat.completions.create({ model: MODEL, temperature: 0, max_completion_tokens: 5, messages: [{ role: 'user', content: 'Who are you?' }] });
    expect(short.choices[0].finish_reason).toBe('length');
    expect(short.usage?.completion_tokens).toBe(5);
  });

  it('seed makes sampling repeatable; response_format json_object is accepted', async () => {
    const ask = (seed: number) => openai.chat.completions.create({ model: MODEL, temperature: 1, top_p: 1, seed, max_tokens: 24, messages: [{ role: 'user', content: 'What is 7 + 5?' }] });
    const [a, b] = await Promise.all([ask(11), ask(11)]);
    expect(a.choices[0].message).toEqual(b.choices[0].message);
    const j = await openai.chat.completions.create({ model: MODEL, temperature: 0, max_tokens: 8, response_format: { type: 'json_object' }, messages: [{ role: 'user', content: 'Who are you?' }] });
    expect(j.usage!.prompt_tokens).toBeGreaterThan(WHO_PROMPT_TOKENS);   // the JSON instruction is in the prompt
  });

  it('text completions and a stateless responses call', async () => {
    const c = await openai.completions.create({ model: MODEL, temperature: 0, max_tokens: 60, prompt: '<|im_user|>user<|im_middle|>Who are you?<|im_end|><|im_assistant|>assistant<|im_middle|>' });
    expect(c.choices[0].text).toContain('<think>');
    expect(c.choices[0].text).toContain('Karakoram demo model');
    const r = await openai.responses.create({ model: MODEL, temperature: 0, input: 'Who are you?' });
    expect(r.output_text).toBe(WHO_ANSWER);
    expect(r.output.some((o) => o.type === 'reasoning')).toBe(true);
    expect(r.usage?.input_tokens).toBe(WHO_PROMPT_TOKENS);
    const events: string[] = [];
    let text = '';
    for await (const e of await openai.responses.create({ model: MODEL, temperature: 0, input: 'Who are you?', stream: true })) {
      events.push(e.type);
      if (e.type === 'response.output_text.delta') text += e.delta;
    }
    expect(text).toBe(WHO_ANSWER);
    expect(events[0]).toBe('response.created');
    expect(events[events.length - 1]).toBe('response.completed');
  });

  it('errors in OpenAI shape: 401 bad key, 404 unknown model, 400 malformed, 400 over-long naming the limit, 413 too big', async () => {
    const bad = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'kk-000000000000-notarealkeynotarealkeynotarealkeynotarealkey', maxRetries: 0 });
    await expect(bad.models.list()).rejects.toMatchObject({ status: 401, error: { type: 'authentication_error' } });
    await expect(openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(openai.chat.completions.create({ model: MODEL, messages: [] })).rejects.toMatchObject({ status: 400, error: { type: 'invalid_request_error' } });
    const broken = await post('/v1/chat/completions', '{"model": "demo-k2", "messages": [');
    expect(broken.status).toBe(400);
    expect((broken.json.error as { message: string }).message).toMatch(/not valid JSON/);
    const long = 'alpha beta gamma delta '.repeat(3000);
    const over = openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: long }] });
    await expect(over).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
    await expect(over).rejects.toThrow(/maximum context length is 8192 tokens/);
    const huge = await post('/v1/chat/completions', JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY_MB * 1024 * 1024 + 10) }] }));
    expect(huge.status).toBe(413);
    expect((huge.json.error as { message: string }).message).toMatch(/over the limit of 1048576 bytes/);
  });
});

describe('Anthropic API (@anthropic-ai/sdk)', () => {
  it('messages, not streamed: thinking and text blocks, usage, system prompt', async () => {
    const m = await anthropic.messages.create({ model: MODEL, max_tokens: 200, ...GREEDY, messages: [{ role: 'user', content: 'Who are you?' }] });
    expect(m.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect((m.content[0] as Anthropic.ThinkingBlock).thinking).toBe(WHO_REASONING);
    expect((m.content[1] as Anthropic.TextBlock).text).toBe(WHO_ANSWER);
    expect(m.stop_reason).toBe('end_turn');
    expect(m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0)).toBe(WHO_PROMPT_TOKENS);
    expect(m.usage.output_tokens).toBe(WHO_COMPLETION_TOKENS);
    const withSystem = await anthropic.messages.countTokens({ model: MODEL, system: 'You are Kimi, an AI assistant created by Moonshot AI.', messages: [{ role: 'user', content: 'Who are you?' }] });
    expect(withSystem.input_tokens).toBe(WHO_PROMPT_TOKENS);   // the template's default system prompt, given explicitly
    const other = await anthropic.messages.countTokens({ model: MODEL, system: 'Be brief.', messages: [{ role: 'user', content: 'Who are you?' }] });
    expect(other.input_tokens).not.toBe(WHO_PROMPT_TOKENS);
  });

  it('messages, streamed: events in Anthropic order', async () => {
    const stream = await anthropic.messages.create({ model: MODEL, max_tokens: 200, ...GREEDY, stream: true, messages: [{ role: 'user', content: 'Who are you?' }] });
    const types: string[] = [];
    let thinking = '', text = '', stop: string | null = null;
    for await (const e of stream) {
      types.push(e.type === 'content_block_start' ? `start:${e.content_block.type}` : e.type);
      if (e.type === 'content_block_delta') {
        if (e.delta.type === 'thinking_delta') thinking += e.delta.thinking;
        if (e.delta.type === 'text_delta') text += e.delta.text;
      }
      if (e.type === 'message_delta') stop = e.delta.stop_reason;
    }
    // (the SDK consumes the ping event the server sends after message_start)
    const squash = types.filter((t, i) => t !== types[i - 1]);
    expect(squash).toEqual(['message_start', 'start:thinking', 'content_block_delta', 'content_block_stop', 'start:text', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(thinking).toBe(WHO_REASONING);
    expect(text).toBe(WHO_ANSWER);
    expect(stop).toBe('end_turn');
  });

  it('get_weather round trip: tool_use block, tool_result in, the answer out; stop_sequences', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'get_weather', description: WEATHER_TOOL.function.description, input_schema: WEATHER_TOOL.function.parameters as Anthropic.Tool.InputSchema }];
    const first = await anthropic.messages.create({ model: MODEL, max_tokens: 200, ...GREEDY, tools, messages: [{ role: 'user', content: PARIS }] });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    const second = await anthropic.messages.create({
      model: MODEL, max_tokens: 200, ...GREEDY, tools,
      messages: [
        { role: 'user', content: PARIS },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: PARIS_RESULT }] },
      ],
    });
    const text = second.content.find((b): b is Anthropic.TextBlock => b.type === 'text');
    expect(text?.text).toBe('It is rainy in Paris, 12 °C.');
    const cut = await anthropic.messages.create({ model: MODEL, max_tokens: 200, ...GREEDY, stop_sequences: ['mixture'], messages: [{ role: 'user', content: 'Who are you?' }] });
    expect(cut.stop_reason).toBe('stop_sequence');
    expect(cut.stop_sequence).toBe('mixture');
    expect((cut.content.find((b) => b.type === 'text') as Anthropic.TextBlock).text).toBe('I am the Karakoram demo model: a tiny ');
  });

  it('errors in Anthropic shape: 401 bad key (x-api-key), 404 unknown model, 400 malformed, 413', async () => {
    const bad = new Anthropic({ baseURL: served.url, apiKey: 'wrong', maxRetries: 0 });
    await expect(bad.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401, error: { type: 'error', error: { type: 'authentication_error' } } });
    await expect(anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404, error: { error: { type: 'not_found_error' } } });
    const noMax = await post('/v1/messages', JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }), { 'x-api-key': served.ownerKey, authorization: '' });
    expect(noMax.status).toBe(400);
    expect(noMax.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/max_tokens/) } });
    const huge = await post('/v1/messages', JSON.stringify({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY_MB * 1024 * 1024 + 10) }] }));
    expect(huge.status).toBe(413);
    expect(huge.json).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
  });

  it('usage lands per key and day; /metrics shows queue, running and the TTFT histogram; keys never in the log', async () => {
    const r = await fetch(`${served.url}/metrics`, { headers: { authorization: `Bearer ${served.ownerKey}` } });
    const text = await r.text();
    expect(text).toMatch(/^karakoram_queue_depth 0$/m);
    expect(text).toMatch(/^karakoram_running_sequences \d+$/m);
    expect(text).toMatch(/^karakoram_time_to_first_token_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^karakoram_generated_tokens_per_second /m);
    expect((await fetch(`${served.url}/metrics`)).status).toBe(401);
    expect(served.log()).not.toContain(served.ownerKey);
  });
});
