// harness.ts — starts `karakoram serve` on a free port with a fresh data directory, opens
// Debian's Chromium on it, and saves screenshots under test-results/screenshots/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { EngineStatus } from '../../common/contract.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const SHOTS = join(ROOT, 'test-results', 'screenshots');
export const CHROMIUM = process.env.KK_CHROMIUM ?? '/usr/bin/chromium';
const SERVE_START_MS = 60_000;

export interface Served {
  url: string; proc: ChildProcess; dataDir: string; ownerKey: string; log: () => string;
  /** SIGTERM (the graceful shutdown), then the data directory is removed unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** The owner key of each running server (every route needs a key; the browser logs in with it). */
const ownerKeys = new Map<string, string>();

/** The owner key of the server at url (its data dir's owner-key file). */
export function ownerKeyFor(url: string): string {
  const origin = new URL(url).origin;
  const key = ownerKeys.get(origin);
  if (!key) throw new Error(`no owner key known for ${origin}`);
  return key;
}

export function authHeaders(url: string): Record<string, string> {
  return { authorization: `Bearer ${ownerKeyFor(url)}` };
}

/** The context the e2e tests' over-long prompts and meter figures are sized against. The app's
 *  default follows the machine's free RAM, so serve gets it as a setting unless a test passes
 *  its own --context-length or opts.defaultContext (the computed default). */
export const E2E_CONTEXT_LENGTH = 8192;

/** Starts `karakoram serve`; with opts.dataDir it serves an existing data directory (a restart). */
export async function startServe(extra: string[] = [], opts: { dataDir?: string; defaultContext?: boolean } = {}): Promise<Served> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'kk-e2e-'));
  const context = opts.defaultContext || extra.includes('--context-length') ? [] : ['--context-length', String(E2E_CONTEXT_LENGTH)];
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'karakoram.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--no-build', ...context, ...extra], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env },
  });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`karakoram serve printed no serving line in ${SERVE_START_MS} ms:\n${out}`)), SERVE_START_MS);
    const onData = () => {
      const m = /Karakoram serving on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`karakoram serve exited (${code}):\n${out}`)); });
  });
  const ownerKey = readFileSync(join(dataDir, 'owner-key'), 'utf8').trim();
  ownerKeys.set(new URL(url).origin, ownerKey);
  return {
    url, proc, dataDir, ownerKey, log: () => out,
    async stop(stopOpts = {}) {
      ownerKeys.delete(new URL(url).origin);
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { proc.kill('SIGKILL'); r(null); }, 5000); proc.once('exit', () => { clearTimeout(t); r(null); }); });
      }
      if (!stopOpts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function engineStatus(url: string): Promise<EngineStatus> {
  const r = await fetch(`${url}/healthz`, { headers: authHeaders(url) });
  return ((await r.json()) as { engine: EngineStatus }).engine;
}

/** Waits until the engine reaches one of `states`; returns its status. */
export async function waitEngine(url: string, states: string[], timeoutMs = 120_000): Promise<EngineStatus> {
  const end = Date.now() + timeoutMs;
  let last: EngineStatus | null = null;
  while (Date.now() < end) {
    last = await engineStatus(url);
    if (states.includes(last.state)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`engine never reached ${states.join('/')}; last: ${JSON.stringify(last)}`);
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set KK_CHROMIUM)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export async function openApp(browser: Browser, url: string, colorScheme: 'dark' | 'light' = 'dark', beforeLoad?: (p: Page) => Promise<unknown>): Promise<{ page: Page; errors: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 860 }, colorScheme, acceptDownloads: true });
  // Log in as the workstation's owner: the session cookie lands in this context.
  const login = await ctx.request.post(`${new URL(url).origin}/auth/login`, { data: { key: ownerKeyFor(url) } });
  if (!login.ok()) throw new Error(`login failed: ${login.status()} ${await login.text()}`);
  const page = await ctx.newPage();
  await beforeLoad?.(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  await page.goto(url);
  await page.getByTestId('app').waitFor();
  return { page, errors };
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * Records, inside the page, every change of the newest assistant turn: reasoning panel state,
 * reasoning and answer lengths. Streaming is too fast to poll from outside; this sees each frame.
 */
export async function recordTurn(page: Page): Promise<void> {
  await page.evaluate(() => {
    type Snap = { panel: string | null; streaming: string | null; reasoning: number; content: number; cards: number; msgStreaming: string | null };
    const w = window as unknown as { __kkSnaps: Snap[]; __kkObs?: MutationObserver };
    w.__kkObs?.disconnect();
    w.__kkSnaps = [];
    const snap = () => {
      const turns = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
      const t = turns[turns.length - 1] as HTMLElement | undefined;
      if (!t) return;
      const panels = t.querySelectorAll('[data-testid="reasoning-panel"]');
      const p = panels[panels.length - 1] as HTMLElement | undefined;
      const s: Snap = {
        panel: p?.dataset.state ?? null,
        streaming: p?.dataset.streaming ?? null,
        reasoning: t.querySelector('[data-testid="reasoning-text"]')?.textContent?.length ?? -1,
        content: Array.from(t.querySelectorAll('[data-testid="message-content"]')).reduce((n, e) => n + (e.textContent?.length ?? 0), 0),
        cards: t.querySelectorAll('[data-testid="tool-call-card"]').length,
        msgStreaming: t.dataset.streaming ?? null,
      };
      const last = w.__kkSnaps[w.__kkSnaps.length - 1];
      if (!last || JSON.stringify(last) !== JSON.stringify(s)) w.__kkSnaps.push(s);
    };
    w.__kkObs = new MutationObserver(snap);
    w.__kkObs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

export interface Snap { panel: string | null; streaming: string | null; reasoning: number; content: number; cards: number; msgStreaming: string | null }
export async function snaps(page: Page): Promise<Snap[]> {
  return page.evaluate(() => (window as unknown as { __kkSnaps: Snap[] }).__kkSnaps);
}

/**
 * Runs `action` inside the page the moment the newest assistant turn starts streaming ('start':
 * the core announced it, the prompt is being read) or shows its first streamed text ('token').
 * The demo model answers in well under a second: a poll from outside would come too late.
 */
export async function onStream(page: Page, when: 'start' | 'token', action: 'click-stop' | 'call-binding'): Promise<void> {
  await page.evaluate(([w, what]) => {
    const obs = new MutationObserver(() => {
      const turns = document.querySelectorAll('[data-testid="message"][data-role="assistant"][data-streaming="true"]');
      const t = turns[turns.length - 1];
      if (!t) return;
      const text = (t.querySelector('[data-testid="reasoning-text"]')?.textContent ?? '') + (t.querySelector('[data-testid="message-content"]')?.textContent ?? '');
      if (w === 'token' && text.length === 0) return;
      obs.disconnect();
      if (what === 'click-stop') (document.querySelector('[data-testid="stop-button"]') as HTMLButtonElement | null)?.click();
      else void (window as unknown as { __kkOnStream(): Promise<void> }).__kkOnStream();
    });
    obs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  }, [when, action] as const);
}

/** A user message long enough that reading it (prefill) takes a visible moment. */
export function longMemo(chars = 3000): string {
  const words = ['alpha', 'river', 'stone', 'cloud', 'seven', 'green', 'paper', 'light'];
  let text = 'Here is a memo. ';
  for (let i = 0; text.length < chars; i++) text += `${words[i % words.length]} ${i % 97}, `;
  return `${text}\nWho are you?`;
}

/**
 * A pass-through for the page's WebSocket to the core that can pause the core's frames after a
 * chosen one: the real events, held back, so a state that lasts milliseconds with the demo
 * model (reasoning streaming) can be looked at and photographed. Nothing is made up or changed.
 */
export interface WireFrame { kind?: string; event?: string; payload?: { type?: string } }
export interface WsGate { holdAfter(pred: (frame: WireFrame) => boolean): void; release(): void }

export async function gateWebSocket(page: Page): Promise<WsGate> {
  let pred: ((frame: WireFrame) => boolean) | null = null;
  let holding = false;
  const queue: Array<() => void> = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      const deliver = () => ws.send(m);
      if (holding) { queue.push(deliver); return; }
      deliver();
      if (!pred) return;
      let frame: WireFrame;
      try { frame = JSON.parse(String(m)); } catch { return; }
      if (pred(frame)) { holding = true; pred = null; }
    });
  });
  return {
    holdAfter(p) { pred = p; },
    release() { holding = false; for (const d of queue.splice(0)) d(); },
  };
}

/** Answers in the e2e suites can take this long on a loaded CI machine (the demo model is fast alone). */
export const E2E_ANSWER_MS = 120_000;

/** Types `text` into the composer and sends it with Enter. */
export async function askIn(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
}

/** Waits until the last assistant message has stopped streaming and the composer can send again. */
export async function answeredIn(page: Page, timeoutMs = E2E_ANSWER_MS): Promise<void> {
  await page.locator('[data-testid="message"][data-role="assistant"][data-streaming="false"]').last().waitFor({ timeout: timeoutMs });
  await page.getByTestId('send-button').waitFor({ timeout: timeoutMs });
}
