// thinking-params.ts — the thinking / instant switch (Kimi K2.5 / K2.6 `thinking`) read from an API
// request body, for the /v1 routes. Returns true (think), false (instant) or undefined (the
// request says nothing: the model's default, thinking for K2.5). Bad values are errors, not guesses.
//
// OpenAI chat completions:
//   - `reasoning_effort`: "none" is instant; "minimal" | "low" | "medium" | "high" think (K2.5 has
//     one thinking depth, so every effort above none is the same thinking mode);
//   - `thinking`: a boolean, or Moonshot's own API shape {type: "enabled" | "disabled"};
//   - `chat_template_kwargs.thinking` (vLLM's and SGLang's way to pass the template flag).
// Anthropic messages:
//   - `thinking`: {type: "enabled", budget_tokens} thinks; {type: "disabled"} is instant. The
//     budget cannot be honoured by the template; it is not an error.
// When a request sets more than one of these and they disagree, that is an error.

const OPENAI_EFFORTS: Record<string, boolean> = { none: false, minimal: true, low: true, medium: true, high: true };

export class ThinkingParamError extends Error {}

function fromTypeObject(v: unknown, field: string): boolean {
  const t = (v as { type?: unknown }).type;
  if (t === 'enabled') return true;
  if (t === 'disabled') return false;
  throw new ThinkingParamError(`${field}.type must be "enabled" or "disabled", got ${JSON.stringify(t)}`);
}

function agree(values: Array<[string, boolean | undefined]>): boolean | undefined {
  const set = values.filter((v): v is [string, boolean] => v[1] !== undefined);
  if (set.some((v) => v[1] !== set[0][1])) {
    throw new ThinkingParamError(`conflicting thinking settings: ${set.map(([k, v]) => `${k} says ${v ? 'think' : 'instant'}`).join(', ')}`);
  }
  return set[0]?.[1];
}

/** OpenAI-style body (reasoning_effort, thinking, chat_template_kwargs.thinking). */
export function thinkingFromOpenAi(body: Record<string, unknown>): boolean | undefined {
  let effort: boolean | undefined;
  if (body.reasoning_effort !== undefined && body.reasoning_effort !== null) {
    const e = body.reasoning_effort;
    if (typeof e !== 'string' || !(e in OPENAI_EFFORTS)) {
      throw new ThinkingParamError(`reasoning_effort must be one of ${Object.keys(OPENAI_EFFORTS).join(', ')}, got ${JSON.stringify(e)}`);
    }
    effort = OPENAI_EFFORTS[e];
  }
  let thinking: boolean | undefined;
  const t = body.thinking;
  if (typeof t === 'boolean') thinking = t;
  else if (t !== undefined && t !== null) {
    if (typeof t !== 'object' || Array.isArray(t)) throw new ThinkingParamError('thinking must be a boolean or {"type": "enabled" | "disabled"}');
    thinking = fromTypeObject(t, 'thinking');
  }
  let kwarg: boolean | undefined;
  const k = body.chat_template_kwargs;
  if (k && typeof k === 'object' && 'thinking' in k) {
    const v = (k as Record<string, unknown>).thinking;
    if (typeof v !== 'boolean') throw new ThinkingParamError('chat_template_kwargs.thinking must be a boolean');
    kwarg = v;
  }
  return agree([['reasoning_effort', effort], ['thinking', thinking], ['chat_template_kwargs.thinking', kwarg]]);
}

/** Anthropic-style body (thinking: {type: "enabled" | "disabled", budget_tokens?}). */
export function thinkingFromAnthropic(body: Record<string, unknown>): boolean | undefined {
  const t = body.thinking;
  if (t === undefined || t === null) return undefined;
  if (typeof t !== 'object' || Array.isArray(t)) throw new ThinkingParamError('thinking must be an object {"type": "enabled" | "disabled"}');
  return fromTypeObject(t, 'thinking');
}
