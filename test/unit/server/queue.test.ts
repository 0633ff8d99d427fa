// The admission queue: global cap, fair order across keys (owner first), per-key concurrency and
// tokens-per-minute refusals with Retry-After, a full queue's 503, a client leaving the queue.
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../main/server/auth/access.ts';
import { AdmissionQueue } from '../../../main/server/queue.ts';
import { StopFilter } from '../../../main/server/stop-filter.ts';

const key = (keyId: string, over: Partial<Principal> = {}): Principal => ({ keyId, name: keyId, admin: false, models: [], maxConcurrent: null, tokensPerMinute: null, priority: 1, ...over });
const never = new AbortController().signal;

describe('AdmissionQueue', () => {
  it('serves the owner first, then the key with the fewest running, then arrival order', async () => {
    const q = new AdmissionQueue({ maxRunning: 2, maxQueue: 10, queueTimeoutMs: 10_000 });
    const a1 = await q.admit(key('a'), 1, never);
    const a2 = await q.admit(key('a'), 1, never);
    const order: string[] = [];
    const wait = (p: Principal) => q.admit(p, 1, never).then((t) => { order.push(p.keyId); return t; });
    const a3 = wait(key('a')), b1 = wait(key('b')), owner = wait(key('owner', { priority: 0 }));
    expect(q.snapshot()).toMatchObject({ running: 2, queued: 3 });
    a1.release(0);            // the owner goes first, though it came last
    await owner;
    a2.release(0);            // a has none running, b none: arrival order → a3
    await a3;
    (await owner).release(0); // b (0 running) before another a (1 running)
    await b1;
    expect(order).toEqual(['owner', 'a', 'b']);
    const a4 = wait(key('a')), b2 = wait(key('b'));
    (await a3).release(0);    // a: 0 running, b: 1 running → a4 although b2 is also waiting
    await a4;
    expect(order.slice(3)).toEqual(['a']);
    (await b1).release(0);
    (await a4).release(0);
    (await b2).release(0);
    expect(q.snapshot()).toMatchObject({ running: 0, queued: 0 });
  });

  it('refuses over a key’s concurrency and tokens per minute with 429 and Retry-After; a full queue with 503', async () => {
    const q = new AdmissionQueue({ maxRunning: 1, maxQueue: 1, queueTimeoutMs: 10_000 });
    const t = await q.admit(key('c', { maxConcurrent: 1, tokensPerMinute: 100 }), 10, never);
    await expect(q.admit(key('c', { maxConcurrent: 1 }), 10, never)).rejects.toMatchObject({ status: 429, opts: { retryAfterS: 1 } });
    t.release(95);
    await expect(q.admit(key('c', { tokensPerMinute: 100 }), 10, never)).rejects.toMatchObject({ status: 429, opts: { code: 'tokens_per_minute' } });
    await expect(q.admit(key('c', { tokensPerMinute: 100 }), 500, never)).rejects.toThrow(/over this key's limit of 100 tokens per minute/);
    const run = await q.admit(key('d'), 1, never);
    const waiting = q.admit(key('e'), 1, never);
    await expect(q.admit(key('f'), 1, never)).rejects.toMatchObject({ status: 503, opts: { retryAfterS: 5 } });
    run.release(0);
    (await waiting).release(0);
  });

  it('a client that goes away leaves the queue at once', async () => {
    const q = new AdmissionQueue({ maxRunning: 1, maxQueue: 5, queueTimeoutMs: 10_000 });
    const run = await q.admit(key('a'), 1, never);
    const ctrl = new AbortController();
    const gone = q.admit(key('b'), 1, ctrl.signal);
    expect(q.snapshot().queued).toBe(1);
    ctrl.abort();
    await expect(gone).rejects.toThrow(/went away/);
    expect(q.snapshot().queued).toBe(0);
    run.release(0);
  });
});

describe('StopFilter', () => {
  it('finds a stop string split across deltas and never shows it', () => {
    const f = new StopFilter(['STOP', 'xyz']);
    expect(f.push('hello S')).toBe('hello ');
    expect(f.push('T')).toBe('');
    expect(f.push('OP and more')).toBe('');
    expect(f.matched).toBe('STOP');
    const g = new StopFilter(['STOP']);
    expect(g.push('ST')).toBe('');
    expect(g.push('ay')).toBe('STay');
    expect(g.push(' S')).toBe(' ');
    expect(g.flush()).toBe('S');
  });
});
