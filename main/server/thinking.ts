// thinking.ts — the thinking / instant switch of a /v1 request (Kimi K2.5 / K2.6 templates read
// `thinking`), read by main/text/thinking-params.ts; a bad or conflicting value is a 400 naming the
// field. A model whose template has no switch (K2-Thinking) always thinks: the value is accepted
// and changes nothing, as the app's own composer does for such a model.
import { ThinkingParamError, thinkingFromAnthropic, thinkingFromOpenAi } from '../text/thinking-params.ts';
import { ApiError } from './http/api-error.ts';

function read(parse: (b: Record<string, unknown>) => boolean | undefined, body: Record<string, unknown>, param: string): boolean | undefined {
  try {
    return parse(body);
  } catch (e) {
    if (e instanceof ThinkingParamError) throw new ApiError('invalid_request', e.message, { param });
    throw e;
  }
}

/** Chat completions: reasoning_effort, thinking, chat_template_kwargs.thinking. */
export function openAiThinking(body: Record<string, unknown>): boolean | undefined {
  return read(thinkingFromOpenAi, body, 'reasoning_effort');
}

/** Responses: reasoning.effort is the same switch as chat's reasoning_effort. */
export function responsesThinking(body: Record<string, unknown>): boolean | undefined {
  const r = body.reasoning;
  if (r !== undefined && r !== null && (typeof r !== 'object' || Array.isArray(r))) {
    throw new ApiError('invalid_request', 'reasoning must be an object {"effort": ...}', { param: 'reasoning' });
  }
  const effort = (r as { effort?: unknown } | null | undefined)?.effort;
  return read(thinkingFromOpenAi, { reasoning_effort: effort, chat_template_kwargs: body.chat_template_kwargs }, 'reasoning.effort');
}

/** Messages and count_tokens: thinking {type: enabled | disabled}. */
export function anthropicThinking(body: Record<string, unknown>): boolean | undefined {
  return read(thinkingFromAnthropic, body, 'thinking');
}
