// runner.ts — what happens to one tool call between the model's output and its result, whatever
// the tool (built-in or MCP): the arguments are parsed and validated against the tool's JSON
// schema (ajv) before anyone is asked to approve them — invalid ones go straight back to the model
// as an error it can fix; then the call runs under a timeout and an abort signal, and a result
// larger than the limit is cut, with a note saying so, before the model reads it.
import { Ajv, type ValidateFunction } from 'ajv';

/** How long one call may run before it is abandoned and reported as timed out. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
/** Characters of a result the model receives at most (≈ 16k tokens). */
export const DEFAULT_MAX_RESULT_CHARS = 64 * 1024;

export interface ToolOutcome { result: string; isError: boolean; note?: string }

export type ParsedArgs = { ok: true; args: Record<string, unknown> } | { ok: false; error: string };

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const compiled = new WeakMap<object, ValidateFunction>();

function validator(schema: Record<string, unknown>): ValidateFunction | string {
  let v = compiled.get(schema);
  if (!v) {
    try { v = ajv.compile(schema); } catch (e) { return `the tool's own schema is invalid: ${(e as Error).message}`; }
    compiled.set(schema, v);
  }
  return v;
}

/** Parses the model's argument text and checks it against the schema (absent schema: any object). */
export function parseArguments(argumentsJson: string, schema: Record<string, unknown> | undefined): ParsedArgs {
  let args: unknown;
  try { args = argumentsJson.trim() ? JSON.parse(argumentsJson) : {}; } catch (e) {
    return { ok: false, error: `arguments are not valid JSON (${(e as Error).message}): ${argumentsJson.slice(0, 200)}` };
  }
  if (!args || typeof args !== 'object' || Array.isArray(args)) return { ok: false, error: 'arguments must be a JSON object' };
  if (!schema) return { ok: true, args: args as Record<string, unknown> };
  const v = validator(schema);
  if (typeof v === 'string') return { ok: false, error: v };
  if (v(args)) return { ok: true, args: args as Record<string, unknown> };
  const why = (v.errors ?? []).map((e) => `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` ('${String(e.params.additionalProperty)}')` : ''}`);
  return { ok: false, error: `arguments do not match the tool's schema: ${why.join('; ')}` };
}

/** Cuts a result to maxChars, telling the model how much it did not get. */
export function limitResult(out: ToolOutcome, maxChars = DEFAULT_MAX_RESULT_CHARS): ToolOutcome {
  if (out.result.length <= maxChars) return out;
  const note = `[result truncated: the first ${maxChars} of ${out.result.length} characters are shown]`;
  return { ...out, result: `${out.result.slice(0, maxChars)}\n${note}`, note: out.note ? `${out.note}; ${note}` : note };
}

export class ToolTimeoutError extends Error {}

/**
 * Runs `fn` with a signal that aborts on timeout or when `outer` aborts. A timeout, a stop and a
 * throw all become results the model can read; nothing escapes.
 */
export async function runLimited(fn: (signal: AbortSignal) => Promise<ToolOutcome> | ToolOutcome,
  opts: { timeoutMs?: number; maxResultChars?: number; signal?: AbortSignal } = {}): Promise<ToolOutcome> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const ctl = new AbortController();
  const onOuter = () => ctl.abort(new Error('stopped'));
  if (opts.signal?.aborted) onOuter(); else opts.signal?.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { const e = new ToolTimeoutError(`the tool did not answer within ${Math.round(timeoutMs / 1000)} s and was abandoned`); ctl.abort(e); reject(e); }, timeoutMs);
  });
  const stopped = new Promise<never>((_, reject) => {
    ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason instanceof Error ? ctl.signal.reason : new Error('stopped')), { once: true });
  });
  timedOut.catch(() => undefined); stopped.catch(() => undefined);
  try {
    const out = await Promise.race([Promise.resolve().then(() => fn(ctl.signal)), timedOut, stopped]);
    return limitResult(out, opts.maxResultChars);
  } catch (e) {
    return { result: JSON.stringify({ error: (e as Error).message }), isError: true };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuter);
  }
}
