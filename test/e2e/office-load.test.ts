// office-load.test.ts — the office server under load on loopback (issue 12), bounded in count and
// time: 32 concurrent clients send 1000 streaming requests in total through the official `openai`
// and `@anthropic-ai/sdk` clients (alternating), every third one cancelled after its first delta.
// Each request asks "What is A + B?" with its own (A, B): the demo model echoes the operands
// ("The user asks for A + B."), so each completed stream must carry its own marker and equal, byte
// for byte, the same request run alone beforehand (greedy), and a cancelled stream's text must be a
// prefix of its solo run. Each stream must be well-formed in its API's order (one response id
// throughout). Afterwards nothing is running, queued or left in the engine process (every cancel
// freed its sequence: the engine process has none left, and the server counts a cancel when the engine ended it), and the server's RSS
// is flat across the run. The figures are printed and written to test-results/office-load.json.
import Anthropic from '@anthropic-ai/sdk';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAddon } from '../support/engine.ts';
import { ROOT, startServe, waitEngine, type Served } from './harness.ts';

requireAddon('the office-load e2e');

const MODEL = 'demo-k2';
const CLIENTS = 32;
const REQUESTS = 1000;
/** Every CANCEL_EVERY-th request is cancelled mid-stream (a third). */
const CANCEL_EVERY = 3;
/** Operands: A in 1..A_RANGE, B in 1..B_RANGE gives REQUESTS distinct questions. */
const A_RANGE = 50;
const B_RANGE = 20;
const MAX_TOKENS = 64;
/** The whole test's bound (solo runs + the loaded run) on a shared 2-core machine. */
const RUN_LIMIT_MS = 540_000;
/** RSS samples every this many ms, from the server process's /proc status. */
const RSS_SAMPLE_MS = 250;
/** "Flat": the last quarter of the run's RSS is at most this much above the second quarter's (after warm-up). */
const MAX_RSS_GROWTH_MB = 48;

interface Job { i: number; a: number; b: number; api: 'openai' | 'anthropic'; cancel: boolean }
interface Outcome { text: string; ttftMs: number | null; tokens: number; cancelled: boolean; problem: string | null }

let served: Served;
let openai: OpenAI;
let anthropic: Anthropic;

const question = (j: Job) => `What is ${j.a} + ${j.b}?`;
const marker = (j: Job) => `${j.a} + ${j.b}`;

function jobs(): Job[] {
  return Array.from({ length: REQUESTS }, (_, i) => ({
    i, a: 1 + (i % A_RANGE), b: 1 + Math.floor(i / A_RANGE) % B_RANGE,
    api: i % 2 === 0 ? 'openai' : 'anthropic', cancel: i % CANCEL_EVERY === 0,
  }));
}

/** One streaming request through the OpenAI client; checks the chunk order as it goes. */
async function viaOpenAi(j: Job, cancel: boolean): Promise<Outcome> {
  const t0 = performance.now();
  const stream = await openai.chat.completions.create({
    model: MODEL, temperature: 0, max_tokens: MAX_TOKENS, stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: question(j) }],
  });
  let text = '', ttftMs: number | null = null, tokens = 0, id: string | null = null, n = 0, finish: string | null = null, usage = false;
  const bad = (why: string): Outcome => ({ text, ttftMs, tokens, cancelled: false, problem: `request ${j.i} (openai): ${why}` });
  try {
    for await (const c of stream) {
      id ??= c.id;
      if (c.id !== id) return bad(`chunk id ${c.id} in the stream of ${id}`);
      if (n++ === 0 && c.choices[0]?.delta.role !== 'assistant') return bad('the first chunk has no assistant role');
      if (usage) return bad('a chunk after the usage chunk');
      if (c.usage) { usage = true; tokens = c.usage.completion_tokens; if (!finish) return bad('usage before the finish chunk'); continue; }
      const ch = c.choices[0];
      if (!ch) return bad('a chunk without a choice');
      if (finish) return bad('a delta after the finish chunk');
      const d = ch.delta as typeof ch.delta & { reasoning_content?: string };
      const delta = (d.reasoning_content ?? '') + (d.content ?? '');
      if (delta) {
        ttftMs ??= performance.now() - t0;
        text += delta;
        if (cancel) { stream.controller.abort(); return { text, ttftMs, tokens, cancelled: true, problem: null }; }
      }
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  } catch (e) {
    if (cancel && stream.controller.signal.aborted) return { text, ttftMs, tokens, cancelled: true, problem: null };
    return bad(`the stream broke: ${(e as Error).message}`);
  }
  if (finish !== 'stop') return bad(`finish_reason ${finish}`);
  if (!usage) return bad('no usage chunk');
  return { text, ttftMs, tokens, cancelled: false, problem: null };
}

