// web-first-run.test.ts — a new user's first minutes, in Chromium against `karakoram serve` on a
// fresh data directory with the demo model and its default sampling: each suggestion on the
// empty screen is answered correctly (the calculator card with 391 and an answer with 391; the
// weather card; the self-introduction) because the demo tools are on by default; the choice is
// remembered; "Get Kimi K2" leads from the empty screen and the model badge to the download
// command and the plan for this machine; at 800 px nothing in the composer's foot overflows and
// the sidebar is a drawer; a message too long for the context is refused with a way out (remove
// it, or edit it) and the conversation goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { createWsClient } from '../../common/ws-client.ts';
import { keyedSocket } from '../support/keyed-socket.ts';
import { requireAddon } from '../support/engine.ts';
import { launchBrowser, openApp, shot, startServe, waitEngine, type Served } from './harness.ts';

requireAddon('the web-first-run e2e');

const ANSWER_MS = 120_000;
const WIDE = { width: 1360, height: 860 };
const NARROW = { width: 800, height: 860 };
/** Well past the 8192-token context the app uses by default (the demo tokenizer: ~4 chars/token). */
const OVERLONG_CHARS = 60_000;

let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

const lastTurn = () => page.locator('[data-testid="message"][data-role="assistant"]').last();
const suggestion = (text: string) => page.getByTestId('suggestion').filter({ hasText: text });

async function answered(): Promise<void> {
  await page.locator('[data-testid="message"][data-role="assistant"][data-streaming="false"]').last().waitFor({ timeout: ANSWER_MS });
  await page.getByTestId('send-button').waitFor({ timeout: ANSWER_MS });
}

async function freshChat(): Promise<void> {
  await page.getByTestId('new-chat').click();
  await page.getByTestId('welcome').waitFor();
}

async function answerText(): Promise<string> {
  return (await lastTurn().getByTestId('message-content').allTextContents()).join('\n');
}

/** Elements inside `box` whose right edge passes the box's, or whose text is cut by its own width. */
async function overflowing(box: Locator): Promise<string[]> {
  return box.evaluate((root) => {
    const r = root.getBoundingClientRect();
    const bad: string[] = [];
    if (root.scrollWidth > root.clientWidth + 1) bad.push(`${root.className}: scrollWidth ${root.scrollWidth} > ${root.clientWidth}`);
    for (const el of Array.from(root.querySelectorAll('*'))) {
      const b = el.getBoundingClientRect();
      if (b.width === 0 && b.height === 0) continue;
      if (b.right > r.right + 1 || b.left < r.left - 1) bad.push(`${el.tagName}.${el.className} [${Math.round(b.left)}, ${Math.round(b.right)}] outside [${Math.round(r.left)}, ${Math.round(r.right)}]`);
      const h = el as HTMLElement;
      if (h.scrollWidth > h.clientWidth + 1 && getComputedStyle(h).overflowX === 'hidden') bad.push(`${el.tagName}.${el.className} clips its text`);
    }
    if (r.right > window.innerWidth + 1) bad.push(`${root.className} passes the window (${Math.round(r.right)} > ${window.innerWidth})`);
    return bad;
  });
}

