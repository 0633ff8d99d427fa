// web-models.test.ts — the Models page in Chromium through `karakoram serve`, against the local
// Hub-like server (HF_ENDPOINT) serving the demo model as kk/demo-k2, into a fresh hub cache
// (HF_HUB_CACHE): search the hub, open the repo and see the fit plan, download it under the
// bandwidth-limit setting with the progress bar moving, pause (nothing moves) and resume it,
// verify the snapshot byte for byte, load it from the cache and chat with it. Then a block-FP8
// checkpoint (kk_synth) is downloaded and converted to INT4 from the page.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KarakoramApi } from '../../common/contract.ts';
import { createWsClient } from '../../common/ws-client.ts';
import { requireAddon } from '../support/engine.ts';
import { keyedSocket } from '../support/keyed-socket.ts';
import { repoFromDir, startHub, type Hub } from '../unit/models/hub-server.ts';
import { launchBrowser, openApp, ROOT, shot, startServe, waitEngine, type Served } from './harness.ts';

requireAddon('the web-models e2e (it loads and chats with the download)');

const ANSWER_MS = 120_000;
const DOWNLOAD_MS = 60_000;
/** The download-limit setting for the run (MB/s): the ~10.8 MB demo takes several seconds, time to pause it. */
const LIMIT_MBPS = 2;
const DEMO = repoFromDir(join(ROOT, 'assets/models/demo-k2'));
const DEMO_BYTES = DEMO.files.reduce((s, f) => s + f.data.length, 0);

let hub: Hub;
let served: Served;
let browser: Browser;
let page: Page;
let errors: string[];
let api: KarakoramApi;
let closeClient: () => void;
const cacheDir = mkdtempSync(join(tmpdir(), 'kk-e2e-hub-cache-'));
const modelsDir = mkdtempSync(join(tmpdir(), 'kk-e2e-models-'));
const KK_SYNTH = join(ROOT, 'build/addon/kk_synth');

const row = () => page.locator('[data-testid="download-row"][data-repo="kk/demo-k2"]');
const done = async () => Number(await row().getAttribute('data-done'));

