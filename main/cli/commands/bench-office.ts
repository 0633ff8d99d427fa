// karakoram bench --office [--model DIR] [--clients 1,4,16] [--requests N] [--gen N]
// The office server's benchmark (issue 12): starts `karakoram serve` on a free loopback port with
// a fresh data directory (the bundled demo model unless --model), then at each concurrency level
// that many clients send streaming /v1/chat/completions requests (each its own greedy
// "What is A + B?") until N have finished. Per level: aggregate generated tokens/s (the usage
// numbers over the level's wall time) and p50 / p95 time to first token (request sent to the
// first reasoning or content delta), measured by the client through the HTTP API. Prints one
// JSON object. A benchmark, never a test: the numbers depend on the machine and its load.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import { REPO_ROOT } from '../../paths.ts';
import { intOpt } from '../args.ts';

const DEFAULT_LEVELS = [1, 4, 16];
/** Requests per level (at least the level's client count). */
const DEFAULT_REQUESTS = 64;
const DEFAULT_GEN = 64;
/** How long serve may take to say it listens, and the engine to load the model. */
const SERVE_START_MS = 60_000;
const ENGINE_READY_MS = 300_000;
const POLL_MS = 200;
/** Operand range of the distinct questions. */
const OPERAND_RANGE = 50;

interface Served { url: string; key: string; proc: ChildProcess; dataDir: string }

async function startServe(model: string | undefined, maxRunning: number): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kk-bench-office-'));
  const args = [join(REPO_ROOT, 'bin', 'karakoram.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--no-build', '--max-running', String(maxRunning), ...(model ? ['--model', model] : [])];
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`karakoram serve did not start:\n${out}`)), SERVE_START_MS);
    proc.stdout!.on('data', () => { const m = /Karakoram serving on (\S+)/.exec(out); if (m) { clearTimeout(timer); resolve(m[1]); } });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`karakoram serve exited (${code}):\n${out}`)); });
  });
  const key = readFileSync(join(dataDir, 'owner-key'), 'utf8').trim();
  const end = Date.now() + ENGINE_READY_MS;
  for (;;) {
    const h = await (await fetch(`${url}/healthz`, { headers: { authorization: `Bearer ${key}` } })).json() as { engine?: { state: string; error?: string | null } };
    if (h.engine?.state === 'ready') break;
    if (h.engine?.state === 'error' || Date.now() > end) throw new Error(`the engine did not get ready: ${JSON.stringify(h.engine)}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { url, key, proc, dataDir };
}

interface One { ttftMs: number | null; tokens: number; ok: boolean }

async function streamOne(s: Served, model: string, k: number, gen: number): Promise<One> {
  const t0 = performance.now();
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model, stream: true, stream_options: { include_usage: true }, temperature: 0, max_tokens: gen,
      messages: [{ role: 'user', content: `What is ${1 + (k % OPERAND_RANGE)} + ${1 + Math.floor(k / OPERAND_RANGE) % OPERAND_RANGE}?` }],
    }),
  });
  if (!res.ok || !res.body) return { ttftMs: null, tokens: 0, ok: false };
  let ttftMs: number | null = null, tokens = 0, done = false;
  const parser = createParser({
    onEvent: (ev) => {
      if (ev.data === '[DONE]') { done = true; return; }
      const c = JSON.parse(ev.data) as { choices?: Array<{ delta?: { content?: string; reasoning_content?: string } }>; usage?: { completion_tokens: number } };
      const d = c.choices?.[0]?.delta;
      if (ttftMs === null && (d?.content || d?.reasoning_content)) ttftMs = performance.now() - t0;
      if (c.usage) tokens = c.usage.completion_tokens;
    },
  });
  const dec = new TextDecoder();
  const reader = res.body.getReader();
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    parser.feed(dec.decode(value, { stream: true }));
  }
  return { ttftMs, tokens, ok: done };
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null; };
const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

export async function runOfficeBench(values: { model?: string; clients?: string; requests?: string; gen?: string }): Promise<number> {
  const levels = values.clients ? values.clients.split(',').map((v) => intOpt(v.trim(), 'clients', 0)) : DEFAULT_LEVELS;
  if (levels.some((c) => c < 1)) throw new Error('--clients takes positive counts, e.g. 1,4,16');
  const perLevel = intOpt(values.requests, 'requests', DEFAULT_REQUESTS);
  const gen = intOpt(values.gen, 'gen', DEFAULT_GEN);
  if (perLevel < 1 || gen < 1) throw new Error('--requests and --gen must be at least 1');
  const s = await startServe(values.model, Math.max(...levels));
  try {
    const models = await (await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${s.key}` } })).json() as { data: Array<{ id: string }> };
    const model = models.data[0].id;
    await streamOne(s, model, 0, gen);   // warm-up: first-touch costs stay out of the figures
    const out = [];
    let k = 1;
    for (const clients of levels) {
      const n = Math.max(perLevel, clients);
      let next = 0;
      const results: One[] = [];
      const t0 = performance.now();
      await Promise.all(Array.from({ length: clients }, async () => {
        while (next < n) { next++; results.push(await streamOne(s, model, k++, gen)); }
      }));
      const wallS = (performance.now() - t0) / 1000;
      const good = results.filter((r) => r.ok);
      const ttft = good.map((r) => r.ttftMs).filter((x): x is number => x !== null);
      out.push({
        clients, requests: n, failed: n - good.length, wall_s: round(wallS),
        aggregate_tok_s: round(good.reduce((t, r) => t + r.tokens, 0) / wallS),
        ttft_p50_ms: round(pct(ttft, 0.5)), ttft_p95_ms: round(pct(ttft, 0.95)),
      });
    }
    process.stdout.write(`${JSON.stringify({ bench: 'office', model, max_tokens: gen, api: '/v1/chat/completions (stream)', levels: out })}\n`);
    return out.some((l) => l.failed > 0) ? 1 : 0;
  } finally {
    s.proc.kill('SIGTERM');
    await new Promise((r) => s.proc.once('exit', r));
    rmSync(s.dataDir, { recursive: true, force: true });
  }
}
