import { beforeAll, describe, expect, it } from 'vitest';
import type { FinishReason, OutputEvent } from '../../../common/chat-types.ts';
import {
  collectEvents, createIdOutputParser, createTextOutputParser, KimiTokenizer, type CollectedOutput,
} from '../../../main/text/index.ts';
import { DEMO_MODEL } from './shared.ts';

const SB = '<|tool_calls_section_begin|>', SE = '<|tool_calls_section_end|>';
const CB = '<|tool_call_begin|>', AB = '<|tool_call_argument_begin|>', CE = '<|tool_call_end|>';
const END = '<|im_end|>';
const call = (id: string, args: string) => `${CB}${id}${AB}${args}${CE}`;
const tc = (id: string, name: string, args: string) => ({ id, type: 'function' as const, function: { name, arguments: args } });

interface Case {
  name: string; text: string; tools?: string[]; reason?: FinishReason;
  want: Partial<CollectedOutput> & { errorCount?: number };
}

const CASES: Case[] = [
  { name: 'reasoning then content', text: `<think>Let me think: 汉字 😀.</think>The answer is 42.${END}`,
    want: { reasoning: 'Let me think: 汉字 😀.', content: 'The answer is 42.', toolCalls: [], finishReason: 'stop' } },
  { name: 'no reasoning (K2-Instruct style)', text: `Hello there${END}`,
    want: { reasoning: '', content: 'Hello there', finishReason: 'stop' } },
  { name: 'content before a tool call', tools: ['get_weather'],
    text: `<think>need data</think>Checking.${SB}${call('functions.get_weather:0', '{"city": "Paris"}')}${SE}${END}`,
    want: { reasoning: 'need data', content: 'Checking.', toolCalls: [tc('functions.get_weather:0', 'get_weather', '{"city": "Paris"}')], finishReason: 'tool_calls', errors: [] } },
  { name: 'multi-call section with whitespace between calls', tools: ['get_weather', 'get_time'],
    text: `<think>two</think>${SB}${call('functions.get_weather:0', '{"city": "Oslo"}')}\n ${call('functions.get_time:1', '{"tz": "CET"}')}${SE}${END}`,
    want: { reasoning: 'two', content: '', finishReason: 'tool_calls', errors: [],
      toolCalls: [tc('functions.get_weather:0', 'get_weather', '{"city": "Oslo"}'), tc('functions.get_time:1', 'get_time', '{"tz": "CET"}')] } },
  { name: 'singular section-begin variant', tools: ['calculator'],
    text: `<think>calc</think><|tool_call_section_begin|>${call('functions.calculator:0', '{"expression": "1+1"}')}<|tool_call_section_end|>${END}`,
    want: { reasoning: 'calc', content: '', toolCalls: [tc('functions.calculator:0', 'calculator', '{"expression": "1+1"}')], finishReason: 'tool_calls' } },
  { name: 'reasoning ends at a section without </think>', tools: ['get_weather'],
    text: `<think>I will call it${SB}${call('functions.get_weather:0', '{"city": "Rome"}')}${SE}${END}`,
    want: { reasoning: 'I will call it', content: '', toolCalls: [tc('functions.get_weather:0', 'get_weather', '{"city": "Rome"}')], finishReason: 'tool_calls' } },
  { name: 'call markers inside reasoning stay reasoning', tools: ['f'],
    text: `<think>maybe ${call('functions.f:0', '{}')} no</think>ok${END}`,
    want: { reasoning: `maybe ${call('functions.f:0', '{}')} no`, content: 'ok', toolCalls: [], finishReason: 'stop', errors: [] } },
  { name: 'dotted name and marker-like text inside JSON arguments', tools: ['get_weather'],
    text: `${SB}${call(' functions.ns.get_weather:3 ', '{"note": "<think> [EOS"}')}${SE}${END}`,
    want: { toolCalls: [tc('functions.ns.get_weather:3', 'get_weather', '{"note": "<think> [EOS"}')], finishReason: 'tool_calls' } },
  { name: 'bad JSON is an error, nothing lost', tools: ['get_weather'],
    text: `<think>r</think>${SB}${call('functions.get_weather:0', '{"city": Paris}')}${SE}${END}`,
    want: { toolCalls: [], finishReason: 'stop',
      errors: [{ message: expect.stringMatching(/not valid JSON/) as unknown as string, raw: call('functions.get_weather:0', '{"city": Paris}'), index: 0 }] } },
  { name: 'unknown tool is an error', tools: ['get_weather'],
    text: `${SB}${call('functions.rm_rf:0', '{"path": "/"}')}${SE}${END}`,
    want: { toolCalls: [], finishReason: 'stop',
      errors: [{ message: 'call to unknown tool "rm_rf"', raw: call('functions.rm_rf:0', '{"path": "/"}') }] } },
  { name: 'missing <|tool_call_end|> before the next call', tools: ['f', 'g'],
    text: `${SB}${CB}functions.f:0${AB}{"a": 1${call('functions.g:1', '{"b": 2}')}${SE}${END}`,
    want: { toolCalls: [tc('functions.g:1', 'g', '{"b": 2}')], finishReason: 'tool_calls',
      errors: [{ message: 'tool call without <|tool_call_end|>', raw: `${CB}functions.f:0${AB}{"a": 1`, index: 0 }] } },
  { name: 'cut off inside the arguments (length)', tools: ['f'], reason: 'length',
    text: `<think>x</think>${SB}${CB}functions.f:0${AB}{"a": "lo`,
    want: { toolCalls: [], finishReason: 'length', errors: [{ message: 'tool call without <|tool_call_end|>', raw: `${CB}functions.f:0${AB}{"a": "lo`, index: 0 }] } },
  { name: 'call without arguments marker', tools: ['f'],
    text: `${SB}${CB}functions.f:0${CE}${SE}${END}`,
    want: { toolCalls: [], errors: [{ message: 'tool call without <|tool_call_argument_begin|>', raw: `${CB}functions.f:0${CE}` }] } },
  { name: 'stray text in a section', tools: ['f'],
    text: `${SB}oops${call('functions.f:0', '{}')}${SE}${END}`,
    want: { toolCalls: [tc('functions.f:0', 'f', '{}')], errors: [{ message: 'text outside a tool call in a tool-call section', raw: 'oops' }] } },
  { name: 'cancelled mid-reasoning; nothing after <|im_end|>', reason: 'cancelled',
    text: `<think>hmm <|tool`, want: { reasoning: 'hmm <|tool', content: '', finishReason: 'cancelled' } },
  { name: 'text after the end marker is ignored', text: `hi${END}more`, want: { content: 'hi', finishReason: 'stop' } },
];

