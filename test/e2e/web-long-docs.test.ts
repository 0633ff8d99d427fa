// web-long-docs.test.ts — long documents in Chromium against `karakoram serve` with the real
// engine and the demo model: attach a PDF and a DOCX generated here, see them extracted (pages,
// preview) and the token count; ask and see the prompt read with progress; ask again and see it
// start from the prefix cache (cached tokens in the perf strip); restart serve on the same data
// directory, reopen the conversation and ask — the KV snapshot is restored, not re-read. A longer
// plain-text document is then cancelled mid-read from the progress bar's Cancel.
//
// serve runs with a small prefill chunk (--prefill-chunk) so the engine reports progress every
// PREFILL_CHUNK tokens: the demo model reads a 512-token chunk too fast for the bar to be seen
// reliably, and a cancel needs a read that lasts.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { requireAddon } from '../support/engine.ts';
import { makePdf, memoDocx } from '../unit/services/attach/files.ts';
import { answeredIn, askIn, launchBrowser, openApp, shot, startServe, waitEngine, type Served } from './harness.ts';

requireAddon('the web-long-docs e2e');
const ANSWER_MS = 120_000;
/** Prefix-cache blocks are 64 tokens: a prompt's last partial block may be read again. */
const BLOCK_TOKENS = 64;
/** Prompt tokens per scheduler step: ~55 progress events for the first (~3.6K-token) prompt. */
const PREFILL_CHUNK = 64;
const SERVE_ARGS = ['--prefill-chunk', String(PREFILL_CHUNK)];
/** Lines of the long text document (~33 demo-model tokens each: ~5K tokens, within the 8K context). */
const LONG_DOC_LINES = 150;

let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

const answered = () => answeredIn(page, ANSWER_MS);

/** The perf strip's "N cached · M new" after an answer. */
async function cachedAndNew(): Promise<{ cached: number; fresh: number }> {
  const el = page.getByTestId('perf-cached');
  expect(await el.innerText()).toMatch(/[\d.]+K? cached · [\d.]+K? new/);
  const cached = Number(await el.getAttribute('data-cached'));
  return { cached, fresh: Number(await el.getAttribute('data-prompt')) - cached };
}

/** One paint of the reading-progress bar: its text and the figures it carries as data attributes. */
interface ProgressPaint { text: string; done: number; total: number; rate: number; left: number | null }

