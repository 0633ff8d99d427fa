// electron.test.ts — the core flow in the desktop app itself (`_electron.launch`): the sandboxed
// window reaches the core through the preload's verbs, the demo model answers "Who are you?"
// with a reasoning panel that collapses as the answer follows, and the conversation survives a
// reload. Runs where an Electron binary exists; elsewhere it skips and says why (its download is
// an optional dependency that can fail). With Electron present, a missing engine fails it.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { requireAddon } from '../support/engine.ts';
import { ROOT, SHOTS } from './harness.ts';

function findElectron(): { path: string | null; why: string } {
  try {
    const p = createRequire(join(ROOT, 'package.json'))('electron') as unknown;
    if (typeof p === 'string' && existsSync(p)) return { path: p, why: '' };
    return { path: null, why: `the electron package names no binary (${String(p)})` };
  } catch (e) {
    return { path: null, why: (e as Error).message.split('\n')[0] };
  }
}

const electron = findElectron();
const SKIP = electron.path === null ? `Electron binary not installed: ${electron.why}` : null;
if (SKIP) console.warn(`electron e2e skipped: ${SKIP}`);

const ANSWER_MS = 120_000;

describe.skipIf(SKIP !== null)('Electron app: the core flow', () => {
  let app: ElectronApplication;
  let page: Page;
  let dataDir: string;

  beforeAll(async () => {
    requireAddon('the Electron e2e');
    dataDir = mkdtempSync(join(tmpdir(), 'kk-electron-'));
    app = await _electron.launch({
      executablePath: electron.path!,
      args: ['--no-sandbox', '--disable-gpu', ROOT],
      cwd: ROOT,
      env: { ...process.env, KARAKORAM_DATA_DIR: dataDir },
    });
    page = await app.firstWindow();
    await page.getByTestId('app').waitFor({ timeout: ANSWER_MS });
  });

  afterAll(async () => {
    await app?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the renderer is sandboxed and talks through the preload verbs', async () => {
    const env = await page.evaluate(() => ({
      hasApi: typeof (window as unknown as { karakoram?: { getConversation?: unknown } }).karakoram?.getConversation === 'function',
      hasRequire: typeof (window as unknown as { require?: unknown }).require !== 'undefined',
      hasProcess: typeof (window as unknown as { process?: unknown }).process !== 'undefined',
    }));
    expect(env).toEqual({ hasApi: true, hasRequire: false, hasProcess: false });
  });

  it('answers "Who are you?" with a reasoning panel, and keeps it across a reload', async () => {
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: ANSWER_MS });
    await page.getByTestId('new-chat').click();
    await page.getByTestId('composer-input').fill('Who are you?');
    await page.getByTestId('composer-input').press('Enter');
    const turn = page.locator('[data-testid="message"][data-role="assistant"]').last();
    await page.locator('[data-testid="message"][data-role="assistant"][data-streaming="false"]').last().waitFor({ timeout: ANSWER_MS });
    await page.getByTestId('send-button').waitFor({ timeout: ANSWER_MS });
    expect(await turn.getByTestId('reasoning-panel').getAttribute('data-state')).toBe('collapsed');
    const answer = await turn.getByTestId('message-content').textContent();
    expect(answer!.trim().length).toBeGreaterThan(0);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'electron-answer.png') });

    await page.reload();
    await page.getByTestId('app').waitFor();
    await expect.poll(() => page.locator('[data-testid="message"][data-role="user"] [data-testid="message-content"]').last().textContent(), { timeout: 30_000 }).toBe('Who are you?');
    expect(await page.locator('[data-testid="message"][data-role="assistant"] [data-testid="message-content"]').last().textContent()).toBe(answer);
  });
});