/** One streaming request through the Anthropic client; checks the event order as it goes. */
async function viaAnthropic(j: Job, cancel: boolean): Promise<Outcome> {
  const t0 = performance.now();
  const stream = await anthropic.messages.create({
    model: MODEL, max_tokens: MAX_TOKENS, temperature: 0, stream: true, messages: [{ role: 'user', content: question(j) }],
  } as Anthropic.MessageCreateParamsStreaming);
  let text = '', ttftMs: number | null = null, tokens = 0, n = 0, open: number | null = null, next = 0, stop = false, delta = false;
  const bad = (why: string): Outcome => ({ text, ttftMs, tokens, cancelled: false, problem: `request ${j.i} (anthropic): ${why}` });
  try {
    for await (const e of stream) {
      if (n++ === 0 && e.type !== 'message_start') return bad(`first event ${e.type}`);
      if (stop) return bad(`${e.type} after message_stop`);
      switch (e.type) {
        case 'message_start': if (n !== 1) return bad('a second message_start'); break;
        case 'content_block_start':
          if (open !== null || e.index !== next) return bad(`block ${e.index} started while ${open} open (next ${next})`);
          open = e.index; next++;
          break;
        case 'content_block_delta': {
          if (open !== e.index) return bad(`a delta for block ${e.index} while ${open} open`);
          const d = e.delta.type === 'thinking_delta' ? e.delta.thinking : e.delta.type === 'text_delta' ? e.delta.text : '';
          if (d) {
            ttftMs ??= performance.now() - t0;
            text += d;
            if (cancel) { stream.controller.abort(); return { text, ttftMs, tokens, cancelled: true, problem: null }; }
          }
          break;
        }
        case 'content_block_stop': if (open !== e.index) return bad(`stop of block ${e.index} while ${open} open`); open = null; break;
        case 'message_delta':
          if (open !== null) return bad('message_delta inside a block');
          if (e.delta.stop_reason !== 'end_turn') return bad(`stop_reason ${e.delta.stop_reason}`);
          tokens = e.usage.output_tokens; delta = true;
          break;
        case 'message_stop': if (!delta) return bad('message_stop without message_delta'); stop = true; break;
      }
    }
  } catch (e) {
    if (cancel && stream.controller.signal.aborted) return { text, ttftMs, tokens, cancelled: true, problem: null };
    return bad(`the stream broke: ${(e as Error).message}`);
  }
  if (!stop) return bad('no message_stop');
  return { text, ttftMs, tokens, cancelled: false, problem: null };
}

const run = (j: Job, cancel: boolean) => (j.api === 'openai' ? viaOpenAi(j, cancel) : viaAnthropic(j, cancel));

async function pool<T>(n: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (next < tasks.length) { const k = next++; out[k] = await tasks[k](); } }));
  return out;
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

