// remote-engine.test.ts — the app, in Chromium, chatting through a remote engine. The remote is a
// REAL second `karakoram serve` (B) with the demo model, reached through its OpenAI API (/v1) with
// its owner key, exactly as a vLLM or SGLang server would be; the app's server (A) runs with no
// local model. Shows, all through the browser UI:
//   - configuration time: a dead URL, a wrong key and a model B does not serve each get their own
//     message in the Remote engines form, and nothing is saved;
//   - the right settings: saved and in use (badge "remote"); the context meter says the remote
//     counts on its side;
//   - a weather question: B's reasoning in the trace, its get_weather call waiting on an approval
//     card (a remote is not the demo model: no pre-approval), approved, run here, the result sent
//     back to B and B's answer shown; B's own metrics counted the requests; the perf strip shows
//     the figures B reported;
//   - the same server added again with "Reports token counts" off and chosen for one conversation:
//     the perf strip says "remote: not reported" and the message carries the note;
//   - Stop in the middle of an answer closes the request: B's metrics show the cancel and no
//     sequence left running (B's engine is frozen at the first streamed text, so the demo model's
//     short answer cannot finish first);
//   - B SIGKILLed mid-stream: the message ends with a clear error naming B, the conversation
//     survives a reload (and can switch its own engine), and once B is back (same port, same data)
//     the next turn is answered.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Conversation, KarakoramApi } from '../../common/contract.ts';
import { createWsClient } from '../../common/ws-client.ts';
import { requireAddon } from '../support/engine.ts';
import { keyedSocket } from '../support/keyed-socket.ts';
import { answeredIn, askIn, engineStatus, launchBrowser, openApp, ROOT, shot, startServe, waitEngine, type Served } from './harness.ts';

requireAddon('the remote-engine e2e');

const ANSWER_MS = 120_000;
const MODEL = 'demo-k2';
const WEATHER = "What's the weather like in Paris today?";
const WHO = 'Who are you?';
/** A sampled answer of some 70 tokens (temperature 2 rambles past the turn end). The demo model
 *  finishes that in well under a second, so the stop and kill tests freeze B's engine first. */
const SAMPLED = { temperature: 2, topP: 1, seed: 7, maxTokens: 4000 };
const GREEDY = { temperature: 0, maxTokens: 512 };

let remote: Served;       // B: the demo model, the remote engine
let remotePort: number;
/** The API key B's admin issued for A (as vLLM's --api-key: it outlives a restart, unlike B's owner key). */
let remoteKey: string;
let served: Served;       // A: no local model, the app
let browser: Browser;
let page: Page;
let errors: string[];
let api: KarakoramApi;
let closeClient: () => void;

