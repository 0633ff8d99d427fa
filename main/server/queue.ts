// queue.ts — admission to the engine: a global cap on running requests, a bounded wait queue that
// is fair across keys (the workstation's own user first, then the key with the fewest requests
// running, then arrival order), per-key concurrency and tokens-per-minute limits. Over a limit is
// an honest 429, a full queue or a wait past the timeout a 503, both with Retry-After. A request
// whose client goes away leaves the queue at once.
import type { Principal } from './auth/access.ts';
import { ApiError } from './http/api-error.ts';

export interface QueueLimits {
  /** Requests generating at once (the engine's scheduler batches them). */
  maxRunning: number;
  /** Requests waiting beyond the running ones; one more is a 503. */
  maxQueue: number;
  /** A request waiting longer than this gets a 503. */
  queueTimeoutMs: number;
}

export const DEFAULT_QUEUE_LIMITS: QueueLimits = { maxRunning: 8, maxQueue: 256, queueTimeoutMs: 120_000 };
/** The tokens-per-minute window. */
const TPM_WINDOW_MS = 60_000;
/** Retry-After for a per-key concurrency refusal or a full queue, in seconds. */
const RETRY_BUSY_S = 1;
const RETRY_FULL_S = 5;

export interface Ticket {
  /** Ends the request's slot; tokens it used count against its key's per-minute budget. */
  release(tokensUsed: number): void;
  waitedMs: number;
}

interface Waiter { p: Principal; seq: number; arrived: number; go(): void }

export interface QueueSnapshot {
  running: number;
  queued: number;
  perKey: Array<{ keyId: string; name: string; running: number; queued: number; tokensLastMinute: number }>;
}

export class AdmissionQueue {
  private runningTotal = 0;
  private readonly running = new Map<string, number>();
  private readonly waiting: Waiter[] = [];
  private readonly names = new Map<string, string>();
  private readonly spent = new Map<string, Array<{ at: number; tokens: number }>>();
  private seq = 0;
  private readonly listeners = new Set<() => void>();

  constructor(public limits: QueueLimits = DEFAULT_QUEUE_LIMITS) {}

  onChange(cb: () => void): () => void { this.listeners.add(cb); return () => { this.listeners.delete(cb); }; }
  private changed(): void { for (const cb of this.listeners) cb(); }

  private queuedFor(keyId: string): number { return this.waiting.filter((w) => w.p.keyId === keyId).length; }

  tokensLastMinute(keyId: string, now = Date.now()): number {
    const list = this.spent.get(keyId);
    if (!list) return 0;
    while (list.length && list[0].at <= now - TPM_WINDOW_MS) list.shift();
    return list.reduce((n, x) => n + x.tokens, 0);
  }