/** Records every distinct paint of the reading-progress bar. */
async function watchProgress(p: Page): Promise<void> {
  await p.evaluate(() => {
    const w = window as unknown as { __kkRead: ProgressPaint[] };
    w.__kkRead = [];
    new MutationObserver(() => {
      const el = document.querySelector('[data-testid="reading-progress"]');
      if (!el) return;
      const d = (el as HTMLElement).dataset;
      const paint = { text: el.textContent ?? '', done: Number(d.done), total: Number(d.total), rate: Number(d.rate), left: d.left === undefined ? null : Number(d.left) };
      const last = w.__kkRead[w.__kkRead.length - 1];
      if (!last || last.text !== paint.text || last.done !== paint.done) w.__kkRead.push(paint);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}
const progressSeen = (p: Page) => p.evaluate(() => (window as unknown as { __kkRead: ProgressPaint[] }).__kkRead);

/** The bar while a prompt of `total` tokens was read: more than one step, rising, with a speed and the time left. */
function expectReadingShown(paints: ProgressPaint[], total: number): void {
  expect(paints.length).toBeGreaterThanOrEqual(2);
  for (const [i, p] of paints.entries()) {
    expect(p.text).toMatch(/Reading the prompt: [\d.]+K? \/ [\d.]+K? tokens/);
    expect(p.total).toBe(total);
    expect(p.done).toBeGreaterThanOrEqual(0);
    expect(p.done).toBeLessThanOrEqual(total);
    if (i > 0) expect(p.done).toBeGreaterThanOrEqual(paints[i - 1]!.done);
    expect(p.text).toContain(' tok/s');
    if (p.done === 0) continue;   // the bar as the read starts: nothing read yet, no speed
    expect(p.rate).toBeGreaterThan(0);
    if (p.done < total) {
      expect(p.left).not.toBeNull();
      expect(p.text).toMatch(/ tok\/s · \d+ s left/);
    }
    expect(p.text).toContain('Cancel');
  }
  expect(paints.some((p) => p.done > 0 && p.done < total)).toBe(true);
}

const ask = (text: string) => askIn(page, text);

describe('long documents in Chromium', () => {
  beforeAll(async () => {
    served = await startServe(SERVE_ARGS);
    await waitEngine(served.url, ['ready']);
    browser = await launchBrowser();
    ({ page, errors } = await openApp(browser, served.url));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('attaches, counts, reads with progress, reads once, and restores after a serve restart', async () => {
    const lines = (p: number) => Array.from({ length: 24 }, (_, i) => `Page ${p} line ${i}: milestone M-${p}${i} is due in week ${(p * 7 + i) % 52}.`);
    const pdf = await makePdf([lines(1), lines(2), lines(3)]);
    const docx = await memoDocx();
    await page.getByTestId('attach-input').setInputFiles([
      { name: 'plan.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdf) },
      { name: 'memo.docx', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', buffer: Buffer.from(docx) },
    ]);
    const chips = page.getByTestId('attachment-chip');
    await expect.poll(() => chips.count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => chips.nth(0).getByTestId('attachment-detail').innerText()).toMatch(/^3 pages · [\d.]+K? tokens$/);
    await expect.poll(() => chips.nth(1).getByTestId('attachment-detail').innerText()).toMatch(/^2 sections · [\d.]+K? tokens$/);
    await chips.nth(0).locator('.chip-main').click();
    await expect.poll(() => page.getByTestId('attachment-preview').innerText()).toContain('[page 2]\nPage 2 line 0: milestone M-20');

    const meterTokens = async () => Number(await page.getByTestId('context-meter-count').getAttribute('data-tokens'));
    await expect.poll(() => page.getByTestId('context-meter-count').innerText(), { timeout: 10_000 }).toMatch(/^[\d,]+ \/ 8,192 tokens$/);
    const docsOnly = await meterTokens();
    await page.getByTestId('composer-input').fill('Who owns PRJ-1017, and when is M-35 due?');
    await expect.poll(meterTokens, { timeout: 10_000 }).toBeGreaterThan(docsOnly);   // counted again with the question
    const counted = await meterTokens();
    expect(counted).toBeGreaterThan(1000);
    expect(await page.getByTestId('context-meter').getAttribute('data-fits')).toBe('true');
    await shot(page, 'long-docs-attached');

    await watchProgress(page);
    await page.getByTestId('composer-input').press('Enter');
    await answered();
    const first = await cachedAndNew();
    expect(first.cached + first.fresh).toBe(counted);           // the meter counted what was read
    expectReadingShown(await progressSeen(page), counted);
    await expect.poll(() => page.locator('[data-testid="message"][data-role="user"] [data-testid="message-document"]').count()).toBe(2);
    await shot(page, 'long-docs-first-answer');

    await ask('And who owns PRJ-1033?');
    await answered();
    const second = await cachedAndNew();
    expect(second.cached).toBeGreaterThanOrEqual(counted - BLOCK_TOKENS);   // started without re-reading
    await shot(page, 'long-docs-second-answer');
    const convId = await page.evaluate(() => decodeURIComponent(location.hash.replace(/^#\/?c\//, '')));

    // Restart serve on the same data directory: the shutdown saves the snapshot.
    const dataDir = served.dataDir;
    await served.stop({ keepData: true });
    const snaps = readdirSync(join(dataDir, 'kv-snapshots')).filter((f) => f.endsWith('.kvsnap'));
    expect(snaps.length).toBe(1);
    served = await startServe(SERVE_ARGS, { dataDir });
    await waitEngine(served.url, ['ready']);
    ({ page, errors } = await openApp(browser, served.url));
    await page.locator(`[data-testid="conversation-item"][data-id="${convId}"] [data-testid="conversation-open"]`).click();
    await page.locator('[data-testid="message"][data-role="user"] [data-testid="message-document"]').first().waitFor();
    await ask('Which code has the largest budget?');
    await answered();
    const third = await cachedAndNew();
    expect(third.cached).toBeGreaterThanOrEqual(counted - BLOCK_TOKENS);    // restored, not re-read
    expect(existsSync(join(dataDir, 'kv-snapshots', snaps[0]!))).toBe(true);
    await shot(page, 'long-docs-restored');
    // No script errors (a 404 console line for a static resource after the restart is not checked here).
    expect(errors.filter((e) => e.startsWith("pageerror")).join("\n")).toBe("");
  }, 400_000);

  it('cancels a long read from the progress bar; the UI stays usable and the conversation intact', async () => {
    await page.getByTestId('new-chat').click();
    const text = Array.from({ length: LONG_DOC_LINES }, (_, i) => `Line ${i}: unit U-${1000 + i} reported ${(i * 37) % 997} orders in week ${i % 52}.`).join('\n');
    await page.getByTestId('attach-input').setInputFiles([{ name: 'orders.txt', mimeType: 'text/plain', buffer: Buffer.from(text) }]);
    await expect.poll(() => page.getByTestId('attachment-chip').count(), { timeout: 30_000 }).toBe(1);
    const meterTokens = async () => Number(await page.getByTestId('context-meter-count').getAttribute('data-tokens'));
    await expect.poll(meterTokens, { timeout: 10_000 }).toBeGreaterThan(4000);
    const docOnly = await meterTokens();
    await page.getByTestId('composer-input').fill('Which unit reported the most orders?');
    await expect.poll(meterTokens, { timeout: 10_000 }).toBeGreaterThan(docOnly);   // the question counted too
    expect(await page.getByTestId('context-meter').getAttribute('data-fits')).toBe('true');
    const counted = await meterTokens();

    await watchProgress(page);
    await page.getByTestId('composer-input').press('Enter');
    const bar = page.getByTestId('reading-progress');
    await bar.waitFor({ timeout: ANSWER_MS });
    // While the prompt is read the UI answers input: a draft typed now is there as typed.
    await page.getByTestId('composer-input').fill('typed while reading');
    expect(await page.getByTestId('composer-input').inputValue()).toBe('typed while reading');
    const before = Number(await bar.getAttribute('data-done'));
    expect(before).toBeLessThan(Number(await bar.getAttribute('data-total')));
    await page.getByTestId('reading-cancel').click();
    await bar.waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByTestId('send-button').waitFor({ timeout: 30_000 });
    const paints = await progressSeen(page);
    expectReadingShown(paints, counted);
    expect(paints[paints.length - 1]!.done).toBeLessThan(counted);   // cancelled before the prompt was read
    // The question and its document stay; the answer is marked stopped, not lost or failed.
    const user = page.locator('[data-testid="message"][data-role="user"]');
    await expect.poll(() => user.count()).toBe(1);
    expect(await user.first().getByTestId('message-document').count()).toBe(1);
    const asst = page.locator('[data-testid="message"][data-role="assistant"]').last();
    await expect.poll(() => asst.getAttribute('data-status'), { timeout: 30_000 }).toBe('stopped');
    expect(await page.getByTestId('composer-input').inputValue()).toBe('typed while reading');
    await shot(page, 'long-docs-cancelled');

    // The same conversation goes on: a short question is answered.
    await ask('In one word: done?');
    await answered();
    await expect.poll(() => page.locator('[data-testid="message"][data-role="assistant"]').last().getAttribute('data-status')).toBe('complete');
    await expect.poll(() => user.count()).toBe(2);
    expect(errors.filter((e) => e.startsWith("pageerror")).join("\n")).toBe("");
  }, 300_000);
});
