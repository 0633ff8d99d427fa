// Kimi K2.5 / K2.6 prompts through the text layer, with the K2.5-style template written for the
// tests (test/fixtures/k25/chat_template.jinja — the real file is not reachable from here) on a
// K2.5-packaged copy of the demo model. Expected strings: the demo goldens' K2-Thinking prompts
// (HF-rendered) changed by the published K2.5 rules only —
//   - generation prompt + "<think>" (thinking, the default) or + "<think></think>" (thinking
//     false): the `thinking is defined and thinking is false` branch quoted by llama.cpp's and
//     mlx-vlm's Kimi handling and by several serving stacks' notes on moonshotai/Kimi-K2.5;
//   - tool_declare holds `tools_ts_str` (tokenization_kimi.py computes it with
//     encode_tools_to_typescript_style from the deep-sorted tools), JSON when that fails;
//   - K2.6 preserve_thinking keeps earlier reasoning instead of an empty <think></think>.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, ToolSpec } from '../../../common/chat-types.ts';
import { collectEvents, loadTextModel, renderAndEncode, type TextModel } from '../../../main/text/index.ts';
import { packageAsK25 } from '../../fixtures/k25/package.ts';
import { chatGoldens, DEMO_MODEL } from './shared.ts';

const WEATHER_TS = [
  '# Tools', '', '## functions', 'namespace functions {',
  '// Retrieve current weather information for a city.',
  'type get_weather = (_: {', '  // Name of the city', '  city: string', '}) => any;', '}', '',
].join('\n');
const DECLARE = '<|im_system|>tool_declare<|im_middle|>';

describe('K2.5-style template: thinking switch, TypeScript tool declaration, reasoning prefill', () => {
  let root: string;
  let k25: TextModel;
  let k2: TextModel;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kk-k25-text-'));
    packageAsK25(DEMO_MODEL, join(root, 'Kimi-K2.5-demo'));
    k25 = await loadTextModel(join(root, 'Kimi-K2.5-demo'));
    k2 = await loadTextModel(DEMO_MODEL);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const [greeting, , weather, toolRound] = chatGoldens();

  it('thinking on (the default) prefills <think>; off prefills <think></think>', () => {
    const on = renderAndEncode(k25, greeting.messages, null, { thinking: true });
    const dflt = renderAndEncode(k25, greeting.messages, null);
    const off = renderAndEncode(k25, greeting.messages, null, { thinking: false });
    expect(on.promptText).toBe(`${greeting.prompt_text}<think>`);
    expect(dflt.promptText).toBe(on.promptText);
    expect(off.promptText).toBe(`${greeting.prompt_text}<think></think>`);
    const think = k25.specialIds['<think>'], endThink = k25.specialIds['</think>'];
    expect(on.promptIds).toEqual([...greeting.prompt_ids, think]);
    expect(off.promptIds).toEqual([...greeting.prompt_ids, think, endThink]);
    expect([on.startsInReasoning, off.startsInReasoning]).toEqual([true, false]);
    expect(k25.thinkingSwitch).toBe(true);
  });

  it('K2-Thinking\'s template has no switch: the flag changes nothing and the goldens hold', () => {
    expect(k2.thinkingSwitch).toBe(false);
    for (const thinking of [true, false]) {
      const r = renderAndEncode(k2, weather.messages, weather.tools, { thinking });
      expect(r.promptText).toBe(weather.prompt_text);
      expect(r.startsInReasoning).toBe(false);
    }
  });

  it('a tool declaration is the TypeScript block', () => {
    const r = renderAndEncode(k25, weather.messages, weather.tools);
    const json = weather.prompt_text.slice(DECLARE.length, weather.prompt_text.indexOf('<|im_end|>'));
    expect(r.promptText).toBe(`${weather.prompt_text.replace(json, WEATHER_TS)}<think>`);
    expect(r.promptText.startsWith(`${DECLARE}# Tools\n\n## functions\nnamespace functions {\n`)).toBe(true);
  });

  it('a tool round: the call and its result render as in K2-Thinking, then the prefill', () => {
    for (const thinking of [true, false]) {
      const r = renderAndEncode(k25, toolRound.messages, toolRound.tools, { thinking });
      const json = toolRound.prompt_text.slice(DECLARE.length, toolRound.prompt_text.indexOf('<|im_end|>'));
      expect(r.promptText).toBe(toolRound.prompt_text.replace(json, WEATHER_TS) + (thinking ? '<think>' : '<think></think>'));
    }
  });

  it('a schema the TypeScript form cannot express falls back to the JSON declaration', () => {
    const bad: ToolSpec[] = [{ type: 'function', function: { name: 'f', description: 'x', parameters: { type: 'object', properties: { a: { oneOf: [] } } } } }];
    const r = renderAndEncode(k25, greeting.messages, bad);
    expect(r.promptText.startsWith(`${DECLARE}[{"function": {"description": "x", "name": "f", "parameters": {"properties": {"a": {"oneOf": []}}, "type": "object"}}, "type": "function"}]<|im_end|>`)).toBe(true);
  });

  it('preserve_thinking (K2.6) keeps an earlier turn\'s reasoning', () => {
    const chat: ChatMessage[] = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.', reasoning_content: 'Greet back.' },
      { role: 'user', content: 'Bye' },
    ];
    const plain = k25.template.render(chat, { addGenerationPrompt: true });
    const kept = k25.template.render(chat, { addGenerationPrompt: true, preserveThinking: true });
    expect(plain).toContain('<|im_assistant|>assistant<|im_middle|><think></think>Hello.<|im_end|>');
    expect(kept).toContain('<|im_assistant|>assistant<|im_middle|><think>Greet back.</think>Hello.<|im_end|>');
  });

  it('the output parser starts inside the reasoning after a prefilled <think>', () => {
    // The greeting golden without its opening <think>: what a K2.5 model writes after the prefill.
    const ids = greeting.output_ids.slice(1);
    const enc = renderAndEncode(k25, greeting.messages, null);
    const parser = k25.createOutputParser({ startInReasoning: enc.startsInReasoning });
    const out = collectEvents([...ids.flatMap((id) => parser.push(id)), ...parser.finish('stop')]);
    expect(out.reasoning).toBe('The user asks who I am.');
    expect(out.content.startsWith('I am the Karakoram demo model')).toBe(true);
    // Without the flag the same ids would all be content: the flag is what makes it reasoning.
    const plain = k25.createOutputParser();
    const out2 = collectEvents([...ids.flatMap((id) => plain.push(id)), ...plain.finish('stop')]);
    expect(out2.reasoning).toBe('');
  });

  it('stops on both [EOS] and <|im_end|>', () => {
    expect(k25.generation.stopIds).toEqual(expect.arrayContaining([k25.specialIds['[EOS]'], k25.specialIds['<|im_end|>']]));
  });
});