const activeId = () => page.evaluate(() => decodeURIComponent(location.hash.replace(/^#\/?c\//, '')));
const lastTurn = () => page.locator('[data-testid="message"][data-role="assistant"]').last();
const stored = (id: string): Promise<Conversation> => api.getConversation({ conversationId: id });

async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A counter or gauge from B's /metrics (B's own view of the requests it served). */
async function remoteMetric(name: string): Promise<number> {
  const t = await (await fetch(`${remote.url}/metrics`, { headers: { authorization: `Bearer ${remote.ownerKey}` } })).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(t);
  return m ? Number(m[1]) : 0;
}

/**
 * Freezes B's engine (SIGSTOP) as soon as A reports the first streamed text of the conversation:
 * the answer is then certainly unfinished, whatever the machine's load, while B's server still
 * runs (it sees a disconnect; a stop is answered). Resolves once frozen.
 */
/** Engines frozen by a test: thawed in afterAll should a test fail before it does. */
const frozenPids = new Set<number>();

function freezeOnFirstText(conversationId: string, enginePid: number): Promise<void> {
  return new Promise((resolve) => {
    const off = api.on('generation', (e) => {
      if (e.conversationId !== conversationId || (e.type !== 'reasoning' && e.type !== 'content')) return;
      off();
      frozenPids.add(enginePid);
      process.kill(enginePid, 'SIGSTOP');
      resolve();
    });
  });
}

async function fillRemote(url: string, key: string, model = MODEL, name = 'office-box'): Promise<void> {
  await page.getByTestId('remote-name').fill(name);
  await page.getByTestId('remote-url').fill(url);
  await page.getByTestId('remote-key').fill(key);
  await page.getByTestId('remote-model').fill(model);
}
const checkText = () => page.getByTestId('remote-check').textContent();

const ask = (text: string) => askIn(page, text);
const answered = () => answeredIn(page, ANSWER_MS);
async function newChat(tools: boolean): Promise<string> {
  const before = await activeId();
  await page.getByTestId('new-chat').click();
  await expect.poll(activeId).not.toBe(before);
  if (tools) {
    await page.getByTestId('demo-tools-toggle').check({ force: true });
    await expect.poll(() => page.getByTestId('demo-tools-toggle').isChecked()).toBe(true);
  }
  return activeId();
}

describe('a remote engine: a second karakoram serve with the demo model', () => {
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kk-e2e-remote-'));
    const made = spawnSync(process.execPath, [join(ROOT, 'bin', 'karakoram.js'), 'serve', '--data-dir', dataDir, '--create-key', 'office-app'], { cwd: ROOT, encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`karakoram serve --create-key failed: ${made.stderr}`);
    remoteKey = made.stdout.trim();
    remote = await startServe([], { dataDir });
    remotePort = Number(new URL(remote.url).port);
    await waitEngine(remote.url, ['ready'], ANSWER_MS);
    served = await startServe(['--no-model']);
    const client = createWsClient(`${served.url.replace(/^http/, 'ws')}/ws`, keyedSocket(() => served.ownerKey));
    api = client.api;
    closeClient = client.close;
    await api.updateSettings({ sampling: GREEDY });
    browser = await launchBrowser();
    ({ page, errors } = await openApp(browser, served.url));
  });
  afterAll(async () => {
    for (const pid of frozenPids) try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
    closeClient?.();
    await browser?.close();
    await served?.stop();
    await remote?.stop();
  });

  it('configuration time: a dead URL, a wrong key and a model B does not serve each say what is wrong', async () => {
    expect((await engineStatus(served.url)).state).not.toBe('ready');   // A has no local model
    await page.getByTestId('model-badge').click();
    await page.getByTestId('remote-panel').waitFor();
    await fillRemote(`http://127.0.0.1:${await deadPort()}/v1`, remoteKey);
    await page.getByTestId('remote-test').click();
    await expect.poll(checkText, { timeout: 15_000 }).toMatch(/could not reach 127\.0\.0\.1:\d+: connection refused/);
    await fillRemote(`${remote.url}/v1`, 'kk-not-the-key');
    await page.getByTestId('remote-save').click();
    await expect.poll(checkText, { timeout: 15_000 }).toMatch(new RegExp(`${new URL(remote.url).host} refused the API key \\(401\\)`));
    await shot(page, 'remote-01-wrong-key');
    await fillRemote(`${remote.url}/v1`, remoteKey, 'kimi-k2-thinking');
    await page.getByTestId('remote-test').click();
    await expect.poll(checkText, { timeout: 15_000 }).toMatch(/does not serve a model called "kimi-k2-thinking"; it serves: demo-k2/);
    expect(await page.getByTestId('remote-row').count()).toBe(0);
    expect((await api.listRemotes({})).remotes).toEqual([]);
  });

  it('the right settings: checked, saved and in use; the context meter says the remote counts', async () => {
    await fillRemote(remote.url, remoteKey);   // a bare host gains /v1
    await page.getByTestId('remote-test').click();
    await expect.poll(() => page.getByTestId('remote-check').getAttribute('data-ok'), { timeout: 15_000 }).toBe('true');
    expect(await checkText()).toContain(`${remote.url}/v1 serves demo-k2`);
    await page.getByTestId('remote-save').click();
    await expect.poll(() => page.getByTestId('provider-active').getAttribute('data-active')).not.toBe('local');
    expect(await page.getByTestId('remote-row').count()).toBe(1);
    expect(await page.getByTestId('remote-label').isVisible()).toBe(true);
    const view = await api.listRemotes({});
    expect(view.remotes.map((r) => [r.name, r.baseUrl, r.model, r.hasKey])).toEqual([['office-box', `${remote.url}/v1`, MODEL, true]]);
    expect(JSON.stringify(view)).not.toContain(remoteKey);   // the key stays in the core
    await shot(page, 'remote-02-in-use');
    await page.keyboard.press('Escape');
    await page.getByTestId('composer-input').fill('How long may this be?');
    const meter = page.getByTestId('context-meter');
    await meter.waitFor();
    expect(await meter.getAttribute('data-remote')).toBe('true');
    expect(await page.getByTestId('context-meter-count').textContent()).toBe('remote: not reported');
    await page.getByTestId('composer-input').fill('');
  });

  it('weather: B reasons (shown in the trace), calls get_weather, the card is approved, B answers with the result', async () => {
    const requestsBefore = await remoteMetric('karakoram_requests_total{api="openai.chat",status="200"}');
    const id = await newChat(true);
    await ask(WEATHER);
    const approval = page.getByTestId('approval-card');
    await approval.waitFor({ timeout: ANSWER_MS });
    expect(await approval.getByTestId('approval-tool').textContent()).toBe('get_weather');
    expect(await approval.getByTestId('approval-args').textContent()).toContain('Paris');
    // The call's turn is on screen with B's reasoning before it is run.
    const turn = lastTurn();
    expect(await turn.getByTestId('reasoning-panel').count()).toBeGreaterThan(0);
    await shot(page, 'remote-03-approval');
    await approval.getByTestId('approve-once').click();
    await answered();
    const card = page.locator('[data-testid="tool-call-card"][data-name="get_weather"]').last();
    expect(await card.getAttribute('data-status')).toBe('done');
    expect(await card.getByTestId('tool-call-result').textContent()).toContain('Paris');
    const text = (await lastTurn().getByTestId('message-content').last().textContent())?.trim() ?? '';
    expect(text.length).toBeGreaterThan(0);
    await shot(page, 'remote-04-answer');

    const c = await stored(id);
    const [user, a1, tool, a2] = c.messages;
    expect([user.role, a1.role, tool.role, a2.role]).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(a1.model).toBe(`${MODEL} on office-box`);
    expect(a1.reasoning).toContain('get_weather');   // B's reasoning parser output, under reasoning_content
    expect(a1.toolCalls[0]).toMatchObject({ name: 'get_weather', status: 'done', approvedBy: 'user' });
    expect(JSON.parse(a1.toolCalls[0].arguments)).toEqual({ city: 'Paris' });
    expect(a2.status).toBe('complete');
    expect(a2.content.trim()).toBe(text);
    // B served both rounds, and reported its counts: the stored timings and the perf strip agree.
    expect(await remoteMetric('karakoram_requests_total{api="openai.chat",status="200"}')).toBe(requestsBefore + 2);
    const t2 = a2.timings!;
    expect(t2.promptTokens).toBeGreaterThan(a1.timings!.promptTokens);
    expect(t2.notReported).toBeUndefined();
    expect(t2.cachedTokens).toBeGreaterThanOrEqual(0);
    await expect.poll(() => page.getByTestId('perf-cached').getAttribute('data-cached')).toBe(String(t2.cachedTokens));
    expect(await page.getByTestId('perf-cached').getAttribute('data-prompt')).toBe(String(t2.promptTokens));
    console.log(`remote rounds: prompt ${a1.timings!.promptTokens} then ${t2.promptTokens} tokens, B reported ${t2.cachedTokens} cached`);
  });

  it('the same server added without token counts: the app says "remote: not reported" instead of zeros', async () => {
    await page.getByTestId('model-badge').click();
    await page.getByTestId('remote-panel').waitFor();
    await fillRemote(`${remote.url}/v1`, remoteKey, MODEL, 'office-box-lite');
    await page.getByTestId('remote-caps-form').locator('summary').click();
    await page.getByTestId('cap-token-counts').uncheck();
    await page.getByTestId('remote-save').click();
    await expect.poll(() => page.getByTestId('remote-row').count()).toBe(2);
    const lite = page.locator('[data-testid="remote-row"]').nth(1);
    expect(await lite.getByTestId('remote-caps').textContent()).toContain('no token counts');
    // "Add and use" made it the default; the first one goes back to being the default.
    await page.locator('[data-testid="remote-row"]').first().getByTestId('use-remote').click();
    const [full, liteView] = (await api.listRemotes({})).remotes;
    await expect.poll(async () => (await api.listRemotes({})).active).toBe(full.id);
    expect(liteView.capabilities.tokenCounts).toBe(false);
    await page.keyboard.press('Escape');

    // This conversation uses the lite entry; the default stays as it is.
    const id = await newChat(false);
    await page.getByTestId('engine-picker').selectOption(liteView.id);
    await expect.poll(() => page.getByTestId('engine-picker').getAttribute('data-effective')).toBe(liteView.id);
    await ask(WHO);
    await answered();
    const last = (await stored(id)).messages.at(-1)!;
    expect(last.status).toBe('complete');
    expect(last.model).toBe(`${MODEL} on office-box-lite`);
    expect(last.timings?.notReported).toEqual(['prompt', 'cached', 'completion']);
    for (const stat of ['perf-prefill', 'perf-cached', 'perf-context']) {
      expect(await page.getByTestId(stat).getAttribute('data-reported')).toBe('false');
      expect(await page.getByTestId(stat).locator('.stat-value').textContent()).toBe('remote: not reported');
    }
    expect(await lastTurn().getByTestId('message-notes').textContent()).toContain('the remote reported no token counts');
    await shot(page, 'remote-05-not-reported');
  });

  it('Stop in the middle of an answer closes the request: B cancels it', async () => {
    await api.updateSettings({ sampling: SAMPLED });
    const cancelledBefore = await remoteMetric('karakoram_cancelled_total');
    const enginePid = (await engineStatus(remote.url)).pid!;
    const id = await newChat(false);
    const frozen = freezeOnFirstText(id, enginePid);
    await ask(WHO);
    await frozen;
    await page.getByTestId('stop-button').click();
    await answered();
    process.kill(enginePid, 'SIGCONT');
    const last = (await stored(id)).messages.at(-1)!;
    expect(last.status).toBe('stopped');
    expect(last.content.length + last.reasoning.length).toBeGreaterThan(0);
    // B saw the disconnect: its generation was cancelled, nothing is left running there.
    await expect.poll(() => remoteMetric('karakoram_cancelled_total'), { timeout: 15_000 }).toBe(cancelledBefore + 1);
    await expect.poll(() => remoteMetric('karakoram_running_sequences'), { timeout: 15_000 }).toBe(0);
  });

  it('B killed mid-stream: a clear error naming B, the conversation survives a reload, and goes on once B is back', async () => {
    const host = new URL(remote.url).host;
    const enginePid = (await engineStatus(remote.url)).pid!;
    const id = await newChat(false);
    const frozen = freezeOnFirstText(id, enginePid);
    await ask(WHO);
    await frozen;
    expect((await stored(id)).messages.at(-1)!.status).toBe('streaming');   // really mid-answer
    remote.proc.kill('SIGKILL');
    process.kill(enginePid, 'SIGKILL');
    const err = lastTurn().getByTestId('message-error');
    await err.waitFor({ timeout: ANSWER_MS });
    expect(remote.proc.signalCode).toBe('SIGKILL');
    const said = (await err.textContent()) ?? '';
    expect(said).toMatch(new RegExp(`${host.replace(/\./g, '\\.')}.*(broke in the middle of the answer|ended before the answer finished).*The conversation is kept; regenerate to try again`));
    // The counts never came: the perf strip says so instead of showing zeros.
    expect(await page.getByTestId('perf-prefill').getAttribute('data-reported')).toBe('false');
    expect(await page.getByTestId('perf-cached').locator('.stat-value').textContent()).toBe('remote: not reported');
    await shot(page, 'remote-06-killed');
    const cut = (await stored(id)).messages;
    expect(cut.map((m) => [m.role, m.status])).toEqual([['user', 'complete'], ['assistant', 'error']]);
    expect(cut[1].content.length + cut[1].reasoning.length).toBeGreaterThan(0);   // what arrived is kept

    await page.reload();
    await page.getByTestId('app').waitFor();
    await expect.poll(activeId).toBe(id);
    await expect.poll(() => page.locator('[data-testid="message"][data-role="user"]').count()).toBe(1);
    expect(await lastTurn().getByTestId('message-error').textContent()).toBe(said);

    // This conversation can switch engines on its own: the local engine (A has no model), then back
    // to the default (the remote).
    const picker = page.getByTestId('engine-picker');
    const remoteId = (await api.listRemotes({})).remotes[0].id;
    expect(await picker.getAttribute('data-effective')).toBe(remoteId);
    await picker.selectOption('local');
    await expect.poll(() => picker.getAttribute('data-effective')).toBe('local');
    expect(await page.getByTestId('remote-label').count()).toBe(0);
    expect((await stored(id)).provider).toBe('local');
    await picker.selectOption('');
    await expect.poll(() => picker.getAttribute('data-effective')).toBe(remoteId);
    expect((await stored(id)).provider).toBeNull();

    // B back on the same port with the same data (and so the key it issued): the conversation goes on.
    remote = await startServe(['--port', String(remotePort)], { dataDir: remote.dataDir });
    expect(Number(new URL(remote.url).port)).toBe(remotePort);
    await waitEngine(remote.url, ['ready'], ANSWER_MS);
    await api.updateSettings({ sampling: GREEDY });
    await ask(WHO);
    await answered();
    const after = (await stored(id)).messages;
    expect(after.map((m) => [m.role, m.status])).toEqual([['user', 'complete'], ['assistant', 'error'], ['user', 'complete'], ['assistant', 'complete']]);
    expect(after[3].content.length).toBeGreaterThan(0);
    expect(await lastTurn().getByTestId('message-error').count()).toBe(0);
    await shot(page, 'remote-07-back');
    expect(errors.filter((e) => !/WebSocket|Failed to load resource/.test(e))).toEqual([]);
  });
});