/** Merges consecutive deltas of one kind so streams cut differently compare equal. */
function normalize(events: OutputEvent[]): OutputEvent[] {
  const out: OutputEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (last && (e.type === 'reasoning' || e.type === 'content') && last.type === e.type) last.delta += e.delta;
    else if (last && e.type === 'tool_call_delta' && last.type === 'tool_call_delta' && last.index === e.index) last.delta += e.delta;
    else if (e.type !== 'tool_call_delta' || e.delta) out.push({ ...e });
  }
  return out;
}

function runText(c: Case, chunks: string[]): OutputEvent[] {
  const p = createTextOutputParser({ toolNames: c.tools });
  return [...chunks.flatMap((ch) => p.push(ch)), ...p.finish(c.reason ?? 'stop')];
}

function check(c: Case, events: OutputEvent[]) {
  const out = collectEvents(events);
  const { errorCount, ...want } = c.want;
  expect(out).toMatchObject(want);
  if (errorCount !== undefined) expect(out.errors).toHaveLength(errorCount);
}

describe('text output parser', () => {
  for (const c of CASES) {
    it(`${c.name}: whole, every 2-way cut, and one character at a time agree`, () => {
      const whole = normalize(runText(c, [c.text]));
      check(c, whole);
      for (let i = 0; i <= c.text.length; i++) {
        expect(normalize(runText(c, [c.text.slice(0, i), c.text.slice(i)])), `cut at ${i}`).toEqual(whole);
      }
      expect(normalize(runText(c, Array.from(c.text)))).toEqual(whole);
      // Every character written by the model shows up somewhere: as output or inside an error.
    });
  }

  it('streams a call: begin comes before the arguments finish, deltas concatenate to them', () => {
    const p = createTextOutputParser({ toolNames: ['get_weather'] });
    const early = [...p.push(`${SB}${CB}functions.get_weather:0${AB}`), ...p.push('{"city": ')];
    expect(early[0]).toEqual({ type: 'tool_call_begin', index: 0, id: 'functions.get_weather:0', name: 'get_weather' });
    expect(early.filter((e) => e.type === 'tool_call_delta').map((e) => (e as { delta: string }).delta).join('')).toBe('{"city": ');
    const rest = [...p.push(`"Paris"}${CE}${SE}`), ...p.finish('stop')];
    expect(rest.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  it('holds back only what could still become a marker', () => {
    const p = createTextOutputParser();
    expect(collectEvents(p.push('a <|tool')).content).toBe('a ');
    expect(collectEvents(p.push('s are fun')).content).toBe('<|tools are fun');
    expect(collectEvents(p.push('[EO')).content).toBe('');
    expect(collectEvents(p.finish('length'))).toMatchObject({ content: '[EO', finishReason: 'length' });
  });
});

describe('id output parser', () => {
  let tok: KimiTokenizer;
  beforeAll(() => { tok = KimiTokenizer.fromDir(DEMO_MODEL); });

  function runIds(c: Case, ids: number[]): OutputEvent[] {
    const p = createIdOutputParser(tok, { toolNames: c.tools });
    return [...ids.flatMap((id) => p.push(id)), ...p.finish(c.reason ?? 'stop')];
  }

  /** One id per byte (the demo vocabulary's ids 0..255 are the single bytes) and special ids for
   *  special-token text: every UTF-8 byte boundary becomes a token boundary. */
  function byteIds(text: string): number[] {
    return tok.splitSpecial(text).flatMap((s) => (s.special ? [tok.specialIds[s.text]] : Array.from(new TextEncoder().encode(s.text))));
  }

  for (const c of CASES) {
    it(`${c.name}: BPE tokens and single-byte tokens give the same events as text`, () => {
      const want = normalize(runText(c, [c.text]));
      const ids = tok.encode(c.text, { allowSpecial: true });
      expect(normalize(runIds(c, ids))).toEqual(want);
      expect(normalize(runIds(c, byteIds(c.text)))).toEqual(want);
    });
  }

  it('the singular variant written as plain-text tokens is still a section', () => {
    const c = CASES.find((x) => x.name.startsWith('singular'))!;
    const ids = tok.encode(c.text.replace(END, ''));                    // no special ids at all
    check({ ...c, want: { toolCalls: c.want.toolCalls, finishReason: 'tool_calls' } }, runIds(c, ids));
  });

  it('a special id flushes bytes of an unfinished character as U+FFFD', () => {
    const p = createIdOutputParser(tok);
    const events = [...p.push(230), ...p.push(177), ...p.push(tok.specialIds['<|im_end|>']), ...p.finish('stop')];
    expect(collectEvents(events).content).toBe('\uFFFD');
  });
});
