// The thinking / instant switch read from OpenAI- and Anthropic-style request bodies.
import { describe, expect, it } from 'vitest';
import { thinkingFromAnthropic, thinkingFromOpenAi } from '../../../main/text/thinking-params.ts';

describe('thinking from API parameters', () => {
  it('OpenAI: reasoning_effort, thinking, chat_template_kwargs.thinking', () => {
    expect(thinkingFromOpenAi({})).toBeUndefined();
    expect(thinkingFromOpenAi({ reasoning_effort: 'none' })).toBe(false);
    for (const e of ['minimal', 'low', 'medium', 'high']) expect(thinkingFromOpenAi({ reasoning_effort: e })).toBe(true);
    expect(thinkingFromOpenAi({ thinking: false })).toBe(false);
    expect(thinkingFromOpenAi({ thinking: { type: 'enabled' } })).toBe(true);
    expect(thinkingFromOpenAi({ thinking: { type: 'disabled' } })).toBe(false);
    expect(thinkingFromOpenAi({ chat_template_kwargs: { thinking: false } })).toBe(false);
    expect(thinkingFromOpenAi({ reasoning_effort: 'high', thinking: true })).toBe(true);
  });

  it('OpenAI: bad or conflicting values are errors', () => {
    expect(() => thinkingFromOpenAi({ reasoning_effort: 'extreme' })).toThrow(/reasoning_effort/);
    expect(() => thinkingFromOpenAi({ thinking: 'yes' })).toThrow(/thinking/);
    expect(() => thinkingFromOpenAi({ thinking: { type: 'auto' } })).toThrow(/enabled/);
    expect(() => thinkingFromOpenAi({ chat_template_kwargs: { thinking: 1 } })).toThrow(/boolean/);
    expect(() => thinkingFromOpenAi({ reasoning_effort: 'none', thinking: true })).toThrow(/conflicting/);
  });

  it('Anthropic: thinking {type}', () => {
    expect(thinkingFromAnthropic({})).toBeUndefined();
    expect(thinkingFromAnthropic({ thinking: { type: 'enabled', budget_tokens: 2048 } })).toBe(true);
    expect(thinkingFromAnthropic({ thinking: { type: 'disabled' } })).toBe(false);
    expect(() => thinkingFromAnthropic({ thinking: true })).toThrow(/object/);
    expect(() => thinkingFromAnthropic({ thinking: { type: 'on' } })).toThrow(/enabled/);
  });
});
