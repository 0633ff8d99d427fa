// web-chat.test.ts — the core flow against the real engine and the demo model, in Chromium:
// reasoning streams then collapses as the answer follows; a tool-call card for the demo weather
// tool; stop; regenerate; edit and branch; reload finds everything intact; killing the engine
// mid-answer shows the crash banner and the app recovers (automatically, then via Restart).
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { requireAddon } from '../support/engine.ts';
import { answeredIn, askIn, ROOT, engineStatus, gateWebSocket, launchBrowser, longMemo, onStream, openApp, recordTurn, shot, snaps, startServe, waitEngine, type Served, type WsGate } from './harness.ts';

requireAddon('the web-chat e2e');

const ANSWER_MS = 120_000;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];
let gate: WsGate;
const convIds: Record<string, string> = {};

const lastTurn = () => page.locator('[data-testid="message"][data-role="assistant"]').last();
const lastUser = () => page.locator('[data-testid="message"][data-role="user"]').last();
const activeId = () => page.evaluate(() => decodeURIComponent(location.hash.replace(/^#\/?c\//, '')));

const ask = (text: string) => askIn(page, text);

const answered = () => answeredIn(page, ANSWER_MS);

/** New chat; returns its id once the app has opened it. */
async function newChat(): Promise<string> {
  const before = await activeId();
  await page.getByTestId('new-chat').click();
  await expect.poll(activeId).not.toBe(before);
  const id = await activeId();
  expect(id.length).toBeGreaterThan(0);
  return id;
}

async function openConversation(id: string): Promise<void> {
  await page.locator(`[data-testid="conversation-item"][data-id="${id}"] [data-testid="conversation-open"]`).click();
  await expect.poll(activeId).toBe(id);
}

/** Records every state the engine badge shows (loads are quick: a poll would miss them). */
async function recordEngineStates(p: Page): Promise<void> {
  await p.evaluate(() => {
    const w = window as unknown as { __kkEngine: string[] };
    w.__kkEngine = [];
    new MutationObserver(() => {
      const st = document.querySelector('[data-testid="engine-status"]')?.getAttribute('data-state');
      if (st && w.__kkEngine[w.__kkEngine.length - 1] !== st) w.__kkEngine.push(st);
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });
}

describe('web mode with the real engine and the demo model', () => {
  beforeAll(async () => {
    served = await startServe();
    await waitEngine(served.url, ['ready', 'error'], ANSWER_MS);
    browser = await launchBrowser();
    ({ page, errors } = await openApp(browser, served.url, 'dark', async (p) => { gate = await gateWebSocket(p); }));
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: ANSWER_MS });
    // Greedy decoding: the demo model's answers are then the same on every run.
    await page.getByTestId('settings-button').click();
    expect(await page.getByTestId('setting-temperature').getAttribute('placeholder')).toBe('0.3');   // its generation_config.json
    await page.getByTestId('setting-temperature').fill('0');
    await page.getByTestId('setting-temperature').press('Enter');
    await page.getByTestId('settings-button').click();
  });

  afterAll(async () => {
    await browser?.close();
    if (served) console.log(served.log().split('\n').slice(-20).join('\n'));
    await served?.stop();
  });

  it('"Who are you?": the reasoning panel streams, collapses, and the answer follows', async () => {
    convIds.who = await newChat();
    await recordTurn(page);
    // Hold the core's frames after the third reasoning token to look at the live panel.
    let reasoningFrames = 0;
    gate.holdAfter((f) => f.kind === 'event' && f.event === 'generation' && f.payload?.type === 'reasoning' && ++reasoningFrames === 3);
    await ask('Who are you?');
    const live = page.locator('[data-testid="reasoning-panel"][data-streaming="true"][data-state="open"]');
    try {
      await live.waitFor({ timeout: ANSWER_MS });
      expect((await live.getByTestId('reasoning-text').textContent())!.length).toBeGreaterThan(0);
      expect(await live.getByTestId('reasoning-tokens').textContent()).toMatch(/^[1-9]\d* tokens$/);
      const t1 = await live.getByTestId('reasoning-elapsed').textContent();
      await expect.poll(() => live.getByTestId('reasoning-elapsed').textContent()).not.toBe(t1);   // the clock runs
      expect(await page.getByTestId('stop-button').isVisible()).toBe(true);
      await shot(page, '06-reasoning-streaming');
    } finally {
      gate.release();
    }
    await answered();
    const frames = await snaps(page);
    const streaming = frames.map((f, i) => ({ f, i })).filter(({ f }) => f.panel === 'open' && f.streaming === 'true' && f.reasoning > 0);
    expect(streaming.length, JSON.stringify(frames)).toBeGreaterThan(0);
    expect(new Set(streaming.map(({ f }) => f.reasoning)).size, 'reasoning grew while open').toBeGreaterThan(1);
    const firstStream = streaming[0].i;
    const firstCollapsed = frames.findIndex((f) => f.panel === 'collapsed');
    const firstContent = frames.findIndex((f) => f.content > 0);
    expect(firstCollapsed).toBeGreaterThan(firstStream);
    expect(firstContent).toBeGreaterThan(firstStream);
    expect(frames[firstContent].panel).toBe('collapsed');

    const turn = lastTurn();
    expect(await turn.getByTestId('reasoning-panel').getAttribute('data-state')).toBe('collapsed');
    expect(await turn.getByTestId('reasoning-tokens').textContent()).toMatch(/^\d+ tokens$/);
    expect(await turn.getByTestId('reasoning-elapsed').textContent()).toMatch(/\d/);
    expect((await turn.getByTestId('message-content').textContent())!.trim().length).toBeGreaterThan(0);
    await turn.getByTestId('reasoning-toggle').click();
    expect((await turn.getByTestId('reasoning-text').textContent())!.length).toBeGreaterThan(0);
    expect(await page.getByTestId('perf-ttft').textContent()).toMatch(/\d/);
    expect(await page.getByTestId('perf-tps').textContent()).toMatch(/tok\/s/);
    expect(await page.getByTestId('perf-context').textContent()).toMatch(/\d+ \/ /);
    await shot(page, '07-answer-with-reasoning');
  });

  it('with the demo tools declared, the weather question shows a get_weather card for Paris', async () => {
    convIds.weather = await newChat();
    await page.getByTestId('demo-tools-toggle').check({ force: true });
    await expect.poll(() => page.getByTestId('demo-tools-toggle').isChecked()).toBe(true);
    await ask("What's the weather like in Paris today?");
    const card = page.locator('[data-testid="tool-call-card"][data-name="get_weather"]').first();
    await card.waitFor({ timeout: ANSWER_MS });
    await answered();
    expect(await card.getByTestId('tool-call-args').textContent()).toContain('Paris');
    expect(await card.getAttribute('data-status')).toBe('done');
    expect((await card.getByTestId('tool-call-result').textContent())!.length).toBeGreaterThan(2);
    expect(await card.getByTestId('tool-call-duration').textContent()).toMatch(/\d/);
    expect(await card.getByTestId('tool-call-note').textContent()).toMatch(/demo data/i);
    expect((await lastTurn().getByTestId('message-content').last().textContent())!.trim().length).toBeGreaterThan(0);
    await shot(page, '08-tool-call');
  });

  it('stops a generation', async () => {
    await newChat();
    // The demo model answers in a fraction of a second; a long message gives Stop time to act.
    await onStream(page, 'start', 'click-stop');
    await ask(longMemo());
    await answered();
    await lastTurn().getByTestId('finish-stopped').waitFor();
    expect(await lastTurn().getAttribute('data-status')).toBe('stopped');
    await shot(page, '09-stopped');
  });

  it('regenerates an answer and navigates between the two versions', async () => {
    await openConversation(convIds.who);
    const first = await lastTurn().getByTestId('message-content').textContent();
    await lastTurn().getByTestId('regenerate-button').click();
    await page.getByTestId('stop-button').waitFor();
    await answered();
    await expect.poll(() => lastTurn().getByTestId('branch-label').textContent()).toBe('2 / 2');
    await lastTurn().getByTestId('branch-prev').click();
    await expect.poll(() => lastTurn().getByTestId('branch-label').textContent()).toBe('1 / 2');
    expect(await lastTurn().getByTestId('message-content').textContent()).toBe(first);
  });

  it('edits the question into a new branch and can go back to the original', async () => {
    await lastUser().getByTestId('edit-button').click();
    await page.getByTestId('edit-input').fill('Hello!');
    await page.getByTestId('edit-save').click();
    await answered();
    await expect.poll(() => lastUser().getByTestId('branch-label').textContent()).toBe('2 / 2');
    expect(await lastUser().getByTestId('message-content').textContent()).toBe('Hello!');
    expect((await lastTurn().getByTestId('message-content').textContent())!.trim().length).toBeGreaterThan(0);
    await shot(page, '10-edited-branch');
    await lastUser().getByTestId('branch-prev').click();
    await expect.poll(() => lastUser().getByTestId('message-content').textContent()).toBe('Who are you?');
    expect(await lastUser().getByTestId('branch-label').textContent()).toBe('1 / 2');
  });

  it('a reload finds the conversations intact', async () => {
    await page.reload();
    await page.getByTestId('app').waitFor();
    await expect.poll(activeId).toBe(convIds.who);
    await expect.poll(() => lastUser().getByTestId('message-content').textContent()).toBe('Who are you?');
    expect(await lastUser().getByTestId('branch-label').textContent()).toBe('1 / 2');
    expect(await lastTurn().getByTestId('reasoning-panel').getAttribute('data-state')).toBe('collapsed');
    expect((await lastTurn().getByTestId('message-content').textContent())!.length).toBeGreaterThan(0);
    await openConversation(convIds.weather);
    const card = page.locator('[data-testid="tool-call-card"][data-name="get_weather"]').first();
    await card.waitFor();
    expect(await card.getByTestId('tool-call-args').textContent()).toContain('Paris');
    expect((await card.getByTestId('tool-call-result').textContent())!.length).toBeGreaterThan(2);
    expect(await card.getByTestId('tool-call-note').textContent()).toMatch(/demo data/i);
  });

  it('killing the engine mid-answer shows the crash banner; the app recovers', async () => {
    await newChat();
    const before = await engineStatus(served.url);
    expect(before.state).toBe('ready');
    expect(before.pid).toBeGreaterThan(0);
    // Killed the moment the core announces the answer, while the engine reads a long message:
    // the kill happens here, in the test, as the 'started' frame passes on its way to the page.
    let killed = false;
    gate.holdAfter((f) => {
      if (f.kind !== 'event' || f.event !== 'generation' || f.payload?.type !== 'started') return false;
      process.kill(before.pid!, 'SIGKILL');
      killed = true;
      return true;
    });
    await ask(longMemo());
    try {
      await page.getByTestId('waiting').waitFor({ timeout: ANSWER_MS });   // the page is at 'started'
      expect(killed).toBe(true);
      await shot(page, '11-reading-prompt');
    } finally {
      gate.release();
    }
    await page.getByTestId('crash-banner').waitFor({ timeout: ANSWER_MS });
    await shot(page, '12-engine-crashed');
    await answered();
    expect(await lastTurn().getAttribute('data-status')).toMatch(/interrupted|error/);

    // The core restarts a crashed engine once by itself; the banner then says what happened.
    await page.locator('[data-testid="crash-banner"][data-state="recovered"]').waitFor({ timeout: ANSWER_MS });
    const after = await waitEngine(served.url, ['ready']);
    expect(after.pid).not.toBe(before.pid);

    // A second crash soon after waits for the user: Restart brings it back.
    process.kill(after.pid!, 'SIGKILL');
    await page.locator('[data-testid="crash-banner"][data-state="crashed"]').waitFor({ timeout: ANSWER_MS });
    await shot(page, '13-crash-banner-restart');
    await page.getByTestId('restart-engine').click();
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: ANSWER_MS });
    await ask('Who are you?');
    await answered();
    expect(await lastTurn().getAttribute('data-status')).toBe('complete');
    expect((await lastTurn().getByTestId('message-content').textContent())!.trim().length).toBeGreaterThan(0);
    await shot(page, '14-recovered');
  });

  it('the model panel loads another local model directory, with progress, and chat goes on', async () => {
    const before = await engineStatus(served.url);
    await page.getByTestId('model-badge').click();
    await page.getByTestId('model-panel').waitFor();
    expect(await page.getByTestId('demo-note').textContent()).toMatch(/demo model/i);
    // Another directory with a K2-format model: a copy of the bundled demo model.
    const dir = join(served.dataDir, 'models', 'demo-copy');
    cpSync(join(ROOT, 'assets', 'models', 'demo-k2'), dir, { recursive: true });
    expect(dir).not.toBe(before.model?.dir);
    await page.getByTestId('model-dir-input').fill(dir);
    await page.getByTestId('model-inspect').click();
    await page.getByTestId('model-inspection').waitFor();
    expect(await page.getByTestId('model-inspection').getByTestId('memory-plan').getAttribute('data-fits')).toBe('true');
    await recordEngineStates(page);
    await page.getByTestId('model-load').click();
    await expect.poll(async () => (await engineStatus(served.url)).model?.dir, { timeout: ANSWER_MS }).toBe(dir);
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: ANSWER_MS });
    const seen = await page.evaluate(() => (window as unknown as { __kkEngine: string[] }).__kkEngine);
    expect(seen).toContain('loading');
    await shot(page, '15-model-loaded');
    await page.keyboard.press('Escape');
    await newChat();
    await ask('Who are you?');
    await answered();
    expect(await lastTurn().getAttribute('data-status')).toBe('complete');
  });

  it('raised no page errors', () => {
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    // The strict CSP (no inline scripts, no eval, same-origin connections) blocked nothing.
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