describe('first run with the demo model', () => {
  beforeAll(async () => {
    served = await startServe();
    await waitEngine(served.url, ['ready'], ANSWER_MS);
    browser = await launchBrowser();
    ({ page, errors } = await openApp(browser, served.url));
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: ANSWER_MS });
  });

  afterAll(async () => {
    await browser?.close();
    if (served) console.log(served.log().split('\n').slice(-20).join('\n'));
    await served?.stop();
  });

  it('offers three suggestions with the demo tools on, and a way to Kimi K2', async () => {
    await page.getByTestId('welcome').waitFor();
    expect(await page.getByTestId('suggestion').allTextContents()).toEqual(['Who are you?', "What's the weather like in Paris today?", 'Calculate 17*23 exactly.']);
    await expect.poll(() => page.getByTestId('demo-tools-toggle').isChecked()).toBe(true);
    expect(await page.getByTestId('get-k2').isVisible()).toBe(true);
    expect(await overflowing(page.locator('.composer-foot'))).toEqual([]);
    await shot(page, '16-first-run-1360');
  });

  it('"Calculate 17*23 exactly." calls the calculator: a card with 391, then an answer with 391', async () => {
    await suggestion('Calculate 17*23 exactly.').click();
    const card = page.locator('[data-testid="tool-call-card"][data-name="calculator"]').first();
    await card.waitFor({ timeout: ANSWER_MS });
    await answered();
    expect(await card.getAttribute('data-status')).toBe('done');
    expect(await card.getByTestId('tool-call-args').textContent()).toContain('17*23');
    expect(await card.getByTestId('tool-call-result').textContent()).toContain('391');
    expect(await answerText()).toContain('391');
    expect(await lastTurn().getAttribute('data-status')).toBe('complete');
    await shot(page, '17-first-run-calculator');
  });

  it('the weather suggestion shows the get_weather card (demo data) and an answer from it', async () => {
    await freshChat();
    await suggestion("What's the weather like in Paris today?").click();
    const card = page.locator('[data-testid="tool-call-card"][data-name="get_weather"]').first();
    await card.waitFor({ timeout: ANSWER_MS });
    await answered();
    expect(await card.getAttribute('data-status')).toBe('done');
    expect(await card.getByTestId('tool-call-args').textContent()).toContain('Paris');
    expect(await card.getByTestId('tool-call-note').textContent()).toMatch(/demo data/i);
    // The answer repeats what the tool returned: its weather word and its temperature.
    const result = JSON.parse((await card.getByTestId('tool-call-result').textContent())!) as { weather: string; temp_c: number };
    const answer = await answerText();
    expect(answer).toContain('Paris');
    expect(answer).toContain(result.weather);
    expect(answer).toContain(String(result.temp_c));
  });

  it('"Who are you?" gets the self-introduction', async () => {
    await freshChat();
    await suggestion('Who are you?').click();
    await answered();
    expect(await answerText()).toContain('I am the Karakoram demo model');
    expect(await lastTurn().getByTestId('tool-call-card').count()).toBe(0);
  });

  it('turning the demo tools off is remembered for new conversations, across a reload', async () => {
    await freshChat();
    await page.getByTestId('demo-tools-toggle').uncheck({ force: true });
    // The core stored the choice.
    const client = createWsClient(`${served.url.replace(/^http/, 'ws')}/ws`, keyedSocket(() => served.ownerKey));
    try {
      await expect.poll(async () => (await client.api.getSettings({})).settings.demoTools).toBe(false);
    } finally { client.close(); }
    await page.reload();
    await page.getByTestId('app').waitFor();
    await freshChat();
    await expect.poll(() => page.getByTestId('demo-tools-toggle').isChecked()).toBe(false);
    await page.getByTestId('demo-tools-toggle').check({ force: true });
    await freshChat();
    await expect.poll(() => page.getByTestId('demo-tools-toggle').isChecked()).toBe(true);
  });

  it('"Get Kimi K2" from the empty screen and from the model badge: the pull command and the plan for this machine', async () => {
    await page.getByTestId('get-k2').click();
    const panel = page.getByTestId('get-model-panel');
    await panel.waitFor();
    await expect.poll(() => panel.getByTestId('pull-command').textContent()).toBe('karakoram pull moonshotai/Kimi-K2-Thinking');
    expect(await panel.getByTestId('get-model-size').textContent()).toMatch(/^5\d\d GiB$/);
    expect(await panel.getByTestId('memory-plan').getAttribute('data-fits')).toMatch(/^(true|false)$/);
    expect(await panel.getByTestId('memory-fits').textContent()).toMatch(/fit/);
    await shot(page, '18-get-kimi-k2');
    await panel.getByTestId('open-model-panel').click();
    await page.getByTestId('model-panel').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('model-badge').click();
    await page.getByTestId('model-panel').getByTestId('get-k2-from-model').click();
    await page.getByTestId('get-model-panel').waitFor();
    await page.getByTestId('get-model-panel').getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => page.getByTestId('get-model-panel').count()).toBe(0);
  });

  it('at 800 px the composer foot fits and the sidebar is a drawer', async () => {
    await page.setViewportSize(NARROW);
    try { await narrowChecks(); } finally { await page.setViewportSize(WIDE); }
  });

  async function narrowChecks(): Promise<void> {
    await page.locator('[data-testid="conversation-item"]').first().waitFor({ state: 'attached' });
    // The list is off screen until asked for.
    await expect.poll(async () => (await page.getByTestId('sidebar').boundingBox())!.x + (await page.getByTestId('sidebar').boundingBox())!.width).toBeLessThanOrEqual(0);
    expect(await page.getByTestId('sidebar-toggle').isVisible()).toBe(true);
    expect(await overflowing(page.locator('.composer-foot'))).toEqual([]);
    expect(await overflowing(page.locator('.chat-head'))).toEqual([]);
    await shot(page, '19-first-run-800');
    await page.getByTestId('sidebar-toggle').click();
    await expect.poll(async () => (await page.getByTestId('sidebar').boundingBox())!.x).toBe(0);
    const calc = page.locator('[data-testid="conversation-item"]').filter({ hasText: 'Calculate 17*23' });
    await calc.getByTestId('conversation-open').click();
    await expect.poll(async () => (await page.getByTestId('sidebar').boundingBox())!.x + (await page.getByTestId('sidebar').boundingBox())!.width).toBeLessThanOrEqual(0);
    await page.locator('[data-testid="tool-call-card"][data-name="calculator"]').first().waitFor();
    expect(await overflowing(page.locator('.composer-foot'))).toEqual([]);
    await shot(page, '20-calculator-800');
  }

  it('a message too long for the context is refused with a way out; removed, the conversation goes on', async () => {
    await freshChat();
    await suggestion('Who are you?').click();
    await answered();
    const before = await page.locator('[data-testid="message"]').count();
    const long = `Please read this. ${'The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(OVERLONG_CHARS / 45))}`;
    await page.getByTestId('composer-input').fill(long);
    await page.getByTestId('composer-input').press('Enter');
    const refusal = page.getByTestId('context-refusal');
    await refusal.waitFor({ timeout: ANSWER_MS });
    await page.getByTestId('send-button').waitFor();
    expect(await lastTurn().getByTestId('message-error').textContent()).toMatch(/does not fit the context window/);
    await shot(page, '21-context-refusal');
    await refusal.getByTestId('refusal-remove').click();
    await expect.poll(() => page.getByTestId('context-refusal').count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid="message"]').count()).toBe(before);
    await page.getByTestId('composer-input').fill('Calculate 17*23 exactly.');
    await page.getByTestId('composer-input').press('Enter');
    await page.locator('[data-testid="tool-call-card"][data-name="calculator"]').first().waitFor({ timeout: ANSWER_MS });
    await answered();
    expect(await answerText()).toContain('391');
    // The stored conversation agrees: nothing of the long message is left.
    await page.reload();
    await page.getByTestId('app').waitFor();
    await expect.poll(() => page.locator('[data-testid="message"][data-role="user"] [data-testid="message-content"]').allTextContents()).toEqual(['Who are you?', 'Calculate 17*23 exactly.']);
  });

  it('or the refused message can be edited into one that fits', async () => {
    await page.getByTestId('composer-input').fill(`Read: ${'lorem ipsum dolor sit amet '.repeat(Math.ceil(OVERLONG_CHARS / 27))}`);
    await page.getByTestId('composer-input').press('Enter');
    const refusal = page.getByTestId('context-refusal');
    await refusal.waitFor({ timeout: ANSWER_MS });
    await page.getByTestId('send-button').waitFor();
    await refusal.getByTestId('refusal-edit').click();
    await page.getByTestId('edit-input').fill('Who are you?');
    await page.getByTestId('edit-save').click();
    await answered();
    expect(await answerText()).toContain('I am the Karakoram demo model');
    expect(await page.getByTestId('context-refusal').count()).toBe(0);
  });

  it('raised no page errors', () => {
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
