// web-ui.test.ts — the app's own surfaces against the real `karakoram serve` (these need no
// generation): conversations (new, rename, search, export Markdown/JSON, import, delete),
// keyboard shortcuts and the help dialog, settings that persist, and the model panel's look at
// the bundled demo model with its memory plan.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openApp, shot, startServe, type Served } from './harness.ts';

let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  served = await startServe();
  browser = await launchBrowser();
  ({ page, errors } = await openApp(browser, served.url));
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

const items = () => page.getByTestId('conversation-item');

describe('web mode: conversations, shortcuts, settings, model panel', () => {
  it('shows the welcome screen and connects', async () => {
    await page.getByTestId('welcome').waitFor();
    expect(await page.getByTestId('connection-banner').count()).toBe(0);
    await shot(page, '01-welcome');
  });

  it('creates, renames and searches conversations', async () => {
    await page.getByTestId('new-chat').click();
    await expect.poll(() => items().count()).toBe(1);
    await page.getByTestId('new-chat').click();
    await expect.poll(() => items().count()).toBe(2);
    const first = items().first();
    await first.hover();
    await first.getByTestId('conversation-menu').click();
    await first.getByTestId('conversation-rename').click();
    await page.getByTestId('rename-input').fill('Trip to Paris');
    await page.getByTestId('rename-input').press('Enter');
    await expect.poll(() => page.getByTestId('conversation-title').allTextContents()).toContain('Trip to Paris');
    expect(await page.getByTestId('chat-title').textContent()).toBe('Trip to Paris');

    await page.keyboard.press('Control+k');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('conversation-search');
    await page.keyboard.type('paris');
    await expect.poll(() => page.getByTestId('conversation-title').allTextContents()).toEqual(['Trip to Paris']);
    await shot(page, '02-search');
    await page.getByTestId('conversation-search').fill('');
    await expect.poll(() => items().count()).toBe(2);
  });

  it('exports Markdown and JSON and imports the JSON back', async () => {
    const row = items().filter({ hasText: 'Trip to Paris' });
    await row.hover();
    await row.getByTestId('conversation-menu').click();
    const [md] = await Promise.all([page.waitForEvent('download'), row.getByTestId('conversation-export-md').click()]);
    expect(md.suggestedFilename()).toMatch(/\.md$/);
    expect(readFileSync(await md.path(), 'utf8')).toContain('Trip to Paris');
    await row.hover();
    await row.getByTestId('conversation-menu').click();
    const [js] = await Promise.all([page.waitForEvent('download'), row.getByTestId('conversation-export-json').click()]);
    const jsonPath = await js.path();
    const doc = JSON.parse(readFileSync(jsonPath, 'utf8'));
    expect(JSON.stringify(doc)).toContain('Trip to Paris');

    await page.getByTestId('import-input').setInputFiles({ name: 'trip.json', mimeType: 'application/json', buffer: readFileSync(jsonPath) });
    await expect.poll(() => items().count()).toBe(3);
    await expect.poll(() => page.getByTestId('conversation-title').allTextContents()).toEqual(expect.arrayContaining(['Trip to Paris']));
  });

  it('deletes a conversation after confirmation', async () => {
    const before = await items().count();
    const row = items().first();
    await row.hover();
    await row.getByTestId('conversation-menu').click();
    await row.getByTestId('conversation-delete').click();
    await row.getByTestId('conversation-delete-confirm').click();
    await expect.poll(() => items().count()).toBe(before - 1);
  });

  it('opens the help dialog with ? and closes it with Esc', async () => {
    await page.locator('body').click({ position: { x: 700, y: 400 } });
    await page.keyboard.press('Shift+?');
    await page.getByTestId('help-dialog').waitFor();
    const text = await page.getByTestId('help-dialog').textContent();
    for (const k of ['Ctrl+K', 'Esc', 'Ctrl+N', 'Alt+R']) expect(text).toContain(k);
    await shot(page, '03-help');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('help-dialog').count()).toBe(0);
  });

  it('saves settings in the core: they survive a reload', async () => {
    await page.getByTestId('settings-button').click();
    const temp = page.getByTestId('setting-temperature');
    await temp.fill('0.7');
    await temp.press('Enter');
    await page.getByTestId('setting-system-prompt').fill('You are a terse assistant.');
    await page.getByTestId('setting-top-k').click();                   // blur saves the prompt
    await shot(page, '04-settings');
    await page.reload();
    await page.getByTestId('settings-button').click();
    await expect.poll(() => page.getByTestId('setting-temperature').inputValue()).toBe('0.7');
    expect(await page.getByTestId('setting-system-prompt').inputValue()).toBe('You are a terse assistant.');
    await page.getByTestId('settings-reset-sampling').click();
    await expect.poll(() => page.getByTestId('setting-temperature').inputValue()).toBe('');
    await page.getByTestId('setting-system-prompt').fill('');
    await page.getByTestId('setting-top-k').click();
    await page.getByTestId('settings-button').click();
  });

  it('the model panel describes the bundled demo model and its memory plan', async () => {
    await page.getByTestId('model-badge').click();
    await page.getByTestId('model-panel').waitFor();
    const demoChip = page.getByTestId('local-model').filter({ hasText: /demo/i }).first();
    await demoChip.click();
    await page.getByTestId('model-inspection').waitFor();
    const facts = page.getByTestId('model-inspection').getByTestId('model-info');
    expect(await facts.getByTestId('model-experts').textContent()).toContain('32 routed, top-4 + 1 shared');
    expect(await facts.getByTestId('model-layers').textContent()).toContain('4');
    expect(await facts.getByTestId('model-quantization').textContent()).toMatch(/int4/i);
    expect(await facts.getByTestId('model-params').textContent()).toMatch(/1[12]\.\dM total/);
    const plan = page.getByTestId('model-inspection').getByTestId('memory-plan');
    expect(await plan.getAttribute('data-fits')).toBe('true');
    expect(await plan.textContent()).toMatch(/RAM.*of/);
    // The harness serves with --context-length 8192: the plan says the setting is what it runs with.
    expect(await plan.getByTestId('context-why').textContent()).toBe('context 8,192: your setting');
    await shot(page, '05-model-panel');

    await page.getByTestId('model-dir-input').fill('/nonexistent/model');
    await page.getByTestId('model-inspect').click();
    await expect.poll(() => page.getByTestId('model-error').textContent()).toMatch(/config\.json|not a model/i);
    await page.keyboard.press('Escape');
  });

  it('a long conversation is virtualised: few rows in the DOM, all of them reachable', async () => {
    const TURNS = 200;
    const md = ['# Long chat', ''];
    for (let i = 1; i <= TURNS; i++) {
      md.push('## User', '', `Question ${i}: what is ${i} squared?`, '', '## Assistant', '',
        `Answer ${i}: **${i * i}**.`, '', '| n | n² |', '| --- | --- |', `| ${i} | ${i * i} |`, '', '```js', `const sq = ${i} * ${i};`, '```', '',
        '$$', `\\sum_{k=1}^{${i}} (2k-1) = ${i}^2`, '$$', '');
    }
    await page.getByTestId('import-input').setInputFiles({ name: 'long.md', mimeType: 'text/markdown', buffer: Buffer.from(md.join('\n')) });
    await expect.poll(() => page.getByTestId('chat-title').textContent()).toBe('Long chat');
    const rows = page.locator('[data-testid="message"]');
    await expect.poll(() => rows.last().textContent()).toContain(`Answer ${TURNS}:`);    // opens at the bottom
    const inDom = await rows.count();
    expect(inDom).toBeGreaterThan(0);
    expect(inDom).toBeLessThan(60);                       // of 400 messages
    await page.getByTestId('message-list').evaluate((el) => { el.scrollTop = 0; });
    await expect.poll(() => rows.first().textContent()).toContain('Question 1:');
    await page.getByTestId('message-list').evaluate((el) => { el.scrollTop = el.scrollHeight / 2; });
    await expect.poll(async () => (await rows.allTextContents()).some((t) => /Question 9\d:|Question 10\d:/.test(t))).toBe(true);
    await page.getByTestId('message-list').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await expect.poll(() => rows.last().textContent()).toContain(`Answer ${TURNS}:`);
    // Math is typeset by KaTeX (its fonts load under the CSP); code blocks copy their text.
    expect(await rows.last().locator('.katex-display').count()).toBe(1);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: served.url });
    const copy = rows.last().getByTestId('code-copy');
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`const sq = ${TURNS} * ${TURNS};\n`);
    await shot(page, '06-long-conversation');

    const light = await openApp(browser, `${served.url}/${await page.evaluate(() => location.hash)}`, 'light');
    await expect.poll(() => light.page.getByTestId('chat-title').textContent()).toBe('Long chat');
    await expect.poll(() => light.page.getByTestId('message-list').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(5);
    const bg = await light.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(255, 255, 255)');
    await expect.poll(() => light.page.locator('[data-testid="message"]').last().textContent()).toContain(`Answer ${TURNS}:`);   // opened at the bottom
    await shot(light.page, '06-long-conversation-light');
    await light.page.context().close();
  });

  it('raised no page errors', () => {
    // The engine may be unavailable in this suite; the renderer itself must not throw.
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    // The strict CSP (no inline scripts, no eval, same-origin connections) blocked nothing.
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
