// web-k25.test.ts — a Kimi K2.5-packaged copy of the demo model (nested text_config,
// language_model. tensors, dummy vision tensors, the K2.5-style template written for the tests)
// served by `karakoram serve`, in Chromium: the model panel names it and says images are not
// supported; the composer's thinking switch is there; thinking on streams reasoning then the
// answer, instant (the template prefills <think></think>) answers without reasoning.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { requireAddon } from '../support/engine.ts';
import { packageAsK25 } from '../fixtures/k25/package.ts';
import { DEMO_MODEL } from '../unit/text/shared.ts';
import { answeredIn, askIn, launchBrowser, openApp, shot, startServe, waitEngine, type Served } from './harness.ts';

requireAddon('the web-k25 e2e');

const ANSWER_MS = 120_000;
let root: string;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

const lastTurn = () => page.locator('[data-testid="message"][data-role="assistant"]').last();

async function askAndWait(text: string): Promise<void> {
  await askIn(page, text);
  await answeredIn(page, ANSWER_MS);
}

describe('a K2.5-packaged model in web mode', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'kk-e2e-k25-'));
    const dir = join(root, 'Kimi-K2.5-demo');
    packageAsK25(DEMO_MODEL, dir);
    served = await startServe(['--model', dir]);
    const st = await waitEngine(served.url, ['ready', 'error'], ANSWER_MS);
    expect(st.state, st.error ?? '').toBe('ready');
    expect(st.model?.thinkingSwitch).toBe(true);
    browser = await launchBrowser();
    ({ page, errors } = await openApp(browser, served.url));
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: ANSWER_MS });
    // Greedy decoding, so the answers are the same on every run.
    await page.getByTestId('settings-button').click();
    await page.getByTestId('setting-temperature').fill('0');
    await page.getByTestId('setting-temperature').press('Enter');
    await page.getByTestId('settings-button').click();
  });

  afterAll(async () => {
    await browser?.close();
    if (served) console.log(served.log().split('\n').slice(-20).join('\n'));
    await served?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('the model panel names it as K2.5 and says images are not supported', async () => {
    await page.getByTestId('model-badge').click();
    await page.getByTestId('model-panel').waitFor();
    await page.getByTestId('model-family').waitFor();
    expect(await page.getByTestId('model-family').textContent()).toBe('Kimi K2.5');
    expect(await page.getByTestId('model-architecture').textContent()).toContain('KimiK25ForConditionalGeneration');
    expect(await page.getByTestId('model-layers').textContent()).toMatch(/^4 /);   // read from text_config
    expect(await page.getByTestId('model-limitation').first().textContent()).toMatch(/Images are not supported yet/);
    await shot(page, 'k25-01-model-panel');
    await page.getByTestId('model-badge').click();
  });

  it('thinking on: the reasoning comes first (the prompt opened <think>), then the answer', async () => {
    await page.getByTestId('new-chat').click();
    const toggle = page.getByTestId('thinking-toggle');
    expect(await toggle.isChecked()).toBe(true);
    await askAndWait('Who are you?');
    const turn = lastTurn();
    expect(await turn.getAttribute('data-status')).toBe('complete');
    await turn.getByTestId('reasoning-toggle').click();
    expect(await turn.getByTestId('reasoning-text').textContent()).toBe('The user asks who I am.');
    expect((await turn.getByTestId('message-content').textContent())!).toMatch(/Karakoram demo model/);
    await shot(page, 'k25-02-thinking');
  });

  it('instant: no reasoning, the answer only', async () => {
    await page.getByTestId('new-chat').click();
    await page.getByTestId('thinking-toggle').uncheck({ force: true });
    await expect.poll(() => page.getByTestId('thinking-toggle').isChecked()).toBe(false);
    await askAndWait('Who are you?');
    const turn = lastTurn();
    expect(await turn.getAttribute('data-status')).toBe('complete');
    expect(await turn.getByTestId('reasoning-panel').count()).toBe(0);
    expect((await turn.getByTestId('message-content').textContent())!.trim().length).toBeGreaterThan(0);
    await shot(page, 'k25-03-instant');
    // As the other suites: page errors and CSP violations (a 404 console line is not one).
    expect(errors.filter((e) => e.startsWith('pageerror') || /Content Security Policy/i.test(e))).toEqual([]);
  });
});
