// office-gateway.test.ts — the office server as a gateway (issues 12 and 19): server A runs with no
// local model and a remote engine configured (through its contract, as the app's Remote engines
// section does); the remote is a REAL second `karakoram serve` (B) with the demo model. Clients of
// A, with A's keys, use B's model through A's /v1 routes with the official `openai` and
// `@anthropic-ai/sdk` clients: it is listed; chat streams reasoning and content; a get_weather
// round trip; A's limits, queue and usage accounting count the requests. Killing B in the middle
// of a stream ends that stream with a clear error naming B, and A goes on answering (a 502 that
// says B is unreachable, its own model list still served).
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWsClient, type WsClient } from '../../common/ws-client.ts';
import { requireAddon } from '../support/engine.ts';
import { keyedSocket } from '../support/keyed-socket.ts';
import { engineStatus, startServe, waitEngine, type Served } from './harness.ts';

requireAddon('the office-gateway e2e');

const MODEL = 'demo-k2';
const WHO_ANSWER = "I am the Karakoram demo model: a tiny mixture-of-experts network with Kimi K2's architecture, trained only to show how the app works. For real answers, download a Kimi K2 checkpoint in Models.";
const WHO_REASONING = 'The user asks who I am.';
const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather', description: 'Retrieve current weather information for a city.',
    parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string', description: 'Name of the city' } } },
  },
};
const PARIS = "What's the weather like in Paris today?";
const PARIS_RESULT = '{"city": "Paris", "weather": "rainy", "temp_c": 12}';
/** A long sampled answer (temperature 2 rambles past the turn end), so B can be killed in the middle of it. */
const LONG_ANSWER_TOKENS = 4000;
const GREEDY: object = { temperature: 0 };

let remote: Served;
let gateway: Served;
let client: WsClient;
let openai: OpenAI;
let anthropic: Anthropic;

