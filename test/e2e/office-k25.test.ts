// office-k25.test.ts — the thinking / instant switch through the /v1 APIs (official `openai` and
// `@anthropic-ai/sdk` clients), on a Kimi K2.5-packaged copy of the demo model served by the real
// `karakoram serve`: OpenAI reasoning_effort / chat_template_kwargs.thinking / Moonshot's thinking
// object, Responses reasoning.effort, Anthropic thinking {type}; thinking streams reasoning, instant
// (the template prefills <think></think>) answers without it and its prompt is a different one;
// bad and conflicting values are 400s naming the field.
import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAddon } from '../support/engine.ts';
import { packageAsK25 } from '../fixtures/k25/package.ts';
import { DEMO_MODEL } from '../unit/text/shared.ts';
import { startServe, waitEngine, type Served } from './harness.ts';

requireAddon('the office-k25 e2e');

const MODEL = 'Kimi-K2.5-demo';
const ASK = [{ role: 'user' as const, content: 'Who are you?' }];
const WHO_REASONING = 'The user asks who I am.';
/** Greedy; this SDK version's types no longer list temperature, the API still takes it. */
const GREEDY: object = { temperature: 0 };

let root: string;
let served: Served;
let openai: OpenAI;
let anthropic: Anthropic;

type Msg = OpenAI.ChatCompletionMessage & { reasoning_content?: string };
const chat = async (extra: object): Promise<{ msg: Msg; promptTokens: number }> => {
  const r = await openai.chat.completions.create({ model: MODEL, temperature: 0, max_tokens: 120, messages: ASK, ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  return { msg: r.choices[0].message as Msg, promptTokens: r.usage!.prompt_tokens };
};

describe('thinking / instant through /v1 on a K2.5-packaged model', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kk-e2e-office-k25-'));
    const dir = join(root, MODEL);
    packageAsK25(DEMO_MODEL, dir);
    served = await startServe(['--model', dir]);
    const st = await waitEngine(served.url, ['ready', 'error']);
    expect(st.state, st.error ?? '').toBe('ready');
    expect(st.model?.thinkingSwitch).toBe(true);
    openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: served.ownerKey, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: served.url, apiKey: served.ownerKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await served?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('OpenAI chat: default and every thinking effort stream reasoning_content; none / kwargs false / disabled answer without it', async () => {
    const byDefault = await chat({});
    expect(byDefault.msg.reasoning_content).toBe(WHO_REASONING);
    for (const extra of [{ reasoning_effort: 'high' }, { reasoning_effort: 'low' }, { chat_template_kwargs: { thinking: true } }, { thinking: { type: 'enabled' } }]) {
      const r = await chat(extra);
      expect(r.msg.reasoning_content, JSON.stringify(extra)).toBe(WHO_REASONING);
      expect(r.promptTokens).toBe(byDefault.promptTokens);
    }
    for (const extra of [{ reasoning_effort: 'none' }, { chat_template_kwargs: { thinking: false } }, { thinking: { type: 'disabled' } }, { thinking: false }]) {
      const r = await chat(extra);
      expect(r.msg.reasoning_content, JSON.stringify(extra)).toBeUndefined();
      expect(r.msg.content!.length).toBeGreaterThan(0);
      // The instant prompt is another prompt: the template closed the think block itself.
      expect(r.promptTokens).toBe(byDefault.promptTokens + 1);
    }
    const stream = await openai.chat.completions.create({ model: MODEL, temperature: 0, max_tokens: 120, stream: true, messages: ASK, reasoning_effort: 'none' });
    let reasoning = '', content = '';
    for await (const c of stream) {
      const d = c.choices[0]?.delta as { reasoning_content?: string; content?: string } | undefined;
      reasoning += d?.reasoning_content ?? '';
      content += d?.content ?? '';
    }
    expect(reasoning).toBe('');
    expect(content.length).toBeGreaterThan(0);
  });

  it('Responses: reasoning.effort none has no reasoning item; the default has one', async () => {
    const think = await openai.responses.create({ model: MODEL, temperature: 0, input: 'Who are you?' });
    expect(think.output.some((o) => o.type === 'reasoning')).toBe(true);
    const instant = await openai.responses.create({ model: MODEL, temperature: 0, input: 'Who are you?', reasoning: { effort: 'none' } } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect(instant.output.some((o) => o.type === 'reasoning')).toBe(false);
    expect(instant.output_text.length).toBeGreaterThan(0);
  });

  it('Anthropic: thinking enabled gives a thinking block, disabled none; count_tokens follows the switch', async () => {
    const on = await anthropic.messages.create({ model: MODEL, max_tokens: 200, ...GREEDY, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: ASK });
    expect(on.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect((on.content[0] as Anthropic.ThinkingBlock).thinking).toBe(WHO_REASONING);
    const off = await anthropic.messages.create({ model: MODEL, max_tokens: 200, ...GREEDY, thinking: { type: 'disabled' }, messages: ASK });
    expect(off.content.map((b) => b.type)).toEqual(['text']);
    const countOn = await anthropic.messages.countTokens({ model: MODEL, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: ASK });
    const countOff = await anthropic.messages.countTokens({ model: MODEL, thinking: { type: 'disabled' }, messages: ASK });
    expect(countOff.input_tokens).toBe(countOn.input_tokens + 1);
  });

  it('bad and conflicting values are 400s naming the field', async () => {
    await expect(chat({ reasoning_effort: 'extreme' })).rejects.toMatchObject({ status: 400, param: 'reasoning_effort', message: expect.stringMatching(/reasoning_effort must be one of none, minimal/) });
    await expect(chat({ reasoning_effort: 'none', chat_template_kwargs: { thinking: true } })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/conflicting thinking settings/) });
    await expect(anthropic.messages.create({ model: MODEL, max_tokens: 10, thinking: { type: 'sometimes' } as unknown as Anthropic.ThinkingConfigParam, messages: ASK }))
      .rejects.toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error', message: expect.stringMatching(/thinking\.type must be "enabled" or "disabled"/) } } });
  });
});
