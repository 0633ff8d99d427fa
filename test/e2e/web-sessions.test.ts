// web-sessions.test.ts — engine sessions through `karakoram serve` with the demo model, in Chromium:
// the second message of a conversation reads its history from the engine's prefix cache (the perf
// strip reports cached prompt tokens > 0 and the new question's tokens as new). Generations at
// once are shown at the binding (test/unit/engine/binding.test.ts: 7 batched, each equal to it
// alone) — the demo model answers in ~0.1 s, too fast for two windows' streams to overlap reliably.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { requireAddon } from '../support/engine.ts';
import { launchBrowser, openApp, startServe, waitEngine, type Served } from './harness.ts';

requireAddon('the web-sessions e2e');

const ANSWER_MS = 120_000;
let served: Served;
let browser: Browser;

async function ask(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
}
async function answered(page: Page): Promise<void> {
  await page.locator('[data-testid="message"][data-role="assistant"][data-streaming="false"]').last().waitFor({ timeout: ANSWER_MS });
  await page.getByTestId('send-button').waitFor({ timeout: ANSWER_MS });
}
async function newChat(page: Page): Promise<void> {
  await page.getByTestId('new-chat').click();
  await page.getByTestId('composer-input').waitFor();
}

describe('engine sessions through karakoram serve', () => {
  beforeAll(async () => {
    served = await startServe();
    await waitEngine(served.url, ['ready', 'error'], ANSWER_MS);
    browser = await launchBrowser();
  }, ANSWER_MS);
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('the second message of a conversation reports cached prompt tokens in the perf strip', async () => {
    const { page, errors } = await openApp(browser, served.url);
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: ANSWER_MS });
    await newChat(page);
    await ask(page, 'Who are you?');
    await answered(page);
    await ask(page, 'What is the weather in Paris?');
    await answered(page);
    const text = (await page.getByTestId('perf-cached').textContent()) ?? '';
    const m = /([\d,]+) cached · ([\d,]+) new/.exec(text);
    expect(m, text).not.toBeNull();
    const cached = Number(m![1].replace(/,/g, '')), fresh = Number(m![2].replace(/,/g, ''));
    expect(cached).toBeGreaterThan(0);
    expect(fresh).toBeGreaterThan(0);  // the new question was read
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.context().close();
  }, 2 * ANSWER_MS);
});