async function metric(name: string): Promise<number> {
  const t = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${gateway.ownerKey}` } })).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(t);
  return m ? Number(m[1]) : 0;
}

describe('the gateway: a remote karakoram serve behind this server\'s keys', () => {
  beforeAll(async () => {
    remote = await startServe();
    await waitEngine(remote.url, ['ready']);
    gateway = await startServe(['--no-model']);
    client = createWsClient(`${gateway.url.replace(/^http/, 'ws')}/ws`, keyedSocket(() => gateway.ownerKey));
    await client.ready;
    await client.api.saveRemote({ name: 'office-box', baseUrl: `${remote.url}/v1`, apiKey: remote.ownerKey, model: MODEL });
    openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.ownerKey, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gateway.url, apiKey: gateway.ownerKey, maxRetries: 0 });
  });
  afterAll(async () => {
    client?.close();
    await gateway?.stop();
    await remote?.stop();
  });

  it('lists the remote\'s model; a wrong key at the gateway is refused there', async () => {
    expect((await engineStatus(gateway.url)).state).not.toBe('ready');   // no local model
    const list = await openai.models.list();
    expect(list.data.map((m) => [m.id, m.owned_by])).toEqual([[MODEL, 'office-box']]);
    const wrong = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: remote.ownerKey, maxRetries: 0 });   // B's key is not A's
    await expect(wrong.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401 });
    await expect(openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/it serves 'demo-k2'/) });
    await expect(openai.completions.create({ model: MODEL, prompt: 'hi' })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/runs on a remote engine \(demo-k2 on office-box\)/) });
  });

  it('OpenAI chat through the gateway: reasoning_content and content stream, usage from the remote, A counts it', async () => {
    const before = await metric('karakoram_completion_tokens_total');
    const stream = await openai.chat.completions.create({ model: MODEL, temperature: 0, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Who are you?' }] });
    let reasoning = '', content = '', finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    for await (const c of stream) {
      if (c.usage) usage = c.usage;
      const d = c.choices[0]?.delta as { reasoning_content?: string; content?: string } | undefined;
      reasoning += d?.reasoning_content ?? '';
      content += d?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(reasoning).toBe(WHO_REASONING);
    expect(content).toBe(WHO_ANSWER);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 27, completion_tokens: 52 });
    expect(await metric('karakoram_completion_tokens_total')).toBe(before + 52);
    expect(await metric('karakoram_requests_total{api="openai.chat",status="200"}')).toBeGreaterThanOrEqual(1);
  });

  it('get_weather round trip through the gateway, then Anthropic messages with thinking and tool_use', async () => {
    const first = await openai.chat.completions.create({ model: MODEL, temperature: 0, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: PARIS }] });
    const msg = first.choices[0].message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(msg.tool_calls?.map((c) => c.type === 'function' && [c.function.name, JSON.parse(c.function.arguments)])).toEqual([['get_weather', { city: 'Paris' }]]);
    expect(msg.reasoning_content).toContain('get_weather');
    const call = msg.tool_calls![0];
    const answer = await openai.chat.completions.create({
      model: MODEL, temperature: 0, tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: PARIS },
        { role: 'assistant', content: '', tool_calls: msg.tool_calls, reasoning_content: msg.reasoning_content } as OpenAI.ChatCompletionAssistantMessageParam,
        { role: 'tool', tool_call_id: call.id, content: PARIS_RESULT },
      ],
    });
    expect(answer.choices[0].message.content).toBe('It is rainy in Paris, 12 °C.');

    const tools: Anthropic.Tool[] = [{ name: 'get_weather', description: WEATHER_TOOL.function.description, input_schema: WEATHER_TOOL.function.parameters as Anthropic.Tool.InputSchema }];
    const m = await anthropic.messages.create({ model: MODEL, max_tokens: 200, ...GREEDY, tools, messages: [{ role: 'user', content: PARIS }] });
    expect(m.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    expect(m.stop_reason).toBe('tool_use');
    expect(m.content[1]).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    const who = await anthropic.messages.create({ model: MODEL, max_tokens: 200, ...GREEDY, messages: [{ role: 'user', content: 'Who are you?' }] });
    expect((who.content.find((b) => b.type === 'text') as Anthropic.TextBlock).text).toBe(WHO_ANSWER);
    await expect(anthropic.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 400 });
  });

  it('the remote killed mid-stream: that stream ends with an error naming it; the gateway goes on', async () => {
    const remoteHost = new URL(remote.url).host;
    const enginePid = (await engineStatus(remote.url)).pid;
    const stream = await openai.chat.completions.create({ model: MODEL, temperature: 2, top_p: 1, seed: 7, max_tokens: LONG_ANSWER_TOKENS, stream: true, messages: [{ role: 'user', content: 'Who are you?' }] });
    let got = '', killed = false, finish: string | null = null;
    const ended = (async () => {
      for await (const c of stream) {
        const d = c.choices[0]?.delta as { reasoning_content?: string; content?: string } | undefined;
        got += (d?.reasoning_content ?? '') + (d?.content ?? '');
        finish = c.choices[0]?.finish_reason ?? finish;
        if (got && !killed) {
          killed = true;
          remote.proc.kill('SIGKILL');
          if (enginePid) try { process.kill(enginePid, 'SIGKILL'); } catch { /* already gone */ }
        }
      }
    })();
    await expect(ended).rejects.toThrow(new RegExp(`${remoteHost.replace(/[.]/g, '\\.')}.*(broke in the middle of the answer|ended before the answer finished)`));
    expect(killed).toBe(true);
    expect(finish).toBeNull();
    expect(got.length).toBeGreaterThan(0);
    // The gateway itself is fine: it lists its models and says the remote is gone.
    expect((await openai.models.list()).data.map((x) => x.id)).toEqual([MODEL]);
    await expect(openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }))
      .rejects.toMatchObject({ status: 502, message: expect.stringMatching(/could not reach .*connection refused/) });
    expect(await metric('karakoram_running_sequences')).toBe(0);
  });
});