  /** Waits for a slot. `promptTokens` is checked against the key's per-minute budget first. */
  admit(p: Principal, promptTokens: number, signal: AbortSignal): Promise<Ticket> {
    this.names.set(p.keyId, p.name);
    const mine = (this.running.get(p.keyId) ?? 0) + this.queuedFor(p.keyId);
    if (p.maxConcurrent !== null && mine >= p.maxConcurrent) {
      return Promise.reject(new ApiError('rate_limit', `this key allows ${p.maxConcurrent} concurrent request(s); ${mine} are in flight`, { code: 'concurrency_limit', retryAfterS: RETRY_BUSY_S }));
    }
    if (p.tokensPerMinute !== null) {
      const now = Date.now();
      const used = this.tokensLastMinute(p.keyId, now);
      if (promptTokens > p.tokensPerMinute) {
        return Promise.reject(new ApiError('rate_limit', `the prompt (${promptTokens} tokens) is over this key's limit of ${p.tokensPerMinute} tokens per minute`, { code: 'tokens_per_minute', retryAfterS: TPM_WINDOW_MS / 1000 }));
      }
      if (used + promptTokens > p.tokensPerMinute) {
        const list = this.spent.get(p.keyId) ?? [];
        let free = p.tokensPerMinute - used;
        let wait = TPM_WINDOW_MS;
        for (const x of list) { free += x.tokens; if (free >= promptTokens) { wait = x.at + TPM_WINDOW_MS - now; break; } }
        return Promise.reject(new ApiError('rate_limit', `this key's limit of ${p.tokensPerMinute} tokens per minute is used up (${used} in the last minute)`, { code: 'tokens_per_minute', retryAfterS: Math.max(1, Math.ceil(wait / 1000)) }));
      }
    }
    const arrived = performance.now();
    if (this.runningTotal < this.limits.maxRunning && this.waiting.length === 0) {
      this.take(p);
      return Promise.resolve(this.ticket(p, 0));
    }
    if (this.waiting.length >= this.limits.maxQueue) {
      return Promise.reject(new ApiError('overloaded', `the server is full: ${this.runningTotal} running and ${this.waiting.length} waiting`, { retryAfterS: RETRY_FULL_S }));
    }
    return new Promise<Ticket>((resolve, reject) => {
      const w: Waiter = {
        p, seq: this.seq++, arrived,
        go: () => { cleanup(); this.take(p); resolve(this.ticket(p, performance.now() - arrived)); },
      };
      const leave = (err: ApiError) => {
        const i = this.waiting.indexOf(w);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        cleanup();
        this.changed();
        reject(err);
      };
      const timer = setTimeout(() => leave(new ApiError('overloaded', `waited ${this.limits.queueTimeoutMs} ms in the queue without a free slot`, { retryAfterS: RETRY_FULL_S })), this.limits.queueTimeoutMs);
      const onAbort = () => leave(new ApiError('invalid_request', 'the client went away'));
      const cleanup = () => { clearTimeout(timer); signal.removeEventListener('abort', onAbort); };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(w);
      this.changed();
      if (signal.aborted) onAbort();
    });
  }

  private take(p: Principal): void {
    this.runningTotal++;
    this.running.set(p.keyId, (this.running.get(p.keyId) ?? 0) + 1);
    this.changed();
  }

  private ticket(p: Principal, waitedMs: number): Ticket {
    let released = false;
    return {
      waitedMs,
      release: (tokensUsed) => {
        if (released) return;
        released = true;
        this.runningTotal--;
        const n = (this.running.get(p.keyId) ?? 1) - 1;
        if (n > 0) this.running.set(p.keyId, n); else this.running.delete(p.keyId);
        if (tokensUsed > 0 && p.tokensPerMinute !== null) {
          const list = this.spent.get(p.keyId) ?? [];
          list.push({ at: Date.now(), tokens: tokensUsed });
          this.spent.set(p.keyId, list);
        }
        this.dispatch();
        this.changed();
      },
    };
  }

  /** Fills free slots: lowest priority value, then the key with the fewest running, then oldest. */
  private dispatch(): void {
    while (this.runningTotal < this.limits.maxRunning && this.waiting.length) {
      let best = 0;
      const rank = (w: Waiter) => [w.p.priority, this.running.get(w.p.keyId) ?? 0, w.seq];
      for (let i = 1; i < this.waiting.length; i++) {
        const a = rank(this.waiting[i]), b = rank(this.waiting[best]);
        if (a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])))) best = i;
      }
      const [w] = this.waiting.splice(best, 1);
      w.go();
    }
  }

  snapshot(): QueueSnapshot {
    const keys = new Set([...this.running.keys(), ...this.waiting.map((w) => w.p.keyId)]);
    return {
      running: this.runningTotal, queued: this.waiting.length,
      perKey: [...keys].map((k) => ({ keyId: k, name: this.names.get(k) ?? k, running: this.running.get(k) ?? 0, queued: this.queuedFor(k), tokensLastMinute: this.tokensLastMinute(k) })),
    };
  }
}