async function metric(name: string): Promise<number> {
  const t = await (await fetch(`${served.url}/metrics`, { headers: { authorization: `Bearer ${served.ownerKey}` } })).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(t);
  if (!m) throw new Error(`/metrics has no ${name}`);
  return Number(m[1]);
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('the office server under load (32 clients, 1000 requests, a third cancelled)', () => {
  beforeAll(async () => {
    served = await startServe(['--max-running', String(CLIENTS), '--max-queue', String(REQUESTS)]);
    await waitEngine(served.url, ['ready']);
    openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: served.ownerKey, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: served.url, apiKey: served.ownerKey, maxRetries: 0 });
  });
  afterAll(async () => { await served?.stop(); });

  it('every completed stream is well-formed and its own; every cancel frees its sequence; RSS stays flat', async () => {
    const started = performance.now();
    const all = jobs();
    expect(new Set(all.map(question)).size).toBe(REQUESTS);

    // Solo runs: each question alone, through the same API, to the end.
    const solo = new Map<number, string>();
    for (const j of all) {
      const r = await run(j, false);
      expect(r.problem).toBeNull();
      solo.set(j.i, r.text);
    }
    // The demo model echoes every question's operands: the marker tells the answers apart.
    const unmarked = all.filter((j) => !solo.get(j.i)!.includes(marker(j)));
    expect(unmarked.map((j) => `${question(j)} -> ${solo.get(j.i)}`)).toEqual([]);
    const soloS = (performance.now() - started) / 1000;
    const cancelledBefore = await metric('karakoram_cancelled_total');

    const pid = served.proc.pid!;
    const rss: number[] = [rssMb(pid)];
    const sampler = setInterval(() => rss.push(rssMb(pid)), RSS_SAMPLE_MS);
    const t0 = performance.now();
    const results = await pool(CLIENTS, all.map((j) => () => run(j, j.cancel)));
    const wallS = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    rss.push(rssMb(pid));

    const problems = results.map((r) => r.problem).filter((p): p is string => p !== null);
    expect(problems.slice(0, 10)).toEqual([]);
    const mixed: string[] = [];
    results.forEach((r, k) => {
      const j = all[k], own = solo.get(j.i)!;
      if (j.cancel ? !(r.cancelled && own.startsWith(r.text)) : r.text !== own) mixed.push(`request ${j.i} (${j.api}, ${question(j)}): got ${JSON.stringify(r.text.slice(0, 80))}`);
    });
    expect(mixed.slice(0, 10)).toEqual([]);
    const completed = results.filter((r, k) => !all[k].cancel);
    const cancelled = results.filter((r) => r.cancelled).length;
    expect(completed).toHaveLength(REQUESTS - Math.ceil(REQUESTS / CANCEL_EVERY));
    expect(cancelled).toBe(Math.ceil(REQUESTS / CANCEL_EVERY));

    // Every cancel freed its sequence: the server counts a cancel when the engine ended it, and
    // nothing is left running, queued or in the engine process.
    // (A short answer can finish in the engine before the client's disconnect reaches the server:
    // then it ended on its own, uncounted; either way its sequence is gone.)
    await expect.poll(() => metric('karakoram_engine_generations'), { timeout: 10_000 }).toBe(0);
    const cancelsSeen = (await metric('karakoram_cancelled_total')) - cancelledBefore;
    expect(cancelsSeen).toBeGreaterThan(0);
    expect(cancelsSeen).toBeLessThanOrEqual(cancelled);
    expect(await metric('karakoram_running_sequences')).toBe(0);
    expect(await metric('karakoram_queue_depth')).toBe(0);
    expect(await metric('karakoram_engine_generations')).toBe(0);
    // The server still answers, the same as alone.
    const after = await run(all[1], false);
    expect(after.text).toBe(solo.get(1));

    const q = Math.floor(rss.length / 4);
    const warm = mean(rss.slice(q, 2 * q)), late = mean(rss.slice(3 * q));
    const ttft = completed.map((r) => r.ttftMs!).filter((x) => x !== null);
    const figures = {
      clients: CLIENTS, requests: REQUESTS, completed: completed.length, cancelled, cancels_the_engine_ended: cancelsSeen, well_formed_and_own: completed.length,
      apis: { openai: all.filter((j) => j.api === 'openai').length, anthropic: all.filter((j) => j.api === 'anthropic').length },
      loaded_wall_s: Number(wallS.toFixed(1)), solo_wall_s: Number(soloS.toFixed(1)),
      requests_per_s: Number((REQUESTS / wallS).toFixed(1)),
      generated_tok_s: Number((completed.reduce((s, r) => s + r.tokens, 0) / wallS).toFixed(1)),
      ttft_ms: { p50: Number(pct(ttft, 0.5).toFixed(1)), p95: Number(pct(ttft, 0.95).toFixed(1)) },
      server_rss_mb: { start: Number(rss[0].toFixed(1)), second_quarter_mean: Number(warm.toFixed(1)), last_quarter_mean: Number(late.toFixed(1)), max: Number(Math.max(...rss).toFixed(1)), end: Number(rss[rss.length - 1].toFixed(1)), samples: rss.length },
    };
    console.log(`office-load: ${JSON.stringify(figures)}`);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    writeFileSync(join(ROOT, 'test-results', 'office-load.json'), `${JSON.stringify(figures, null, 2)}\n`);
    expect(late - warm).toBeLessThan(MAX_RSS_GROWTH_MB);
    expect(performance.now() - started).toBeLessThan(RUN_LIMIT_MS);
  }, RUN_LIMIT_MS + 60_000);
});