describe('the Models page in the browser', () => {
  beforeAll(async () => {
    if (!existsSync(KK_SYNTH)) throw new Error('kk_synth is not built (npm run build:native)');
    const fp8 = mkdtempSync(join(tmpdir(), 'kk-e2e-fp8-'));
    execFileSync(KK_SYNTH, ['--preset', 'tiny', '--expert-format', 'fp8', '--dense-format', 'fp8', '--out', fp8], { stdio: 'ignore' });
    hub = await startHub({ 'kk/demo-k2': DEMO, 'kk/other': { files: DEMO.files.slice(0, 1) }, 'kk/tiny-fp8': repoFromDir(fp8) });
    const env = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HUB_CACHE: process.env.HF_HUB_CACHE, KARAKORAM_MODELS_DIR: process.env.KARAKORAM_MODELS_DIR };
    process.env.HF_ENDPOINT = hub.endpoint;
    process.env.HF_HUB_CACHE = cacheDir;
    process.env.KARAKORAM_MODELS_DIR = modelsDir;
    try { served = await startServe(); } finally {
      for (const [k, v] of Object.entries(env)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    }
    await waitEngine(served.url, ['ready', 'error'], ANSWER_MS);
    const client = createWsClient(`${served.url.replace(/^http/, 'ws')}/ws`, keyedSocket(() => served.ownerKey));
    api = client.api;
    closeClient = client.close;
    browser = await launchBrowser();
    ({ page, errors } = await openApp(browser, served.url));
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: ANSWER_MS });
  });
  afterAll(async () => {
    closeClient?.();
    await browser?.close();
    await served?.stop();
    await hub?.close();
  });

  it('searches the local hub and shows the repo\'s files and fit plan before downloading', async () => {
    await page.getByTestId('models-button').click();
    await page.getByTestId('models-panel').waitFor();
    await page.getByTestId('hub-query').fill('demo');
    await page.getByTestId('hub-search').click();
    const hit = page.locator('[data-testid="hub-hit"][data-repo="kk/demo-k2"]');
    await hit.waitFor();
    expect(await page.getByTestId('hub-hit').count()).toBe(1);   // kk/other does not match
    expect(hub.requests.some((r) => r.startsWith('GET /api/models'))).toBe(true);
    await hit.getByRole('button').click();
    const plan = page.getByTestId('fit-plan');
    await plan.waitFor();
    expect(await plan.getAttribute('data-fits')).toBe('true');
    expect(await page.getByTestId('fit-verdict').textContent()).toBe('Fits this machine');
    expect(await page.getByTestId('fit-speed').textContent()).toMatch(/^\d+(\.\d)? tok\/s$/);
    expect(await page.getByTestId('repo-files').locator('li').count()).toBe(DEMO.files.length);
    await shot(page, 'models-01-repo-fit-plan');
  });

  it('downloads under the bandwidth limit with a moving progress bar; pause stops it, resume finishes it', async () => {
    const limit = page.getByTestId('download-limit');
    await limit.fill(String(LIMIT_MBPS));
    await limit.blur();
    await expect.poll(async () => (await api.getSettings({})).settings.downloadLimitMBps).toBe(LIMIT_MBPS);
    await page.getByTestId('download-repo').click();
    await row().waitFor();
    await expect.poll(done, { timeout: DOWNLOAD_MS }).toBeGreaterThan(DEMO_BYTES / 5);
    expect(Number(await row().getAttribute('data-total'))).toBe(DEMO_BYTES);
    await expect.poll(() => row().getByTestId('download-figures').textContent()).toMatch(/\/s · .* left/);
    await shot(page, 'models-02-downloading');
    await row().getByTestId('download-pause').click();
    await expect.poll(() => row().getAttribute('data-state')).toBe('paused');
    const at = await done();
    expect(at).toBeLessThan(DEMO_BYTES);
    const sent = hub.requests.length;
    await page.waitForTimeout(1500);
    expect(hub.requests.length).toBe(sent);
    expect(await done()).toBe(at);
    await shot(page, 'models-03-paused');
    await row().getByTestId('download-resume').click();
    await expect.poll(() => row().getAttribute('data-state'), { timeout: DOWNLOAD_MS }).toBe('done');
    expect(await done()).toBe(DEMO_BYTES);
    await row().getByTestId('download-verify').click();
    await page.getByText(/Verified: \d+ files match their sha256/).waitFor();
    const lib = page.locator('[data-testid="library-model"][data-repo="kk/demo-k2"]');
    await lib.waitFor();
    expect(await lib.getAttribute('data-complete')).toBe('true');
    // Another folder of models joins the library.
    await page.getByTestId('library-folder-input').fill(join(ROOT, 'assets/models'));
    await page.getByTestId('library-folder-add').click();
    const added = page.locator(`[data-testid="library-model"][data-source="folder"][data-dir="${join(ROOT, 'assets/models/demo-k2')}"]`);
    await added.waitFor();
    expect(await added.getAttribute('data-complete')).toBe('true');
    await shot(page, 'models-04-done');
  });

  it('loads the downloaded model from the hub cache and chats with it', async () => {
    await page.getByTestId('library-load').first().click();
    const snapshot = join(cacheDir, 'models--kk--demo-k2', 'snapshots');
    await expect.poll(async () => (await waitEngine(served.url, ['ready', 'error'], ANSWER_MS)).model?.dir ?? '', { timeout: ANSWER_MS }).toContain(snapshot);
    const ref = readFileSync(join(cacheDir, 'models--kk--demo-k2', 'refs', 'main'), 'utf8');
    expect((await waitEngine(served.url, ['ready'])).model?.dir).toBe(join(snapshot, ref));
    await page.getByTestId('models-button').click();   // close the panel
    await page.getByTestId('composer-input').fill('Who are you?');
    await page.getByTestId('composer-input').press('Enter');
    const answer = page.locator('[data-testid="message"][data-role="assistant"][data-streaming="false"]').last();
    await answer.waitFor({ timeout: ANSWER_MS });
    expect(((await answer.textContent()) ?? '').trim().length).toBeGreaterThan(0);
    await shot(page, 'models-05-chat');
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });

  it('a block-FP8 repo is offered with conversion; downloaded, it converts to INT4 from the page', async () => {
    await page.getByTestId('models-button').click();
    await page.getByTestId('hub-query').fill('fp8');
    await page.getByTestId('hub-search').click();
    await page.locator('[data-testid="hub-hit"][data-repo="kk/tiny-fp8"]').getByRole('button').click();
    await page.locator('[data-testid="repo-view"][data-repo="kk/tiny-fp8"]').waitFor();
    await page.getByText(/Block-FP8: after the download, convert it to INT4/).waitFor();
    await page.getByTestId('download-repo').click();
    const fp8Row = page.locator('[data-testid="download-row"][data-repo="kk/tiny-fp8"]');
    await expect.poll(() => fp8Row.getAttribute('data-state'), { timeout: DOWNLOAD_MS }).toBe('done');
    const lib = page.locator('[data-testid="library-model"][data-repo="kk/tiny-fp8"]');
    await lib.getByTestId('library-convert').click();
    const converted = page.locator(`[data-testid="library-model"][data-dir="${join(modelsDir, 'kk--tiny-fp8-int4')}"]`);
    await converted.waitFor({ timeout: DOWNLOAD_MS });
    expect(await converted.getAttribute('data-complete')).toBe('true');
    expect(await converted.textContent()).toContain('int4');
    await shot(page, 'models-06-converted');
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });
});
