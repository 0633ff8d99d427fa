// One call's path through the runner: schema-invalid or malformed arguments become errors the
// model can read (before any approval); a tool that hangs is abandoned at the timeout; a 10 MB
// result is cut to the limit with a note; a stop aborts; a throw is an error result.
import { describe, expect, it } from 'vitest';
import { limitResult, parseArguments, runLimited } from '../../../../main/services/tools/runner.ts';

const schema = { type: 'object', required: ['city'], additionalProperties: false, properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } } };

describe('arguments', () => {
  it('accepts what the schema allows', () => {
    expect(parseArguments('{"city": "Paris", "days": 2}', schema)).toEqual({ ok: true, args: { city: 'Paris', days: 2 } });
    expect(parseArguments('', { type: 'object' })).toEqual({ ok: true, args: {} });
  });
  it('names every way the arguments break the schema', () => {
    const r = parseArguments('{"days": 0, "town": "x"}', schema);
    expect(r.ok).toBe(false);
    const err = (r as { error: string }).error;
    expect(err).toMatch(/must have required property 'city'/);
    expect(err).toMatch(/\/days must be >= 1/);
    expect(err).toMatch(/additional properties \('town'\)/);
    expect((parseArguments('{"city": 3}', schema) as { error: string }).error).toMatch(/\/city must be string/);
  });
  it('malformed tool-call text from the model is an error, not a crash', () => {
    for (const bad of ['{"city": ', '[1, 2]', 'null', '"Paris"', '{city: Paris}']) {
      const r = parseArguments(bad, schema);
      expect(r.ok, bad).toBe(false);
      expect((r as { error: string }).error).toMatch(/not valid JSON|must be a JSON object/);
    }
  });
  it('a broken schema of the tool itself is reported', () => {
    expect((parseArguments('{}', { type: 'nonsense' }) as { error: string }).error).toMatch(/schema is invalid/);
  });
});

describe('limits', () => {
  it('a tool that hangs is abandoned at the timeout, and its signal is aborted', async () => {
    let aborted = false;
    const t0 = Date.now();
    const r = await runLimited((signal) => new Promise(() => { signal.addEventListener('abort', () => { aborted = true; }); }), { timeoutMs: 150 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.isError).toBe(true);
    expect(JSON.parse(r.result).error).toMatch(/did not answer within/);
    expect(aborted).toBe(true);
  });
  it('a 10 MB result is cut to the limit with a note to the model', async () => {
    const big = 'y'.repeat(10 * 1024 * 1024);
    const r = await runLimited(() => ({ result: big, isError: false }), { maxResultChars: 65536 });
    expect(r.result.length).toBeLessThan(65536 + 200);
    expect(r.result.startsWith('y'.repeat(65536))).toBe(true);
    expect(r.result).toMatch(/\[result truncated: the first 65536 of 10485760 characters are shown\]$/);
    expect(r.note).toMatch(/truncated/);
    expect(limitResult({ result: 'small', isError: false })).toEqual({ result: 'small', isError: false });
  });
  it('a stop aborts the call; a throw becomes an error result', async () => {
    const ctl = new AbortController();
    const p = runLimited(() => new Promise(() => undefined), { signal: ctl.signal, timeoutMs: 10_000 });
    ctl.abort();
    expect(JSON.parse((await p).result).error).toBe('stopped');
    const thrown = await runLimited(() => { throw new Error('boom'); });
    expect(thrown).toEqual({ result: '{"error":"boom"}', isError: true });
  });
});
